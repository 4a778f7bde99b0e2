//! `map`'s command templates (`{}`, `{#}`, `{NAME}`): no panic, and a template that
//! parses builds command lines of the promised shape for every item.
//!
//! Input: the first line holds the grid's parameter names, separated by spaces (an
//! empty line: no grid); each further line is a word of the command. A first byte
//! `!` instead asks for `--shell`.

#![no_main]

use taskloom_map::{Item, Template};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let (shell, text) = match text.strip_prefix('!') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let mut lines = text.split('\n');
    let params: Vec<String> = lines
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let words: Vec<String> = lines.map(str::to_string).collect();
    let Ok(template) = Template::parse(&words, &params, shell) else {
        return;
    };
    let values = ["0.1", "{}", "$x y", "'q'\"", ""];
    for (seq, text) in [1, 7, usize::MAX]
        .into_iter()
        .zip(["a b", "{}{#}", "ü ${HOME}"])
    {
        let item = Item {
            seq,
            text: text.to_string(),
            params: params
                .iter()
                .zip(values.iter().cycle())
                .map(|(name, value)| (name.clone(), value.to_string()))
                .collect(),
        };
        let line = template.command_line(&item);
        if shell {
            assert_eq!(line.len(), 3, "{words:?} under --shell: {line:?}");
            assert_eq!(line[..2], ["sh", "-c"], "{words:?} under --shell: {line:?}");
            continue;
        }
        assert!(
            line.len() == words.len() || line.len() == words.len() + 1,
            "{words:?} for {item:?}: {line:?}"
        );
        // A word without braces is no placeholder: it stays as it is.
        for (word, built) in words.iter().zip(&line) {
            if !word.contains('{') {
                assert_eq!(word, built, "{words:?} for {item:?}: {line:?}");
            }
        }
    }
});

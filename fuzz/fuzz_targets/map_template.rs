//! `map`'s command templates (`{}`, `{!}`, `{#}`, `{NAME}`): no panic, and a template
//! that parses builds command lines of the promised shape for every item.
//!
//! Input: the first line holds the grid's parameter names, separated by spaces (an
//! empty line: no grid); each further line is a word of the command, any bytes (as
//! Linux arguments are). A first byte `!` instead asks for `--shell`.

#![no_main]

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;

use taskloom_map::{Item, Template};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (shell, data) = match data.strip_prefix(b"!") {
        Some(rest) => (true, rest),
        None => (false, data),
    };
    let mut lines = data.split(|&b| b == b'\n');
    let params: Vec<String> = String::from_utf8_lossy(lines.next().unwrap_or_default())
        .split_whitespace()
        .map(str::to_string)
        .collect();
    let words: Vec<OsString> = lines.map(|l| OsStr::from_bytes(l).to_owned()).collect();
    let Ok(template) = Template::parse(&words, &params, shell) else {
        return;
    };
    let values = ["0.1", "{}", "$x y", "'q'\"", ""];
    for (seq, bytes) in [1, 7, usize::MAX].into_iter().zip([
        &b"a b"[..],
        b"{}{#}",
        "ü ${HOME}".as_bytes(),
        b"caf\xe9",
    ]) {
        let item = Item {
            seq,
            bytes: bytes.to_vec(),
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
            if !word.as_bytes().contains(&b'{') {
                assert_eq!(word, built, "{words:?} for {item:?}: {line:?}");
            }
        }
    }
});

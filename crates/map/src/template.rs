//! How an item becomes a command line: placeholders in the command's words, or the
//! item appended as a last argument when there are none.
//!
//! - Placeholders: `{}` the item, `{#}` its sequence number, `{NAME}` a grid parameter;
//!   `{!}` and `{!NAME}` are the same values, raw (below).
//! - Words are bytes, like the items: nothing on the way to `argv` has to be UTF-8.
//! - Without `--shell` the words are the program and its arguments, executed directly:
//!   nothing is interpreted, `$` is an ordinary character and every placeholder is
//!   substituted as it is.
//! - With `--shell` the words are shell code, joined by spaces and run with `sh -c`.
//!   Each substituted value is quoted for the shell as GNU parallel quotes it, so an
//!   item is always one word, taken literally (`c;echo x` is not a second command,
//!   `a b.svg` is one file); the raw forms `{!}` and `{!NAME}` substitute unquoted,
//!   for values that are meant to be shell code. A `{` right after `$` opens the
//!   shell's own `${...}` (`${HOME}`, `${#}`) and is not a placeholder, except in
//!   `${}`, which no shell accepts, so `{}` is the item wherever it is written.

use std::ffi::OsString;
use std::os::unix::ffi::{OsStrExt, OsStringExt};

use crate::items::{display, is_identifier, Item};
use crate::Error;

/// The command with its placeholders located once, so building each item's command
/// line is only concatenation.
#[derive(Clone, Debug)]
pub struct Template {
    words: Vec<Vec<Piece>>,
    /// No word has a placeholder: the item becomes one extra last argument.
    append: bool,
    /// Join the words with spaces and run them with `sh -c`.
    shell: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(Vec<u8>),
    /// `{}`, or `{!}` when `raw`.
    Item {
        raw: bool,
    },
    /// `{#}`: digits, which no shell needs quoted.
    Seq,
    /// `{NAME}`, or `{!NAME}` when `raw`: `index` is into the item's grid parameters.
    Param {
        index: usize,
        raw: bool,
    },
}

impl Template {
    /// Locates the placeholders in `words` (the command and its arguments).
    ///
    /// `{NAME}` is a placeholder only when `params` (the grid's names) is not empty;
    /// then an unknown name is an error, because a misspelt parameter would otherwise
    /// run every item with the wrong arguments.
    pub fn parse(words: &[OsString], params: &[String], shell: bool) -> Result<Self, Error> {
        if words.is_empty() {
            return Err(Error::NoCommand);
        }
        let words = words
            .iter()
            .map(|w| pieces(w.as_bytes(), params, shell))
            .collect::<Result<Vec<_>, _>>()?;
        let append = !words.iter().flatten().any(|p| !matches!(p, Piece::Text(_)));
        Ok(Template {
            words,
            append,
            shell,
        })
    }

    /// The program, when it is the same for every item: it can be checked once,
    /// before any item starts. `None` when a placeholder is part of it.
    pub fn program(&self) -> Option<OsString> {
        if self.shell {
            return Some(SHELL.into());
        }
        match &self.words[0][..] {
            [Piece::Text(text)] => Some(OsString::from_vec(text.clone())),
            _ => None,
        }
    }

    /// The program and arguments to execute for `item`.
    pub fn command_line(&self, item: &Item) -> Vec<OsString> {
        let quote = self.shell;
        let mut words: Vec<Vec<u8>> = self
            .words
            .iter()
            .map(|pieces| {
                let mut word = Vec::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(text) => word.extend_from_slice(text),
                        Piece::Item { raw } => substitute(&mut word, &item.bytes, quote && !raw),
                        Piece::Seq => word.extend_from_slice(item.seq.to_string().as_bytes()),
                        Piece::Param { index, raw } => {
                            if let Some((_, value)) = item.params.get(*index) {
                                substitute(&mut word, value.as_bytes(), quote && !raw);
                            }
                        }
                    }
                }
                word
            })
            .collect();
        if self.append {
            let mut word = Vec::new();
            substitute(&mut word, &item.bytes, quote);
            words.push(word);
        }
        if self.shell {
            vec![
                SHELL.into(),
                "-c".into(),
                OsString::from_vec(words.join(&b' ')),
            ]
        } else {
            words.into_iter().map(OsString::from_vec).collect()
        }
    }
}

/// The shell that runs `--shell` commands, found in `PATH` as GNU parallel and xargs
/// find theirs.
const SHELL: &str = "sh";

/// Appends `value` to `word`, quoted for the shell when `quote`.
fn substitute(word: &mut Vec<u8>, value: &[u8], quote: bool) {
    if quote {
        shell_quote(word, value);
    } else {
        word.extend_from_slice(value);
    }
}

/// Appends `value` as one literal shell word: unchanged when it is made only of
/// characters no shell interprets (GNU parallel's set: letters, digits and `-_.+/`),
/// so `$((1+{}))` still adds numbers; otherwise in single quotes, each `'` written
/// `'\''`. Single quotes keep every other byte as it is, newlines and bytes that are
/// not UTF-8 included. `taskloom submit` writes its batch scripts' commands with it too.
pub fn shell_quote(word: &mut Vec<u8>, value: &[u8]) {
    let plain = |b: &u8| b.is_ascii_alphanumeric() || b"-_.+/".contains(b);
    if !value.is_empty() && value.iter().all(plain) {
        word.extend_from_slice(value);
        return;
    }
    word.push(b'\'');
    for &byte in value {
        if byte == b'\'' {
            word.extend_from_slice(b"'\\''");
        } else {
            word.push(byte);
        }
    }
    word.push(b'\'');
}

/// Splits one word into text and placeholders (see the module header).
fn pieces(word: &[u8], params: &[String], shell: bool) -> Result<Vec<Piece>, Error> {
    let mut out = Vec::new();
    let mut text = Vec::new();
    let mut rest = word;
    while let Some(open) = rest.iter().position(|&b| b == b'{') {
        let after = &rest[open + 1..];
        let close = after.iter().position(|&b| b == b'}');
        let inner = close.map(|c| &after[..c]);
        // The shell's `${...}`; `${}` is no shell syntax, so it stays the item.
        let shells = shell && rest[..open].ends_with(b"$") && inner != Some(b"");
        let piece = match inner {
            _ if shells => None,
            Some(inner) => placeholder(inner, params, word)?,
            None => None,
        };
        match (piece, close) {
            (Some(piece), Some(close)) => {
                text.extend_from_slice(&rest[..open]);
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(piece);
                rest = &after[close + 1..];
            }
            _ => {
                text.extend_from_slice(&rest[..=open]);
                rest = after;
            }
        }
    }
    text.extend_from_slice(rest);
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

/// What `{inner}` stands for; `None` for braces that are not a placeholder (`{x}`
/// without grids, `{print $1}`), which stay as they are.
fn placeholder(inner: &[u8], params: &[String], word: &[u8]) -> Result<Option<Piece>, Error> {
    let (raw, name) = match inner.strip_prefix(b"!") {
        Some(name) => (true, name),
        None => (false, inner),
    };
    Ok(match name {
        b"" => Some(Piece::Item { raw }),
        b"#" if !raw => Some(Piece::Seq),
        _ => match std::str::from_utf8(name) {
            Ok(name) if !params.is_empty() && is_identifier(name) => {
                match params.iter().position(|p| p == name) {
                    Some(index) => Some(Piece::Param { index, raw }),
                    None => {
                        return Err(Error::Usage(format!(
                            "unknown placeholder '{{{}}}' in '{}' (grid parameters: {})",
                            display(inner),
                            display(word),
                            params.join(", ")
                        )))
                    }
                }
            }
            _ => None,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    fn params(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    fn item(seq: usize, bytes: &[u8]) -> Item {
        Item {
            seq,
            bytes: bytes.to_vec(),
            params: Vec::new(),
        }
    }

    fn grid_item() -> Item {
        Item {
            seq: 7,
            bytes: b"lr=0.1 depth=3".to_vec(),
            params: vec![("lr".into(), "0.1".into()), ("depth".into(), "3".into())],
        }
    }

    /// The command line for `item`, as text for comparisons.
    fn line(t: &Template, item: &Item) -> Vec<String> {
        t.command_line(item)
            .into_iter()
            .map(|w| w.into_string().unwrap())
            .collect()
    }

    #[test]
    fn item_is_appended_without_placeholders() {
        let t = Template::parse(&words(&["echo", "-n"]), &[], false).unwrap();
        assert_eq!(line(&t, &item(1, b"a b")), ["echo", "-n", "a b"]);
    }

    #[test]
    fn placeholders_substitute_inside_words() {
        let t = Template::parse(&words(&["cp", "{}", "out/{#}-{}.bak"]), &[], false).unwrap();
        assert_eq!(
            line(&t, &item(3, b"x.txt")),
            ["cp", "x.txt", "out/3-x.txt.bak"]
        );
    }

    #[test]
    fn grid_parameters_by_name() {
        let params = params(&["lr", "depth"]);
        let t = Template::parse(
            &words(&["train", "--lr={lr}", "{depth}", "{}"]),
            &params,
            false,
        )
        .unwrap();
        assert_eq!(
            line(&t, &grid_item()),
            ["train", "--lr=0.1", "3", "lr=0.1 depth=3"]
        );
        let err = Template::parse(&words(&["train", "{lr}", "{Depth}"]), &params, false)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown placeholder '{Depth}'"), "{err}");
        assert!(err.contains("lr, depth"), "{err}");
    }

    #[test]
    fn grid_item_is_appended_as_one_word() {
        let t = Template::parse(&words(&["echo"]), &params(&["lr"]), false).unwrap();
        assert_eq!(line(&t, &grid_item()), ["echo", "lr=0.1 depth=3"]);
    }

    #[test]
    fn braces_that_are_not_placeholders_stay() {
        let t = Template::parse(
            &words(&["awk", "{print $1}", "{x}", "{!x}", "{", "}{", "{!#}"]),
            &[],
            false,
        )
        .unwrap();
        assert_eq!(
            line(&t, &item(1, b"f")),
            ["awk", "{print $1}", "{x}", "{!x}", "{", "}{", "{!#}", "f"]
        );
    }

    #[test]
    fn dollar_is_ordinary_without_a_shell() {
        let t = Template::parse(&words(&["echo", "US${}", "${#}"]), &[], false).unwrap();
        assert_eq!(line(&t, &item(2, b"5")), ["echo", "US$5", "$2"]);
        let t = Template::parse(&words(&["echo", "${lr}"]), &params(&["lr"]), false).unwrap();
        assert_eq!(line(&t, &grid_item()), ["echo", "$0.1"]);
    }

    #[test]
    fn under_a_shell_dollar_brace_is_the_shells_except_for_the_item() {
        let t = Template::parse(
            &words(&["echo ${HOME} ${#} ${!} ${lr} {lr} x${}"]),
            &params(&["lr"]),
            true,
        )
        .unwrap();
        assert_eq!(
            line(&t, &grid_item()),
            [
                "sh",
                "-c",
                "echo ${HOME} ${#} ${!} ${lr} 0.1 x$'lr=0.1 depth=3'"
            ]
        );
    }

    #[test]
    fn shell_joins_words() {
        let t = Template::parse(&words(&["echo", "{}", "|", "wc", "-c"]), &[], true).unwrap();
        assert_eq!(line(&t, &item(1, b"abc")), ["sh", "-c", "echo abc | wc -c"]);
        let t = Template::parse(&words(&["echo"]), &[], true).unwrap();
        assert_eq!(line(&t, &item(1, b"abc")), ["sh", "-c", "echo abc"]);
    }

    #[test]
    fn shell_quotes_each_substituted_value() {
        let t = Template::parse(&words(&["echo {} {#}.png"]), &[], true).unwrap();
        assert_eq!(
            line(&t, &item(1, b"c;echo INJECTED")),
            ["sh", "-c", "echo 'c;echo INJECTED' 1.png"]
        );
        assert_eq!(
            line(&t, &item(2, b"it's")),
            ["sh", "-c", "echo 'it'\\''s' 2.png"]
        );
        assert_eq!(line(&t, &item(3, b"")), ["sh", "-c", "echo '' 3.png"]);
        assert_eq!(
            line(&t, &item(4, b"a-b_c.d+e/f9")),
            ["sh", "-c", "echo a-b_c.d+e/f9 4.png"]
        );
        // Bytes that are not UTF-8 pass through the quotes unchanged.
        let argv = t.command_line(&item(5, b"caf\xe9 x"));
        assert_eq!(argv[2].as_bytes(), b"echo 'caf\xe9 x' 5.png");
        // The appended item is quoted too, and grid values.
        let t = Template::parse(&words(&["echo"]), &[], true).unwrap();
        assert_eq!(line(&t, &item(1, b"a b")), ["sh", "-c", "echo 'a b'"]);
        let t = Template::parse(&words(&["echo {lr} {}"]), &params(&["lr"]), true).unwrap();
        let mut grid = grid_item();
        grid.params[0].1 = "$(id)".into();
        assert_eq!(
            line(&t, &grid),
            ["sh", "-c", "echo '$(id)' 'lr=0.1 depth=3'"]
        );
    }

    #[test]
    fn raw_placeholders_substitute_unquoted() {
        let t = Template::parse(&words(&["{!} | {!lr}; echo {}"]), &params(&["lr"]), true).unwrap();
        let mut grid = grid_item();
        grid.params[0].1 = "wc -c".into();
        assert_eq!(
            line(&t, &grid),
            ["sh", "-c", "lr=0.1 depth=3 | wc -c; echo 'lr=0.1 depth=3'"]
        );
        // Without a shell, raw is the only way there is.
        let t = Template::parse(&words(&["echo", "{!}"]), &[], false).unwrap();
        assert_eq!(line(&t, &item(1, b"a;b")), ["echo", "a;b"]);
    }

    #[test]
    fn the_program_itself_may_be_a_placeholder() {
        let t = Template::parse(&words(&["{}", "--version"]), &[], false).unwrap();
        assert_eq!(line(&t, &item(1, b"ls")), ["ls", "--version"]);
        assert_eq!(t.program(), None);
        let t = Template::parse(&words(&["./job{}.sh"]), &[], false).unwrap();
        assert_eq!(t.program(), None);
        let t = Template::parse(&words(&["gzip", "{}"]), &[], false).unwrap();
        assert_eq!(t.program(), Some("gzip".into()));
        let t = Template::parse(&words(&["{} x"]), &[], true).unwrap();
        assert_eq!(t.program(), Some("sh".into()));
    }

    #[test]
    fn words_that_are_not_utf8_are_kept() {
        let word = OsString::from_vec(b"out/\xff-{}".to_vec());
        let t = Template::parse(&[OsString::from("cp"), word], &[], false).unwrap();
        let argv = t.command_line(&item(1, b"\xe9"));
        assert_eq!(argv[1].as_bytes(), b"out/\xff-\xe9");
    }

    #[test]
    fn no_command_is_an_error() {
        assert!(Template::parse(&[], &[], false).is_err());
    }
}

//! How an item becomes a command line: placeholders `{}`, `{#}` and `{NAME}` in the
//! command's words, or the item appended as a last argument when there are none.

use crate::items::{is_identifier, Item};
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
    Text(String),
    /// `{}`
    Item,
    /// `{#}`
    Seq,
    /// `{NAME}`: index into the item's grid parameters.
    Param(usize),
}

impl Template {
    /// Locates the placeholders in `words` (the command and its arguments).
    ///
    /// `{NAME}` is a placeholder only when `params` (the grid's names) is not empty;
    /// then an unknown name is an error, because a misspelt parameter would otherwise
    /// run every item with the wrong arguments. `${...}` is never a placeholder, so
    /// shell variables survive `--shell`.
    pub fn parse(words: &[String], params: &[String], shell: bool) -> Result<Self, Error> {
        if words.is_empty() {
            return Err(Error::NoCommand);
        }
        let words = words
            .iter()
            .map(|w| pieces(w, params))
            .collect::<Result<Vec<_>, _>>()?;
        let append = !words.iter().flatten().any(|p| !matches!(p, Piece::Text(_)));
        Ok(Template {
            words,
            append,
            shell,
        })
    }

    /// The program and arguments to execute for `item`.
    pub fn command_line(&self, item: &Item) -> Vec<String> {
        let mut words: Vec<String> = self
            .words
            .iter()
            .map(|pieces| {
                let mut word = String::new();
                for piece in pieces {
                    match piece {
                        Piece::Text(text) => word.push_str(text),
                        Piece::Item => word.push_str(&item.text),
                        Piece::Seq => word.push_str(&item.seq.to_string()),
                        Piece::Param(i) => {
                            if let Some((_, value)) = item.params.get(*i) {
                                word.push_str(value);
                            }
                        }
                    }
                }
                word
            })
            .collect();
        if self.append {
            words.push(item.text.clone());
        }
        if self.shell {
            vec!["sh".to_string(), "-c".to_string(), words.join(" ")]
        } else {
            words
        }
    }
}

/// Splits one word into text and placeholders.
fn pieces(word: &str, params: &[String]) -> Result<Vec<Piece>, Error> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = word;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after.find('}');
        let inner = close.map(|c| &after[..c]);
        let dollar = rest[..open].ends_with('$');
        let piece = match inner {
            _ if dollar => None,
            Some("") => Some(Piece::Item),
            Some("#") => Some(Piece::Seq),
            Some(name) if !params.is_empty() && is_identifier(name) => {
                match params.iter().position(|p| p == name) {
                    Some(i) => Some(Piece::Param(i)),
                    None => {
                        return Err(Error::Usage(format!(
                            "unknown placeholder '{{{name}}}' in '{word}' (grid parameters: {})",
                            params.join(", ")
                        )))
                    }
                }
            }
            _ => None,
        };
        match (piece, close) {
            (Some(piece), Some(close)) => {
                text.push_str(&rest[..open]);
                if !text.is_empty() {
                    out.push(Piece::Text(std::mem::take(&mut text)));
                }
                out.push(piece);
                rest = &after[close + 1..];
            }
            _ => {
                text.push_str(&rest[..=open]);
                rest = after;
            }
        }
    }
    text.push_str(rest);
    if !text.is_empty() || out.is_empty() {
        out.push(Piece::Text(text));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(list: &[&str]) -> Vec<String> {
        list.iter().map(|w| w.to_string()).collect()
    }

    fn item(seq: usize, text: &str) -> Item {
        Item {
            seq,
            text: text.into(),
            params: Vec::new(),
        }
    }

    fn grid_item() -> Item {
        Item {
            seq: 7,
            text: "lr=0.1 depth=3".into(),
            params: vec![("lr".into(), "0.1".into()), ("depth".into(), "3".into())],
        }
    }

    #[test]
    fn item_is_appended_without_placeholders() {
        let t = Template::parse(&words(&["echo", "-n"]), &[], false).unwrap();
        assert_eq!(t.command_line(&item(1, "a b")), ["echo", "-n", "a b"]);
    }

    #[test]
    fn placeholders_substitute_inside_words() {
        let t = Template::parse(&words(&["cp", "{}", "out/{#}-{}.bak"]), &[], false).unwrap();
        assert_eq!(
            t.command_line(&item(3, "x.txt")),
            ["cp", "x.txt", "out/3-x.txt.bak"]
        );
    }

    #[test]
    fn grid_parameters_by_name() {
        let params = words(&["lr", "depth"]);
        let t = Template::parse(
            &words(&["train", "--lr={lr}", "{depth}", "{}"]),
            &params,
            false,
        )
        .unwrap();
        assert_eq!(
            t.command_line(&grid_item()),
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
        let t = Template::parse(&words(&["echo"]), &words(&["lr"]), false).unwrap();
        assert_eq!(t.command_line(&grid_item()), ["echo", "lr=0.1 depth=3"]);
    }

    #[test]
    fn braces_that_are_not_placeholders_stay() {
        let t = Template::parse(
            &words(&["awk", "{print $1}", "${HOME}", "{x}", "{", "}{"]),
            &[],
            false,
        )
        .unwrap();
        assert_eq!(
            t.command_line(&item(1, "f")),
            ["awk", "{print $1}", "${HOME}", "{x}", "{", "}{", "f"]
        );
        // Under a grid, `${NAME}` still belongs to the shell.
        let t = Template::parse(&words(&["echo ${HOME} {lr}"]), &words(&["lr"]), true).unwrap();
        assert_eq!(
            t.command_line(&grid_item()),
            ["sh", "-c", "echo ${HOME} 0.1"]
        );
    }

    #[test]
    fn shell_joins_words() {
        let t = Template::parse(&words(&["echo", "{}", "|", "wc", "-c"]), &[], true).unwrap();
        assert_eq!(
            t.command_line(&item(1, "abc")),
            ["sh", "-c", "echo abc | wc -c"]
        );
        let t = Template::parse(&words(&["echo"]), &[], true).unwrap();
        assert_eq!(t.command_line(&item(1, "abc")), ["sh", "-c", "echo abc"]);
    }

    #[test]
    fn the_program_itself_may_be_a_placeholder() {
        let t = Template::parse(&words(&["{}", "--version"]), &[], false).unwrap();
        assert_eq!(t.command_line(&item(1, "ls")), ["ls", "--version"]);
    }

    #[test]
    fn no_command_is_an_error() {
        assert!(Template::parse(&[], &[], false).is_err());
    }
}

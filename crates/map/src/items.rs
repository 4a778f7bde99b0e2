//! Where items come from: words after `:::`, lines of a file (or stdin), or the
//! cartesian product of named parameter grids.
//!
//! - An item is bytes, as a Linux file name or argument is: a Latin-1 name from
//!   `::: *` or a line that is not UTF-8 runs like any other, unchanged.
//! - Where an item is shown to a person ([`display`]) its valid UTF-8 stays as it is
//!   and every other byte is written `\xNN`; the results log keeps the exact bytes
//!   (see `results`).

use std::ffi::OsString;
use std::io::Read;
use std::os::unix::ffi::OsStringExt;
use std::str::FromStr;

use crate::{Error, MapFile};

/// One unit of work: the command runs once per item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// 1-based position among all items (`{#}`), stable across `--resume` runs.
    pub seq: usize,
    /// The item as `{}` substitutes it, byte for byte; for a grid item, `NAME=VALUE`
    /// pairs joined by spaces.
    pub bytes: Vec<u8>,
    /// A grid item's parameters in grid order; empty for other sources.
    pub params: Vec<(String, String)>,
}

/// One `--grid NAME=V1,V2,...` option.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Grid {
    /// What `{NAME}` refers to.
    pub name: String,
    /// In the order given; never empty.
    pub values: Vec<String>,
}

impl FromStr for Grid {
    type Err = String;

    /// Parses `NAME=V1,V2,...`; names are identifiers so that `{NAME}` can name them.
    fn from_str(text: &str) -> Result<Self, String> {
        let (name, values) = text
            .split_once('=')
            .ok_or_else(|| format!("invalid grid '{text}' (write NAME=V1,V2,...)"))?;
        if !is_identifier(name) {
            return Err(format!(
                "invalid grid name '{name}' (letters, digits and _, not starting with a digit)"
            ));
        }
        let values: Vec<String> = values.split(',').map(str::to_string).collect();
        if values.iter().any(String::is_empty) {
            return Err(format!("grid '{name}' has an empty value in '{text}'"));
        }
        Ok(Grid {
            name: name.to_string(),
            values,
        })
    }
}

/// Whether `name` can be a `{NAME}` placeholder.
pub fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

impl Item {
    /// The item as a message shows it (see [`display`]).
    pub fn display(&self) -> String {
        display(&self.bytes)
    }
}

/// `bytes` for a person to read: valid UTF-8 as it is, any other byte as `\xNN`, so
/// that two different items never look the same unless one holds a literal `\x`.
pub fn display(bytes: &[u8]) -> String {
    let mut text = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for byte in chunk.invalid() {
            text.push_str(&format!("\\x{byte:02x}"));
        }
    }
    text
}

/// Where the items come from; exactly one per run.
#[derive(Clone, Debug)]
pub enum Source {
    /// The words after `:::`, one item each, as the command line gave them.
    Words(Vec<OsString>),
    /// One item per non-empty line of a file; `-` is stdin.
    Input(String),
    /// The cartesian product of the grids, the first varying slowest.
    Grids(Vec<Grid>),
}

impl Source {
    /// The items, numbered from 1. No items at all is an error: a run that does nothing
    /// is almost always a mistake in how the items were given.
    pub fn load(&self) -> Result<Vec<Item>, Error> {
        let items = match self {
            Source::Words(words) => plain(words.iter().map(|w| w.clone().into_vec())),
            Source::Input(path) => plain(read_lines(path)?),
            Source::Grids(grids) => product(grids)?,
        };
        if items.is_empty() {
            return Err(Error::NoItems(self.clone()));
        }
        Ok(items)
    }

    /// The grid parameter names, which `{NAME}` may refer to.
    pub fn param_names(&self) -> Vec<String> {
        match self {
            Source::Grids(grids) => grids.iter().map(|g| g.name.clone()).collect(),
            _ => Vec::new(),
        }
    }
}

fn plain(items: impl IntoIterator<Item = Vec<u8>>) -> Vec<Item> {
    items
        .into_iter()
        .enumerate()
        .map(|(i, bytes)| Item {
            seq: i + 1,
            bytes,
            params: Vec::new(),
        })
        .collect()
}

/// The non-empty lines of `path` (`-`: stdin), without their `\n` or `\r\n`, as bytes.
fn read_lines(path: &str) -> Result<Vec<Vec<u8>>, Error> {
    let file = || MapFile::Input(path.to_string());
    let failed = |source| Error::File {
        file: file(),
        source,
    };
    let mut bytes = Vec::new();
    if path == "-" {
        std::io::stdin().lock().read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|mut f| f.read_to_end(&mut bytes))
    }
    .map_err(failed)?;
    Ok(bytes
        .split(|&b| b == b'\n')
        .map(|line| line.strip_suffix(b"\r").unwrap_or(line))
        .filter(|line| !line.is_empty())
        .map(<[u8]>::to_vec)
        .collect())
}

/// Every combination of grid values, the first grid varying slowest (like nested
/// loops written in the order the grids were given).
fn product(grids: &[Grid]) -> Result<Vec<Item>, Error> {
    for (i, grid) in grids.iter().enumerate() {
        if grids[..i].iter().any(|g| g.name == grid.name) {
            return Err(Error::RepeatedGrid(grid.name.clone()));
        }
    }
    let total = grids
        .iter()
        .try_fold(1usize, |n, g| n.checked_mul(g.values.len()))
        .ok_or(Error::TooManyCombinations)?;
    let total = if grids.is_empty() { 0 } else { total };
    let mut items = Vec::with_capacity(total);
    for index in 0..total {
        // Mixed-radix digits of `index`, the last grid being the fastest digit.
        let mut rest = index;
        let mut params = vec![(String::new(), String::new()); grids.len()];
        for (slot, grid) in params.iter_mut().zip(grids).rev() {
            let n = grid.values.len();
            *slot = (grid.name.clone(), grid.values[rest % n].clone());
            rest /= n;
        }
        let text = params
            .iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect::<Vec<_>>()
            .join(" ");
        items.push(Item {
            seq: index + 1,
            bytes: text.into_bytes(),
            params,
        });
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grid(text: &str) -> Grid {
        text.parse().unwrap()
    }

    #[test]
    fn grids_parse_and_refuse_malformed() {
        assert_eq!(
            grid("lr=0.1,0.01"),
            Grid {
                name: "lr".into(),
                values: vec!["0.1".into(), "0.01".into()]
            }
        );
        for bad in ["lr", "=1,2", "1x=1", "a-b=1", "lr=", "lr=1,,2", "lr=1,"] {
            assert!(bad.parse::<Grid>().is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn product_varies_the_first_grid_slowest() {
        let items = Source::Grids(vec![grid("lr=0.1,0.01"), grid("depth=3,5")])
            .load()
            .unwrap();
        let texts: Vec<&[u8]> = items.iter().map(|i| &i.bytes[..]).collect();
        assert_eq!(
            texts,
            [
                &b"lr=0.1 depth=3"[..],
                b"lr=0.1 depth=5",
                b"lr=0.01 depth=3",
                b"lr=0.01 depth=5"
            ]
        );
        assert_eq!(items[2].seq, 3);
        assert_eq!(
            items[2].params,
            [("lr".into(), "0.01".into()), ("depth".into(), "3".into())]
        );
    }

    #[test]
    fn product_of_three_grids_counts_and_orders() {
        let items = Source::Grids(vec![grid("a=1,2,3"), grid("b=x,y"), grid("c=p,q,r,s")])
            .load()
            .unwrap();
        assert_eq!(items.len(), 24);
        assert_eq!(items[0].bytes, b"a=1 b=x c=p");
        assert_eq!(items[5].bytes, b"a=1 b=y c=q");
        assert_eq!(items[23].bytes, b"a=3 b=y c=s");
    }

    #[test]
    fn repeated_grid_names_are_refused() {
        let err = Source::Grids(vec![grid("a=1"), grid("a=2")])
            .load()
            .unwrap_err();
        assert!(err.to_string().contains("'a' is given more than once"));
    }

    #[test]
    fn input_lines_skip_empty_ones() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("items");
        std::fs::write(&path, "a\n\nb c\r\n\n d\n").unwrap();
        let items = Source::Input(path.to_str().unwrap().into()).load().unwrap();
        let texts: Vec<&[u8]> = items.iter().map(|i| &i.bytes[..]).collect();
        assert_eq!(texts, [&b"a"[..], b"b c", b" d"]);
        assert_eq!(items[2].seq, 3);
        assert!(items[0].params.is_empty());
    }

    #[test]
    fn empty_and_unreadable_inputs_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n\n").unwrap();
        let err = Source::Input(empty.to_str().unwrap().into())
            .load()
            .unwrap_err();
        assert!(matches!(err, Error::NoItems(Source::Input(_))), "{err}");
        let missing = dir.path().join("missing");
        let err = Source::Input(missing.to_str().unwrap().into())
            .load()
            .unwrap_err();
        assert!(matches!(err, Error::File { .. }), "{err}");
        assert!(Source::Words(vec![]).load().is_err());
    }

    #[test]
    fn items_that_are_not_utf8_are_kept_byte_for_byte() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1");
        std::fs::write(&path, b"caf\xe9.txt\r\n\xff\x00x\nok\n").unwrap();
        let items = Source::Input(path.to_str().unwrap().into()).load().unwrap();
        let bytes: Vec<&[u8]> = items.iter().map(|i| &i.bytes[..]).collect();
        assert_eq!(bytes, [&b"caf\xe9.txt"[..], b"\xff\x00x", b"ok"]);
        let words = Source::Words(vec![OsString::from_vec(b"caf\xe9".to_vec())])
            .load()
            .unwrap();
        assert_eq!(words[0].bytes, b"caf\xe9");
    }

    #[test]
    fn display_escapes_only_what_is_not_utf8() {
        assert_eq!(display("café ok".as_bytes()), "café ok");
        assert_eq!(display(b"caf\xe9 \xff\xfe"), "caf\\xe9 \\xff\\xfe");
        assert_eq!(display(b""), "");
    }

    #[test]
    fn words_are_items_in_order() {
        let items = Source::Words(vec!["x".into(), "y z".into()])
            .load()
            .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!((items[1].seq, &items[1].bytes[..]), (2, &b"y z"[..]));
    }
}

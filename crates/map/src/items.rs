//! Where items come from: words after `:::`, lines of a file (or stdin), or the
//! cartesian product of named parameter grids.

use std::io::Read;
use std::str::FromStr;

use crate::{Error, MapFile};

/// One unit of work: the command runs once per item.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Item {
    /// 1-based position among all items (`{#}`), stable across `--resume` runs.
    pub seq: usize,
    /// The item as `{}` substitutes it; for a grid item, `NAME=VALUE` pairs joined by
    /// spaces.
    pub text: String,
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

/// Where the items come from; exactly one per run.
#[derive(Clone, Debug)]
pub enum Source {
    /// The words after `:::`, one item each.
    Words(Vec<String>),
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
            Source::Words(words) => plain(words.iter().cloned()),
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

fn plain(texts: impl IntoIterator<Item = String>) -> Vec<Item> {
    texts
        .into_iter()
        .enumerate()
        .map(|(i, text)| Item {
            seq: i + 1,
            text,
            params: Vec::new(),
        })
        .collect()
}

/// The non-empty lines of `path` (`-`: stdin), without their `\n` or `\r\n`.
fn read_lines(path: &str) -> Result<Vec<String>, Error> {
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
    let text = String::from_utf8(bytes).map_err(|e| {
        let line = e.as_bytes()[..e.utf8_error().valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        Error::NotUtf8 { file: file(), line }
    })?;
    Ok(text
        .lines()
        .filter(|line| !line.is_empty())
        .map(str::to_string)
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
            text,
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
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(
            texts,
            [
                "lr=0.1 depth=3",
                "lr=0.1 depth=5",
                "lr=0.01 depth=3",
                "lr=0.01 depth=5"
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
        assert_eq!(items[0].text, "a=1 b=x c=p");
        assert_eq!(items[5].text, "a=1 b=y c=q");
        assert_eq!(items[23].text, "a=3 b=y c=s");
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
        let texts: Vec<&str> = items.iter().map(|i| i.text.as_str()).collect();
        assert_eq!(texts, ["a", "b c", " d"]);
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
        let bad = dir.path().join("bad");
        std::fs::write(&bad, b"ok\n\xff\n").unwrap();
        let err = Source::Input(bad.to_str().unwrap().into())
            .load()
            .unwrap_err();
        assert!(matches!(err, Error::NotUtf8 { line: 2, .. }), "{err}");
        assert!(Source::Words(vec![]).load().is_err());
    }

    #[test]
    fn words_are_items_in_order() {
        let items = Source::Words(vec!["x".into(), "y z".into()])
            .load()
            .unwrap();
        assert_eq!(items.len(), 2);
        assert_eq!((items[1].seq, items[1].text.as_str()), (2, "y z"));
    }
}

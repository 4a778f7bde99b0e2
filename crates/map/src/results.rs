//! The results log: one JSON line per ended item, appended and written whole as soon as
//! the item's output is delivered (at once when it ends, in unordered mode), so that a
//! run killed half-way leaves a valid log of what finished, and `--resume` can skip
//! what already succeeded.
//!
//! - An item succeeded when it exited 0 by itself and its output was delivered. A
//!   line says why an item failed when its status alone does not ([`Reason`]): the
//!   key `"failure"`, after the contract's keys and only on such lines, so that every
//!   other line stays as the contract shows it.
//! - An item is bytes ([`LoggedItem`]): `"item"` is its text when it is UTF-8, as the
//!   contract shows it; otherwise `"item"` is that text with each invalid byte as
//!   U+FFFD, for reading, and `"item_hex"` follows with the exact bytes in hex, which
//!   `--resume` matches, so that it skips exactly the byte-identical items.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};

use crate::{Error, MapFile};

/// One line of the log; the fields are the contract's, in its order.
#[derive(Serialize)]
#[allow(missing_docs)]
pub struct Record<'a> {
    pub seq: usize,
    #[serde(flatten)]
    pub item: LoggedItem<'a>,
    /// Only for grid items.
    #[serde(skip_serializing_if = "Params::is_empty")]
    pub params: Params<'a>,
    pub exit: Option<i32>,
    pub signal: Option<String>,
    pub stdout: &'a str,
    pub stderr: &'a str,
    pub seconds: f64,
    pub attempts: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<Reason>,
}

/// Why an item failed whatever its status: it was stopped from outside, or its output
/// never reached its reader.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Reason {
    /// Stopped by its timeout.
    Timeout,
    /// Stopped because another item's failure halted the run.
    Halt,
    /// Stopped because a signal stopped the run.
    Interrupt,
    /// Its output could not be written (a full disk, a closed pipe).
    Undelivered,
}

/// An item's bytes as `"item"` and, when they are not UTF-8, `"item_hex"` (see the
/// module header).
pub struct LoggedItem<'a>(pub &'a [u8]);

impl Serialize for LoggedItem<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = std::str::from_utf8(self.0);
        let mut map = serializer.serialize_map(Some(if text.is_ok() { 1 } else { 2 }))?;
        match text {
            Ok(text) => map.serialize_entry("item", text)?,
            Err(_) => {
                map.serialize_entry("item", &String::from_utf8_lossy(self.0))?;
                let hex: String = self.0.iter().map(|b| format!("{b:02x}")).collect();
                map.serialize_entry("item_hex", &hex)?;
            }
        }
        map.end()
    }
}

/// Grid parameters as a JSON object, in grid order.
pub struct Params<'a>(pub &'a [(String, String)]);

impl Params<'_> {
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Params<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, value) in self.0 {
            map.serialize_entry(name, value)?;
        }
        map.end()
    }
}

/// The log file, open for appending.
pub struct Log {
    file: File,
    path: PathBuf,
}

impl Log {
    /// Opens (or creates) `path` for appending. A last line cut short by a killed
    /// writer is ended, so that the next line starts on a line of its own.
    pub fn open(path: &Path) -> Result<Self, Error> {
        let failed = |source| Error::File {
            file: MapFile::Results(path.to_path_buf()),
            source,
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .create(true)
            .open(path)
            .map_err(failed)?;
        let len = file.metadata().map_err(failed)?.len();
        if len > 0 {
            let mut last = [0u8];
            file.seek(SeekFrom::Start(len - 1)).map_err(failed)?;
            file.read_exact(&mut last).map_err(failed)?;
            if last[0] != b'\n' {
                file.write_all(b"\n").map_err(failed)?;
            }
        }
        Ok(Log {
            file,
            path: path.to_path_buf(),
        })
    }

    /// Appends one line with a single write: no buffer holds it back, and concurrent
    /// readers never see half a line.
    pub fn append(&mut self, record: &Record) -> Result<(), Error> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::from)?;
        line.push(b'\n');
        self.file.write_all(&line).map_err(|source| Error::File {
            file: MapFile::Results(self.path.clone()),
            source,
        })
    }
}

/// What `--resume` needs of a line.
#[derive(Deserialize)]
struct Recorded {
    item: String,
    item_hex: Option<String>,
    exit: Option<i32>,
    #[serde(default)]
    failure: Option<Reason>,
}

impl Recorded {
    /// The item's exact bytes; `None` for `item_hex` that is not hex.
    fn bytes(self) -> Option<Vec<u8>> {
        let Some(hex) = self.item_hex else {
            return Some(self.item.into_bytes());
        };
        if hex.len() % 2 != 0 || !hex.is_ascii() {
            return None;
        }
        (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).ok())
            .collect()
    }
}

/// How many times each item (by its bytes) is recorded as succeeded in the log at
/// `path` (a missing file is an empty log). Lines that are not records (a line cut
/// short when a run was killed) are skipped and counted.
pub fn succeeded(path: &Path) -> Result<(HashMap<Vec<u8>, usize>, usize), Error> {
    let text = match std::fs::read(path) {
        Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => {
            return Err(Error::File {
                file: MapFile::Results(path.to_path_buf()),
                source,
            })
        }
    };
    let mut done = HashMap::new();
    let mut malformed = 0;
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        match serde_json::from_str::<Recorded>(line) {
            Ok(r) if r.exit == Some(0) && r.failure.is_none() => match r.bytes() {
                Some(item) => *done.entry(item).or_insert(0) += 1,
                None => malformed += 1,
            },
            Ok(_) => {}
            Err(_) => malformed += 1,
        }
    }
    Ok((done, malformed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_round_trip_and_resume_counts_successes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        std::fs::write(
            &path,
            "{\"seq\":1,\"item\":\"old\",\"exit\":0}\n{\"seq\":2,\"it",
        )
        .unwrap();
        let mut log = Log::open(&path).unwrap();
        let params = [("lr".to_string(), "0.1".to_string())];
        for (item, exit, signal, failure) in [
            (&b"a"[..], Some(0), None, None),
            (b"b", None, Some("SIGKILL"), None),
            (b"a", Some(0), None, None),
            (b"c", Some(0), None, Some(Reason::Timeout)),
            (b"caf\xe9", Some(0), None, None),
            (b"caf\xef\xbf\xbd", Some(0), None, None),
        ] {
            log.append(&Record {
                seq: 1,
                item: LoggedItem(item),
                params: Params(&params),
                exit,
                signal: signal.map(str::to_string),
                stdout: "out\n",
                stderr: "",
                seconds: 0.5,
                attempts: 1,
                failure,
            })
            .unwrap();
        }
        let text = std::fs::read_to_string(&path).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8);
        assert_eq!(
            lines[2],
            r#"{"seq":1,"item":"a","params":{"lr":"0.1"},"exit":0,"signal":null,"stdout":"out\n","stderr":"","seconds":0.5,"attempts":1}"#
        );
        assert!(
            lines[5].ends_with(r#""attempts":1,"failure":"timeout"}"#),
            "{}",
            lines[5]
        );
        assert!(
            lines[6].starts_with(r#"{"seq":1,"item":"caf�","item_hex":"636166e9","params""#),
            "{}",
            lines[6]
        );
        assert!(!lines[7].contains("item_hex"), "{}", lines[7]);
        let (done, malformed) = succeeded(&path).unwrap();
        assert_eq!(done.get(&b"a"[..]), Some(&2));
        assert_eq!(done.get(&b"old"[..]), Some(&1));
        assert_eq!(done.get(&b"b"[..]), None);
        assert_eq!(
            done.get(&b"c"[..]),
            None,
            "exit 0 after a timeout is a failure"
        );
        // The Latin-1 name and the UTF-8 one that looks the same stay apart.
        assert_eq!(done.get(&b"caf\xe9"[..]), Some(&1));
        assert_eq!(done.get("caf\u{fffd}".as_bytes()), Some(&1));
        assert_eq!(malformed, 1);
        assert!(succeeded(&dir.path().join("none")).unwrap().0.is_empty());
    }
}

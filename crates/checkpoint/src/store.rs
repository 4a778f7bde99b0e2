//! A checkpoint store: a directory of results named by their digest.
//!
//! - Layout: a marker file (`taskloom-checkpoint`, naming the format), the entries in
//!   256 subdirectories by the digest's first byte (`ab/cdef…`, so no directory grows
//!   huge), and `tmp/` for entries being written.
//! - An entry is a header (magic, payload length, BLAKE3 of the payload) and the
//!   payload, a `Value` encoded with postcard as the process protocol encodes it. A
//!   reader checks all three: a truncated or damaged entry is reported, never decoded
//!   into a wrong value.
//! - A write goes to a temporary file of its own, then is renamed into place: the
//!   rename is atomic, so a kill at any moment leaves either no entry or a whole one
//!   (and perhaps a temporary file, which `clear` removes). Two writers of the same
//!   digest write the same content, so whichever rename lands last is as good. No
//!   fsync: a crash of the machine may lose recent entries, which are then computed
//!   again, but the checks above keep it from giving a wrong result.
//! - The marker keeps a run from writing into a directory that holds something else:
//!   only a new or empty directory becomes a store. The marker too is written aside and
//!   renamed into place.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use serde::{Deserialize, Serialize};
use taskloom_graph::Value;

use crate::digest::Digest;

/// The marker file's name, in the store's directory.
const MARKER: &str = "taskloom-checkpoint";

/// A marker being written, named apart per process and write: it is renamed into place whole, so
/// a run killed while it makes a store (or ranks making the same store at once) never
/// leave a half-written marker, and such a leftover does not count as content.
const MARKER_BEING_WRITTEN: &str = "taskloom-checkpoint.new-";

/// The marker file's content: the format of the entries.
const FORMAT: &str = "taskloom checkpoint store, format 1\n";

/// Where entries are written before they are renamed into place.
const TEMPORARY: &str = "tmp";

/// The first bytes of every entry.
const MAGIC: [u8; 8] = *b"tlckpt1\n";

/// Magic, payload length (u64, little-endian) and the payload's BLAKE3.
const HEADER: usize = 8 + 8 + 32;

/// Names temporary files apart within this process (the pid sets processes apart).
static WRITES: AtomicU64 = AtomicU64::new(0);

/// A checkpoint store on disk.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Store {
    dir: PathBuf,
}

/// Why a directory cannot be used as a store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The directory holds files but is not a store: nothing is written into it.
    #[error("{}: not a checkpoint store (it is not empty and has no {MARKER} file); give a new or empty directory", dir.display())]
    NotAStore { dir: PathBuf },
    /// A store of a format this version does not read.
    #[error("{}: a checkpoint store of another format ({found:?}); clear it with a taskloom of that version, or give another directory", dir.display())]
    Format { dir: PathBuf, found: String },
    /// The directory cannot be read or created.
    #[error("{}: {source}", dir.display())]
    Io { dir: PathBuf, source: io::Error },
}

/// Why a stored result cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum EntryError {
    /// No entry has this digest.
    #[error("no stored result")]
    Missing,
    /// The entry is truncated or damaged.
    #[error("the stored result is damaged ({0})")]
    Damaged(&'static str),
    /// The entry cannot be read.
    #[error("{0}")]
    Io(#[from] io::Error),
}

/// What a store holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Stored results.
    pub entries: u64,
    /// Their size on disk, headers included.
    pub bytes: u64,
    /// Temporary files left by writers that were killed.
    pub temporary: u64,
}

impl Store {
    /// The store in `dir`, made there if `dir` is missing or empty; refuses a
    /// directory that holds other things.
    pub fn open(dir: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let dir = dir.into();
        let io = |source| StoreError::Io {
            dir: dir.clone(),
            source,
        };
        fs::create_dir_all(&dir).map_err(io)?;
        let marker = dir.join(MARKER);
        if !marker.exists() {
            let holds_something = fs::read_dir(&dir).map_err(io)?.any(|entry| {
                entry.map_or(true, |e| {
                    !e.file_name()
                        .to_string_lossy()
                        .starts_with(MARKER_BEING_WRITTEN)
                })
            });
            if !holds_something {
                let new = dir.join(format!(
                    "{MARKER_BEING_WRITTEN}{}-{}",
                    std::process::id(),
                    WRITES.fetch_add(1, Ordering::Relaxed)
                ));
                fs::write(&new, FORMAT).map_err(io)?;
                fs::rename(&new, &marker).map_err(io)?;
            } else if !marker.exists() {
                // Looked at again: what was found may be the store that another
                // process (a rank of the same job) made meanwhile, marker first.
                return Err(StoreError::NotAStore { dir });
            }
        }
        Store::existing(dir)
    }

    /// The store in `dir`, which must be one already: for inspecting and clearing,
    /// which must not make a store where there was none.
    pub fn existing(dir: impl Into<PathBuf>) -> Result<Store, StoreError> {
        let dir = dir.into();
        let found = match fs::read_to_string(dir.join(MARKER)) {
            Ok(found) => found,
            Err(e) if e.kind() == io::ErrorKind::NotFound && dir.is_dir() => {
                return Err(StoreError::NotAStore { dir })
            }
            Err(source) => return Err(StoreError::Io { dir, source }),
        };
        if found != FORMAT {
            return Err(StoreError::Format {
                dir,
                found: found.trim_end().to_string(),
            });
        }
        fs::create_dir_all(dir.join(TEMPORARY)).map_err(|source| StoreError::Io {
            dir: dir.clone(),
            source,
        })?;
        Ok(Store { dir })
    }

    /// The store's directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn entry(&self, digest: &Digest) -> PathBuf {
        let hex = digest.to_string();
        self.dir.join(&hex[..2]).join(&hex[2..])
    }

    /// Keeps `value` under `digest`. A result stored already stays as it is: the same
    /// digest means the same value.
    pub fn save(&self, digest: &Digest, value: &Value) -> io::Result<()> {
        let path = self.entry(digest);
        if path.exists() {
            return Ok(());
        }
        let payload = postcard::to_stdvec(value).map_err(io::Error::other)?;
        let mut bytes = Vec::with_capacity(HEADER + payload.len());
        bytes.extend_from_slice(&MAGIC);
        bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        bytes.extend_from_slice(blake3::hash(&payload).as_bytes());
        bytes.extend_from_slice(&payload);
        drop(payload);
        let temporary = self.dir.join(TEMPORARY).join(format!(
            "{digest}.{}.{}",
            std::process::id(),
            WRITES.fetch_add(1, Ordering::Relaxed)
        ));
        let written = fs::File::create(&temporary)
            .and_then(|mut file| file.write_all(&bytes))
            .and_then(|()| {
                fs::create_dir_all(path.parent().expect("entries are in a subdirectory"))
            })
            .and_then(|()| fs::rename(&temporary, &path));
        if written.is_err() {
            let _ = fs::remove_file(&temporary);
        }
        written
    }

    /// The value stored under `digest`, checked against its length and hash.
    pub fn load(&self, digest: &Digest) -> Result<Value, EntryError> {
        let bytes = match fs::read(self.entry(digest)) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(EntryError::Missing),
            Err(e) => return Err(e.into()),
        };
        let (header, payload) = bytes
            .split_at_checked(HEADER)
            .ok_or(EntryError::Damaged("shorter than its header"))?;
        if header[..8] != MAGIC {
            return Err(EntryError::Damaged("not an entry"));
        }
        let length = u64::from_le_bytes(header[8..16].try_into().expect("8 bytes"));
        if length != payload.len() as u64 {
            return Err(EntryError::Damaged("truncated"));
        }
        if header[16..] != *blake3::hash(payload).as_bytes() {
            return Err(EntryError::Damaged("its hash does not match"));
        }
        postcard::from_bytes(payload).map_err(|_| EntryError::Damaged("undecodable"))
    }

    /// Whether a good result is stored under `digest`. A damaged entry is removed, so
    /// that the result computed again can take its place.
    pub fn holds(&self, digest: &Digest) -> bool {
        match self.load(digest) {
            Ok(_) => true,
            Err(EntryError::Damaged(_)) => {
                let _ = fs::remove_file(self.entry(digest));
                false
            }
            Err(_) => false,
        }
    }

    /// Counts the entries and their bytes.
    pub fn stats(&self) -> io::Result<Stats> {
        self.walk(false)
    }

    /// Removes every entry and temporary file, keeping the store itself; returns what
    /// was removed.
    pub fn clear(&self) -> io::Result<Stats> {
        self.walk(true)
    }

    /// Visits every file of the store but its marker, removing each when `remove`.
    fn walk(&self, remove: bool) -> io::Result<Stats> {
        let mut stats = Stats::default();
        for sub in fs::read_dir(&self.dir)? {
            let sub = sub?;
            let name = sub.file_name();
            let temporary = name == TEMPORARY;
            let entries = name.len() == 2
                && name
                    .to_str()
                    .is_some_and(|n| n.bytes().all(|b| b.is_ascii_hexdigit()));
            if !sub.file_type()?.is_dir() || !(temporary || entries) {
                continue;
            }
            for file in fs::read_dir(sub.path())? {
                let file = file?;
                let meta = file.metadata()?;
                if temporary {
                    stats.temporary += 1;
                } else {
                    stats.entries += 1;
                    stats.bytes += meta.len();
                }
                if remove {
                    fs::remove_file(file.path())?;
                }
            }
            if remove && !temporary {
                fs::remove_dir(sub.path())?;
            }
        }
        Ok(stats)
    }
}

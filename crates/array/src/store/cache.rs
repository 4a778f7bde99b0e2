//! Opened arrays, shared by every task of a process: a graph that reads 10,000 chunks
//! of one array parses its metadata once.
//!
//! An entry is keyed by the path as given and remembers the identity of the metadata
//! file it was opened from (device, inode, size, modification time). A lookup checks
//! that identity first (one `stat`), so an array replaced at the same path, by this
//! process or another, is opened afresh rather than read with stale metadata.

use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError};

use super::{open, StoreError, StoredArray};

/// Beyond this many arrays the cache starts over: entries are cheap to rebuild, and
/// temporary arrays written by other processes would otherwise pile up.
const MAX_ENTRIES: usize = 1024;

/// Which metadata file an entry was opened from, and that file's identity.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Stamp {
    dev: u64,
    ino: u64,
    size: u64,
    mtime: i64,
    mtime_nsec: i64,
}

impl Stamp {
    /// The identity of the metadata file zarrs would open in `dir` (format 3 first).
    fn of(dir: &Path) -> Option<Stamp> {
        let m = std::fs::metadata(dir.join("zarr.json"))
            .or_else(|_| std::fs::metadata(dir.join(".zarray")))
            .ok()?;
        Some(Stamp {
            dev: m.dev(),
            ino: m.ino(),
            size: m.size(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
        })
    }
}

type Entries = HashMap<PathBuf, (Arc<StoredArray>, Stamp)>;

fn entries() -> MutexGuard<'static, Entries> {
    static ENTRIES: OnceLock<Mutex<Entries>> = OnceLock::new();
    ENTRIES
        .get_or_init(Mutex::default)
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

/// The array at `path`, opened at most once while its metadata file stays the same.
/// No lock is held while opening or checking, so readers never wait on each other.
pub(super) fn get(path: &Path) -> Result<Arc<StoredArray>, StoreError> {
    let cached = entries().get(path).cloned();
    let stamp = Stamp::of(path);
    if let Some((array, was)) = cached {
        if stamp == Some(was) {
            return Ok(array);
        }
    }
    let array = Arc::new(open(path)?);
    if let Some(stamp) = stamp {
        remember(path, array.clone(), stamp);
    }
    Ok(array)
}

/// Adds an array this process just opened (a pending array, so that its writes skip
/// the metadata).
pub(super) fn insert(path: &Path, array: Arc<StoredArray>) {
    if let Some(stamp) = Stamp::of(path) {
        remember(path, array, stamp);
    }
}

/// Drops the entry for `path` (an array committed or abandoned).
pub(super) fn forget(path: &Path) {
    entries().remove(path);
}

fn remember(path: &Path, array: Arc<StoredArray>, stamp: Stamp) {
    let mut entries = entries();
    if entries.len() >= MAX_ENTRIES {
        entries.clear();
    }
    entries.insert(path.to_path_buf(), (array, stamp));
}

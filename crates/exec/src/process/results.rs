//! The results a worker (a worker process, an MPI worker rank) holds, kept within its
//! share of the run's memory limit: past it, results go to scratch files and are read
//! back when a task, a transfer or the driver needs them.
//!
//! - Without a limit this is a map: nothing is counted or written.
//! - An account of the bytes held in memory (`Value::heap_bytes`, as the threads
//!   executor counts); scalars count nothing and are never written out.
//! - Past the limit the least recently used results are written out first, as Dask's
//!   workers do: a worker does not know the plan's ranks, but it runs its tasks in the
//!   order the driver gives them, so what it has not touched longest is likely needed
//!   last. A result just made or just read is the most recent.
//! - A written result read back (by a task, a `Fetch`, a `Send`) is that reader's copy,
//!   not held in memory again: the file stays until the driver releases the key.
//! - Nothing waits for memory, and nothing fails for it: a write that fails (a full
//!   disk) leaves its result in memory, and no further writes are tried. A failed read
//!   fails the run, naming the key and the file (`Reply::Unreadable`).
//! - The scratch directory is made at the first write (this user only) and removed
//!   when the results are dropped: the worker's end, or its next program.

use std::collections::{BTreeMap, HashMap};
use std::io;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};
use taskloom_graph::{KeyId, Value};

use crate::owned::OwnedDir;
use crate::spill_file::{read_value, scratch_dir, write_value};

/// A worker's share of the run's memory limit, sent with the program.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WorkerLimit {
    /// Bytes of results this worker holds in memory at most.
    pub bytes: u64,
    /// Where its scratch directory goes: `None` for the system's temporary directory.
    pub scratch: Option<PathBuf>,
}

/// Bytes written out and read back since last asked (`Results::take_counts`), and
/// the most held past the limit when nothing could be written out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub written: u64,
    pub read_back: u64,
    pub over: u64,
}

/// See the module header.
#[derive(Default)]
pub struct Results {
    memory: HashMap<KeyId, InMemory>,
    /// Results in scratch files, with their bytes.
    written: HashMap<KeyId, u64>,
    /// Results in memory that may be written out, by last use: the first is the coldest.
    by_use: BTreeMap<u64, KeyId>,
    /// Ticks of a clock that counts uses.
    clock: u64,
    /// Bytes of the results in memory.
    held: u64,
    limit: Option<WorkerLimit>,
    /// Made at the first write.
    dir: Option<OwnedDir>,
    /// Set when a write failed: the disk is not asked again.
    refused: bool,
    counts: Counts,
}

struct InMemory {
    value: Value,
    bytes: u64,
    /// Its key in `by_use`; 0 for a result never written out (no bytes).
    used: u64,
}

impl Results {
    /// Holds results within `limit` from now on (`None`: no bound).
    pub fn limit(&mut self, limit: Option<WorkerLimit>) {
        self.limit = limit;
        self.refused = false;
        self.shed();
    }

    /// Keeps `value` as the result of `key`, writing out the coldest results if that
    /// takes the account past the limit.
    pub fn insert(&mut self, key: KeyId, value: Value) {
        self.remove(key);
        let bytes = if self.limit.is_some() {
            value.heap_bytes()
        } else {
            0
        };
        let used = if bytes > 0 { self.tick(key) } else { 0 };
        self.held += bytes;
        self.memory.insert(key, InMemory { value, bytes, used });
        self.shed();
    }

    /// Whether the result of `key` is here, in memory or in a file.
    pub fn contains(&self, key: KeyId) -> bool {
        self.memory.contains_key(&key) || self.written.contains_key(&key)
    }

    /// The result of `key` (`None`: not here), read back if it was written out.
    pub fn get(&mut self, key: KeyId) -> Option<io::Result<Value>> {
        if let Some(held) = self.memory.get_mut(&key) {
            let value = held.value.clone();
            if held.used > 0 {
                self.by_use.remove(&held.used);
                self.clock += 1;
                held.used = self.clock;
                self.by_use.insert(self.clock, key);
            }
            return Some(Ok(value));
        }
        let bytes = *self.written.get(&key)?;
        Some(self.read(key, bytes))
    }

    /// Forgets the result of `key`, wherever it is.
    pub fn remove(&mut self, key: KeyId) {
        if let Some(held) = self.memory.remove(&key) {
            self.held -= held.bytes;
            self.by_use.remove(&held.used);
        } else if self.written.remove(&key).is_some() {
            if let Some(dir) = &self.dir {
                let _ = std::fs::remove_file(dir.path().join(file_name(key)));
            }
        }
    }

    /// What was written out and read back since the last call.
    pub fn take_counts(&mut self) -> Counts {
        std::mem::take(&mut self.counts)
    }

    fn tick(&mut self, key: KeyId) -> u64 {
        self.clock += 1;
        self.by_use.insert(self.clock, key);
        self.clock
    }

    /// Writes out the least recently used results until the account is within the
    /// limit, or nothing is left to write, or the disk refuses.
    fn shed(&mut self) {
        let Some(limit) = &self.limit else { return };
        let bytes = limit.bytes;
        while self.held > bytes && !self.refused {
            let Some((_, coldest)) = self.by_use.pop_first() else {
                break;
            };
            // The failure is told as bytes over the limit, as the threads executor's.
            self.refused = self.write_out(coldest).is_err();
        }
        let over = self.held.saturating_sub(bytes);
        self.counts.over = self.counts.over.max(over);
    }

    /// Moves the result of `key` (in memory, no longer in `by_use`) to its file; on
    /// failure it stays in memory, no longer a candidate.
    fn write_out(&mut self, key: KeyId) -> io::Result<()> {
        let dir = match &self.dir {
            Some(dir) => dir,
            None => {
                let scratch = self.limit.as_ref().and_then(|l| l.scratch.as_deref());
                self.dir.insert(scratch_dir(scratch)?)
            }
        };
        let held = self.memory.get_mut(&key).expect("a candidate is in memory");
        let path = dir.path().join(file_name(key));
        if let Err(e) = write_value(&path, &held.value) {
            held.used = 0;
            let _ = std::fs::remove_file(&path);
            return Err(e);
        }
        let held = self.memory.remove(&key).expect("still in memory");
        self.held -= held.bytes;
        self.written.insert(key, held.bytes);
        self.counts.written += held.bytes;
        Ok(())
    }

    fn read(&mut self, key: KeyId, bytes: u64) -> io::Result<Value> {
        let dir = self.dir.as_ref().expect("a written result has a directory");
        let path = dir.path().join(file_name(key));
        let value = read_value(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("cannot read back {}: {e}", path.display()),
            )
        })?;
        self.counts.read_back += bytes;
        Ok(value)
    }
}

fn file_name(key: KeyId) -> String {
    key.index().to_string()
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use ndarray::{ArrayD, IxDyn};
    use taskloom_graph::Chunk;

    use super::*;

    fn chunk(n: usize, fill: f64) -> Value {
        Value::Chunk(Arc::new(Chunk::F64(ArrayD::from_elem(IxDyn(&[n]), fill))))
    }

    fn limited(bytes: u64) -> Results {
        let mut results = Results::default();
        results.limit(Some(WorkerLimit {
            bytes,
            scratch: None,
        }));
        results
    }

    #[test]
    fn past_the_limit_the_least_recently_used_go_to_files_and_come_back() {
        // Three 800-byte chunks under a 2000-byte limit: one must go.
        let mut results = limited(2000);
        results.insert(KeyId(0), chunk(100, 0.0));
        results.insert(KeyId(1), chunk(100, 1.0));
        // Key 0 is used again, so key 1 is the coldest when key 2 comes.
        assert_eq!(results.get(KeyId(0)).unwrap().unwrap(), chunk(100, 0.0));
        results.insert(KeyId(2), chunk(100, 2.0));
        assert_eq!(
            results.take_counts(),
            Counts {
                written: 800,
                read_back: 0,
                over: 0
            }
        );
        assert!(results.written.contains_key(&KeyId(1)));
        let dir = results.dir.as_ref().unwrap().path().to_path_buf();
        assert!(dir.join("1").exists());
        for key in 0..3 {
            assert!(results.contains(KeyId(key)));
            let value = results.get(KeyId(key)).unwrap().unwrap();
            assert_eq!(value, chunk(100, key as f64));
        }
        assert_eq!(results.take_counts().read_back, 800);
        results.remove(KeyId(1));
        assert!(!dir.join("1").exists());
        assert!(!results.contains(KeyId(1)));
        drop(results);
        assert!(!dir.exists(), "the scratch directory goes with the results");
    }

    #[test]
    fn without_a_limit_nothing_is_counted_or_written() {
        let mut results = Results::default();
        for key in 0..10 {
            results.insert(KeyId(key), chunk(1000, 1.0));
        }
        assert_eq!(results.held, 0);
        assert!(results.dir.is_none());
        assert_eq!(results.take_counts(), Counts::default());
    }

    #[test]
    fn scalars_stay_in_memory_and_a_new_limit_sheds_at_once() {
        let mut results = limited(u64::MAX);
        results.insert(KeyId(0), Value::Int(3));
        results.insert(KeyId(1), chunk(10, 1.0));
        results.limit(Some(WorkerLimit {
            bytes: 0,
            scratch: None,
        }));
        assert!(results.memory.contains_key(&KeyId(0)));
        assert!(results.written.contains_key(&KeyId(1)));
    }

    #[test]
    fn a_disk_that_refuses_leaves_results_in_memory() {
        let mut results = Results::default();
        results.limit(Some(WorkerLimit {
            bytes: 0,
            scratch: Some("/nonexistent/taskloom-scratch".into()),
        }));
        results.insert(KeyId(0), chunk(10, 1.0));
        results.insert(KeyId(1), chunk(10, 2.0));
        assert!(results.refused);
        assert_eq!(results.get(KeyId(1)).unwrap().unwrap(), chunk(10, 2.0));
        let counts = results.take_counts();
        assert_eq!((counts.written, counts.over), (0, 160));
    }
}

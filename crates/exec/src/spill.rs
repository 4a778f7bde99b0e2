//! Keeping the results a run holds within a memory limit (`Threads::memory_limit`):
//! results waiting for their consumers go to scratch files when holding them all would
//! pass the limit, and come back when a consumer reads them.
//!
//! - Only under a limit: without one, slots take no lock and count nothing (`slots.rs`).
//! - An account of the bytes held in slots: each stored result counts its size
//!   (`Value::heap_bytes`): a chunk's elements, bytes, a string's text, a list's items;
//!   scalars count nothing, as nothing is gained by writing them out.
//! - When storing a result takes the account past the limit, results in memory are
//!   written out, the coldest first: the one whose next consumer the plan ranks last,
//!   so the one needed last (workers follow the plan's ranks). The new result is a
//!   candidate like any other. Targets and results nobody consumes stay in memory.
//! - The worker that stored the result writes the files, outside the lock: a worker
//!   that makes results faster than consumers take them pays for it. While a result is
//!   being written its consumers still read it from memory.
//! - A consumer of a written result reads the file outside the lock (the file lives
//!   until the last consumer releases the result, and this one has not yet); the copy
//!   it reads is its own working set, not held in the slot again.
//! - Nothing ever waits for memory: when nothing is left to write out, the run goes on
//!   past the limit and says by how much ([`SpillCounts::over_limit`]), rather than
//!   wait for memory nothing would free. A failed write (a full disk) leaves the result
//!   in memory; a failed read fails the run, naming the key whose result is lost
//!   (`RunError::unreadable`).
//! - One file per result in a directory made for the run (this user only), removed
//!   when the run ends however it ends; one a killed run (SIGKILL) left is removed by
//!   the next run that spills into the same place (an owned directory: `owned`). A run that fails or stops returns without
//!   waiting for the tasks still running: it closes the spill first, which waits for
//!   the writes under way (one result each, not whole tasks), refuses new ones and
//!   removes the directory; a task still running then keeps its results in memory.
//! - The file's format is `spill_file`'s, which worker processes share.

use std::collections::BTreeSet;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use taskloom_graph::{KeyId, Value};
use taskloom_sched::Plan;

use crate::owned::OwnedDir;
use crate::primitives::UnsafeCell;
use crate::slots::Held;
use crate::spill_file::{read_value, scratch_dir, write_value};

/// A bound on the bytes of the results a run holds, and where those past it go.
#[derive(Clone, Debug)]
pub struct MemoryLimit {
    bytes: u64,
    scratch: Option<PathBuf>,
    counts: SpillCounts,
}

impl MemoryLimit {
    /// Holds at most `bytes` of results, writing the rest under the system's temporary
    /// directory.
    pub fn new(bytes: u64) -> MemoryLimit {
        MemoryLimit {
            bytes,
            scratch: None,
            counts: SpillCounts::default(),
        }
    }

    /// Writes the results past the limit under `dir` instead (a disk with room).
    pub fn scratch_in(mut self, dir: PathBuf) -> MemoryLimit {
        self.scratch = Some(dir);
        self
    }

    /// Where results past the limit go: `None` for the system's temporary directory.
    pub fn scratch(&self) -> Option<&Path> {
        self.scratch.as_deref()
    }

    /// The bound, in bytes.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// What runs under this limit wrote out and read back, for progress bars and
    /// profiles: shared, readable while a run goes on.
    pub fn counts(&self) -> &SpillCounts {
        &self.counts
    }
}

/// Bytes written to scratch files and read back, summed over the runs under one limit.
#[derive(Clone, Debug, Default)]
pub struct SpillCounts(Arc<Counts>);

#[derive(Debug, Default)]
struct Counts {
    spilled: AtomicU64,
    read_back: AtomicU64,
    over_limit: AtomicU64,
}

impl SpillCounts {
    /// Bytes of results written to scratch files.
    pub fn spilled(&self) -> u64 {
        self.0.spilled.load(Ordering::Relaxed)
    }

    /// Bytes of results read back from scratch files (once per consumer).
    pub fn read_back(&self) -> u64 {
        self.0.read_back.load(Ordering::Relaxed)
    }

    /// The most bytes held past the limit when nothing was left to write out (targets,
    /// results being read): 0 when the run stayed within it.
    pub fn over_limit(&self) -> u64 {
        self.0.over_limit.load(Ordering::Relaxed)
    }

    /// Adds what a worker process or rank reports it spilled (`Reply::Spilled`).
    pub fn add(&self, written: u64, read_back: u64, over_limit: u64) {
        self.0.spilled.fetch_add(written, Ordering::Relaxed);
        self.0.read_back.fetch_add(read_back, Ordering::Relaxed);
        self.0.over_limit.fetch_max(over_limit, Ordering::Relaxed);
    }
}

/// Where a result is, as the ledger knows it.
#[derive(Clone, Copy, Debug)]
enum Place {
    /// In its slot (or not stored yet, or freed), counting these bytes.
    Held(u64),
    /// In its slot and being written out; these bytes no longer count.
    Writing(u64),
    /// In its file only.
    Written(u64),
    /// Released by its last consumer while being written: the writer removes the file.
    Dropped,
}

/// The account of one run, behind `Spill`'s lock.
struct Ledger {
    /// Bytes of the results held in slots.
    held: u64,
    /// Results held that may be written out, by the rank of their first consumer and
    /// key: the last is the coldest.
    candidates: BTreeSet<(u32, u32)>,
    places: Vec<Place>,
    /// Results being written out now.
    writing: usize,
    /// Set once the run is over: nothing more is written out.
    closed: bool,
}

/// One run's results past its memory limit: the account and the scratch directory.
///
/// Protocol (with `Slots`'s): under a limit every access to a slot's cell happens with
/// the ledger locked, so the slot may be emptied by a writer as well as by the last
/// consumer. A result's file is made before its place says `Written` and removed only
/// by whoever sees the last consumer's release, so a consumer that saw `Written` (it
/// has not released) reads a complete file.
pub(crate) struct Spill {
    limit: u64,
    counts: SpillCounts,
    ledger: Mutex<Ledger>,
    /// Signalled when the last write under way ends.
    written: Condvar,
    /// Removed when the spill is closed, or dropped.
    dir: OwnedDir,
}

impl Spill {
    /// Makes the run's scratch directory, for this user only, having removed what
    /// killed runs left beside it.
    pub fn new(limit: &MemoryLimit, keys: usize) -> io::Result<Spill> {
        let dir = scratch_dir(limit.scratch.as_deref())?;
        Ok(Spill {
            limit: limit.bytes,
            counts: limit.counts.clone(),
            ledger: Mutex::new(Ledger {
                held: 0,
                candidates: BTreeSet::new(),
                places: vec![Place::Held(0); keys],
                writing: 0,
                closed: false,
            }),
            written: Condvar::new(),
            dir,
        })
    }

    fn lock(&self) -> MutexGuard<'_, Ledger> {
        // A worker that panicked holding the lock fails the run; the ledger it left is
        // still a sound account of what is where.
        self.ledger.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn file(&self, key: KeyId) -> PathBuf {
        self.dir.path().join(key.index().to_string())
    }

    /// Stores `value` as the result of `key` and writes out results, coldest first,
    /// until the account is within the limit.
    ///
    /// # Safety
    /// As `Slots::put`; `cells` are the slots' cells.
    pub unsafe fn put(&self, plan: &Plan, cells: &[UnsafeCell<Held>], key: KeyId, value: Value) {
        let bytes = value.heap_bytes();
        let mut victims = Vec::new();
        {
            let mut ledger = self.lock();
            // SAFETY: under the lock, and no consumer of `key` runs yet.
            cells[key.index()].with_mut(|cell| unsafe { *cell = Held::new(value) });
            ledger.places[key.index()] = Place::Held(bytes);
            ledger.held += bytes;
            if bytes > 0 && !plan.is_target(key) {
                if let Some(first_use) = first_use(plan, key) {
                    ledger.candidates.insert((first_use, key.0));
                }
            }
            while ledger.held > self.limit && !ledger.closed {
                let Some((_, coldest)) = ledger.candidates.pop_last() else {
                    let over = ledger.held - self.limit;
                    self.counts.0.over_limit.fetch_max(over, Ordering::Relaxed);
                    break;
                };
                let coldest = KeyId(coldest);
                let Place::Held(bytes) = ledger.places[coldest.index()] else {
                    unreachable!("only held results are candidates")
                };
                ledger.held -= bytes;
                ledger.places[coldest.index()] = Place::Writing(bytes);
                // SAFETY: under the lock; the slot holds its result until released,
                // and a result is a candidate only until its last consumer releases it.
                let held = cells[coldest.index()].with(|cell| unsafe { (*cell).value() });
                victims.push((coldest, held.expect("a candidate is in its slot")));
                ledger.writing += 1;
            }
        }
        for (victim, value) in victims {
            // SAFETY: `victim` is `Writing`, which only this call ends.
            unsafe { self.write_out(cells, victim, &value) };
        }
    }

    /// Writes `value`, the result of `victim`, to its file and empties its slot; or
    /// leaves it in memory if the file cannot be written.
    ///
    /// # Safety
    /// `victim` is `Writing`, and this is the one call that writes it.
    unsafe fn write_out(&self, cells: &[UnsafeCell<Held>], victim: KeyId, value: &Value) {
        let path = self.file(victim);
        let written = write_value(&path, value);
        let mut ledger = self.lock();
        match (written, ledger.places[victim.index()]) {
            (Ok(()), Place::Writing(bytes)) => {
                ledger.places[victim.index()] = Place::Written(bytes);
                // SAFETY: under the lock; consumers read the file from now on.
                cells[victim.index()].with_mut(|cell| unsafe { *cell = Held::EMPTY });
                self.counts.0.spilled.fetch_add(bytes, Ordering::Relaxed);
            }
            (Err(_), Place::Writing(bytes)) => {
                // Not a candidate again: a disk that refused once is not asked twice.
                ledger.places[victim.index()] = Place::Held(bytes);
                ledger.held += bytes;
                let _ = std::fs::remove_file(&path);
            }
            (_, Place::Dropped) => {
                ledger.places[victim.index()] = Place::Held(0);
                let _ = std::fs::remove_file(&path);
            }
            (_, place) => unreachable!("a result being written is {place:?}"),
        }
        ledger.writing -= 1;
        if ledger.writing == 0 {
            self.written.notify_all();
        }
    }

    /// Ends the spill of a run that is over while tasks may still run: waits for the
    /// writes under way, refuses new ones, and removes the scratch directory.
    pub fn close(&self) {
        let mut ledger = self.lock();
        ledger.closed = true;
        while ledger.writing > 0 {
            ledger = self.written.wait(ledger).unwrap_or_else(|e| e.into_inner());
        }
        // Nothing more is written in it; a task still running that needs a result
        // written out fails to read it, in a run already over.
        let _ = std::fs::remove_dir_all(self.dir.path());
    }

    /// The result of `key`, from its slot or its file.
    ///
    /// # Safety
    /// As `Slots::get`.
    pub unsafe fn get(&self, cells: &[UnsafeCell<Held>], key: KeyId) -> io::Result<Value> {
        let ledger = self.lock();
        if let Place::Written(bytes) = ledger.places[key.index()] {
            drop(ledger);
            // This task has not released `key`, so the file stays until it has.
            let value = read_value(&self.file(key))?;
            self.counts.0.read_back.fetch_add(bytes, Ordering::Relaxed);
            return Ok(value);
        }
        // SAFETY: under the lock; the slot holds the result until this task releases it.
        Ok(cells[key.index()]
            .with(|cell| unsafe { (*cell).value() })
            .expect("a consumed result is present until released"))
    }

    /// The last consumer of `key` (not a target) released it: frees it wherever it is.
    ///
    /// # Safety
    /// As the last `Slots::release` of `key`.
    pub unsafe fn free(&self, plan: &Plan, cells: &[UnsafeCell<Held>], key: KeyId) {
        let mut ledger = self.lock();
        match ledger.places[key.index()] {
            Place::Held(bytes) => {
                ledger.held -= bytes;
                if let Some(first_use) = first_use(plan, key) {
                    ledger.candidates.remove(&(first_use, key.0));
                }
            }
            Place::Writing(_) => ledger.places[key.index()] = Place::Dropped,
            Place::Written(_) => {
                ledger.places[key.index()] = Place::Held(0);
                let _ = std::fs::remove_file(self.file(key));
            }
            Place::Dropped => unreachable!("a result is freed once"),
        }
        // SAFETY: under the lock, and every consumer is done with the slot.
        cells[key.index()].with_mut(|cell| unsafe { *cell = Held::EMPTY });
    }
}

/// The rank of the first consumer of `key` to run: the later, the colder the result.
fn first_use(plan: &Plan, key: KeyId) -> Option<u32> {
    plan.dependents(key).map(|d| plan.rank(d)).min()
}

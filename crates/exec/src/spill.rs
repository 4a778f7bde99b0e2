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
//!   in memory; a failed read fails the task that needed it.
//! - One file per result in a directory made for the run (this user only), removed
//!   when the run ends however it ends; one a killed run (SIGKILL) left is removed by
//!   the next run that spills into the same place (an owned directory: `owned`). A run that fails or stops returns without
//!   waiting for the tasks still running: it closes the spill first, which waits for
//!   the writes under way (one result each, not whole tasks), refuses new ones and
//!   removes the directory; a task still running then keeps its results in memory.
//! - Format: a chunk raw (a tag, its dtype, rank and shape, then its elements in C
//!   order, native-endian: the file is read back by this process alone); any other
//!   value as postcard, which the worker protocol uses.

use std::collections::BTreeSet;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};

use bytemuck::Pod;
use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, KeyId, Value};
use taskloom_sched::Plan;

use crate::owned::{fresh_name, remove_stale, OwnedDir};
use crate::primitives::UnsafeCell;
use crate::slots::Held;

/// How scratch directories are named: `taskloom-spill-{pid}-{random}`.
const PREFIX: &str = "taskloom-spill-";

/// The first byte of a file holding a chunk, raw.
const RAW_CHUNK: u8 = 0;
/// The first byte of a file holding any other value, as postcard.
const POSTCARD: u8 = 1;

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
        let parent = limit.scratch.clone().unwrap_or_else(std::env::temp_dir);
        remove_stale(&parent, PREFIX, "");
        let dir = OwnedDir::create(&parent.join(fresh_name(PREFIX, "")), 0o700)?;
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

/// Writes `value` to a new file at `path`.
fn write_value(path: &Path, value: &Value) -> io::Result<()> {
    let mut out = BufWriter::new(File::create_new(path)?);
    match value {
        Value::Chunk(chunk) => {
            out.write_all(&[RAW_CHUNK, dtype_tag(chunk)])?;
            let shape = chunk.shape();
            out.write_all(&(shape.len() as u64).to_ne_bytes())?;
            for &n in shape {
                out.write_all(&(n as u64).to_ne_bytes())?;
            }
            match &**chunk {
                Chunk::F64(a) => write_elements(&mut out, a)?,
                Chunk::F32(a) => write_elements(&mut out, a)?,
                Chunk::I64(a) => write_elements(&mut out, a)?,
                Chunk::I32(a) => write_elements(&mut out, a)?,
                Chunk::Bool(a) => write_elements(&mut out, &a.mapv(u8::from))?,
            }
        }
        other => {
            out.write_all(&[POSTCARD])?;
            postcard::to_io(other, &mut out).map_err(io::Error::other)?;
        }
    }
    // Not synced: the file need not outlive the run, and the page cache is the
    // kernel's to reclaim.
    out.flush()
}

fn dtype_tag(chunk: &Chunk) -> u8 {
    match chunk {
        Chunk::F64(_) => 0,
        Chunk::F32(_) => 1,
        Chunk::I64(_) => 2,
        Chunk::I32(_) => 3,
        Chunk::Bool(_) => 4,
    }
}

/// The elements of `a` in C order, as they lie in memory when it is in C order.
fn write_elements<T: Pod>(out: &mut impl Write, a: &ArrayD<T>) -> io::Result<()> {
    match a.as_slice() {
        Some(elements) => out.write_all(bytemuck::cast_slice(elements)),
        None => {
            let standard = a.as_standard_layout();
            let elements = standard
                .as_slice()
                .expect("a standard layout is contiguous");
            out.write_all(bytemuck::cast_slice(elements))
        }
    }
}

/// Reads back what `write_value` wrote at `path`.
fn read_value(path: &Path) -> io::Result<Value> {
    let mut input = BufReader::new(File::open(path)?);
    let mut tag = [0u8; 2];
    input.read_exact(&mut tag[..1])?;
    if tag[0] == POSTCARD {
        let mut bytes = Vec::new();
        input.read_to_end(&mut bytes)?;
        return postcard::from_bytes(&bytes).map_err(io::Error::other);
    }
    input.read_exact(&mut tag[1..])?;
    let rank = read_u64(&mut input)? as usize;
    let shape = (0..rank)
        .map(|_| read_u64(&mut input).map(|n| n as usize))
        .collect::<io::Result<Vec<_>>>()?;
    let chunk = match tag[1] {
        0 => Chunk::F64(read_elements(&mut input, &shape)?),
        1 => Chunk::F32(read_elements(&mut input, &shape)?),
        2 => Chunk::I64(read_elements(&mut input, &shape)?),
        3 => Chunk::I32(read_elements(&mut input, &shape)?),
        4 => Chunk::Bool(read_elements::<u8>(&mut input, &shape)?.mapv(|b| b != 0)),
        other => return Err(io::Error::other(format!("unknown dtype tag {other}"))),
    };
    Ok(Value::Chunk(Arc::new(chunk)))
}

fn read_u64(input: &mut impl Read) -> io::Result<u64> {
    let mut bytes = [0u8; 8];
    input.read_exact(&mut bytes)?;
    Ok(u64::from_ne_bytes(bytes))
}

fn read_elements<T: Pod>(input: &mut impl Read, shape: &[usize]) -> io::Result<ArrayD<T>> {
    // Not `vec![zeroed; n]`: a zeroed allocation this large takes fresh pages from the
    // system rather than reusing what the last task freed, which the allocator keeps
    // a moment (`taskloom::allocator`): under a stream of read-backs that is the peak.
    let len = shape.iter().product();
    let mut elements = Vec::with_capacity(len);
    elements.resize(len, T::zeroed());
    input.read_exact(bytemuck::cast_slice_mut(&mut elements))?;
    ArrayD::from_shape_vec(IxDyn(shape), elements).map_err(io::Error::other)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: Value) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v");
        write_value(&path, &value).unwrap();
        assert_eq!(read_value(&path).unwrap(), value);
    }

    #[test]
    fn chunks_of_every_dtype_and_layout_come_back_as_written() {
        let a = ArrayD::from_shape_fn(IxDyn(&[3, 4]), |i| (i[0] * 4 + i[1]) as f64 - 2.5);
        round_trip(Value::Chunk(Arc::new(Chunk::F64(a.clone()))));
        // Transposed: not in C order in memory.
        round_trip(Value::Chunk(Arc::new(Chunk::F64(
            a.clone().reversed_axes(),
        ))));
        round_trip(Value::Chunk(Arc::new(Chunk::F32(a.mapv(|x| x as f32)))));
        round_trip(Value::Chunk(Arc::new(Chunk::I64(a.mapv(|x| x as i64)))));
        round_trip(Value::Chunk(Arc::new(Chunk::I32(a.mapv(|x| x as i32)))));
        round_trip(Value::Chunk(Arc::new(Chunk::Bool(a.mapv(|x| x > 0.0)))));
        let empty = ArrayD::<f64>::zeros(IxDyn(&[0, 5]));
        round_trip(Value::Chunk(Arc::new(Chunk::F64(empty))));
        let scalar = ArrayD::from_elem(IxDyn(&[]), 7i64);
        round_trip(Value::Chunk(Arc::new(Chunk::I64(scalar))));
    }

    #[test]
    fn other_values_come_back_as_written() {
        round_trip(Value::Bytes(Arc::from(vec![0u8, 1, 255])));
        round_trip(Value::list([Value::str("x"), Value::Int(-3), Value::Null]));
        round_trip(Value::str("a string"));
    }
}

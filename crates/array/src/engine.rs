//! Computing arrays: lower an expression to a graph, plan it, run it on a thread pool
//! sized so that chunks in flight fit the memory limit, and deliver the result (a
//! chunk in memory, or a Zarr array committed only when every chunk is written).
//!
//! - Sizes are checked before anything is allocated per block: the graph's tasks
//!   against what a quarter of memory can track, the largest chunk a task makes and a
//!   result computed into memory against the machine's memory.
//! - A result of several blocks computed into memory comes back as its blocks and is
//!   assembled as they are let go (`assemble`), so it is held about once, not twice.
//! - An array of one value is written as metadata alone: its fill value stands for
//!   every chunk, as zarr-python writes it.
//! - An engine may stop its jobs at a signal (`stop_on_signals`); a stopped job
//!   commits nothing and removes what it wrote.
//! - The memory limit bounds both what tasks hold at once and what results waiting
//!   for their consumers hold: tasks run fewer at a time when chunks are large, and
//!   results past the limit go to scratch files, the coldest first, and come back when
//!   a consumer needs them (`taskloom_exec::MemoryLimit`, on threads).
//! - A job runs on threads, or on any executor (`Job::run_on`: MPI ranks): the graph
//!   names only `array.*` ops, so every process that knows them (`ops::registry`) can
//!   run its tasks; chunks are read and written where the task runs (a shared
//!   filesystem between machines), and the written array is committed here, once the
//!   executor has returned every target, that is once every write has ended.

use std::path::Path;
use std::sync::Arc;

use taskloom_exec::{Catching, Executor, Limits, MemoryLimit, Observers, RunError, Stop, Threads};
use taskloom_graph::{Chunk, DType, Value};
use taskloom_sched::Plan;

use crate::array::Array;
use crate::assemble::assemble;
use crate::error::ArrayError;
use crate::grid::{Dims, Grid};
use crate::kernels::elementwise::promote::Scalar;
use crate::kernels::fill::Full;
use crate::lower::Lowering;
use crate::scratch::ScratchRoot;
use crate::stop::stopping;
use crate::store::ops::Write;
use crate::store::{self, ArrayMeta, Compression, PendingArray, StoreError};

/// About what one task costs to track (its key, calls, plan entries and result slot):
/// measured at about 600 bytes for a write graph, rounded up for fused expressions.
const TASK_BYTES: u64 = 1024;

/// How arrays are computed: worker threads, the memory chunks in flight may take,
/// and the fan-in of reduction trees.
#[derive(Clone, Debug)]
pub struct Engine {
    workers: usize,
    memory_limit: u64,
    fan_in: usize,
    stop_on_signals: bool,
}

/// Where a written array goes and in which form.
#[derive(Clone, Debug)]
pub struct WriteOptions {
    /// Replace an existing array at the path (only once the new one is complete).
    pub overwrite: bool,
    /// Zarr format 2 or 3.
    pub zarr_format: u8,
    /// How chunks are encoded (zstd by default, as zarr-python writes them).
    pub compression: Compression,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            overwrite: false,
            zarr_format: 3,
            compression: Compression::Zstd,
        }
    }
}

impl Default for Engine {
    fn default() -> Self {
        Engine::new()
    }
}

impl Engine {
    /// One worker per core, chunks in flight within a quarter of the machine's RAM,
    /// reductions merging 8 results at a time.
    pub fn new() -> Engine {
        Engine {
            workers: Threads::per_core().workers(),
            memory_limit: ram() / 4,
            fan_in: 8,
            stop_on_signals: false,
        }
    }

    /// Jobs catch the signals `taskloom_child::Interrupts` catches (SIGINT, SIGTERM,
    /// ...) from when they are built until they are dropped, and stop at the first:
    /// the run fails with [`ArrayError::Interrupted`], having removed what it wrote.
    pub fn stop_on_signals(mut self) -> Engine {
        self.stop_on_signals = true;
        self
    }

    /// Computes on `workers` threads.
    pub fn workers(mut self, workers: usize) -> Engine {
        self.workers = workers.max(1);
        self
    }

    /// Keeps the chunks tasks hold at once within `bytes`, by running fewer tasks at
    /// a time when chunks are large, and by sorting through files an array whose sort
    /// would not fit in memory; and keeps the chunks waiting for their consumers
    /// within `bytes` too, writing the rest to scratch files (on threads).
    pub fn memory_limit(mut self, bytes: u64) -> Engine {
        self.memory_limit = bytes;
        self
    }

    /// Reduction trees merge `fan_in` (at least 2) partial results per task.
    pub fn fan_in(mut self, fan_in: usize) -> Engine {
        self.fan_in = fan_in.max(2);
        self
    }

    /// The values of `array`, in memory.
    pub fn compute(&self, array: &Array) -> Result<Chunk, ArrayError> {
        let job = self.compute_job(array)?;
        Ok(job
            .run(Observers::default())?
            .expect("a compute job yields a chunk"))
    }

    /// Writes `array` to a Zarr array at `path`, chunked as `array` is.
    pub fn write(
        &self,
        array: &Array,
        path: &Path,
        options: &WriteOptions,
    ) -> Result<(), ArrayError> {
        self.write_job(array, path, options)?
            .run(Observers::default())?;
        Ok(())
    }

    /// A run that computes `array` into memory, ready to start.
    pub fn compute_job(&self, array: &Array) -> Result<Job, ArrayError> {
        fits_in_memory(array.nbytes(), || {
            format!(
                "the result (shape {}, {})",
                Dims(array.shape()),
                array.dtype()
            )
        })?;
        let interrupts = self.interrupts()?;
        let mut lowering = self.lowering();
        let keys = lowering.block_keys(array)?;
        if keys.len() > 1 {
            // Assembled after the run, as the blocks come back (`assemble`).
            let mut job = self.job(lowering, keys, None, interrupts)?;
            job.blocks = Some((array.grid().clone(), array.dtype()));
            return Ok(job);
        }
        let target = match keys.first() {
            Some(&one) => one,
            None => {
                let empty = Full {
                    dtype: array.dtype(),
                    shape: array.shape().to_vec(),
                    value: Scalar::Int(0),
                };
                let expr = empty.encode(lowering.builder());
                lowering.define_named("result", expr)
            }
        };
        self.job(lowering, vec![target], None, interrupts)
    }

    /// A run that writes `array` to a Zarr array at `path`, ready to start. The
    /// array's metadata goes to a temporary directory now; the path appears only when
    /// the run succeeds. An array of one value has no chunks to write.
    pub fn write_job(
        &self,
        array: &Array,
        path: &Path,
        options: &WriteOptions,
    ) -> Result<Job, ArrayError> {
        let meta = ArrayMeta {
            grid: array.grid().clone(),
            dtype: array.dtype(),
            zarr_format: options.zarr_format,
        };
        // Caught before the temporary directory exists, so no signal can leave it.
        let interrupts = self.interrupts()?;
        let constant = array.constant();
        let fill = constant.unwrap_or(Scalar::Int(0));
        let pending =
            store::create_filled(path, &meta, options.overwrite, options.compression, fill)
                .map_err(ArrayError::from)?;
        let temp = pending.temp_path();
        let mut lowering = self.lowering();
        let targets = match constant {
            Some(_) => Vec::new(),
            None => lowering.sink(array, "write", |builder, index, chunk| {
                let write = Write {
                    path: temp.to_path_buf(),
                    index: index.to_vec(),
                    chunk,
                };
                write.encode(builder)
            })?,
        };
        self.job(lowering, targets, Some(pending), interrupts)
    }

    /// A lowering within the tasks a quarter of memory can track.
    fn lowering(&self) -> Lowering {
        Lowering::new(self.fan_in, ram() / 4 / TASK_BYTES, self.memory_limit)
    }

    /// The job's stop request, and the signals that raise it while the guard lives,
    /// if the job is to stop at one.
    fn interrupts(&self) -> Result<(Stop, Option<Catching>), ArrayError> {
        let stop = Stop::new();
        if !self.stop_on_signals {
            return Ok((stop, None));
        }
        let catching = stop.on_signals().map_err(|e| {
            ArrayError::Run(RunError::Internal(format!("cannot catch signals: {e}")))
        })?;
        Ok((stop, Some(catching)))
    }

    fn job(
        &self,
        lowering: Lowering,
        targets: Vec<taskloom_graph::KeyId>,
        pending: Option<PendingArray>,
        (stop, catching): (Stop, Option<Catching>),
    ) -> Result<Job, ArrayError> {
        fits_in_memory(lowering.chunk_bytes(), || "a chunk".to_string())?;
        let (graph, scratch, task_bytes) = lowering.finish();
        let ops = taskloom_graph::validate(&graph, crate::ops::registry())
            .map_err(|e| ArrayError::invalid(format!("internal error: {e}")))?;
        let plan = Plan::new(Arc::new(graph), stopping(ops, &stop), targets);
        let workers = match task_bytes {
            0 => self.workers,
            _ => ((self.memory_limit / task_bytes) as usize).clamp(1, self.workers),
        };
        Ok(Job {
            plan: Arc::new(plan),
            workers,
            memory: MemoryLimit::new(self.memory_limit),
            blocks: None,
            pending,
            scratch,
            stop,
            _catching: catching,
        })
    }
}

/// Fails when `bytes` (of `what`) are more than this machine's memory: such a chunk
/// could only end in a failed allocation.
fn fits_in_memory(bytes: u64, what: impl FnOnce() -> String) -> Result<(), ArrayError> {
    let ram = ram();
    if bytes > ram {
        return Err(ArrayError::invalid(format!(
            "{} would take {bytes} bytes, more than this machine's memory ({ram} bytes)",
            what()
        )));
    }
    Ok(())
}

/// This machine's RAM in bytes; 4 GiB when it cannot be read. A quarter of it is the
/// default memory limit, leaving the rest to the system, the page cache the chunks are
/// read through, and other programs, and another quarter the most tasks a graph may
/// track.
fn ram() -> u64 {
    // SAFETY: sysconf has no preconditions.
    let (pages, page) = unsafe {
        (
            libc::sysconf(libc::_SC_PHYS_PAGES),
            libc::sysconf(libc::_SC_PAGESIZE),
        )
    };
    if pages > 0 && page > 0 {
        pages as u64 * page as u64
    } else {
        4 << 30
    }
}

/// A lowered, planned computation, ready to run.
pub struct Job {
    plan: Arc<Plan>,
    workers: usize,
    /// What results waiting for consumers may hold on threads.
    memory: MemoryLimit,
    /// The grid and dtype of a result computed into memory whose blocks are the
    /// targets, to be assembled once they are back.
    blocks: Option<(Grid, DType)>,
    pending: Option<PendingArray>,
    /// Scratch files of out-of-core sorts, removed when the job is dropped.
    scratch: Option<ScratchRoot>,
    /// What the job's ops check before each call.
    stop: Stop,
    /// The signals that raise `stop`, caught while the job lives (a guard, never read).
    _catching: Option<Catching>,
}

impl Job {
    /// How many tasks the run has: what a progress bar counts to.
    pub fn tasks(&self) -> usize {
        self.plan.len()
    }

    /// Worker threads the run will use: fewer than asked when the memory limit says so.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The bound on chunks held, which an executor given to [`Job::run_on`] should
    /// hold its results within; its counts say what was written to scratch files and
    /// read back, readable while the run goes on (progress bars, profiles).
    pub fn memory_limit(&self) -> &MemoryLimit {
        &self.memory
    }

    /// The task graph, for inspection (`taskloom graph`-style pictures, tests, the
    /// keys a trace's spans name), shared so it can outlive the run.
    pub fn plan(&self) -> &Arc<Plan> {
        &self.plan
    }

    /// The job's stop request: raising it ends the run, which then leaves nothing at
    /// the output path (a caller's own Ctrl-C, where the engine does not catch signals).
    pub fn stop(&self) -> Stop {
        self.stop.clone()
    }

    /// What an executor given to [`Job::run_on`] runs under: the job's stop request,
    /// raised by a signal when the engine stops on signals.
    pub fn limits(&self) -> Limits {
        Limits {
            stop: Some(self.stop.clone()),
            ..Limits::default()
        }
    }

    /// Runs to completion on [`Job::workers`] threads: the chunk computed, or `None`
    /// once a written array is committed. On failure, or at a signal (see
    /// [`Engine::stop_on_signals`]), nothing is left at the output path and the
    /// scratch is removed.
    pub fn run(self, observers: Observers) -> Result<Option<Chunk>, ArrayError> {
        // A failed write removes the pending array: no task may still be writing.
        let executor = Threads::new(self.workers)
            .observed(observers)
            .memory_limit(self.memory.clone())
            .settle_on_failure();
        self.run_on(&executor)
    }

    /// Runs as [`Job::run`] does, on `executor`, which must know the `array.*` ops
    /// ([`crate::ops::registry`]) wherever it runs tasks, run under [`Job::limits`],
    /// and return from a failure only once no task runs (it settles on failure),
    /// since a failed run removes the directory the tasks write into.
    pub fn run_on(mut self, executor: &dyn Executor) -> Result<Option<Chunk>, ArrayError> {
        if let Some(scratch) = &mut self.scratch {
            scratch.make().map_err(|e| {
                StoreError::io(
                    scratch.path(),
                    "cannot create a scratch directory for sort",
                    e,
                )
            })?;
        }
        let plan = Arc::clone(&self.plan);
        let values = executor.run(plan);
        if let Some(signal) = self.stop.requested() {
            // Removed while the signals are still caught, so a second one cannot
            // end the process half way.
            drop(self.pending);
            drop(self.scratch);
            return Err(ArrayError::Interrupted { signal });
        }
        let values = values?;
        if let Some(pending) = self.pending {
            pending.commit().map_err(ArrayError::from)?;
            return Ok(None);
        }
        if let Some((grid, dtype)) = &self.blocks {
            return assemble(grid, *dtype, values).map(Some);
        }
        match values.first() {
            Some(Value::Chunk(chunk)) => {
                let chunk = Arc::clone(chunk);
                drop(values);
                // The run's only reference now: the chunk moves out uncopied.
                Ok(Some(Arc::unwrap_or_clone(chunk)))
            }
            other => Err(ArrayError::invalid(format!(
                "internal error: the result is {} rather than an array",
                other.map_or("missing", |v| v.type_name())
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the plan's keys.
    fn key_names(job: &Job) -> Vec<String> {
        let graph = job.plan().graph();
        graph.keys().map(|k| graph.name(k).to_string()).collect()
    }

    #[test]
    fn a_sort_within_the_memory_limit_sorts_in_memory_and_a_larger_one_on_disk() {
        // 8000 bytes: in memory when three times that fits.
        let x = Array::random(&[1000], &[100], 7)
            .unwrap()
            .sort(true)
            .unwrap();
        let in_memory = Engine::new().workers(2).memory_limit(24_000);
        let job = in_memory.compute_job(&x).unwrap();
        assert!(
            job.scratch.is_none(),
            "a sort in memory named a scratch directory"
        );
        let names = key_names(&job);
        assert!(names.iter().any(|n| n.contains("-gather[")), "{names:?}");
        let Some(Chunk::F64(got)) = job.run(Observers::default()).unwrap() else {
            panic!("random values sort to float64")
        };
        let on_disk = Engine::new().workers(2).memory_limit(23_999);
        let job = on_disk.compute_job(&x).unwrap();
        assert!(job.scratch.is_some(), "a sort on disk has scratch");
        let Some(Chunk::F64(want)) = job.run(Observers::default()).unwrap() else {
            panic!("random values sort to float64")
        };
        assert_eq!(got, want);
        assert!(got.as_slice().unwrap().windows(2).all(|w| w[0] >= w[1]));
    }

    #[test]
    fn a_sort_has_its_scratch_directory_only_while_it_runs() {
        let x = Array::random(&[1000], &[100], 7)
            .unwrap()
            .sort(false)
            .unwrap();
        // Too little memory to sort 8000 bytes in memory: through files.
        let engine = Engine::new().workers(2).memory_limit(16_000);
        let scratch = |job: &Job| {
            let root = job
                .scratch
                .as_ref()
                .expect("a sort of 10 blocks needs scratch");
            root.path().to_path_buf()
        };
        let unused = engine.compute_job(&x).unwrap();
        let dir = scratch(&unused);
        drop(unused);
        assert!(
            !dir.exists(),
            "building or dropping a job made {}",
            dir.display()
        );
        let job = engine.compute_job(&x).unwrap();
        let dir = scratch(&job);
        assert!(!dir.exists(), "lowering made {}", dir.display());
        let Some(Chunk::F64(sorted)) = job.run(Observers::default()).unwrap() else {
            panic!("random values sort to float64")
        };
        assert!(!dir.exists(), "the run left {} behind", dir.display());
        let sorted: Vec<f64> = sorted.iter().copied().collect();
        assert_eq!(sorted.len(), 1000);
        assert!(sorted.windows(2).all(|w| w[0] <= w[1]));
    }
}

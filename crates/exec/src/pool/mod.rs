//! The Pool API: the counterpart of Python's `multiprocessing.Pool` and
//! `concurrent.futures`, over threads or worker processes.
//!
//! Work is named ops (the registry's), because a process can only run an op it knows
//! by name: the workers are this same binary. `pool.map("square", items, chunking)`
//! calls op `square` with each item as its one argument. Thread pools also take
//! closures (`map_fn`); process pools have no closure methods, so sending a closure to
//! another process is a compile error, not a run-time surprise.
//!
//! Results are per item: `map` gives every value in order or the error of the failed
//! item with the lowest index, `map_results` every item's own result, and
//! `map_unordered` each result with its index as soon as its chunk is done. An item
//! that crashes its worker process fails alone: the rest of its chunk runs again. How
//! items are cut into chunks and handed out is the `Chunking`: fixed chunks dealt up
//! front, or chunks that idle workers pull (see `chunking`).

mod chunking;
mod error;
mod job;
mod process_pool;
mod queue;
mod thread_pool;

use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::{mpsc, Arc};

use taskloom_graph::{FromValue, OpFn, Registry, Value};

pub use self::chunking::Chunking;
use self::chunking::Split;
pub use self::error::PoolError;
use self::job::{Delivery, Fault, Job};
use self::process_pool::ProcessBackend;
use self::thread_pool::ThreadBackend;

/// Where a pool's chunks run: the part that differs between threads and processes.
trait Dispatch: Send + Sync {
    fn workers(&self) -> usize;
    /// Queues the job's batches; on a closed pool, fails its items.
    fn enqueue(&self, job: Arc<Job>, split: Split);
}

/// Starts pools: `Pool::threads(n)` or `Pool::processes(n)`.
#[derive(Debug)]
pub struct Pool;

impl Pool {
    /// A pool of `workers` threads (at least one) that knows the builtin ops; see
    /// `ThreadPool::with_registry` for your own.
    pub fn threads(workers: usize) -> ThreadPool {
        Pool::threads_with(workers, Registry::builtins())
    }

    /// A pool of `workers` threads that calls the ops of `registry`.
    ///
    /// # Panics
    ///
    /// When the operating system refuses to start a thread, as `std::thread::spawn`
    /// does.
    pub fn threads_with(workers: usize, registry: Registry) -> ThreadPool {
        let backend = match ThreadBackend::start(workers) {
            Ok(backend) => backend,
            // Fewer threads than asked is still a pool; none at all cannot be.
            Err(e) => panic!("cannot start pool threads: {e}"),
        };
        ThreadPool {
            core: Core {
                dispatch: Box::new(backend),
            },
            registry,
        }
    }

    /// A pool of `workers` worker processes: this program started again in worker
    /// mode, so it must call `taskloom::serve_worker_if_requested` first thing in
    /// `main`, after registering its ops. Spawns the workers now and waits until they
    /// serve.
    pub fn processes(workers: usize) -> Result<ProcessPool, PoolError> {
        Pool::processes_of(workers, None::<PathBuf>)
    }

    /// A pool of `workers` processes running `executable` (which must serve as a
    /// worker when `TASKLOOM_WORKER` is set, as the `taskloom` binary does) instead
    /// of this program.
    pub fn processes_of(
        workers: usize,
        executable: Option<impl Into<PathBuf>>,
    ) -> Result<ProcessPool, PoolError> {
        ProcessPool::launch(workers, executable.map(Into::into), Vec::new(), None)
    }

    /// A pool of `workers` processes started as `program args...`, which must serve
    /// as a worker (`serve_worker`) with the ops the pool calls: an interpreter whose
    /// worker loop is this engine's, as the Python package's workers are. With
    /// `renew_after`, each worker is replaced by a fresh one once it has run that many
    /// items (`multiprocessing`'s `maxtasksperchild`): what leaks or piles up in a
    /// worker (memory, open files, a library's global state) goes with it.
    pub fn processes_running(
        workers: usize,
        program: impl Into<PathBuf>,
        args: impl IntoIterator<Item = impl Into<OsString>>,
        renew_after: Option<NonZeroUsize>,
    ) -> Result<ProcessPool, PoolError> {
        let args = args.into_iter().map(Into::into).collect();
        ProcessPool::launch(workers, Some(program.into()), args, renew_after)
    }
}

/// What both pool kinds share: turning calls into jobs and collecting results.
struct Core {
    dispatch: Box<dyn Dispatch>,
}

impl Core {
    fn start(
        &self,
        op: &str,
        func: Option<OpFn>,
        items: Vec<Value>,
        spread: bool,
        chunking: Chunking,
    ) -> Result<Results, PoolError> {
        let split = chunking.split(items.len(), self.dispatch.workers())?;
        let (sink, receiver) = mpsc::channel();
        let op: Arc<str> = Arc::from(op);
        let len = items.len();
        if len > 0 {
            let job = Arc::new(Job {
                op: Arc::clone(&op),
                func,
                items,
                spread,
                sink,
            });
            self.dispatch.enqueue(job, split);
        }
        Ok(Results {
            op,
            receiver,
            left: len,
            len,
        })
    }
}

/// The results of one job as they arrive.
struct Results {
    op: Arc<str>,
    receiver: mpsc::Receiver<Delivery>,
    left: usize,
    len: usize,
}

/// Every item's result, gathered in order.
struct Gathered {
    values: Vec<Value>,
    /// (index, why) in index order; includes items that never arrived.
    faults: Vec<(usize, Fault)>,
}

impl Results {
    /// Waits for every item's result.
    fn gather(mut self) -> Gathered {
        let mut deliveries: Vec<(usize, Vec<Value>)> = Vec::new();
        let mut faults = Vec::new();
        while self.left > 0 {
            let Ok(delivery) = self.receiver.recv() else {
                break;
            };
            self.left = self.left.saturating_sub(delivery.values.len());
            faults.extend(delivery.faults);
            deliveries.push((delivery.start, delivery.values));
        }
        // Deliveries in item order, moved (not copied over placeholders: dropping a
        // million placeholder values costs more than the move).
        deliveries.sort_unstable_by_key(|&(start, _)| start);
        let mut values: Vec<Value> = Vec::new();
        if deliveries.len() == 1 && deliveries[0].0 == 0 {
            values = deliveries.pop().map(|(_, v)| v).unwrap_or_default();
        } else {
            values.reserve_exact(self.len);
        }
        for (start, delivered) in deliveries {
            if start > values.len() {
                // Items that never arrived (the pool closed).
                faults.extend((values.len()..start).map(|i| (i, Fault::Closed)));
                values.resize(start, Value::Null);
            }
            values.extend(delivered);
        }
        if values.len() < self.len {
            faults.extend((values.len()..self.len).map(|i| (i, Fault::Closed)));
            values.resize(self.len, Value::Null);
        }
        faults.sort_unstable_by_key(|&(i, _)| i);
        Gathered { values, faults }
    }

    fn all_or_first_error(self) -> Result<Vec<Value>, PoolError> {
        let op = Arc::clone(&self.op);
        let gathered = self.gather();
        match gathered.faults.into_iter().next() {
            Some((index, fault)) => Err(fault.at(index, &op)),
            None => Ok(gathered.values),
        }
    }

    fn each(self) -> Vec<Result<Value, PoolError>> {
        let op = Arc::clone(&self.op);
        let Gathered { values, faults } = self.gather();
        let mut out: Vec<Result<Value, PoolError>> = values.into_iter().map(Ok).collect();
        for (index, fault) in faults {
            out[index] = Err(fault.at(index, &op));
        }
        out
    }
}

/// Results of `map_unordered`: `(index, result)` for every item, in the order they
/// finish (chunk by chunk). Ends after the last item; an item lost because the pool
/// shut down yields `PoolError::Closed`.
pub struct MapUnordered {
    results: Results,
    /// The values of the latest delivery, starting at item `start`.
    delivered: std::iter::Enumerate<std::vec::IntoIter<Value>>,
    start: usize,
    faults: std::iter::Peekable<std::vec::IntoIter<(usize, Fault)>>,
    /// Which items arrived, to report the others as lost if the pool closes.
    seen: Vec<bool>,
    missing: std::ops::Range<usize>,
}

impl MapUnordered {
    /// The next result if it has arrived, without waiting: a caller that must give
    /// up a lock to wait (Python's GIL) takes every result already here at once.
    pub fn try_next(&mut self) -> Option<(usize, Result<Value, PoolError>)> {
        self.advance(false)
    }

    /// The next result; waits for the next delivery only when `wait`.
    fn advance(&mut self, wait: bool) -> Option<(usize, Result<Value, PoolError>)> {
        loop {
            if let Some((offset, value)) = self.delivered.next() {
                let index = self.start + offset;
                if self.faults.peek().is_some_and(|&(i, _)| i == index) {
                    if let Some((_, fault)) = self.faults.next() {
                        return Some((index, Err(fault.at(index, &self.results.op))));
                    }
                }
                return Some((index, Ok(value)));
            }
            if self.results.left > 0 {
                let delivery = if wait {
                    self.results.receiver.recv().ok()
                } else {
                    match self.results.receiver.try_recv() {
                        Ok(delivery) => Some(delivery),
                        Err(mpsc::TryRecvError::Empty) => return None,
                        Err(mpsc::TryRecvError::Disconnected) => None,
                    }
                };
                match delivery {
                    Some(delivery) => {
                        let n = delivery.values.len();
                        self.results.left = self.results.left.saturating_sub(n);
                        let end = (delivery.start + n).min(self.seen.len());
                        for seen in &mut self.seen[delivery.start.min(end)..end] {
                            *seen = true;
                        }
                        self.start = delivery.start;
                        self.delivered = delivery.values.into_iter().enumerate();
                        self.faults = delivery.faults.into_iter().peekable();
                        continue;
                    }
                    None => self.results.left = 0,
                }
            }
            // Whatever never arrived is reported as lost.
            let index = self.missing.by_ref().find(|&i| !self.seen[i])?;
            return Some((index, Err(Fault::Closed.at(index, &self.results.op))));
        }
    }
}

impl Iterator for MapUnordered {
    type Item = (usize, Result<Value, PoolError>);

    fn next(&mut self) -> Option<Self::Item> {
        self.advance(true)
    }
}

/// A submitted call (`submit`, `apply_async`): wait for its value.
pub struct Handle {
    results: Results,
}

impl Handle {
    /// Blocks until the call is done; its value or its error.
    pub fn wait(self) -> Result<Value, PoolError> {
        self.results.each().pop().unwrap_or(Err(PoolError::Closed {
            index: 0,
            op: String::new(),
        }))
    }

    /// Like `wait`, converted to a Rust type.
    pub fn wait_as<T: FromValue>(self) -> Result<T, PoolError> {
        let op = self.results.op.to_string();
        let value = self.wait()?;
        T::from_value(value).map_err(|cause| PoolError::Item {
            index: 0,
            op,
            cause,
        })
    }
}

fn unordered(results: Results) -> MapUnordered {
    let len = results.len;
    MapUnordered {
        results,
        delivered: Vec::new().into_iter().enumerate(),
        start: 0,
        faults: Vec::new().into_iter().peekable(),
        seen: vec![false; len],
        missing: 0..len,
    }
}

/// The named-op methods both pool kinds have. `$resolve` turns an op name into the
/// function to call in this process (threads) or nothing (processes look it up).
macro_rules! named_op_methods {
    () => {
        /// The number of workers.
        pub fn workers(&self) -> usize {
            self.core.dispatch.workers()
        }

        /// Calls op `op` on every item (as its one argument), in chunks; the values in
        /// item order, or the error of the failed item with the lowest index (after
        /// every item has run). `Chunking::Auto` is `multiprocessing`'s default.
        pub fn map<T: Into<Value>>(
            &self,
            op: &str,
            items: impl IntoIterator<Item = T>,
            chunking: Chunking,
        ) -> Result<Vec<Value>, PoolError> {
            self.start(op, items, false, chunking)?.all_or_first_error()
        }

        /// Like `map`, but every item's own result: one failure loses nothing else.
        pub fn map_results<T: Into<Value>>(
            &self,
            op: &str,
            items: impl IntoIterator<Item = T>,
            chunking: Chunking,
        ) -> Result<Vec<Result<Value, PoolError>>, PoolError> {
            Ok(self.start(op, items, false, chunking)?.each())
        }

        /// Like `map`, but each item is a list of the op's arguments (Python's
        /// `starmap`): `starmap("add", [[1, 2], [3, 4]])` is `[3, 7]`.
        pub fn starmap<T: Into<Value>>(
            &self,
            op: &str,
            items: impl IntoIterator<Item = T>,
            chunking: Chunking,
        ) -> Result<Vec<Value>, PoolError> {
            self.start(op, items, true, chunking)?.all_or_first_error()
        }

        /// Calls op `op` on every item and yields `(index, result)` as chunks finish
        /// (Python's `imap_unordered`): start using results before the slowest is done.
        pub fn map_unordered<T: Into<Value>>(
            &self,
            op: &str,
            items: impl IntoIterator<Item = T>,
            chunking: Chunking,
        ) -> Result<MapUnordered, PoolError> {
            Ok(unordered(self.start(op, items, false, chunking)?))
        }

        /// Calls op `op` with `args` in the pool and returns at once with a handle to
        /// wait on (`concurrent.futures`' `submit`).
        pub fn submit<T: Into<Value>>(
            &self,
            op: &str,
            args: impl IntoIterator<Item = T>,
        ) -> Result<Handle, PoolError> {
            let args = Value::list(args.into_iter().map(Into::into));
            let results = self.start(op, [args], true, Chunking::Dynamic(1))?;
            Ok(Handle { results })
        }

        /// `submit` under `multiprocessing`'s name.
        pub fn apply_async<T: Into<Value>>(
            &self,
            op: &str,
            args: impl IntoIterator<Item = T>,
        ) -> Result<Handle, PoolError> {
            self.submit(op, args)
        }
    };
}

/// A pool of threads: named ops from its registry, or closures (`map_fn`,
/// `submit_fn`). Dropping it stops the threads after their current chunks; items not
/// started fail with `PoolError::Closed`.
pub struct ThreadPool {
    core: Core,
    registry: Registry,
}

impl ThreadPool {
    named_op_methods!();

    /// Calls the ops of `registry` (e.g. `runtime.registry().clone()`) instead of the
    /// builtins.
    pub fn with_registry(mut self, registry: Registry) -> Self {
        self.registry = registry;
        self
    }

    /// The ops this pool calls by name.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    fn start<T: Into<Value>>(
        &self,
        op: &str,
        items: impl IntoIterator<Item = T>,
        spread: bool,
        chunking: Chunking,
    ) -> Result<Results, PoolError> {
        let func = self
            .registry
            .get(op)
            .cloned()
            .ok_or_else(|| PoolError::UnknownOp(op.to_string()))?;
        let items = items.into_iter().map(Into::into).collect();
        self.core.start(op, Some(func), items, spread, chunking)
    }

    /// Calls the closure `f` on every item, in chunks; the values in order, or the
    /// first failure (an item that does not convert to `A` fails with the reason).
    /// Closures stay in this process, so only thread pools take them.
    pub fn map_fn<A, R, T, F>(
        &self,
        items: impl IntoIterator<Item = T>,
        chunking: Chunking,
        f: F,
    ) -> Result<Vec<Value>, PoolError>
    where
        A: FromValue,
        R: Into<Value>,
        T: Into<Value>,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let items = items.into_iter().map(Into::into).collect();
        self.core
            .start("closure", Some(closure_op(f)), items, false, chunking)?
            .all_or_first_error()
    }

    /// Like `map_fn`, yielding `(index, result)` as chunks finish.
    pub fn map_fn_unordered<A, R, T, F>(
        &self,
        items: impl IntoIterator<Item = T>,
        chunking: Chunking,
        f: F,
    ) -> Result<MapUnordered, PoolError>
    where
        A: FromValue,
        R: Into<Value>,
        T: Into<Value>,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        let items = items.into_iter().map(Into::into).collect();
        Ok(unordered(self.core.start(
            "closure",
            Some(closure_op(f)),
            items,
            false,
            chunking,
        )?))
    }

    /// Runs the closure `f` in the pool; returns at once with a handle to wait on.
    pub fn submit_fn<R, F>(&self, f: F) -> Result<Handle, PoolError>
    where
        R: Into<Value>,
        F: Fn() -> R + Send + Sync + 'static,
    {
        let func: OpFn = Arc::new(move |_: &[Value]| Ok(f().into()));
        let results = self.core.start(
            "closure",
            Some(func),
            vec![Value::Null],
            false,
            Chunking::Dynamic(1),
        )?;
        Ok(Handle { results })
    }
}

/// A closure over Rust types as an op over one value.
fn closure_op<A, R, F>(f: F) -> OpFn
where
    A: FromValue,
    R: Into<Value>,
    F: Fn(A) -> R + Send + Sync + 'static,
{
    Arc::new(move |args: &[Value]| {
        let arg = args.first().cloned().unwrap_or_default();
        let a = A::from_value(arg).map_err(taskloom_graph::OpError)?;
        Ok(f(a).into())
    })
}

/// A pool of worker processes: named ops only (the workers' registry is this
/// program's, see `Pool::processes`). A crash takes down one worker and fails only
/// the chunk it was running; a new worker replaces it. Dropping the pool kills and
/// reaps every worker.
pub struct ProcessPool {
    core: Core,
}

impl ProcessPool {
    named_op_methods!();

    /// Starts the workers: see `Pool::processes_of` and `Pool::processes_running`.
    fn launch(
        workers: usize,
        executable: Option<PathBuf>,
        args: Vec<OsString>,
        renew_after: Option<NonZeroUsize>,
    ) -> Result<ProcessPool, PoolError> {
        let backend = ProcessBackend::start(workers, executable, args, renew_after)?;
        Ok(ProcessPool {
            core: Core {
                dispatch: Box::new(backend),
            },
        })
    }

    fn start<T: Into<Value>>(
        &self,
        op: &str,
        items: impl IntoIterator<Item = T>,
        spread: bool,
        chunking: Chunking,
    ) -> Result<Results, PoolError> {
        let items = items.into_iter().map(Into::into).collect();
        self.core.start(op, None, items, spread, chunking)
    }
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers())
            .finish()
    }
}

impl std::fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessPool")
            .field("workers", &self.workers())
            .finish()
    }
}

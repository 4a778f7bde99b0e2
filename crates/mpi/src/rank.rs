//! A worker rank (every rank but 0): runs the tasks rank 0 gives it on threads of its
//! own, keeps their results, and sends them to peer ranks when told to.
//!
//! - The rank's main thread is its only MPI thread: it receives batches, queues tasks
//!   in `Tasks` (shared with worker processes), and sends replies and results in
//!   batches (`transport.rs`).
//! - The queue and the results are shared with the task threads under one lock
//!   (`Shared`). A task thread that ends a task keeps its result, leaves the reply for
//!   the MPI thread, and takes the next runnable task itself: a chain of tasks given
//!   to a rank runs without a hand-off between threads per task, and the MPI thread,
//!   which sleeps while nothing comes (`Idle`), is woken only to send the replies.
//! - Results go to peers directly (`Send` becomes a `Store` to the peer, which reports
//!   `Arrived` to rank 0): rank 0 carries no result bytes but the requested ones.
//! - The program stays loaded across runs (a library may compute many graphs); the
//!   rank serves until rank 0 says `Shutdown`. Each load has its own `Shells`, and a
//!   task of an earlier load that ends late (its run failed or was stopped) is
//!   dropped, not reported into the next run.
//! - A task thread that panics in a task outside its op (whose panics fail the task
//!   already) fails the task too; one that panics elsewhere (a bug) aborts the job
//!   (`MPI_Abort`): either way rank 0 never waits for a task no thread runs.
//! - A terminating signal does not end the rank (`Mpi::init` ignores them until the
//!   process ends): the launcher forwards signals to every rank, and rank 0 decides
//!   (it drains the ranks, then shuts them down, which ends their shell commands). If
//!   rank 0 dies instead, the launcher ends the job.

use std::collections::HashMap;
use std::io;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use taskloom_exec::worker::{bind, evaluate, Evaluated, Program, Reply, Request, Tasks};
use taskloom_graph::ops::Shells;
use taskloom_graph::{KeyId, OpFn, Registry, Value};

use super::transport::{messages, Idle, Transport};

/// Rank 0, which gives the tasks.
pub(crate) const DRIVER: usize = 0;

/// Serves rank 0 until it says `Shutdown`, running up to `threads` tasks at once.
pub(crate) fn serve(
    transport: &mut Transport,
    registry: &Registry,
    threads: usize,
) -> io::Result<()> {
    let rank = Arc::new(Rank {
        shared: Mutex::new(Shared {
            load: 0,
            program: Arc::new(Program::default()),
            shells: Shells::new(),
            ops: Arc::from(Vec::new()),
            tasks: Tasks::default(),
            running: HashMap::new(),
            replies: Vec::new(),
            serving: true,
            broken: false,
            waiting_threads: 0,
        }),
        runnable: Condvar::new(),
        mpi_thread: thread::current(),
    });
    for _ in 0..threads.max(1) {
        let rank = Arc::clone(&rank);
        thread::Builder::new()
            .name("taskloom-task".into())
            .spawn(move || {
                if catch_unwind(AssertUnwindSafe(|| rank.run_tasks())).is_err() {
                    rank.lock().broken = true;
                    rank.mpi_thread.unpark();
                }
            })?;
    }
    let mut timeout = None;
    let mut draining = false;
    let mut idle = Idle::default();
    let mut requests = Vec::new();
    loop {
        // Decoded before taking the lock, so that task threads wait for it no longer
        // than carrying the requests out takes.
        while let Some((_, batch)) = transport.receive() {
            messages(&batch, |request| {
                requests.push(request);
                Ok(())
            })?;
        }
        let mut active = !requests.is_empty();
        let mut wake = false;
        let mut shared = rank.lock();
        for request in requests.drain(..) {
            wake |= shared.handle(request, registry, transport, &mut timeout, &mut draining)?;
        }
        for reply in shared.replies.drain(..) {
            active = true;
            transport.push(DRIVER, &reply);
        }
        shared.report_overdue(timeout, transport);
        if draining && shared.running.is_empty() {
            draining = false;
            transport.push(DRIVER, &Reply::Drained);
        }
        if shared.broken {
            eprintln!(
                "taskloom MPI rank {}: a task thread panicked",
                transport.rank()
            );
            transport.abort();
        }
        let serving = shared.serving;
        drop(shared);
        if wake {
            rank.runnable.notify_all();
        }
        transport.flush();
        if !serving {
            break;
        }
        if active {
            idle.busy();
        } else {
            idle.wait();
        }
    }
    // Task threads still in an op that is not a shell command are left to the exit.
    rank.lock().shells.stop();
    transport.finish();
    Ok(())
}

/// What the MPI thread and the task threads share; see the module header.
struct Rank {
    shared: Mutex<Shared>,
    /// Signalled when a task may have become runnable, or the rank stops serving.
    runnable: Condvar,
    /// Unparked when a reply waits to be sent.
    mpi_thread: Thread,
}

struct Shared {
    /// How many programs were loaded: the current load's number.
    load: u64,
    program: Arc<Program>,
    /// The shell commands of the loaded program's tasks.
    shells: Shells,
    ops: Arc<[OpFn]>,
    tasks: Tasks,
    /// The tasks on the task threads, by load, each with its start (`None` once
    /// reported overdue).
    running: HashMap<(u64, KeyId), Option<Instant>>,
    /// Replies of ended tasks, for the MPI thread to send.
    replies: Vec<Reply>,
    serving: bool,
    /// A task thread panicked outside a task: the rank cannot go on.
    broken: bool,
    /// Task threads waiting for a runnable task.
    waiting_threads: usize,
}

/// A task taken by a task thread, with everything it reads.
struct Job {
    load: u64,
    program: Arc<Program>,
    shells: Shells,
    ops: Arc<[OpFn]>,
    key: KeyId,
    inputs: Vec<(KeyId, Value)>,
}

impl Rank {
    fn lock(&self) -> MutexGuard<'_, Shared> {
        // Nothing panics while holding it but a bug; the state stays usable.
        self.shared.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A task thread: runs the runnable tasks, one after the other, until the rank
    /// stops serving.
    fn run_tasks(&self) {
        let mut shared = self.lock();
        loop {
            let job = loop {
                if !shared.serving {
                    return;
                }
                match shared.take_job() {
                    Some(Ok(job)) => break job,
                    Some(Err(failed)) => self.reply(&mut shared, failed),
                    None => {
                        shared.waiting_threads += 1;
                        shared = self
                            .runnable
                            .wait(shared)
                            .unwrap_or_else(|e| e.into_inner());
                        shared.waiting_threads -= 1;
                    }
                }
            };
            // A task that ended here may have made more than one runnable.
            if shared.waiting_threads > 0 && shared.tasks.has_runnable() {
                self.runnable.notify_one();
            }
            drop(shared);
            let evaluated = catch_unwind(AssertUnwindSafe(|| {
                let _entered = job.shells.enter();
                evaluate(&job.program, &job.ops, job.key, &job.inputs)
            }));
            drop(job.inputs);
            shared = self.lock();
            shared.running.remove(&(job.load, job.key));
            if job.load != shared.load {
                continue;
            }
            let reply = match evaluated {
                Ok(evaluated) => shared.conclude(evaluated),
                Err(_) => Reply::Failed {
                    key: job.key,
                    op: "(task thread)".into(),
                    cause: "a task thread panicked".into(),
                },
            };
            self.reply(&mut shared, reply);
            if let Some(spilled) = shared.tasks.spilled() {
                self.reply(&mut shared, spilled);
            }
        }
    }

    /// Queues `reply` for the MPI thread to send, waking it for the first.
    fn reply(&self, shared: &mut Shared, reply: Reply) {
        if shared.replies.is_empty() {
            self.mpi_thread.unpark();
        }
        shared.replies.push(reply);
    }
}

impl Shared {
    /// Carries out one request; whether a task may have become runnable.
    fn handle(
        &mut self,
        request: Request,
        registry: &Registry,
        transport: &mut Transport,
        timeout: &mut Option<Duration>,
        draining: &mut bool,
    ) -> io::Result<bool> {
        match request {
            Request::Load(program) => match bind(registry, &program) {
                Ok(ops) => {
                    self.ops = Arc::from(ops);
                    self.load += 1;
                    self.program = Arc::new(program);
                    self.shells = Shells::new();
                    self.tasks = Tasks::default();
                    self.tasks.held.limit(self.program.limit.clone());
                    transport.push(DRIVER, &Reply::Loaded);
                }
                Err(op) => {
                    transport.push(DRIVER, &Reply::UnknownOp { op });
                }
            },
            Request::Run { key } => {
                self.tasks
                    .give(key, &self.program)
                    .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
                return Ok(true);
            }
            Request::Store { key, value } => {
                self.tasks.held.insert(key, value);
                transport.push(DRIVER, &Reply::Arrived { key });
                return Ok(true);
            }
            Request::Send { keys, to } => {
                for key in keys {
                    match self.tasks.held.get(key) {
                        Some(Ok(value)) => {
                            transport.push(to as usize, &Request::Store { key, value });
                        }
                        Some(Err(e)) => {
                            let cause = e.to_string();
                            transport.push(DRIVER, &Reply::Unreadable { key, cause });
                        }
                        None => {
                            transport.push(DRIVER, &Reply::Unsent { key, to });
                        }
                    }
                }
            }
            Request::Fetch { keys } => {
                transport.push(DRIVER, &self.tasks.fetch(keys));
            }
            Request::Cancel { key } => self.tasks.cancel(key),
            Request::Release { key } => self.tasks.held.remove(key),
            Request::Drain { stop_shells } => {
                self.tasks.cancel_all();
                if stop_shells {
                    self.shells.stop();
                }
                *draining = true;
            }
            Request::Shutdown => {
                self.serving = false;
                return Ok(true);
            }
            Request::Timeout { limit } => *timeout = limit,
            Request::Map { .. } => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a pool map request reached an MPI rank",
                ))
            }
        }
        Ok(false)
    }

    /// The oldest runnable task of the current load, marked running; or the reply
    /// that fails it, when an input cannot be read back.
    fn take_job(&mut self) -> Option<Result<Job, Reply>> {
        let (key, inputs) = match self.tasks.take_runnable()? {
            Ok(taken) => taken,
            Err(failed) => return Some(Err(failed)),
        };
        self.running.insert((self.load, key), Some(Instant::now()));
        Some(Ok(Job {
            load: self.load,
            program: Arc::clone(&self.program),
            shells: self.shells.clone(),
            ops: Arc::clone(&self.ops),
            key,
            inputs,
        }))
    }

    /// Keeps a task's result; returns the reply that reports its end.
    fn conclude(&mut self, evaluated: Evaluated) -> Reply {
        let program = Arc::clone(&self.program);
        self.tasks.conclude(evaluated, &program)
    }

    /// Reports the tasks running longer than the task timeout, once each: rank 0 ends
    /// the run (a thread cannot be taken back), as the threads executor does.
    fn report_overdue(&mut self, limit: Option<Duration>, transport: &mut Transport) {
        let Some(limit) = limit else { return };
        for (&(load, key), started) in &mut self.running {
            if load == self.load && started.is_some_and(|t| t.elapsed() > limit) {
                *started = None;
                transport.push(DRIVER, &Reply::TimedOut { key });
            }
        }
    }
}

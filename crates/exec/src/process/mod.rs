//! The process executor: tasks run in a pool of worker processes, so a task that
//! crashes or hangs takes only its worker down; the run goes on with a new one.
//!
//! The driver runs the sans-IO `Scheduler`, and is nothing more than a driver: it turns
//! worker replies into events and carries out the decisions. A result stays in the
//! worker that made it. The core orders transfers peer to peer; here they are relayed
//! through the driver (a `Fetch` from the holder, a `Store` to the destination; the
//! driver counts the bytes it moved and keeps a relayed value until it is released).
//! A task is sent at once and waits in its worker for the inputs still travelling.
//!
//! Under a memory limit (`Processes::memory_limit`) each worker holds at most its
//! share of it and writes the rest to scratch files (`results.rs`), in a directory of
//! the run's that the driver removes however the run ends; the driver then keeps no
//! relayed value past its transfer, and counts what the workers report.
//!
//! A worker is ended with SIGTERM (on a task timeout, a failed run or a stop request),
//! on which it ends its shell commands before it exits (`worker.rs`); SIGKILL follows
//! only if it is still there after the grace it needs for that (`supervisor.rs`).

pub(crate) mod protocol;
pub(crate) mod results;
pub(crate) mod supervisor;
pub(crate) mod tasks;
pub(crate) mod worker;

use std::collections::HashMap;
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::Instant;

use taskloom_graph::{KeyId, Value};
use taskloom_sched::{Decision, Event, Plan, Scheduler, Status, WorkerId};

pub use self::protocol::WORKER_ENV;
use self::protocol::{encode_load, Reply, Request, WorkerLimit};
use self::supervisor::{Ended, Incoming, Supervisor};
pub use self::worker::serve;
use crate::error::RunError;
use crate::limits::Limits;
use crate::observe::Observers;
use crate::spill::{MemoryLimit, SpillCounts};
use crate::spill_file::scratch_dir;
use crate::trace::Span;
use crate::Executor;

/// Tasks given to a worker ahead of the one it runs, so that it never waits for the
/// driver between tasks.
const SLOTS_PER_WORKER: usize = 16;

/// Runs tasks in worker processes: the same binary, started in worker mode (see
/// `serve`).
#[derive(Debug)]
pub struct Processes {
    workers: usize,
    executable: Option<PathBuf>,
    args: Vec<OsString>,
    limits: Limits,
    bytes_moved: AtomicU64,
    observers: Observers,
    memory_limit: Option<MemoryLimit>,
}

impl Processes {
    /// A pool of `workers` processes (at least one).
    pub fn new(workers: usize) -> Self {
        Processes {
            workers: workers.max(1),
            executable: None,
            args: Vec::new(),
            limits: Limits::default(),
            bytes_moved: AtomicU64::new(0),
            observers: Observers::default(),
            memory_limit: None,
        }
    }

    /// Holds at most `limit` of results across the workers, each its equal share;
    /// results past a worker's share go to its scratch files and are read back when
    /// needed, so that a run larger than memory finishes.
    pub fn memory_limit(mut self, limit: MemoryLimit) -> Self {
        self.memory_limit = Some(limit);
        self
    }

    /// Starts `executable` as the workers instead of this program (which must then
    /// call `serve` when `WORKER_ENV` is set, as the `taskloom` binary does).
    pub fn executable(mut self, executable: impl Into<PathBuf>) -> Self {
        self.executable = Some(executable.into());
        self
    }

    /// Starts the workers with `args`: for an interpreter that serves only when told
    /// how (`python -c ...`), as the Python package's workers do.
    pub fn args(mut self, args: impl IntoIterator<Item = impl Into<OsString>>) -> Self {
        self.args = args.into_iter().map(Into::into).collect();
        self
    }

    /// Runs under `limits`: a failed task (a task error, or its worker died or was
    /// ended on the task timeout) runs again up to `retries` more times; a stop request
    /// ends the run and its workers.
    pub fn limited(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Reports finished tasks and task spans to `observers` (workers time their tasks
    /// on the machine's monotonic clock, which the trace shares).
    pub fn observed(mut self, observers: Observers) -> Self {
        self.observers = observers;
        self
    }

    /// Bytes of results moved between workers in the last run.
    pub fn bytes_moved(&self) -> u64 {
        self.bytes_moved.load(Ordering::Relaxed)
    }
}

impl Executor for Processes {
    fn run(&self, plan: Arc<Plan>) -> Result<Vec<Value>, RunError> {
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        // The workers' scratch directories go in one of the run's, which the driver
        // removes however the run ends, also when a worker was killed.
        let scratch = match &self.memory_limit {
            Some(limit) => Some(scratch_dir(limit.scratch()).map_err(|e| {
                RunError::Environment(format!(
                    "cannot create a scratch directory for results past the memory limit: {e}"
                ))
            })?),
            None => None,
        };
        let share = self
            .memory_limit
            .as_ref()
            .zip(scratch.as_ref())
            .map(|(limit, dir)| WorkerLimit {
                bytes: limit.bytes() / self.workers as u64,
                scratch: Some(dir.path().to_path_buf()),
            });
        let load = encode_load(&plan, share.as_ref())?;
        let executable = match &self.executable {
            Some(path) => path.clone(),
            None => std::env::current_exe().map_err(|e| {
                RunError::Spawn(format!("cannot find this program to start workers: {e}"))
            })?,
        };
        let (sender, events) = mpsc::channel();
        let mut driver = Driver {
            scheduler: Scheduler::new(Arc::clone(&plan), SLOTS_PER_WORKER, self.limits.retries),
            supervisor: Supervisor::new(executable, sender).with_args(self.args.clone()),
            events,
            load,
            plan,
            relay: HashMap::new(),
            fetching: HashMap::new(),
            own_events: Vec::new(),
            started: Vec::new(),
            limits: self.limits.clone(),
            bytes_moved: 0,
            observers: self.observers.clone(),
            spans: Vec::new(),
            spill: self.memory_limit.as_ref().map(|m| m.counts().clone()),
        };
        let outcome = driver.run(self.workers);
        if let Some(trace) = &self.observers.trace {
            trace.extend(&mut driver.spans);
            trace.note_workers(driver.started.len());
        }
        self.bytes_moved
            .store(driver.bytes_moved, Ordering::Relaxed);
        driver.supervisor.shutdown(outcome.is_err());
        drop(scratch);
        match self.limits.stopped() {
            Some(signal) => Err(RunError::Stopped { signal }),
            None => outcome,
        }
    }
}

/// A transfer's bytes, asked of the worker holding them, and where they go.
struct Fetch {
    from: WorkerId,
    to: Vec<WorkerId>,
}

struct Driver {
    scheduler: Scheduler,
    supervisor: Supervisor<(WorkerId, Incoming)>,
    events: mpsc::Receiver<(WorkerId, Incoming)>,
    /// `Request::Load` with the graph, encoded once: every worker's first request.
    load: Vec<u8>,
    plan: Arc<Plan>,
    /// Results that travelled through the driver, kept until released so that the
    /// next transfer of the same result costs no round trip to its holder.
    relay: HashMap<KeyId, Value>,
    /// Transfers waiting for their bytes, by key.
    fetching: HashMap<KeyId, Fetch>,
    /// Events the driver itself produces (a transfer relayed at once), fed back to the
    /// core before it waits for workers.
    own_events: Vec<Event>,
    /// When each worker started its current task, if it has one.
    started: Vec<Option<Instant>>,
    limits: Limits,
    bytes_moved: u64,
    observers: Observers,
    spans: Vec<Span>,
    /// Under a memory limit, what the workers spilled; and no relayed value is kept.
    spill: Option<SpillCounts>,
}

impl Driver {
    fn run(&mut self, workers: usize) -> Result<Vec<Value>, RunError> {
        let mut decisions = Vec::new();
        // Every worker joins before any is given a task, so that ready tasks spread.
        for _ in 0..workers {
            self.add_worker()?;
        }
        self.scheduler.assign(&mut decisions);
        let tick = self.limits.tick();
        let mut last_look = Instant::now();
        loop {
            self.carry_out(&mut decisions);
            if !self.own_events.is_empty() {
                for event in std::mem::take(&mut self.own_events) {
                    self.scheduler.handle(event, &mut decisions);
                }
                continue;
            }
            self.supervisor.flush();
            match self.scheduler.status() {
                Status::Running => {}
                Status::Finished => return self.collect_targets(),
                Status::Failed(failure) => {
                    return Err(RunError::failed(self.plan.graph(), failure))
                }
            }
            // Every tick, even while replies keep coming: a stop request, tasks past
            // their timeout, workers past their grace.
            if last_look.elapsed() >= tick {
                last_look = Instant::now();
                if let Some(signal) = self.limits.stopped() {
                    return Err(RunError::Stopped { signal });
                }
                self.end_overdue();
                self.supervisor.enforce_grace(last_look);
            }
            match self.events.recv_timeout(tick) {
                Ok(incoming) => self.receive(incoming, &mut decisions)?,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => return Err(lost_channel()),
            }
        }
    }

    fn add_worker(&mut self) -> Result<(), RunError> {
        let worker = self
            .supervisor
            .spawn()
            .map_err(|e| RunError::Spawn(format!("worker process: {e}")))?;
        self.supervisor.send_encoded(worker, &self.load);
        self.started.push(None);
        self.scheduler.add_worker();
        Ok(())
    }

    fn carry_out(&mut self, decisions: &mut Vec<Decision>) {
        // Bytes to ask for, grouped by holder: one request per worker, not per value.
        let mut requests: HashMap<WorkerId, Vec<KeyId>> = HashMap::new();
        for decision in decisions.drain(..) {
            match decision {
                Decision::Transfer { key, from, to } => {
                    if let Some(value) = self.relay.get(&key) {
                        let value = value.clone();
                        self.deliver(key, value, to);
                    } else {
                        let fetch = self.fetching.entry(key).or_insert_with(|| {
                            requests.entry(from).or_default().push(key);
                            Fetch {
                                from,
                                to: Vec::new(),
                            }
                        });
                        fetch.to.push(to);
                    }
                }
                Decision::Run { key, worker } => {
                    self.supervisor.send(worker, &Request::Run { key });
                    self.started[worker.0 as usize].get_or_insert_with(Instant::now);
                }
                Decision::Cancel { key, worker } => {
                    self.supervisor.send(worker, &Request::Cancel { key });
                }
                Decision::Release { key, workers } => {
                    self.relay.remove(&key);
                    for w in workers {
                        self.supervisor.send(w, &Request::Release { key });
                    }
                }
            }
        }
        for (holder, keys) in requests {
            self.supervisor.send(holder, &Request::Fetch { keys });
        }
    }

    /// Hands `value` to worker `to`. The pipe keeps order, so whatever the driver
    /// sends `to` next comes after it: the transfer has arrived as far as the core is
    /// concerned.
    fn deliver(&mut self, key: KeyId, value: Value, to: WorkerId) {
        let size = self.supervisor.send(to, &Request::Store { key, value });
        self.bytes_moved += size as u64;
        self.own_events.push(Event::Arrived { key, worker: to });
    }

    /// Bytes arrived from a holder: on to the workers waiting for them.
    fn fetched(&mut self, values: Vec<(KeyId, Option<Value>)>) {
        for (key, value) in values {
            let Some(fetch) = self.fetching.remove(&key) else {
                continue;
            };
            match value {
                Some(value) => {
                    for &to in &fetch.to {
                        self.deliver(key, value.clone(), to);
                    }
                    if self.spill.is_none() {
                        self.relay.insert(key, value);
                    }
                }
                None => self.transfers_failed(key, fetch),
            }
        }
    }

    fn transfers_failed(&mut self, key: KeyId, fetch: Fetch) {
        for worker in fetch.to {
            self.own_events.push(Event::TransferFailed { key, worker });
        }
    }

    fn receive(
        &mut self,
        (worker, incoming): (WorkerId, Incoming),
        decisions: &mut Vec<Decision>,
    ) -> Result<(), RunError> {
        let event = match incoming {
            Incoming::Reply(Reply::Ready | Reply::Loaded) => return Ok(()),
            // A worker being ended (a task timeout) may still report its task, failed
            // as its shell commands are ended: its end is what counts.
            Incoming::Reply(Reply::Finished { .. } | Reply::Failed { .. })
                if self.supervisor.ending(worker) =>
            {
                return Ok(())
            }
            Incoming::Reply(Reply::UnknownOp { op }) => {
                return Err(RunError::Internal(format!(
                    "worker processes do not know op '{op}': register it before serving as a worker"
                )))
            }
            Incoming::Reply(Reply::Values { values }) => {
                self.fetched(values);
                return Ok(());
            }
            Incoming::Reply(Reply::Unreadable { key, cause }) => {
                return Err(RunError::unreadable(self.plan.graph(), key, cause))
            }
            Incoming::Reply(Reply::Spilled {
                written,
                read_back,
                over,
            }) => {
                if let Some(spill) = &self.spill {
                    spill.add(written, read_back, over);
                }
                return Ok(());
            }
            // Only the Pool API sends `Map`, and only MPI ranks the others.
            Incoming::Reply(
                Reply::Mapped { .. }
                | Reply::Arrived { .. }
                | Reply::Unsent { .. }
                | Reply::Drained
                | Reply::TimedOut { .. },
            ) => return Ok(()),
            Incoming::Reply(Reply::Finished {
                key,
                bytes,
                started_ns,
                ended_ns,
            }) => {
                self.next_task_starts(worker);
                self.observers.remote_task_finished(
                    &mut self.spans,
                    key,
                    worker.0,
                    (started_ns, ended_ns),
                );
                Event::Finished { key, worker, bytes }
            }
            Incoming::Reply(Reply::Failed { key, op, cause }) => {
                self.next_task_starts(worker);
                Event::Failed {
                    key,
                    worker,
                    op,
                    cause,
                }
            }
            Incoming::Gone { garbage } => {
                let cause = self.supervisor.reap(worker, garbage).to_string();
                self.started[worker.0 as usize] = None;
                // The core forgets what the worker held first, so that a failed
                // transfer from it is sent again from another holder, not from it.
                self.scheduler
                    .handle(Event::WorkerLost { worker, cause }, decisions);
                let from_dead: Vec<KeyId> = self
                    .fetching
                    .iter()
                    .filter(|(_, f)| f.from == worker)
                    .map(|(&k, _)| k)
                    .collect();
                for key in from_dead {
                    let fetch = self.fetching.remove(&key).expect("listed above");
                    self.transfers_failed(key, fetch);
                }
                if self.scheduler.status() == Status::Running {
                    self.add_worker()?;
                    self.scheduler.assign(decisions);
                }
                return Ok(());
            }
        };
        self.scheduler.handle(event, decisions);
        Ok(())
    }

    fn next_task_starts(&mut self, worker: WorkerId) {
        let busy = self.scheduler.assigned_to(worker).len() > 1;
        self.started[worker.0 as usize] = busy.then(Instant::now);
    }

    /// Ends the workers whose task runs past the task timeout.
    fn end_overdue(&mut self) {
        let Some(limit) = self.limits.task_timeout else {
            return;
        };
        for w in 0..self.started.len() {
            let worker = WorkerId(w as u32);
            if self.started[w].is_some_and(|t| t.elapsed() > limit) {
                let cause = format!(
                    "it ran longer than the task timeout ({limit:?}), so its worker was killed"
                );
                self.started[w] = None;
                self.supervisor.terminate(worker, cause);
            }
        }
    }

    /// Fetches the requested results from the workers holding them. Replies to
    /// transfers still under way may come first: only the targets are taken.
    fn collect_targets(&mut self) -> Result<Vec<Value>, RunError> {
        let targets: Vec<KeyId> = self.plan.targets().to_vec();
        let mut missing: HashMap<KeyId, WorkerId> = HashMap::new();
        for &t in &targets {
            if !self.relay.contains_key(&t) {
                missing.insert(t, self.scheduler.placement(t)[0]);
            }
        }
        let mut asks: HashMap<WorkerId, Vec<KeyId>> = HashMap::new();
        for (&key, &holder) in &missing {
            asks.entry(holder).or_default().push(key);
        }
        for (holder, keys) in asks {
            self.supervisor.send(holder, &Request::Fetch { keys });
        }
        self.supervisor.flush();
        while !missing.is_empty() {
            match self.events.recv().map_err(|_| lost_channel())? {
                (_, Incoming::Reply(Reply::Values { values })) => {
                    for (key, value) in values {
                        if missing.remove(&key).is_none() {
                            continue;
                        }
                        let value = value.ok_or_else(|| {
                            RunError::Internal(format!(
                                "the worker holding '{}' no longer has it",
                                self.plan.graph().name(key)
                            ))
                        })?;
                        self.relay.insert(key, value);
                    }
                }
                (_, Incoming::Reply(Reply::Unreadable { key, cause })) => {
                    return Err(RunError::unreadable(self.plan.graph(), key, cause));
                }
                (worker, Incoming::Gone { garbage }) => {
                    let ended = self.supervisor.reap(worker, garbage);
                    if let Some((&key, _)) = missing.iter().find(|(_, &w)| w == worker) {
                        return Err(RunError::WorkerDied {
                            key: self.plan.graph().name(key).to_string(),
                            cause: match ended {
                                Ended::Died(exit) => {
                                    format!("the worker holding its result died ({exit})")
                                }
                                other => format!("the worker holding its result is lost: {other}"),
                            },
                        });
                    }
                }
                _ => {}
            }
        }
        Ok(targets.iter().map(|t| self.relay[t].clone()).collect())
    }
}

fn lost_channel() -> RunError {
    RunError::Internal("lost contact with every worker".into())
}

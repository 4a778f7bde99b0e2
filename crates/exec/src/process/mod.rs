//! The process executor: tasks run in a pool of worker processes, so a task that
//! crashes or hangs takes only its worker down; the run goes on with a new one.
//!
//! The driver runs the sans-IO `Scheduler`: it turns worker replies into events and
//! carries out the decisions. A result stays in the worker that made it; when a task
//! runs elsewhere, the driver fetches the inputs that worker lacks and hands them over
//! with the task (and counts the bytes it moved).

pub(crate) mod protocol;
pub(crate) mod supervisor;
pub(crate) mod worker;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use taskloom_graph::{KeyId, Value};
use taskloom_sched::{Decision, Event, Failure, Plan, Scheduler, Status, WorkerId};

pub use self::protocol::WORKER_ENV;
use self::protocol::{LoadRef, ProgramRef, Reply, Request};
use self::supervisor::{Ended, Incoming, Supervisor};
pub use self::worker::serve;
use crate::error::RunError;
use crate::observe::Observers;
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
    retries: u32,
    task_timeout: Option<Duration>,
    bytes_moved: AtomicU64,
    observers: Observers,
}

impl Processes {
    /// A pool of `workers` processes (at least one).
    pub fn new(workers: usize) -> Self {
        Processes {
            workers: workers.max(1),
            executable: None,
            retries: 0,
            task_timeout: None,
            bytes_moved: AtomicU64::new(0),
            observers: Observers::default(),
        }
    }

    /// Starts `executable` as the workers instead of this program (which must then
    /// call `serve` when `WORKER_ENV` is set, as the `taskloom` binary does).
    pub fn executable(mut self, executable: impl Into<PathBuf>) -> Self {
        self.executable = Some(executable.into());
        self
    }

    /// Runs a failed task (a task error, or its worker died) up to `retries` more times.
    pub fn retries(mut self, retries: u32) -> Self {
        self.retries = retries;
        self
    }

    /// Kills a task's worker when the task runs longer than `timeout` (the task then
    /// fails, or is retried).
    pub fn task_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.task_timeout = timeout;
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
        let graph = plan.graph();
        let load = postcard::to_stdvec(&LoadRef(ProgramRef {
            arena: graph.arena(),
            spans: graph.spans(),
            ops: graph.op_names(),
        }))
        .map_err(|e| RunError::Internal(format!("cannot encode the graph: {e}")))?;
        let executable = match &self.executable {
            Some(path) => path.clone(),
            None => std::env::current_exe().map_err(|e| {
                RunError::Spawn(format!("cannot find this program to start workers: {e}"))
            })?,
        };
        let (sender, events) = mpsc::channel();
        let mut driver = Driver {
            scheduler: Scheduler::new(Arc::clone(&plan), SLOTS_PER_WORKER, self.retries),
            pool: Supervisor::new(executable, sender),
            events,
            load,
            plan,
            relay: HashMap::new(),
            fetching: HashMap::new(),
            in_transit: HashMap::new(),
            parked: Vec::new(),
            started: Vec::new(),
            timeout: self.task_timeout,
            bytes_moved: 0,
            observers: self.observers.clone(),
            spans: Vec::new(),
        };
        let outcome = driver.run(self.workers);
        if let Some(trace) = &self.observers.trace {
            trace.extend(&mut driver.spans);
        }
        self.bytes_moved
            .store(driver.bytes_moved, Ordering::Relaxed);
        driver.pool.shutdown(outcome.is_err());
        outcome
    }
}

/// A task whose inputs are on their way from other workers.
struct Parked {
    key: KeyId,
    worker: WorkerId,
    inputs: Vec<(KeyId, WorkerId)>,
    /// How many of `inputs` have not arrived yet.
    missing: usize,
}

struct Driver {
    scheduler: Scheduler,
    pool: Supervisor<(WorkerId, Incoming)>,
    events: mpsc::Receiver<(WorkerId, Incoming)>,
    /// `Request::Load` with the graph, encoded once: every worker's first request.
    load: Vec<u8>,
    plan: Arc<Plan>,
    /// Results fetched from one worker for another, until released.
    relay: HashMap<KeyId, Value>,
    /// Inputs requested from their holders, with the parked tasks waiting for each.
    fetching: HashMap<KeyId, Vec<usize>>,
    parked: Vec<Option<Parked>>,
    /// Inputs on their way to a worker with a parked task. The scheduler counts them
    /// as held there already, so a later task on that worker needing one must wait
    /// for it too, or it would overtake the delivery.
    in_transit: HashMap<(WorkerId, KeyId), usize>,
    /// When each worker started its current task, if it has one.
    started: Vec<Option<Instant>>,
    timeout: Option<Duration>,
    bytes_moved: u64,
    observers: Observers,
    spans: Vec<Span>,
}

impl Driver {
    fn run(&mut self, workers: usize) -> Result<Vec<Value>, RunError> {
        let mut decisions = Vec::new();
        for _ in 0..workers {
            self.add_worker(&mut decisions)?;
        }
        loop {
            self.carry_out(&mut decisions);
            self.pool.flush();
            match self.scheduler.status() {
                Status::Running => {}
                Status::Finished => return self.collect_targets(),
                Status::Failed(failure) => return Err(self.error(failure)),
            }
            let incoming = match self.timeout {
                None => self.events.recv().map_err(|_| lost_channel())?,
                Some(limit) => match self.events.recv_timeout(limit / 4) {
                    Ok(incoming) => incoming,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        self.kill_overdue(limit);
                        continue;
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Err(lost_channel()),
                },
            };
            self.receive(incoming, &mut decisions)?;
        }
    }

    fn add_worker(&mut self, decisions: &mut Vec<Decision>) -> Result<(), RunError> {
        let worker = self
            .pool
            .spawn()
            .map_err(|e| RunError::Spawn(format!("worker process: {e}")))?;
        self.pool.send_encoded(worker, &self.load);
        self.started.push(None);
        self.scheduler.add_worker(decisions);
        Ok(())
    }

    fn carry_out(&mut self, decisions: &mut Vec<Decision>) {
        // Inputs to fetch, grouped by holder: one request per worker, not per value.
        let mut requests: HashMap<WorkerId, Vec<KeyId>> = HashMap::new();
        for decision in decisions.drain(..) {
            match decision {
                Decision::Run {
                    key,
                    worker,
                    mut inputs,
                } => {
                    for &dep in self.plan.graph().dependencies(key) {
                        if self.in_transit.contains_key(&(worker, dep))
                            && !inputs.iter().any(|&(k, _)| k == dep)
                        {
                            inputs.push((dep, worker));
                        }
                    }
                    let slot = self.parked.len();
                    let mut missing = 0;
                    for &(input, holder) in &inputs {
                        if self.relay.contains_key(&input) {
                            continue;
                        }
                        missing += 1;
                        let waiting = self.fetching.entry(input).or_default();
                        if waiting.is_empty() {
                            requests.entry(holder).or_default().push(input);
                        }
                        waiting.push(slot);
                    }
                    let parked = Parked {
                        key,
                        worker,
                        inputs,
                        missing,
                    };
                    if missing == 0 {
                        self.dispatch(parked, false);
                    } else {
                        for &(input, _) in &parked.inputs {
                            *self.in_transit.entry((worker, input)).or_default() += 1;
                        }
                        self.parked.push(Some(parked));
                    }
                }
                Decision::Release { key, workers } => {
                    self.relay.remove(&key);
                    for w in workers {
                        self.pool.send(w, &Request::Release { key });
                    }
                }
            }
        }
        for (holder, keys) in requests {
            self.pool.send(holder, &Request::Fetch { keys });
        }
    }

    /// Sends a task with the inputs its worker lacks (`was_parked`: it waited for
    /// some, which are now delivered).
    fn dispatch(&mut self, parked: Parked, was_parked: bool) {
        if was_parked {
            self.delivered(&parked);
        }
        let Parked {
            key,
            worker,
            inputs,
            ..
        } = parked;
        let inputs: Vec<(KeyId, Value)> = inputs
            .into_iter()
            .map(|(k, _)| (k, self.relay[&k].clone()))
            .collect();
        let moved = !inputs.is_empty();
        let size = self.pool.send(worker, &Request::Run { key, inputs });
        if moved {
            self.bytes_moved += size as u64;
        }
        self.started[worker.0 as usize].get_or_insert_with(Instant::now);
    }

    /// The inputs of a parked task are no longer on their way (sent, or given up).
    fn delivered(&mut self, parked: &Parked) {
        for &(input, _) in &parked.inputs {
            let transit = (parked.worker, input);
            if let Some(count) = self.in_transit.get_mut(&transit) {
                *count -= 1;
                if *count == 0 {
                    self.in_transit.remove(&transit);
                }
            }
        }
    }

    /// An input arrived: tasks that have all theirs now are sent.
    fn arrived(&mut self, key: KeyId, value: Value) {
        self.relay.insert(key, value);
        for slot in self.fetching.remove(&key).unwrap_or_default() {
            let ready = match &mut self.parked[slot] {
                Some(p) => {
                    p.missing -= 1;
                    p.missing == 0
                }
                None => false,
            };
            if ready {
                let parked = self.parked[slot].take().expect("present");
                self.dispatch(parked, true);
            }
        }
        if self.fetching.is_empty() {
            self.parked.clear();
        }
    }

    fn receive(
        &mut self,
        (worker, incoming): (WorkerId, Incoming),
        decisions: &mut Vec<Decision>,
    ) -> Result<(), RunError> {
        let event = match incoming {
            Incoming::Reply(Reply::Ready | Reply::Loaded) => return Ok(()),
            Incoming::Reply(Reply::UnknownOp { op }) => {
                return Err(RunError::Internal(format!(
                    "worker processes do not know op '{op}': register it before serving as a worker"
                )))
            }
            Incoming::Reply(Reply::Values { values }) => {
                for (key, value) in values {
                    self.arrived(key, value);
                }
                return Ok(());
            }
            // Only the Pool API sends `Map`.
            Incoming::Reply(Reply::Mapped { .. }) => return Ok(()),
            Incoming::Reply(Reply::Finished {
                key,
                bytes,
                started_ns,
                ended_ns,
            }) => {
                self.next_task_starts(worker);
                if let Some(progress) = &self.observers.progress {
                    progress.add(1);
                }
                if let Some(trace) = &self.observers.trace {
                    self.spans.push(Span {
                        key,
                        worker: worker.0,
                        start_ns: trace.since(started_ns),
                        end_ns: trace.since(ended_ns),
                    });
                }
                Event::Finished { key, worker, bytes }
            }
            Incoming::Reply(Reply::Skipped { key }) => {
                self.next_task_starts(worker);
                Event::Requeue { key, worker }
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
                let cause = self.pool.reap(worker, garbage).to_string();
                self.started[worker.0 as usize] = None;
                self.requeue_inputs_from(worker);
                self.scheduler
                    .handle(Event::WorkerLost { worker, cause }, decisions);
                if self.scheduler.status() == Status::Running {
                    self.add_worker(decisions)?;
                }
                return Ok(());
            }
        };
        self.scheduler.handle(event, decisions);
        Ok(())
    }

    /// Parked tasks waiting for an input from a dead worker cannot start: requeue them.
    fn requeue_inputs_from(&mut self, dead: WorkerId) {
        let mut requeue = Vec::new();
        let mut given_up = Vec::new();
        for slot in &mut self.parked {
            let stuck = slot.as_ref().is_some_and(|p| {
                p.worker == dead
                    || p.inputs
                        .iter()
                        .any(|&(k, h)| h == dead && !self.relay.contains_key(&k))
            });
            if stuck {
                let p = slot.take().expect("present");
                if p.worker != dead {
                    requeue.push((p.key, p.worker));
                }
                given_up.push(p);
            }
        }
        for p in &given_up {
            self.delivered(p);
        }
        self.fetching.retain(|k, _| {
            !self.scheduler.holders(*k).is_empty() && self.scheduler.holders(*k)[0] != dead
        });
        let mut decisions = Vec::new();
        for (key, worker) in requeue {
            self.scheduler
                .handle(Event::Requeue { key, worker }, &mut decisions);
        }
        self.carry_out(&mut decisions);
    }

    fn next_task_starts(&mut self, worker: WorkerId) {
        let busy = self.scheduler.running_on(worker).len() > 1;
        self.started[worker.0 as usize] = busy.then(Instant::now);
    }

    fn kill_overdue(&mut self, limit: Duration) {
        for w in 0..self.started.len() {
            let worker = WorkerId(w as u32);
            if self.started[w].is_some_and(|t| t.elapsed() > limit) {
                let cause = format!(
                    "it ran longer than the task timeout ({limit:?}), so its worker was killed"
                );
                self.started[w] = None;
                self.pool.kill(worker, cause);
            }
        }
    }

    /// Fetches the requested results from the workers holding them.
    fn collect_targets(&mut self) -> Result<Vec<Value>, RunError> {
        let targets: Vec<KeyId> = self.plan.targets().to_vec();
        for &t in &targets {
            if !self.relay.contains_key(&t) && !self.fetching.contains_key(&t) {
                self.fetching.insert(t, Vec::new());
                let holder = self.scheduler.holders(t)[0];
                self.pool.send(holder, &Request::Fetch { keys: vec![t] });
            }
        }
        self.pool.flush();
        while !self.fetching.is_empty() {
            match self.events.recv().map_err(|_| lost_channel())? {
                (_, Incoming::Reply(Reply::Values { values })) => {
                    for (key, value) in values {
                        self.arrived(key, value);
                    }
                }
                (worker, Incoming::Gone { garbage }) => {
                    let ended = self.pool.reap(worker, garbage);
                    if let Some(&key) = self
                        .fetching
                        .keys()
                        .find(|k| self.scheduler.holders(**k)[0] == worker)
                    {
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

    fn error(&self, failure: Failure) -> RunError {
        let graph = self.plan.graph();
        match failure {
            Failure::Task { key, op, cause } => RunError::Task {
                key: graph.name(key).to_string(),
                op,
                cause,
            },
            Failure::WorkerDied { key, cause } => RunError::WorkerDied {
                key: graph.name(key).to_string(),
                cause,
            },
        }
    }
}

fn lost_channel() -> RunError {
    RunError::Internal("lost contact with every worker".into())
}

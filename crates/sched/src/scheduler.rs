//! The scheduler core for workers that hold results of their own (processes, later
//! machines): events in, decisions out, no threads, sockets or clocks.
//!
//! The driver reports what happened (`Event`: a task finished or failed, a worker
//! joined or was lost) and carries out what the core decides (`Decision`: run this
//! task on that worker, after bringing it these inputs; release this result). The
//! same core can run under a process pool, a network server or a simulator, and is
//! tested deterministically.
//!
//! Rules:
//! - **Priority.** Ready tasks run in the plan's priority order (depth-first along
//!   reductions, critical path first).
//! - **Locality.** A result stays on the worker that made it. A ready task goes to the
//!   worker with a free slot that already holds the most bytes of its inputs (then the
//!   least busy); the driver moves only the inputs that worker lacks.
//! - **Memory.** A result is released on every worker holding it once its last consumer
//!   has run, unless it was requested.
//! - **Failure.** A failed task, or one whose worker died, is retried up to `retries`
//!   times; then the run fails. Results that only a dead worker held are recomputed
//!   from their tasks (and theirs, as far back as needed) if still needed.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use taskloom_graph::KeyId;

use crate::plan::Plan;

/// A worker's index, in order of joining.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkerId(pub u32);

/// What happened, as the driver reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Task `key` finished on `worker`, which now holds its result of `bytes` bytes.
    Finished {
        key: KeyId,
        worker: WorkerId,
        bytes: u64,
    },
    /// Task `key` failed on `worker` with `cause` (the op's name and why).
    Failed {
        key: KeyId,
        worker: WorkerId,
        op: String,
        cause: String,
    },
    /// `worker` is gone (it died, or was killed), with every result it held.
    WorkerLost { worker: WorkerId, cause: String },
    /// Task `key`, given to `worker`, could not start (an input it was to receive was
    /// lost on the way): schedule it again, without counting an attempt.
    Requeue { key: KeyId, worker: WorkerId },
}

/// What the driver must do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Run `key` on `worker`, after giving it the `inputs` it lacks, each from a worker
    /// that holds it. From then on `worker` holds those inputs too.
    Run {
        key: KeyId,
        worker: WorkerId,
        inputs: Vec<(KeyId, WorkerId)>,
    },
    /// Drop the result of `key` on these workers: nothing needs it any more.
    Release { key: KeyId, workers: Vec<WorkerId> },
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A task's op failed (after its retries).
    Task {
        key: KeyId,
        op: String,
        cause: String,
    },
    /// The worker running a task died (after the task's retries). Replacing lost
    /// workers is the driver's part: the core waits for `add_worker`.
    WorkerDied { key: KeyId, cause: String },
}

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    /// Every requested key is computed: `holders` says where each is.
    Finished,
    Failed(Failure),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Some dependencies are not available yet.
    Waiting,
    Ready,
    Running(WorkerId),
    /// Computed and held by at least one worker.
    Done,
    /// Computed, consumed and dropped.
    Released,
}

struct Worker {
    alive: bool,
    running: Vec<KeyId>,
}

/// The state of one run on a set of workers.
pub struct Scheduler {
    plan: Arc<Plan>,
    slots_per_worker: usize,
    retries: u32,
    state: Vec<State>,
    /// Dependencies not yet available, per key.
    waiting: Vec<u32>,
    /// Consumers that have not run yet, per key: the result is released at zero.
    consumers: Vec<u32>,
    holders: Vec<Vec<WorkerId>>,
    bytes: Vec<u64>,
    attempts: Vec<u32>,
    ready: BinaryHeap<Reverse<(u32, KeyId)>>,
    workers: Vec<Worker>,
    targets_left: usize,
    failure: Option<Failure>,
}

impl Scheduler {
    /// A run of `plan` in which each worker runs up to `slots_per_worker` tasks at once
    /// (more than one keeps a remote worker busy while results travel) and each task is
    /// retried up to `retries` times.
    pub fn new(plan: Arc<Plan>, slots_per_worker: usize, retries: u32) -> Scheduler {
        let n = plan.graph().len();
        let mut s = Scheduler {
            slots_per_worker: slots_per_worker.max(1),
            retries,
            state: vec![State::Released; n],
            waiting: vec![0; n],
            consumers: vec![0; n],
            holders: vec![Vec::new(); n],
            bytes: vec![0; n],
            attempts: vec![0; n],
            ready: BinaryHeap::new(),
            workers: Vec::new(),
            targets_left: plan.distinct_targets(),
            failure: None,
            plan,
        };
        for i in 0..s.plan.order().len() {
            let key = s.plan.order()[i];
            s.waiting[key.index()] = s.plan.graph().dependencies(key).len() as u32;
            s.consumers[key.index()] = s.plan.consumers(key);
            s.state[key.index()] = State::Waiting;
            if s.waiting[key.index()] == 0 {
                s.make_ready(key);
            }
        }
        s
    }

    /// Adds a worker; returns its id and what it should run.
    pub fn add_worker(&mut self, out: &mut Vec<Decision>) -> WorkerId {
        self.workers.push(Worker {
            alive: true,
            running: Vec::new(),
        });
        self.assign(out);
        WorkerId(self.workers.len() as u32 - 1)
    }

    /// Applies `event` and appends the decisions it leads to.
    pub fn handle(&mut self, event: Event, out: &mut Vec<Decision>) {
        match event {
            Event::Finished { key, worker, bytes } => self.finished(key, worker, bytes, out),
            Event::Failed {
                key,
                worker,
                op,
                cause,
            } => {
                self.stop_running(key, worker);
                self.retry_or_fail(key, Failure::Task { key, op, cause });
            }
            Event::WorkerLost { worker, cause } => self.worker_lost(worker, &cause),
            Event::Requeue { key, worker } => {
                if self.state[key.index()] == State::Running(worker) {
                    self.stop_running(key, worker);
                    self.state[key.index()] = State::Waiting;
                    self.recount(key);
                }
            }
        }
        self.assign(out);
    }

    /// Where the run stands.
    pub fn status(&self) -> Status {
        if let Some(failure) = &self.failure {
            Status::Failed(failure.clone())
        } else if self.targets_left == 0 {
            Status::Finished
        } else {
            Status::Running
        }
    }

    /// The workers holding the result of `key`.
    pub fn holders(&self, key: KeyId) -> &[WorkerId] {
        &self.holders[key.index()]
    }

    /// The tasks `worker` is running or has queued, oldest first.
    pub fn running_on(&self, worker: WorkerId) -> &[KeyId] {
        &self.workers[worker.0 as usize].running
    }

    fn make_ready(&mut self, key: KeyId) {
        self.state[key.index()] = State::Ready;
        self.ready.push(Reverse((self.plan.rank(key), key)));
    }

    fn finished(&mut self, key: KeyId, worker: WorkerId, bytes: u64, out: &mut Vec<Decision>) {
        if self.state[key.index()] != State::Running(worker) {
            return; // A late report from a task that was already given up on.
        }
        self.stop_running(key, worker);
        self.state[key.index()] = State::Done;
        self.bytes[key.index()] = bytes;
        self.holders[key.index()].push(worker);
        if self.plan.is_target(key) {
            self.targets_left -= 1;
        }
        let graph = Arc::clone(&self.plan);
        for &dep in graph.graph().dependencies(key) {
            self.consumers[dep.index()] -= 1;
            self.release_if_unneeded(dep, out);
        }
        for dependent in graph.dependents(key) {
            if self.state[dependent.index()] == State::Waiting {
                self.waiting[dependent.index()] -= 1;
                if self.waiting[dependent.index()] == 0 {
                    self.make_ready(dependent);
                }
            }
        }
        self.release_if_unneeded(key, out);
    }

    fn release_if_unneeded(&mut self, key: KeyId, out: &mut Vec<Decision>) {
        if self.consumers[key.index()] == 0
            && !self.plan.is_target(key)
            && self.state[key.index()] == State::Done
        {
            self.state[key.index()] = State::Released;
            let workers = std::mem::take(&mut self.holders[key.index()]);
            out.push(Decision::Release { key, workers });
        }
    }

    fn stop_running(&mut self, key: KeyId, worker: WorkerId) {
        let running = &mut self.workers[worker.0 as usize].running;
        if let Some(i) = running.iter().position(|&k| k == key) {
            running.remove(i);
        }
    }

    fn retry_or_fail(&mut self, key: KeyId, failure: Failure) {
        self.attempts[key.index()] += 1;
        if self.attempts[key.index()] > self.retries {
            self.failure.get_or_insert(failure);
        } else {
            // It never finished, so its inputs still count it as a consumer.
            self.state[key.index()] = State::Waiting;
            self.recount(key);
        }
    }

    fn worker_lost(&mut self, worker: WorkerId, cause: &str) {
        let w = &mut self.workers[worker.0 as usize];
        w.alive = false;
        let running = std::mem::take(&mut w.running);
        for key in running {
            let failure = Failure::WorkerDied {
                key,
                cause: cause.to_string(),
            };
            self.retry_or_fail(key, failure);
        }
        for i in 0..self.holders.len() {
            let holders = &mut self.holders[i];
            let before = holders.len();
            holders.retain(|&w| w != worker);
            if before > 0 && holders.is_empty() && self.state[i] == State::Done {
                self.lost(KeyId(i as u32));
            }
        }
    }

    /// A finished result is gone with its worker: compute it again if still needed.
    fn lost(&mut self, key: KeyId) {
        if self.plan.is_target(key) {
            self.targets_left += 1;
        } else if self.consumers[key.index()] == 0 {
            self.state[key.index()] = State::Released;
            return;
        }
        // Its dependents that had counted it as available wait for it again.
        let plan = Arc::clone(&self.plan);
        for d in plan.dependents(key) {
            match self.state[d.index()] {
                State::Waiting => self.waiting[d.index()] += 1,
                State::Ready => {
                    self.state[d.index()] = State::Waiting;
                    self.waiting[d.index()] = 1;
                }
                _ => {}
            }
        }
        self.rerun(key);
    }

    /// Runs a finished task again: its inputs count it as a consumer once more, and
    /// inputs already released are re-run too, as far back as needed (iteratively: a
    /// chain may be a million long).
    fn rerun(&mut self, key: KeyId) {
        let plan = Arc::clone(&self.plan);
        let mut todo = vec![key];
        let mut touched = Vec::new();
        self.state[key.index()] = State::Waiting;
        while let Some(k) = todo.pop() {
            touched.push(k);
            for &dep in plan.graph().dependencies(k) {
                self.consumers[dep.index()] += 1;
                if self.state[dep.index()] == State::Released {
                    self.state[dep.index()] = State::Waiting;
                    todo.push(dep);
                }
            }
        }
        // Inputs first, so that each counts the others' states once they are final.
        for &k in touched.iter().rev() {
            self.recount(k);
        }
    }

    /// Counts the inputs a waiting task still lacks; ready when none.
    fn recount(&mut self, key: KeyId) {
        let missing = self
            .plan
            .graph()
            .dependencies(key)
            .iter()
            .filter(|d| self.state[d.index()] != State::Done)
            .count();
        self.waiting[key.index()] = missing as u32;
        if missing == 0 {
            self.make_ready(key);
        }
    }

    /// Gives ready tasks to workers with free slots, best priority first.
    fn assign(&mut self, out: &mut Vec<Decision>) {
        if self.failure.is_some() {
            return;
        }
        while let Some(&Reverse((_, key))) = self.ready.peek() {
            if self.state[key.index()] != State::Ready {
                self.ready.pop(); // Stale: it went back to waiting.
                continue;
            }
            let Some(worker) = self.place(key) else {
                return;
            };
            self.ready.pop();
            self.start(key, worker, out);
            self.pipeline(key, worker, out);
        }
    }

    /// Gives `key` to `worker`, with the finished inputs it lacks. Inputs still queued
    /// on `worker` itself (pipelined) are made there first.
    fn start(&mut self, key: KeyId, worker: WorkerId, out: &mut Vec<Decision>) {
        let deps = self.plan.graph().dependencies(key).iter().copied();
        let inputs: Vec<(KeyId, WorkerId)> = deps
            .filter(|d| self.state[d.index()] == State::Done)
            .filter(|d| !self.holders[d.index()].contains(&worker))
            .map(|d| (d, self.holders[d.index()][0]))
            .collect();
        for &(d, _) in &inputs {
            self.holders[d.index()].push(worker);
        }
        self.state[key.index()] = State::Running(worker);
        self.workers[worker.0 as usize].running.push(key);
        out.push(Decision::Run {
            key,
            worker,
            inputs,
        });
    }

    /// Pipelining: the waiting dependents of `key` whose every other input is done or
    /// queued on `worker` follow it there at once. A worker runs its tasks in order, so
    /// their inputs are made before they run, and a chain runs without a round trip to
    /// the driver per task. (If an input fails instead, its worker skips them and the
    /// driver sends `Event::Requeue`.)
    fn pipeline(&mut self, key: KeyId, worker: WorkerId, out: &mut Vec<Decision>) {
        let plan = Arc::clone(&self.plan);
        let mut todo = vec![key];
        while let Some(k) = todo.pop() {
            for d in plan.dependents(k) {
                if self.workers[worker.0 as usize].running.len() >= self.slots_per_worker {
                    return;
                }
                let local = |x: &KeyId| {
                    matches!(self.state[x.index()], State::Done)
                        || self.state[x.index()] == State::Running(worker)
                };
                if self.state[d.index()] == State::Waiting
                    && plan.graph().dependencies(d).iter().all(local)
                {
                    self.start(d, worker, out);
                    todo.push(d);
                }
            }
        }
    }

    /// The worker for `key`: a live one with a free slot holding the most bytes of its
    /// inputs, then the least busy, then the first.
    fn place(&self, key: KeyId) -> Option<WorkerId> {
        let deps = self.plan.graph().dependencies(key);
        (0..self.workers.len())
            .filter(|&w| {
                let worker = &self.workers[w];
                worker.alive && worker.running.len() < self.slots_per_worker
            })
            .map(|w| {
                let id = WorkerId(w as u32);
                let local: u64 = deps
                    .iter()
                    .filter(|d| self.holders[d.index()].contains(&id))
                    .map(|d| self.bytes[d.index()])
                    .sum();
                (Reverse(local), self.workers[w].running.len(), w)
            })
            .min()
            .map(|(_, _, w)| WorkerId(w as u32))
    }
}

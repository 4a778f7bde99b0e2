//! The fast path: a pool of threads that share no lock per task.
//!
//! - A task becomes ready when the last of its dependencies completes: each key has an
//!   atomic count of unfinished dependencies, and whoever brings it to zero owns it.
//! - Of the tasks a completion makes ready, the worker runs the one with the best
//!   priority next, directly, and pushes the others onto its own deque (best on top),
//!   so reductions finish depth-first and their inputs are freed early.
//! - Tasks without dependencies are handed out in priority order from a shared cursor
//!   over the plan's order, a batch of its positions at a time, onto the taker's deque
//!   (no list of them is made: in a tree nearly every task is one).
//! - An idle worker takes from its own deque, then from the cursor, then steals half
//!   of another worker's deque (crossbeam's Chase-Lev deques), then spins briefly and
//!   parks.
//! - The run ends when every requested key is done, or at the first task error (after
//!   its retries), timeout or stop request (`watch.rs`): no new task starts, the run's
//!   shell commands are ended, and the caller gets the error without waiting for
//!   running tasks.
//! - Under a memory limit (`spill.rs`), results past it go to scratch files; their
//!   directory is gone when the run returns, on a failure or a stop too.

use std::cmp::Reverse;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use crossbeam_deque::{Steal, Stealer, Worker};
use crossbeam_utils::Backoff;
use taskloom_graph::{KeyId, Value};
use taskloom_sched::Plan;

use crate::error::RunError;
use crate::idle::Idle;
use crate::limits::Limits;
use crate::observe::Observers;
use crate::progress::LocalCount;
use crate::slots::Slots;
use crate::spill::{MemoryLimit, Spill};
use crate::task::run_task;
use crate::trace::{LocalSpans, SpanRoom};
use crate::watch::Watch;
use crate::Executor;

/// How many positions of the order a worker takes from the shared cursor at once, to
/// run the sources among them: enough to make the cursor's cache line cold, few enough
/// that others can steal the rest.
const SOURCE_BATCH: usize = 16;

/// Runs tasks on a pool of worker threads with work stealing.
#[derive(Clone, Debug)]
pub struct Threads {
    workers: usize,
    observers: Observers,
    limits: Limits,
    settle_on_failure: bool,
    memory_limit: Option<MemoryLimit>,
}

impl Threads {
    /// A pool of `workers` threads (at least one).
    pub fn new(workers: usize) -> Self {
        Threads {
            workers: workers.max(1),
            observers: Observers::default(),
            limits: Limits::default(),
            settle_on_failure: false,
            memory_limit: None,
        }
    }

    /// On a failure, returns only once the tasks already running have finished,
    /// rather than at once. For tasks with effects outside the run (files written into
    /// a directory the caller removes on failure), so none lands after the clean-up.
    pub fn settle_on_failure(mut self) -> Self {
        self.settle_on_failure = true;
        self
    }

    /// Reports finished tasks and task spans to `observers`.
    pub fn observed(mut self, observers: Observers) -> Self {
        self.observers = observers;
        self
    }

    /// Runs under `limits`: retries, a task timeout, a stop request.
    pub fn limited(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Holds at most `limit` bytes of results waiting for their consumers, writing
    /// the coldest past it to scratch files, so that a graph of big results runs in
    /// bounded memory.
    pub fn memory_limit(mut self, limit: MemoryLimit) -> Self {
        self.memory_limit = Some(limit);
        self
    }

    /// One worker per core.
    pub fn per_core() -> Self {
        Threads::new(thread::available_parallelism().map_or(1, |n| n.get()))
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }
}

impl Default for Threads {
    fn default() -> Self {
        Threads::per_core()
    }
}

impl Executor for Threads {
    fn run(&self, plan: Arc<Plan>) -> Result<Vec<Value>, RunError> {
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        let locals: Vec<Worker<KeyId>> = (0..self.workers).map(|_| Worker::new_lifo()).collect();
        let stealers = locals.iter().map(Worker::stealer).collect();
        if let Some(trace) = &self.observers.trace {
            trace.note_workers(self.workers);
        }
        let slots = match &self.memory_limit {
            Some(limit) => {
                let spill = Spill::new(limit, plan.graph().len()).map_err(|e| {
                    RunError::Environment(format!(
                        "cannot create a scratch directory for results past the memory limit: {e}"
                    ))
                })?;
                Slots::spilling(&plan, spill)
            }
            None => Slots::new(&plan),
        };
        let watch = Watch::new(self.workers, self.limits.clone());
        let shared = Arc::new(Shared::new(
            plan,
            slots,
            stealers,
            self.observers.clone(),
            watch,
        ));
        let mut handles = Vec::with_capacity(self.workers);
        for (me, local) in locals.into_iter().enumerate() {
            let worker_shared = Arc::clone(&shared);
            let spawned = thread::Builder::new()
                .name(format!("taskloom-worker-{me}"))
                .spawn(move || worker_shared.work(&local, me));
            match spawned {
                Ok(handle) => handles.push(handle),
                Err(e) => {
                    shared.fail(RunError::Spawn(e.to_string()));
                    break;
                }
            }
        }
        let failure = shared.watch.wait(shared.plan.graph());
        // Sleepers see the run over (a timeout or a stop ends it from here).
        shared.idle.notify_all();
        if let Some(error) = failure {
            // Running tasks finish on their own and their workers then exit, unless
            // the caller must know they are done; the scratch goes now either way.
            shared.slots.close();
            if self.settle_on_failure {
                for handle in handles {
                    let _ = handle.join();
                }
            }
            return Err(error);
        }
        for handle in handles {
            let _ = handle.join();
        }
        let plan = &shared.plan;
        // SAFETY: the run is over and succeeded, so every target has completed.
        Ok(plan
            .targets()
            .iter()
            .map(|&t| unsafe { shared.slots.target(t) })
            .collect())
    }
}

/// State shared by the workers of one run.
struct Shared {
    plan: Arc<Plan>,
    slots: Slots,
    /// Unfinished dependencies per key.
    waiting: Box<[AtomicU32]>,
    /// The position in the plan's order where the search for sources goes on.
    next_source: AtomicUsize,
    stealers: Vec<Stealer<KeyId>>,
    targets_left: AtomicUsize,
    watch: Watch,
    idle: Idle,
    observers: Observers,
    /// Where the workers write their spans, when traced.
    spans: Option<SpanRoom>,
}

impl Shared {
    fn new(
        plan: Arc<Plan>,
        slots: Slots,
        stealers: Vec<Stealer<KeyId>>,
        observers: Observers,
        watch: Watch,
    ) -> Shared {
        let workers = stealers.len();
        let graph = plan.graph();
        let waiting = graph
            .keys()
            .map(|k| AtomicU32::new(graph.dependencies(k).len() as u32))
            .collect();
        Shared {
            slots,
            waiting,
            next_source: AtomicUsize::new(0),
            stealers,
            targets_left: AtomicUsize::new(plan.distinct_targets()),
            watch,
            idle: Idle::default(),
            spans: observers
                .trace
                .is_some()
                .then(|| SpanRoom::new(plan.len(), workers)),
            observers,
            plan,
        }
    }

    /// A worker's life: run tasks until the run is over.
    fn work(&self, local: &Worker<KeyId>, me: usize) {
        let _shells = self.watch.enter();
        let outcome = catch_unwind(AssertUnwindSafe(|| self.work_loop(local, me)));
        if outcome.is_err() {
            self.fail(RunError::Internal("a worker thread panicked".into()));
        }
    }

    fn work_loop(&self, local: &Worker<KeyId>, me: usize) {
        let mut ready = Vec::new();
        let mut next = None;
        let mut count = LocalCount::new(self.observers.progress.as_ref(), self.plan.len());
        // SAFETY: each of the run's workers makes one, and the room was made for them all.
        let mut spans =
            unsafe { LocalSpans::in_room(self.observers.trace.as_ref(), me, self.spans.as_ref()) };
        loop {
            let key = match next.take() {
                Some(key) => key,
                None => {
                    count.flush();
                    match self.find_work(local, me) {
                        Some((key, waited)) => {
                            if waited {
                                spans.idle();
                            }
                            key
                        }
                        None => return,
                    }
                }
            };
            if self.watch.is_over() {
                return;
            }
            let start = spans.start();
            // SAFETY: `key` runs once, here: it was made ready by one count-down to zero
            // of its unfinished dependencies (acquire/release on `waiting`, after each
            // dependency's task returned), or is a source, and then went through at most
            // a deque (whose hand-off is ordered too). Its dependents are counted down in
            // `complete`, after this returns.
            if let Err(error) = unsafe { run_task(&self.plan, &self.slots, key, &self.watch, me) } {
                self.fail(error);
                return;
            }
            spans.record(key, start);
            count.tick();
            if self.plan.is_target(key) && self.targets_left.fetch_sub(1, Ordering::AcqRel) == 1 {
                self.end();
                return;
            }
            next = self.complete(key, local, &mut ready);
        }
    }

    /// Counts down the dependents of `key`; returns the best newly ready task to run
    /// next and pushes the others onto `local`.
    fn complete(&self, key: KeyId, local: &Worker<KeyId>, ready: &mut Vec<KeyId>) -> Option<KeyId> {
        ready.clear();
        for d in self.plan.dependents(key) {
            if self.waiting[d.index()].fetch_sub(1, Ordering::AcqRel) == 1 {
                ready.push(d);
            }
        }
        if ready.len() > 1 {
            ready.sort_unstable_by_key(|&k| Reverse(self.plan.rank(k)));
            let best = ready.pop();
            for &k in ready.iter() {
                local.push(k);
            }
            self.idle.notify_one();
            best
        } else {
            ready.pop()
        }
    }

    /// The next task for worker `me`, waiting for one if need be, and whether it had to
    /// wait (else the worker goes straight on); `None` once the run is over.
    fn find_work(&self, local: &Worker<KeyId>, me: usize) -> Option<(KeyId, bool)> {
        let backoff = Backoff::new();
        let mut waited = false;
        loop {
            if let Some(key) = local
                .pop()
                .or_else(|| self.take_sources(local))
                .or_else(|| self.steal(local, me))
            {
                return Some((key, waited));
            }
            waited = true;
            if self.watch.is_over() {
                return None;
            }
            if backoff.is_completed() {
                self.idle.sleep(|| self.has_work() || self.watch.is_over());
                backoff.reset();
            } else {
                backoff.snooze();
            }
        }
    }

    /// Takes the sources of the next batch of the order that holds any: returns the
    /// first, pushes the rest (the best on top).
    fn take_sources(&self, local: &Worker<KeyId>) -> Option<KeyId> {
        let order = self.plan.order();
        loop {
            if self.next_source.load(Ordering::Relaxed) >= order.len() {
                return None;
            }
            let start = self.next_source.fetch_add(SOURCE_BATCH, Ordering::Relaxed);
            let batch = order.get(start..(start + SOURCE_BATCH).min(order.len()))?;
            let mut sources = batch.iter().copied().filter(|&k| self.plan.is_source(k));
            let Some(first) = sources.next() else {
                continue;
            };
            let mut pushed = false;
            for k in sources.rev() {
                local.push(k);
                pushed = true;
            }
            if pushed {
                self.idle.notify_one();
            }
            return Some(first);
        }
    }

    fn steal(&self, local: &Worker<KeyId>, me: usize) -> Option<KeyId> {
        let n = self.stealers.len();
        loop {
            let mut retry = false;
            for i in 1..n {
                match self.stealers[(me + i) % n].steal_batch_and_pop(local) {
                    Steal::Success(key) => return Some(key),
                    Steal::Retry => retry = true,
                    Steal::Empty => {}
                }
            }
            if !retry {
                return None;
            }
        }
    }

    fn has_work(&self) -> bool {
        self.next_source.load(Ordering::Relaxed) < self.plan.len()
            || self.stealers.iter().any(|s| !s.is_empty())
    }

    fn fail(&self, error: RunError) {
        self.watch.fail(error);
        self.idle.notify_all();
    }

    /// Stops every worker and wakes the caller.
    fn end(&self) {
        self.watch.end();
        self.idle.notify_all();
    }
}

//! The scheduler core for workers that hold results of their own (processes, later
//! machines): events in, decisions out, no threads, sockets or clocks.
//!
//! The driver reports what happened (`Event`) and carries out what the core decides
//! (`Decision`), as `messages` describes. The same core runs under the process
//! executor and the simulator, and is tested deterministically.
//!
//! Rules:
//! - **Priority.** Ready tasks are given out in the plan's priority order (depth-first
//!   along reductions, critical path first).
//! - **Room.** Tasks are given while some worker has a free slot; a worker may then
//!   take tasks while it holds fewer than its slots, or than the least busy one plus
//!   half its slots: locality may cost half a worker's slots of imbalance, no more.
//!   With no free slot anywhere, a worker takes no more than its slots.
//! - **Locality.** A result stays on the worker that made it. A ready task goes to the
//!   worker with room that holds (or is being sent) the most bytes of its inputs, then
//!   the least busy one, so idle workers get work before busy ones get more. The core
//!   orders a `Transfer` of each input the worker lacks, peer to peer, from a worker
//!   holding it; the task is sent at once and waits there for them.
//! - **Siblings meet.** Once every worker holds half its slots (none is short of
//!   work), a task without inputs goes where the first such input of its first
//!   consumer went, when that worker has room: the leaves of a reduction are made
//!   where they are consumed, not spread over the workers as slots free up, and are
//!   not moved.
//! - **Pipelining.** Dependents whose every input is done or queued on the same worker
//!   follow their input there at once (while it has room), so a chain, or a reduction
//!   whose inputs met, costs no round trip per task; each task a worker ends tops its
//!   queue up from the last task given to it, so a long chain never waits for one.
//! - **Memory.** A result is released on every worker holding it once its last consumer
//!   has run, unless it was requested; a copy still travelling is released on arrival.
//! - **Failure.** A failed task is retried up to `retries` times, then the run fails.
//!   A dead worker is blamed on its task only when it ran one task: when it held
//!   several, each becomes a *suspect* and runs again alone on a worker of its own, so
//!   that the task that kills its worker is found and charged, and bystanders are not.
//!   Results that only a dead worker held are recomputed (as far back as needed) if
//!   still needed; tasks waiting for them elsewhere are cancelled and scheduled again.

use std::cmp::Reverse;
use std::sync::Arc;

use taskloom_graph::KeyId;

use crate::loads::Loads;
use crate::messages::{Decision, Event, Failure, Status, WorkerId};
use crate::placement::Placement;
use crate::plan::Plan;
use crate::ready::Ready;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Some inputs are not done yet.
    Waiting,
    /// Every input is done: waits for a worker.
    Ready,
    /// Given to this worker (queued there, waiting for inputs, or running).
    Assigned(WorkerId),
    /// Computed: a copy is held, or travelling, somewhere.
    Done,
    /// Computed, consumed and dropped.
    Released,
}

struct Worker {
    alive: bool,
    /// Tasks given to it and not yet reported, in the order given.
    assigned: Vec<KeyId>,
    /// It runs a suspect, alone: nothing else is given to it meanwhile.
    isolated: bool,
}

/// The state of one run on a set of workers.
pub struct Scheduler {
    plan: Arc<Plan>,
    slots_per_worker: usize,
    retries: u32,
    state: Vec<State>,
    /// Inputs not yet done, per waiting task.
    waiting: Vec<u32>,
    /// Consumers that have not run yet, per key: the result is released at zero.
    consumers: Vec<u32>,
    placement: Placement,
    bytes: Vec<u64>,
    attempts: Vec<u32>,
    /// Tasks that were on a worker that died running several: each runs alone next.
    suspect: Vec<bool>,
    /// Per task, the worker the first of its inputs without inputs went to: its other
    /// such inputs go there too (see "Siblings meet").
    siblings_on: Vec<Option<WorkerId>>,
    ready: Ready,
    workers: Vec<Worker>,
    /// The live workers that are not isolated, by tasks assigned: placing a task finds
    /// the least busy without a scan of the workers.
    by_load: Loads,
    targets_left: usize,
    failure: Option<Failure>,
}

impl Scheduler {
    /// A run of `plan` in which each worker is given up to `slots_per_worker` tasks at
    /// once (more than one keeps a remote worker busy while results travel) and each
    /// task is retried up to `retries` times.
    pub fn new(plan: Arc<Plan>, slots_per_worker: usize, retries: u32) -> Scheduler {
        let n = plan.graph().len();
        let mut s = Scheduler {
            slots_per_worker: slots_per_worker.max(1),
            retries,
            state: vec![State::Released; n],
            waiting: vec![0; n],
            consumers: vec![0; n],
            placement: Placement::new(n),
            bytes: vec![0; n],
            attempts: vec![0; n],
            suspect: vec![false; n],
            siblings_on: vec![None; n],
            ready: Ready::default(),
            workers: Vec::new(),
            by_load: Loads::default(),
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
                s.state[key.index()] = State::Ready;
                s.ready.push_source((s.plan.rank(key), key));
            }
        }
        s
    }

    /// Adds a worker. It is given work by the next `assign` (or event), so that a
    /// driver starting many workers adds them all before any is given a task.
    pub fn add_worker(&mut self) -> WorkerId {
        self.workers.push(Worker {
            alive: true,
            assigned: Vec::new(),
            isolated: false,
        });
        let id = self.workers.len() as u32 - 1;
        self.by_load.insert(0, id);
        WorkerId(id)
    }

    /// Applies `event` and appends the decisions it leads to.
    pub fn handle(&mut self, event: Event, out: &mut Vec<Decision>) {
        match event {
            Event::Finished { key, worker, bytes } => {
                self.finished(key, worker, bytes, out);
                self.top_up(worker, out);
            }
            Event::Failed {
                key,
                worker,
                op,
                cause,
            } => {
                if self.state[key.index()] == State::Assigned(worker) {
                    self.unassign(key, worker);
                    let withdrawn = self.withdraw(worker, key, out);
                    self.retry_or_fail(key, Failure::Task { key, op, cause });
                    self.recount_all(&withdrawn);
                }
            }
            Event::Arrived { key, worker } => self.arrived(key, worker, out),
            Event::TransferFailed { key, worker } => self.transfer_failed(key, worker, out),
            Event::WorkerLost { worker, cause } => self.worker_lost(worker, &cause),
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
    pub fn placement(&self, key: KeyId) -> &[WorkerId] {
        self.placement.holders(key)
    }

    /// The tasks given to `worker` and not yet reported, oldest first.
    pub fn assigned_to(&self, worker: WorkerId) -> &[KeyId] {
        &self.workers[worker.0 as usize].assigned
    }

    /// Gives ready tasks to workers with free slots, best priority first.
    pub fn assign(&mut self, out: &mut Vec<Decision>) {
        if self.failure.is_some() {
            return;
        }
        // Ready tasks that no worker can take yet (an input is only travelling).
        let mut deferred = Vec::new();
        while let Some((rank, key)) = self.ready.peek() {
            if self.state[key.index()] != State::Ready {
                self.ready.pop(); // Stale: it went back to waiting.
                continue;
            }
            match self.place(key) {
                Place::On(worker) => {
                    self.ready.pop();
                    if let Some(consumer) = self.first_consumer(key) {
                        self.siblings_on[consumer.index()].get_or_insert(worker);
                    }
                    self.start(key, worker, out);
                    if !self.suspect[key.index()] {
                        self.pipeline(key, worker, out);
                    }
                }
                Place::Later => {
                    self.ready.pop();
                    deferred.push((rank, key));
                }
                // A suspect waits for a worker to drain rather than be overtaken
                // forever by tasks that fill every free slot.
                Place::NoWorker => break,
            }
        }
        for entry in deferred {
            self.ready.push(entry);
        }
    }

    fn make_ready(&mut self, key: KeyId) {
        self.state[key.index()] = State::Ready;
        self.ready.push((self.plan.rank(key), key));
    }

    fn finished(&mut self, key: KeyId, worker: WorkerId, bytes: u64, out: &mut Vec<Decision>) {
        if self.state[key.index()] != State::Assigned(worker) {
            return; // A late report from a task that was already given up on.
        }
        self.unassign(key, worker);
        self.suspect[key.index()] = false;
        self.state[key.index()] = State::Done;
        self.bytes[key.index()] = bytes;
        self.placement.computed(key, worker);
        if self.plan.is_target(key) {
            self.targets_left -= 1;
        }
        let plan = Arc::clone(&self.plan);
        for &dep in plan.graph().dependencies(key) {
            self.consumers[dep.index()] -= 1;
            self.release_if_unneeded(dep, out);
        }
        for dependent in plan.dependents(key) {
            if self.state[dependent.index()] == State::Waiting {
                self.waiting[dependent.index()] -= 1;
                if self.waiting[dependent.index()] == 0 {
                    self.make_ready(dependent);
                }
            }
        }
        self.release_if_unneeded(key, out);
    }

    fn arrived(&mut self, key: KeyId, worker: WorkerId, out: &mut Vec<Decision>) {
        if !self.placement.transfer_ended(key, worker) || !self.is_alive(worker) {
            return;
        }
        if self.state[key.index()] == State::Released {
            // Its consumers ran elsewhere while it travelled.
            out.push(Decision::Release {
                key,
                workers: vec![worker],
            });
        } else {
            self.placement.arrived(key, worker);
        }
    }

    /// A transfer to `worker` cannot be made: send it again from another holder, or
    /// take back the tasks there that wait for it (and compute it again when no copy
    /// is left anywhere).
    fn transfer_failed(&mut self, key: KeyId, worker: WorkerId, out: &mut Vec<Decision>) {
        if !self.placement.transfer_ended(key, worker)
            || !self.is_alive(worker)
            || self.state[key.index()] != State::Done
        {
            return;
        }
        if let Some(from) = self.placement.holders(key).first().copied() {
            self.placement.send(key, worker);
            out.push(Decision::Transfer {
                key,
                from,
                to: worker,
            });
            return;
        }
        let withdrawn = self.withdraw(worker, key, out);
        if self.placement.is_gone(key) {
            self.lost(key);
        }
        self.recount_all(&withdrawn);
    }

    fn release_if_unneeded(&mut self, key: KeyId, out: &mut Vec<Decision>) {
        if self.consumers[key.index()] == 0
            && !self.plan.is_target(key)
            && self.state[key.index()] == State::Done
        {
            self.state[key.index()] = State::Released;
            let workers = self.placement.release(key);
            if !workers.is_empty() {
                out.push(Decision::Release { key, workers });
            }
        }
    }

    fn is_alive(&self, worker: WorkerId) -> bool {
        self.workers[worker.0 as usize].alive
    }

    fn unassign(&mut self, key: KeyId, worker: WorkerId) {
        self.change_worker(worker, |w| {
            if let Some(i) = w.assigned.iter().position(|&k| k == key) {
                w.assigned.remove(i);
            }
            if w.assigned.is_empty() {
                w.isolated = false;
            }
        });
    }

    /// Applies `change` to `worker`, keeping `by_load` in step with it.
    fn change_worker(&mut self, worker: WorkerId, change: impl FnOnce(&mut Worker)) {
        let w = &mut self.workers[worker.0 as usize];
        let takes_tasks = |w: &Worker| w.alive && !w.isolated;
        if takes_tasks(w) {
            self.by_load.remove(w.assigned.len(), worker.0);
        }
        change(w);
        if takes_tasks(w) {
            self.by_load.insert(w.assigned.len(), worker.0);
        }
    }

    /// Cancels the tasks on `worker` that wait for `input`, which will not come there,
    /// and those that wait for them in turn (pipelined). They are left waiting: the
    /// caller recounts them once the state of `input` is settled.
    fn withdraw(&mut self, worker: WorkerId, input: KeyId, out: &mut Vec<Decision>) -> Vec<KeyId> {
        let mut withdrawn = Vec::new();
        let mut missing = vec![input];
        while let Some(m) = missing.pop() {
            let waiting_for_m: Vec<KeyId> = self.workers[worker.0 as usize]
                .assigned
                .iter()
                .copied()
                .filter(|&t| self.plan.graph().dependencies(t).contains(&m))
                .collect();
            for t in waiting_for_m {
                self.unassign(t, worker);
                self.state[t.index()] = State::Waiting;
                out.push(Decision::Cancel { key: t, worker });
                withdrawn.push(t);
                missing.push(t);
            }
        }
        withdrawn
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
        if !self.is_alive(worker) {
            return;
        }
        let mut tasks = Vec::new();
        self.change_worker(worker, |w| {
            w.alive = false;
            w.isolated = false;
            tasks = std::mem::take(&mut w.assigned);
        });
        for key in self.placement.forget(worker) {
            if self.state[key.index()] == State::Done {
                self.lost(key);
            }
        }
        if let [key] = tasks[..] {
            let cause = cause.to_string();
            self.retry_or_fail(key, Failure::WorkerDied { key, cause });
        } else {
            // Any one of them may have killed it: none is charged, each runs alone next.
            for &key in &tasks {
                self.suspect[key.index()] = true;
                self.state[key.index()] = State::Waiting;
            }
            self.recount_all(&tasks);
        }
    }

    /// A finished result is gone with its workers: compute it again if still needed.
    fn lost(&mut self, key: KeyId) {
        if self.plan.is_target(key) {
            self.targets_left += 1;
        } else if self.consumers[key.index()] == 0 {
            self.state[key.index()] = State::Released;
            return;
        }
        // Its dependents that had counted it as done wait for it again.
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
        touched.reverse();
        self.recount_all(&touched);
    }

    /// `recount` for tasks listed inputs first.
    fn recount_all(&mut self, keys: &[KeyId]) {
        for &k in keys {
            if self.state[k.index()] == State::Waiting {
                self.recount(k);
            }
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

    /// Gives `key` to `worker`, ordering a transfer of each input it lacks. Inputs
    /// assigned to `worker` itself (pipelined) are made there first.
    fn start(&mut self, key: KeyId, worker: WorkerId, out: &mut Vec<Decision>) {
        let plan = Arc::clone(&self.plan);
        for &dep in plan.graph().dependencies(key) {
            if self.state[dep.index()] == State::Assigned(worker)
                || self.placement.is_local(dep, worker)
            {
                continue;
            }
            debug_assert_eq!(self.state[dep.index()], State::Done);
            let from = self.placement.holders(dep)[0];
            self.placement.send(dep, worker);
            out.push(Decision::Transfer {
                key: dep,
                from,
                to: worker,
            });
        }
        self.state[key.index()] = State::Assigned(worker);
        let suspect = self.suspect[key.index()];
        self.change_worker(worker, |w| {
            w.assigned.push(key);
            w.isolated |= suspect;
        });
        out.push(Decision::Run { key, worker });
    }

    /// A task ended on `worker`: pipelines behind the last task given to it, as far as
    /// its room allows (only that one: a cost per event that does not grow with the
    /// queue).
    fn top_up(&mut self, worker: WorkerId, out: &mut Vec<Decision>) {
        let Some(&last) = self.workers[worker.0 as usize].assigned.last() else {
            return;
        };
        if self.failure.is_none() && !self.suspect[last.index()] {
            self.pipeline(last, worker, out);
        }
    }

    /// Pipelining: the waiting dependents of `key` whose every other input is done or
    /// assigned to `worker` follow it there at once. The worker runs each once its
    /// inputs are made, and a chain runs without a round trip to the driver per task.
    fn pipeline(&mut self, key: KeyId, worker: WorkerId, out: &mut Vec<Decision>) {
        let plan = Arc::clone(&self.plan);
        let mut todo = vec![key];
        while let Some(k) = todo.pop() {
            for d in plan.dependents(k) {
                let room = self.room(self.by_load.least_busy().map_or(0, |(load, _)| load));
                if !self.has_room(worker, room) {
                    return;
                }
                let local = |x: &KeyId| match self.state[x.index()] {
                    State::Done => {
                        self.placement.is_local(*x, worker)
                            || !self.placement.holders(*x).is_empty()
                    }
                    state => state == State::Assigned(worker),
                };
                if self.state[d.index()] == State::Waiting
                    && !self.suspect[d.index()]
                    && plan.graph().dependencies(d).iter().all(local)
                {
                    self.start(d, worker, out);
                    todo.push(d);
                }
            }
        }
    }

    /// The worker for ready task `key`: among live workers with a free slot (an empty
    /// one for a suspect), one that holds or is being sent the most bytes of its
    /// inputs, then the least busy, then the first. Every input it lacks must be held
    /// somewhere to be sent from; an input that is only travelling makes it wait.
    ///
    /// Only the workers that have some input locally, and the least busy worker of
    /// all, can win: any other holds no more bytes and is no less busy than that one.
    /// So this costs O(inputs x copies) and a look-up in `by_load`, however many workers
    /// there are.
    fn place(&self, key: KeyId) -> Place {
        let limit = if self.suspect[key.index()] {
            1
        } else {
            self.slots_per_worker
        };
        let (least_load, least_busy) = match self.by_load.least_busy() {
            Some((load, w)) if load < limit => (load, WorkerId(w)),
            _ => return Place::NoWorker,
        };
        // A suspect needs an empty worker; any other task, room.
        let room = if self.suspect[key.index()] {
            limit
        } else {
            self.room(least_load)
        };
        let deps = self.plan.graph().dependencies(key);
        if deps.is_empty() {
            let fed = least_load >= self.slots_per_worker / 2;
            let sibling = self
                .sibling_worker(key)
                .filter(|&w| fed && self.has_room(w, room));
            return Place::On(sibling.unwrap_or(least_busy));
        }
        // Per worker with inputs locally: (worker, their bytes, how many of the inputs
        // that are only travelling go to it).
        let mut local: Vec<(WorkerId, u64, usize)> = Vec::new();
        let mut travelling = 0;
        for &d in deps {
            let only_travelling = self.placement.holders(d).is_empty();
            travelling += usize::from(only_travelling);
            for w in self.placement.local_workers(d) {
                let i = match local.iter().position(|&(x, ..)| x == w) {
                    Some(i) => i,
                    None => {
                        local.push((w, 0, 0));
                        local.len() - 1
                    }
                };
                local[i].1 += self.bytes[d.index()];
                local[i].2 += usize::from(only_travelling);
            }
        }
        let load = |w: WorkerId| self.workers[w.0 as usize].assigned.len();
        let free = |w: WorkerId| self.has_room(w, room);
        // The least busy worker, when it has no input locally, competes with 0 bytes.
        let outsider = (travelling == 0 && !local.iter().any(|&(w, ..)| w == least_busy))
            .then_some((least_busy, 0, 0));
        let best = local
            .iter()
            .copied()
            .chain(outsider)
            .filter(|&(w, _, arriving)| arriving == travelling && free(w))
            .map(|(w, bytes, _)| (Reverse(bytes), load(w), w))
            .min();
        match best {
            Some((_, _, w)) => Place::On(w),
            None => Place::Later,
        }
    }

    /// The first task of the plan that consumes `key`, if any: where its siblings meet.
    fn first_consumer(&self, key: KeyId) -> Option<KeyId> {
        if self.suspect[key.index()] || !self.plan.graph().dependencies(key).is_empty() {
            return None;
        }
        self.plan.dependents(key).next()
    }

    /// The worker the siblings of task `key`, which has no inputs, went to.
    fn sibling_worker(&self, key: KeyId) -> Option<WorkerId> {
        self.siblings_on[self.first_consumer(key)?.index()]
    }

    /// How many tasks a worker may hold when the least busy holds `least` (see
    /// "Room").
    fn room(&self, least: usize) -> usize {
        let slots = self.slots_per_worker;
        if least < slots {
            slots.max(least + slots / 2)
        } else {
            slots
        }
    }

    /// Whether `worker` takes tasks and holds fewer than `room`.
    fn has_room(&self, worker: WorkerId, room: usize) -> bool {
        let w = &self.workers[worker.0 as usize];
        w.alive && !w.isolated && w.assigned.len() < room
    }
}

/// Where a ready task can go now.
#[derive(Debug, PartialEq)]
enum Place {
    On(WorkerId),
    /// Workers are free, but an input it needs is only travelling: try again later.
    Later,
    /// No worker has room for it.
    NoWorker,
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskloom_graph::{parse, validate, Registry};

    /// The placement rule as a scan of every worker: what `place` must decide.
    fn place_by_scan(s: &Scheduler, key: KeyId) -> Place {
        let deps = s.plan.graph().dependencies(key);
        let limit = if s.suspect[key.index()] {
            1
        } else {
            s.slots_per_worker
        };
        let takes = |w: &Worker| w.alive && !w.isolated;
        let least = s
            .workers
            .iter()
            .filter(|w| takes(w))
            .map(|w| w.assigned.len())
            .min();
        if least.is_none_or(|l| l >= limit) {
            return Place::NoWorker;
        }
        let least = least.unwrap_or(0);
        // `least` < `limit`, which is at most the slots.
        let room = if s.suspect[key.index()] {
            limit
        } else {
            s.slots_per_worker.max(least + s.slots_per_worker / 2)
        };
        let has_room = |w: &Worker| takes(w) && w.assigned.len() < room;
        let sibling = s
            .first_consumer(key)
            .and_then(|c| s.siblings_on[c.index()])
            .filter(|w| least >= s.slots_per_worker / 2 && has_room(&s.workers[w.0 as usize]));
        if let (true, Some(w)) = (deps.is_empty(), sibling) {
            return Place::On(w);
        }
        let mut any_free = false;
        let best = (0..s.workers.len())
            .filter(|&w| has_room(&s.workers[w]))
            .filter_map(|w| {
                any_free = true;
                let id = WorkerId(w as u32);
                let mut local = 0;
                for &d in deps {
                    if s.placement.is_local(d, id) {
                        local += s.bytes[d.index()];
                    } else if s.placement.holders(d).is_empty() {
                        return None;
                    }
                }
                Some((Reverse(local), s.workers[w].assigned.len(), w))
            })
            .min();
        match best {
            Some((_, _, w)) => Place::On(WorkerId(w as u32)),
            None if any_free => Place::Later,
            None => Place::NoWorker,
        }
    }

    /// A small seeded generator (SplitMix64).
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            ((z ^ (z >> 31)) % n as u64) as usize
        }
    }

    /// Random runs (tasks ending in any order with random sizes, transfers landing or
    /// failing, workers dying and joining, suspects): at every step, every ready task
    /// is placed as the scan of all workers places it.
    #[test]
    fn placing_by_load_order_decides_as_a_scan_of_every_worker() {
        for seed in 0..200u64 {
            let mut rng = Rng(seed);
            // Every fourth run has more workers than one word of `by_load` holds, and
            // enough tasks to keep the first word busy.
            let wide = seed % 4 == 0;
            let n = if wide {
                100 + rng.below(200)
            } else {
                5 + rng.below(40)
            };
            let src: String = (0..n)
                .map(|i| {
                    let deps = if i == 0 { 0 } else { rng.below(4) };
                    let args: Vec<String> = std::iter::once(i.to_string())
                        .chain((0..deps).map(|_| format!("k{}", rng.below(i))))
                        .collect();
                    format!("k{i} = list({})\n", args.join(", "))
                })
                .collect();
            let graph = parse(&src).unwrap();
            let ops = validate(&graph, &Registry::builtins()).unwrap();
            let targets = graph.outputs();
            let plan = Arc::new(Plan::new(Arc::new(graph), ops, targets));
            let (slots, workers) = if wide {
                (1, 64 + rng.below(100))
            } else {
                (1 + rng.below(3), 1 + rng.below(6))
            };
            let mut s = Scheduler::new(plan, slots, 1000);
            for _ in 0..workers {
                s.add_worker();
            }
            let mut out = Vec::new();
            s.assign(&mut out);
            let mut runs: Vec<(KeyId, WorkerId)> = Vec::new();
            let mut transfers: Vec<(KeyId, WorkerId)> = Vec::new();
            for _ in 0..2000 {
                for d in out.drain(..) {
                    match d {
                        Decision::Run { key, worker } => runs.push((key, worker)),
                        Decision::Transfer { key, to, .. } => transfers.push((key, to)),
                        Decision::Cancel { key, worker } => runs.retain(|&r| r != (key, worker)),
                        Decision::Release { .. } => {}
                    }
                }
                for (_, key) in s.ready.iter() {
                    if s.state[key.index()] == State::Ready {
                        assert_eq!(s.place(key), place_by_scan(&s, key), "seed {seed}");
                    }
                }
                if s.status() != Status::Running {
                    break;
                }
                let event = match rng.below(10) {
                    0 if s.workers.iter().filter(|w| w.alive).count() > 1 => {
                        let alive: Vec<usize> = (0..s.workers.len())
                            .filter(|&w| s.workers[w].alive)
                            .collect();
                        let worker = WorkerId(alive[rng.below(alive.len())] as u32);
                        runs.retain(|&(_, w)| w != worker);
                        transfers.retain(|&(_, w)| w != worker);
                        if rng.below(2) == 0 {
                            s.add_worker();
                        }
                        Event::WorkerLost {
                            worker,
                            cause: "killed".into(),
                        }
                    }
                    1..=4 if !transfers.is_empty() => {
                        let (key, worker) = transfers.swap_remove(rng.below(transfers.len()));
                        if rng.below(8) == 0 {
                            Event::TransferFailed { key, worker }
                        } else {
                            Event::Arrived { key, worker }
                        }
                    }
                    _ => {
                        // A task whose inputs are all on its worker.
                        let on_hand: Vec<usize> = (0..runs.len())
                            .filter(|&i| {
                                let (key, worker) = runs[i];
                                s.plan
                                    .graph()
                                    .dependencies(key)
                                    .iter()
                                    .all(|&d| s.placement.holders(d).contains(&worker))
                            })
                            .collect();
                        if on_hand.is_empty() {
                            if transfers.is_empty() {
                                break; // Nothing can happen (every copy was lost).
                            }
                            continue;
                        }
                        let (key, worker) = runs.remove(on_hand[rng.below(on_hand.len())]);
                        let bytes = rng.below(4) as u64 * 8;
                        Event::Finished { key, worker, bytes }
                    }
                };
                s.handle(event, &mut out);
            }
        }
    }
}

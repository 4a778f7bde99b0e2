//! A run of the scheduler core against a simulated clock: the same `Scheduler` the
//! process executor drives, fed `Event::Finished` when a task's simulated time is up
//! instead of when real work ends. It shows what a policy does to makespan, memory and
//! data movement on any number of workers, in milliseconds of computer time.
//!
//! Model: the executors' own. Each worker runs one task at a time, the first given to
//! it whose inputs are all there. An input it lacks comes by the `Transfer` the core
//! orders, peer to peer, and arrives `transfer_ns` after the worker's incoming link is
//! free (transfers to one worker go one after another; transfers overlap computation).
//! Memory is the results held at once (each counted once, however many workers hold a
//! copy), from a task's end until the core releases it.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::sync::Arc;

use taskloom_graph::KeyId;

use crate::messages::{Decision, Event, Status, WorkerId};
use crate::plan::Plan;
use crate::scheduler::Scheduler;
use crate::workload::Workload;

/// The machine being simulated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Machine {
    /// Workers, each running one task at a time (at least one).
    pub workers: usize,
    /// The cost of moving one input to another worker, in nanoseconds.
    pub transfer_ns: u64,
}

/// What a simulated run measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// When the last task ended.
    pub makespan_ns: u64,
    /// The longest chain of task durations: no schedule ends sooner.
    pub critical_path_ns: u64,
    /// All task durations summed.
    pub work_ns: u64,
    /// Most units of memory held at once by results.
    pub peak_memory: u64,
    /// Inputs moved from one worker to another.
    pub transfers: u64,
    /// How many times each task ran (once in a correct run), indexed by `KeyId`.
    pub runs: Vec<u32>,
}

impl Outcome {
    /// How many tasks ran exactly once: all of the plan's, in a correct run.
    pub fn completed(&self) -> usize {
        self.runs.iter().filter(|&&r| r == 1).count()
    }

    /// max(critical path, work / workers): the bound no schedule on `workers` beats.
    pub fn lower_bound_ns(&self, workers: usize) -> u64 {
        self.critical_path_ns
            .max(self.work_ns.div_ceil(workers.max(1) as u64))
    }

    /// Makespan over the lower bound: 1 is optimal (1 when there is no work at all).
    pub fn ratio(&self, workers: usize) -> f64 {
        match self.lower_bound_ns(workers) {
            0 => 1.0,
            bound => self.makespan_ns as f64 / bound as f64,
        }
    }
}

/// Runs `plan` on `machine` with task costs from `workload`, until every requested key
/// is computed.
pub fn simulate(plan: Arc<Plan>, workload: &Workload, machine: Machine) -> Outcome {
    let n = plan.graph().len();
    let workers = machine.workers.max(1);
    let mut sim = Simulation {
        plan: Arc::clone(&plan),
        workload,
        transfer_ns: machine.transfer_ns,
        now: 0,
        events: BinaryHeap::new(),
        seq: 0,
        workers: (0..workers).map(|_| SimWorker::default()).collect(),
        live: vec![false; n],
        held: 0,
        peak: 0,
        transfers: 0,
        runs: vec![0; n],
    };
    // Retries never happen: simulated tasks neither fail nor lose workers.
    let mut core = Scheduler::new(Arc::clone(&plan), 1, 0);
    for _ in 0..workers {
        core.add_worker();
    }
    let mut decisions = Vec::new();
    core.assign(&mut decisions);
    sim.apply(&mut decisions);
    while core.status() == Status::Running {
        let Some(Reverse((at, _, happening))) = sim.events.pop() else {
            break; // Nothing runs: only possible for a plan with no tasks.
        };
        sim.now = at;
        let event = match happening {
            Happening::Ended { key, worker } => {
                let w = &mut sim.workers[worker.0 as usize];
                w.running = false;
                w.has.insert(key);
                if !std::mem::replace(&mut sim.live[key.index()], true) {
                    sim.held += workload.size(key);
                    sim.peak = sim.peak.max(sim.held);
                }
                let bytes = workload.size(key);
                Event::Finished { key, worker, bytes }
            }
            Happening::Arrived { key, worker } => {
                sim.workers[worker.0 as usize].has.insert(key);
                Event::Arrived { key, worker }
            }
        };
        core.handle(event, &mut decisions);
        sim.apply(&mut decisions);
        for w in 0..sim.workers.len() {
            sim.start_next(WorkerId(w as u32));
        }
    }
    let (critical_path_ns, work_ns) = bounds(&plan, workload);
    Outcome {
        makespan_ns: sim.now,
        critical_path_ns,
        work_ns,
        peak_memory: sim.peak,
        transfers: sim.transfers,
        runs: sim.runs,
    }
}

/// What happens at a moment of simulated time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Happening {
    Ended { key: KeyId, worker: WorkerId },
    Arrived { key: KeyId, worker: WorkerId },
}

#[derive(Default)]
struct SimWorker {
    /// Tasks given to it, in order, that have not started.
    queue: Vec<KeyId>,
    /// Results it holds (computed or arrived).
    has: HashSet<KeyId>,
    running: bool,
    /// When its incoming link is free: transfers to one worker go one after another.
    link_free_at: u64,
}

/// The simulated machine's state between events.
struct Simulation<'a> {
    plan: Arc<Plan>,
    workload: &'a Workload,
    transfer_ns: u64,
    now: u64,
    /// What happens next, by time (then order of scheduling, for determinism).
    events: BinaryHeap<Reverse<(u64, u64, Happening)>>,
    seq: u64,
    workers: Vec<SimWorker>,
    /// Results counted in `held` (each once, however many copies there are).
    live: Vec<bool>,
    held: u64,
    peak: u64,
    transfers: u64,
    runs: Vec<u32>,
}

impl Simulation<'_> {
    fn at(&mut self, time: u64, happening: Happening) {
        self.seq += 1;
        self.events.push(Reverse((time, self.seq, happening)));
    }

    /// Carries out the core's decisions (and empties `decisions`).
    fn apply(&mut self, decisions: &mut Vec<Decision>) {
        for decision in decisions.drain(..) {
            match decision {
                Decision::Transfer { key, to, .. } => {
                    let link = &mut self.workers[to.0 as usize].link_free_at;
                    *link = self.now.max(*link) + self.transfer_ns;
                    let arrival = *link;
                    self.transfers += 1;
                    self.at(arrival, Happening::Arrived { key, worker: to });
                }
                Decision::Run { key, worker } => {
                    self.runs[key.index()] += 1;
                    self.workers[worker.0 as usize].queue.push(key);
                    self.start_next(worker);
                }
                Decision::Cancel { key, worker } => {
                    self.workers[worker.0 as usize].queue.retain(|&k| k != key);
                }
                Decision::Release { key, workers } => {
                    for w in workers {
                        self.workers[w.0 as usize].has.remove(&key);
                    }
                    if std::mem::replace(&mut self.live[key.index()], false) {
                        self.held -= self.workload.size(key);
                    }
                }
            }
        }
    }

    /// An idle worker starts the first task given to it whose inputs are all there.
    fn start_next(&mut self, worker: WorkerId) {
        let w = &self.workers[worker.0 as usize];
        if w.running {
            return;
        }
        let graph = self.plan.graph();
        let Some(i) = w
            .queue
            .iter()
            .position(|&k| graph.dependencies(k).iter().all(|d| w.has.contains(d)))
        else {
            return;
        };
        let w = &mut self.workers[worker.0 as usize];
        let key = w.queue.remove(i);
        w.running = true;
        let end = self.now + self.workload.duration_ns(key);
        self.at(end, Happening::Ended { key, worker });
    }
}

/// (The longest chain of durations, the sum of all durations) over the plan's tasks.
fn bounds(plan: &Plan, workload: &Workload) -> (u64, u64) {
    let mut finish = vec![0u64; plan.graph().len()];
    let mut work = 0;
    for &key in plan.order() {
        let ready = plan
            .graph()
            .dependencies(key)
            .iter()
            .map(|d| finish[d.index()])
            .max()
            .unwrap_or(0);
        finish[key.index()] = ready + workload.duration_ns(key);
        work += workload.duration_ns(key);
    }
    let longest = plan.order().iter().map(|k| finish[k.index()]).max();
    (longest.unwrap_or(0), work)
}

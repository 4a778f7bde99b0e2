//! A run of the scheduler core against a simulated clock: the same `Scheduler` the
//! process executor drives, fed `Event::Finished` when a task's simulated time is up
//! instead of when real work ends. It shows what a policy does to makespan, memory and
//! data movement on any number of workers, in milliseconds of computer time.
//!
//! Model: each worker runs one task at a time; a task starts when its worker takes it,
//! first receives the inputs it lacks (each costs `transfer_ns`, one after another),
//! then runs for its duration. Memory is the results held at once (each counted once,
//! however many workers hold a copy), from a task's end until the core releases it.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use taskloom_graph::KeyId;

use crate::plan::Plan;
use crate::scheduler::{Decision, Event, Scheduler, Status, WorkerId};
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
    let mut sim = Simulation {
        workload,
        transfer_ns: machine.transfer_ns,
        now: 0,
        free_at: vec![0; machine.workers.max(1)],
        ending: BinaryHeap::new(),
        held: 0,
        peak: 0,
        transfers: 0,
        runs: vec![0; n],
    };
    // Retries never happen: simulated tasks neither fail nor lose workers.
    let mut core = Scheduler::new(Arc::clone(&plan), 1, 0);
    let mut decisions = Vec::new();
    for _ in 0..sim.free_at.len() {
        core.add_worker(&mut decisions);
    }
    sim.apply(&mut decisions);
    while core.status() == Status::Running {
        let Some(Reverse((end, key, worker))) = sim.ending.pop() else {
            break; // Nothing runs: only possible for a plan with no tasks.
        };
        sim.now = end;
        sim.held += workload.size(key);
        sim.peak = sim.peak.max(sim.held);
        let bytes = workload.size(key);
        core.handle(Event::Finished { key, worker, bytes }, &mut decisions);
        sim.apply(&mut decisions);
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

/// The simulated machine's state between events.
struct Simulation<'a> {
    workload: &'a Workload,
    transfer_ns: u64,
    now: u64,
    /// When each worker is done with what it was given.
    free_at: Vec<u64>,
    /// Running tasks by end time (then key, for a deterministic order of ties).
    ending: BinaryHeap<Reverse<(u64, KeyId, WorkerId)>>,
    held: u64,
    peak: u64,
    transfers: u64,
    runs: Vec<u32>,
}

impl Simulation<'_> {
    /// Carries out the core's decisions (and empties `decisions`).
    fn apply(&mut self, decisions: &mut Vec<Decision>) {
        for decision in decisions.drain(..) {
            match decision {
                Decision::Run {
                    key,
                    worker,
                    inputs,
                } => {
                    let w = worker.0 as usize;
                    let moving = self.transfer_ns * inputs.len() as u64;
                    let start = self.now.max(self.free_at[w]);
                    let end = start + moving + self.workload.duration_ns(key);
                    self.free_at[w] = end;
                    self.transfers += inputs.len() as u64;
                    self.runs[key.index()] += 1;
                    self.ending.push(Reverse((end, key, worker)));
                }
                Decision::Release { key, .. } => self.held -= self.workload.size(key),
            }
        }
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

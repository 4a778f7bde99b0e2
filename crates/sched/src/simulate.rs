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
//!
//! The driver (rank 0 of an MPI run) may cost time too, so that a prediction for many
//! machines shows when the core, not the workers, limits a run:
//! - `decision_ns`: the driver handles one report at a time and spends this long per
//!   `Run` it decides (the core's whole cost per task, as `core_throughput` measures
//!   it); reports that come meanwhile wait for it.
//! - `latency_ns`: each message between the driver and a worker (a report, a `Run`,
//!   the order of a `Transfer`) takes this long one way; the run ends when the driver
//!   hears of its last result.
//!
//! With both at zero a report is handled the moment it happens.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet, VecDeque};
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
    /// The driver's time per `Run` decision, in nanoseconds.
    pub decision_ns: u64,
    /// One-way latency of a message between the driver and a worker, in nanoseconds.
    pub latency_ns: u64,
}

/// What a simulated run measured.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Outcome {
    /// When the driver heard that the last task ended.
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
        machine,
        driver_free_at: 0,
        inbox: VecDeque::new(),
        wake_pending: false,
        touched: Vec::new(),
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
        match happening {
            Happening::Ended { key, worker } => {
                let w = &mut sim.workers[worker.0 as usize];
                w.running = false;
                w.has.insert(key);
                if !std::mem::replace(&mut sim.live[key.index()], true) {
                    sim.held += workload.size(key);
                    sim.peak = sim.peak.max(sim.held);
                }
                sim.touched.push(worker);
                let heard_at = sim.now + machine.latency_ns;
                sim.report(
                    &mut core,
                    Report::Ended,
                    key,
                    worker,
                    heard_at,
                    &mut decisions,
                );
            }
            Happening::Arrived { key, worker } => {
                sim.workers[worker.0 as usize].has.insert(key);
                sim.touched.push(worker);
                let heard_at = sim.now + machine.latency_ns;
                sim.report(
                    &mut core,
                    Report::Arrived,
                    key,
                    worker,
                    heard_at,
                    &mut decisions,
                );
            }
            Happening::Heard {
                report,
                key,
                worker,
            } => {
                sim.report(&mut core, report, key, worker, at, &mut decisions);
            }
            Happening::Given { key, worker } => sim.give(key, worker),
            Happening::DriverFree => {
                sim.wake_pending = false;
                sim.serve(&mut core, &mut decisions);
            }
        }
        // Only these workers can start anything now, in order of index.
        sim.touched.sort_unstable();
        sim.touched.dedup();
        for w in std::mem::take(&mut sim.touched) {
            sim.start_next(w);
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
    Ended {
        key: KeyId,
        worker: WorkerId,
    },
    Arrived {
        key: KeyId,
        worker: WorkerId,
    },
    /// A report reaches the driver (or waits there for it to be free).
    Heard {
        report: Report,
        key: KeyId,
        worker: WorkerId,
    },
    /// A `Run` reaches its worker.
    Given {
        key: KeyId,
        worker: WorkerId,
    },
    /// The driver is done deciding and turns to the reports that came meanwhile.
    DriverFree,
}

/// What a worker reports to the driver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Report {
    Ended,
    Arrived,
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
    machine: Machine,
    /// When the driver is done with the decisions it has made so far.
    driver_free_at: u64,
    /// Reports heard and not yet handled, in the order heard.
    inbox: VecDeque<(Report, KeyId, WorkerId)>,
    /// A `DriverFree` is scheduled.
    wake_pending: bool,
    /// Workers whose state changed at this moment: they may start a task.
    touched: Vec<WorkerId>,
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

    /// The driver hears `report` about `key` on `worker` at `heard_at`: it handles it
    /// then, or after the reports before it once it is free (at once when nothing costs
    /// time).
    fn report(
        &mut self,
        core: &mut Scheduler,
        report: Report,
        key: KeyId,
        worker: WorkerId,
        heard_at: u64,
        decisions: &mut Vec<Decision>,
    ) {
        if heard_at > self.now {
            let heard = Happening::Heard {
                report,
                key,
                worker,
            };
            self.at(heard_at, heard);
            return;
        }
        self.inbox.push_back((report, key, worker));
        self.serve(core, decisions);
    }

    /// The driver handles the reports in its inbox, in the order heard, while it is
    /// free; when it is busy it comes back to them at `driver_free_at`.
    fn serve(&mut self, core: &mut Scheduler, decisions: &mut Vec<Decision>) {
        while self.driver_free_at <= self.now {
            let Some((report, key, worker)) = self.inbox.pop_front() else {
                return;
            };
            // `worker` told it (a copy arriving was reported by its destination).
            self.touched.push(worker);
            let event = match report {
                Report::Ended => Event::Finished {
                    key,
                    worker,
                    bytes: self.workload.size(key),
                },
                Report::Arrived => Event::Arrived { key, worker },
            };
            core.handle(event, decisions);
            self.apply(decisions);
        }
        if !self.inbox.is_empty() && !std::mem::replace(&mut self.wake_pending, true) {
            self.at(self.driver_free_at, Happening::DriverFree);
        }
    }

    /// Carries out the core's decisions (and empties `decisions`): each `Run` costs the
    /// driver `decision_ns`, and every order reaches its worker a latency after it was
    /// made.
    fn apply(&mut self, decisions: &mut Vec<Decision>) {
        let mut decided = self.now;
        for decision in decisions.drain(..) {
            let reaches = decided + self.machine.latency_ns;
            match decision {
                Decision::Transfer { key, to, .. } => {
                    let link = &mut self.workers[to.0 as usize].link_free_at;
                    *link = reaches.max(*link) + self.machine.transfer_ns;
                    let arrival = *link;
                    self.transfers += 1;
                    self.at(arrival, Happening::Arrived { key, worker: to });
                }
                Decision::Run { key, worker } => {
                    self.runs[key.index()] += 1;
                    decided += self.machine.decision_ns;
                    let reaches = decided + self.machine.latency_ns;
                    if reaches == self.now {
                        self.give(key, worker);
                    } else {
                        self.at(reaches, Happening::Given { key, worker });
                    }
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
        self.driver_free_at = decided;
    }

    /// `key` reaches `worker`'s queue.
    fn give(&mut self, key: KeyId, worker: WorkerId) {
        self.workers[worker.0 as usize].queue.push(key);
        self.start_next(worker);
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

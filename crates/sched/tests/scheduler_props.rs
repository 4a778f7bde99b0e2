//! Property: driven by a simulated pool in which tasks finish in any order, fail, and
//! workers die at random, the scheduler core only ever runs a task where all its inputs
//! are, never releases a result a queued task still needs, and finishes every run.

use std::collections::HashSet;
use std::sync::Arc;

use proptest::prelude::*;
use taskloom_graph::{parse, validate, KeyId, Registry};
use taskloom_sched::{Decision, Event, Plan, Scheduler, Status, WorkerId};

/// A random layered DAG as graph text: key i depends on up to three earlier keys.
fn dag() -> impl Strategy<Value = String> {
    (2..40usize).prop_flat_map(|n| {
        prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..4), n)
            .prop_map(|deps| {
                deps.iter()
                    .enumerate()
                    .map(|(i, ds)| {
                        let refs: Vec<String> = if i == 0 {
                            vec![]
                        } else {
                            ds.iter().map(|d| format!("k{}", d.index(i))).collect()
                        };
                        format!("k{i} = list({})\n", refs.join(", "))
                    })
                    .collect::<String>()
            })
    })
}

/// What the simulated pool does next.
#[derive(Clone, Debug)]
enum Step {
    /// The oldest task of worker (index mod workers) finishes.
    Finish(prop::sample::Index),
    /// ... or fails (its op reports an error).
    Fail(prop::sample::Index),
    /// That worker dies; a new one joins.
    Kill(prop::sample::Index),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            8 => any::<prop::sample::Index>().prop_map(Step::Finish),
            1 => any::<prop::sample::Index>().prop_map(Step::Fail),
            1 => any::<prop::sample::Index>().prop_map(Step::Kill),
        ],
        0..400,
    )
}

struct Sim {
    plan: Arc<Plan>,
    scheduler: Scheduler,
    /// Per worker: alive, what it holds, what it was told to run (oldest first).
    alive: Vec<bool>,
    held: Vec<HashSet<KeyId>>,
    queue: Vec<Vec<KeyId>>,
}

impl Sim {
    fn apply(&mut self, decisions: Vec<Decision>) -> Result<(), TestCaseError> {
        for d in decisions {
            match d {
                Decision::Run {
                    key,
                    worker,
                    inputs,
                } => {
                    let w = worker.0 as usize;
                    prop_assert!(self.alive[w], "run on a dead worker");
                    for (input, holder) in inputs {
                        let h = holder.0 as usize;
                        prop_assert!(
                            self.alive[h] && self.held[h].contains(&input),
                            "input {:?} taken from {:?}, which does not hold it",
                            input,
                            holder
                        );
                        self.held[w].insert(input);
                    }
                    // Each input is here, or queued here first (pipelining).
                    for dep in self.plan.graph().dependencies(key) {
                        prop_assert!(
                            self.held[w].contains(dep) || self.queue[w].contains(dep),
                            "{:?} sent to {:?} without {:?}",
                            key,
                            worker,
                            dep
                        );
                    }
                    self.queue[w].push(key);
                }
                Decision::Release { key, workers } => {
                    for queued in self.queue.iter().flatten() {
                        prop_assert!(
                            !self.plan.graph().dependencies(*queued).contains(&key),
                            "{:?} released while {:?} still needs it",
                            key,
                            queued
                        );
                    }
                    for w in workers {
                        self.held[w.0 as usize].remove(&key);
                    }
                }
            }
        }
        Ok(())
    }

    fn add_worker(&mut self) -> Result<(), TestCaseError> {
        self.alive.push(true);
        self.held.push(HashSet::new());
        self.queue.push(Vec::new());
        let mut out = Vec::new();
        self.scheduler.add_worker(&mut out);
        self.apply(out)
    }

    fn busy_workers(&self) -> Vec<usize> {
        (0..self.queue.len())
            .filter(|&w| self.alive[w] && !self.queue[w].is_empty())
            .collect()
    }

    fn busy_worker(&self, pick: &prop::sample::Index) -> Option<usize> {
        let busy = self.busy_workers();
        (!busy.is_empty()).then(|| busy[pick.index(busy.len())])
    }

    /// The oldest task of worker `w` runs: it finishes if its inputs are all here, and
    /// is skipped (requeued) if one is missing, as a real worker does.
    fn finish(&mut self, w: usize) -> Result<(), TestCaseError> {
        let key = self.queue[w].remove(0);
        let worker = WorkerId(w as u32);
        let deps = self.plan.graph().dependencies(key);
        let event = if deps.iter().all(|d| self.held[w].contains(d)) {
            self.held[w].insert(key);
            Event::Finished {
                key,
                worker,
                bytes: 8,
            }
        } else {
            Event::Requeue { key, worker }
        };
        let mut out = Vec::new();
        self.scheduler.handle(event, &mut out);
        self.apply(out)
    }

    fn step(&mut self, step: &Step, kills_left: &mut u32) -> Result<(), TestCaseError> {
        let mut out = Vec::new();
        match step {
            Step::Finish(pick) => {
                return match self.busy_worker(pick) {
                    Some(w) => self.finish(w),
                    None => Ok(()),
                };
            }
            Step::Fail(pick) => {
                let Some(w) = self.busy_worker(pick) else {
                    return Ok(());
                };
                let key = self.queue[w].remove(0);
                let worker = WorkerId(w as u32);
                let event = Event::Failed {
                    key,
                    worker,
                    op: "list".into(),
                    cause: "injected".into(),
                };
                self.scheduler.handle(event, &mut out);
            }
            Step::Kill(pick) => {
                if *kills_left == 0 {
                    return Ok(());
                }
                let alive: Vec<usize> = (0..self.alive.len()).filter(|&w| self.alive[w]).collect();
                let w = alive[pick.index(alive.len())];
                *kills_left -= 1;
                self.alive[w] = false;
                self.held[w].clear();
                self.queue[w].clear();
                let lost = Event::WorkerLost {
                    worker: WorkerId(w as u32),
                    cause: "killed".into(),
                };
                self.scheduler.handle(lost, &mut out);
                self.apply(out)?;
                return self.add_worker();
            }
        }
        self.apply(out)
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_run_finishes_with_inputs_always_in_place(
        src in dag(),
        workers in 1..4usize,
        slots in 1..4usize,
        steps in steps(),
    ) {
        let graph = parse(&src).unwrap();
        let ops = validate(&graph, &Registry::builtins()).unwrap();
        let targets = graph.outputs();
        let plan = Arc::new(Plan::new(Arc::new(graph), ops, targets.clone()));
        // Enough retries that the injected failures never end the run.
        let scheduler = Scheduler::new(Arc::clone(&plan), slots, 1000);
        let mut sim = Sim { plan, scheduler, alive: vec![], held: vec![], queue: vec![] };
        for _ in 0..workers {
            sim.add_worker()?;
        }
        let mut kills_left = 3;
        for step in &steps {
            sim.step(step, &mut kills_left)?;
        }
        // Then let every queued task finish, oldest first, until the run is over.
        while sim.scheduler.status() == Status::Running {
            let busy = sim.busy_workers();
            prop_assert!(!busy.is_empty(), "nothing runs but the run is not over");
            sim.finish(busy[0])?;
        }
        prop_assert_eq!(sim.scheduler.status(), Status::Finished);
        for t in targets {
            let holders = sim.scheduler.holders(t);
            prop_assert!(!holders.is_empty());
            for h in holders {
                prop_assert!(sim.alive[h.0 as usize] && sim.held[h.0 as usize].contains(&t));
            }
        }
    }
}

//! Property: driven by a simulated pool in which tasks run in any order, fail, results
//! travel and arrive in any order, and workers die at random (mid-transfer too), the
//! scheduler core only ever runs a task where its inputs are or are on their way, only
//! orders transfers from a worker holding the value, never releases a value a task
//! still waits for, finishes every run, and its results equal a direct evaluation.

use std::collections::HashMap;
use std::sync::Arc;

use proptest::prelude::*;
use taskloom_graph::{evaluate, parse, validate, KeyId, Registry, Value};
use taskloom_sched::{Decision, Event, Plan, Scheduler, Status, WorkerId};

/// A random layered DAG as graph text: key i depends on up to three earlier keys, and
/// each value differs (`list(i, inputs...)`), so a wrong input shows in the result.
fn dag() -> impl Strategy<Value = String> {
    (2..40usize).prop_flat_map(|n| {
        prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..4), n)
            .prop_map(|deps| {
                deps.iter()
                    .enumerate()
                    .map(|(i, ds)| {
                        let mut args = vec![i.to_string()];
                        if i > 0 {
                            args.extend(ds.iter().map(|d| format!("k{}", d.index(i))));
                        }
                        format!("k{i} = list({})\n", args.join(", "))
                    })
                    .collect::<String>()
            })
    })
}

/// What the simulated pool does next; each picks among what is possible.
#[derive(Clone, Debug)]
enum Step {
    /// A worker runs a task whose inputs are all there.
    Run(prop::sample::Index),
    /// ... or that task fails (its op reports an error).
    Fail(prop::sample::Index),
    /// A transfer in flight takes its bytes from its source.
    Pickup(prop::sample::Index),
    /// A transfer in flight lands (or fails, if its source is gone with the bytes).
    Deliver(prop::sample::Index),
    /// A worker dies; a new one joins.
    Kill(prop::sample::Index),
}

fn steps() -> impl Strategy<Value = Vec<Step>> {
    prop::collection::vec(
        prop_oneof![
            8 => any::<prop::sample::Index>().prop_map(Step::Run),
            1 => any::<prop::sample::Index>().prop_map(Step::Fail),
            3 => any::<prop::sample::Index>().prop_map(Step::Pickup),
            4 => any::<prop::sample::Index>().prop_map(Step::Deliver),
            1 => any::<prop::sample::Index>().prop_map(Step::Kill),
        ],
        0..400,
    )
}

#[derive(Default)]
struct SimWorker {
    alive: bool,
    values: HashMap<KeyId, Value>,
    /// Tasks given to it that have not started, in order.
    queue: Vec<KeyId>,
}

struct InFlight {
    key: KeyId,
    from: WorkerId,
    to: WorkerId,
    /// The bytes, once they left the source.
    carried: Option<Value>,
}

struct Sim {
    plan: Arc<Plan>,
    scheduler: Scheduler,
    workers: Vec<SimWorker>,
    transfers: Vec<InFlight>,
}

impl Sim {
    fn new(plan: Arc<Plan>, workers: usize, slots: usize) -> Result<Sim, TestCaseError> {
        // Enough retries that the injected failures never end the run.
        let scheduler = Scheduler::new(Arc::clone(&plan), slots, 1000);
        let mut sim = Sim {
            plan,
            scheduler,
            workers: Vec::new(),
            transfers: Vec::new(),
        };
        for _ in 0..workers {
            sim.join();
        }
        sim.decide(|s, out| s.assign(out))?;
        Ok(sim)
    }

    fn join(&mut self) {
        let id = self.scheduler.add_worker();
        assert_eq!(id.0 as usize, self.workers.len());
        self.workers.push(SimWorker {
            alive: true,
            ..SimWorker::default()
        });
    }

    fn decide(
        &mut self,
        f: impl FnOnce(&mut Scheduler, &mut Vec<Decision>),
    ) -> Result<(), TestCaseError> {
        let mut out = Vec::new();
        f(&mut self.scheduler, &mut out);
        for d in out {
            self.apply(d)?;
        }
        Ok(())
    }

    fn handle(&mut self, event: Event) -> Result<(), TestCaseError> {
        self.decide(|s, out| s.handle(event, out))
    }

    fn travelling_to(&self, key: KeyId, to: usize) -> bool {
        self.transfers
            .iter()
            .any(|t| t.key == key && t.to.0 as usize == to)
    }

    fn apply(&mut self, decision: Decision) -> Result<(), TestCaseError> {
        match decision {
            Decision::Transfer { key, from, to } => {
                let (f, t) = (from.0 as usize, to.0 as usize);
                prop_assert!(
                    self.workers[f].alive && self.workers[f].values.contains_key(&key),
                    "{key:?} sent from {from:?}, which does not hold it"
                );
                prop_assert!(self.workers[t].alive, "{key:?} sent to dead {to:?}");
                prop_assert!(
                    !self.workers[t].values.contains_key(&key) && !self.travelling_to(key, t),
                    "{key:?} sent to {to:?} twice"
                );
                self.transfers.push(InFlight {
                    key,
                    from,
                    to,
                    carried: None,
                });
            }
            Decision::Run { key, worker } => {
                let w = worker.0 as usize;
                prop_assert!(self.workers[w].alive, "run on a dead worker");
                for dep in self.plan.graph().dependencies(key) {
                    prop_assert!(
                        self.workers[w].values.contains_key(dep)
                            || self.travelling_to(*dep, w)
                            || self.workers[w].queue.contains(dep),
                        "{key:?} sent to {worker:?}, where {dep:?} neither is nor comes"
                    );
                }
                self.workers[w].queue.push(key);
            }
            Decision::Cancel { key, worker } => {
                let queue = &mut self.workers[worker.0 as usize].queue;
                let i = queue.iter().position(|&k| k == key);
                prop_assert!(i.is_some(), "cancelled {key:?}, which is not queued");
                queue.remove(i.unwrap());
            }
            Decision::Release { key, workers } => {
                for &w in &workers {
                    let w = w.0 as usize;
                    for queued in &self.workers[w].queue {
                        prop_assert!(
                            !self.plan.graph().dependencies(*queued).contains(&key),
                            "{key:?} released on W{w} while {queued:?} there needs it"
                        );
                    }
                    self.workers[w].values.remove(&key);
                }
            }
        }
        Ok(())
    }

    /// The live workers with a task whose inputs are all there.
    fn runnable(&self) -> Vec<(usize, usize)> {
        let graph = self.plan.graph();
        (0..self.workers.len())
            .filter(|&w| self.workers[w].alive)
            .filter_map(|w| {
                let worker = &self.workers[w];
                worker
                    .queue
                    .iter()
                    .position(|k| {
                        graph
                            .dependencies(*k)
                            .iter()
                            .all(|d| worker.values.contains_key(d))
                    })
                    .map(|i| (w, i))
            })
            .collect()
    }

    fn run(&mut self, (w, i): (usize, usize), fail: bool) -> Result<(), TestCaseError> {
        let key = self.workers[w].queue.remove(i);
        let worker = WorkerId(w as u32);
        if fail {
            return self.handle(Event::Failed {
                key,
                worker,
                op: "list".into(),
                cause: "injected".into(),
            });
        }
        let values = &self.workers[w].values;
        let value = evaluate(self.plan.graph(), key, self.plan.ops(), &|k| {
            values.get(&k).cloned()
        });
        prop_assert!(value.is_ok(), "{key:?} on W{w}: {value:?}");
        self.workers[w].values.insert(key, value.unwrap());
        self.handle(Event::Finished {
            key,
            worker,
            bytes: 8,
        })
    }

    fn deliver(&mut self, i: usize) -> Result<(), TestCaseError> {
        let t = self.transfers.remove(i);
        let (from, to) = (t.from.0 as usize, t.to.0 as usize);
        if !self.workers[to].alive {
            return Ok(()); // Its loss was reported: the core expects nothing more.
        }
        let value = t
            .carried
            .or_else(|| self.workers[from].values.get(&t.key).cloned());
        match value {
            Some(v) => {
                self.workers[to].values.insert(t.key, v);
                self.handle(Event::Arrived {
                    key: t.key,
                    worker: t.to,
                })
            }
            None => self.handle(Event::TransferFailed {
                key: t.key,
                worker: t.to,
            }),
        }
    }

    fn step(&mut self, step: &Step, kills_left: &mut u32) -> Result<(), TestCaseError> {
        match step {
            Step::Run(pick) | Step::Fail(pick) => {
                let runnable = self.runnable();
                if !runnable.is_empty() {
                    let fail = matches!(step, Step::Fail(_));
                    self.run(runnable[pick.index(runnable.len())], fail)?;
                }
            }
            Step::Pickup(pick) => {
                if !self.transfers.is_empty() {
                    let i = pick.index(self.transfers.len());
                    let from = self.transfers[i].from.0 as usize;
                    let key = self.transfers[i].key;
                    if let Some(v) = self.workers[from].values.get(&key) {
                        self.transfers[i].carried = Some(v.clone());
                    }
                }
            }
            Step::Deliver(pick) => {
                if !self.transfers.is_empty() {
                    self.deliver(pick.index(self.transfers.len()))?;
                }
            }
            Step::Kill(pick) => {
                if *kills_left > 0 {
                    *kills_left -= 1;
                    let alive: Vec<usize> = (0..self.workers.len())
                        .filter(|&w| self.workers[w].alive)
                        .collect();
                    let w = alive[pick.index(alive.len())];
                    self.workers[w] = SimWorker::default();
                    let worker = WorkerId(w as u32);
                    self.handle(Event::WorkerLost {
                        worker,
                        cause: "killed".into(),
                    })?;
                    self.join();
                    self.decide(|s, out| s.assign(out))?;
                }
            }
        }
        Ok(())
    }

    /// Lets everything in flight land and every task run, until the run is over.
    fn drain(&mut self) -> Result<(), TestCaseError> {
        while self.scheduler.status() == Status::Running {
            if !self.transfers.is_empty() {
                self.deliver(0)?;
            } else if let Some(&first) = self.runnable().first() {
                self.run(first, false)?;
            } else {
                prop_assert!(false, "nothing runs or travels, but the run is not over");
            }
        }
        Ok(())
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_run_finishes_with_the_values_of_a_direct_evaluation(
        src in dag(),
        workers in 1..4usize,
        slots in 1..4usize,
        steps in steps(),
    ) {
        let graph = parse(&src).unwrap();
        let ops = validate(&graph, &Registry::builtins()).unwrap();
        let targets = graph.outputs();
        let plan = Arc::new(Plan::new(Arc::new(graph), ops, targets.clone()));
        let mut direct: HashMap<KeyId, Value> = HashMap::new();
        for &k in plan.order() {
            let v = evaluate(plan.graph(), k, plan.ops(), &|d| direct.get(&d).cloned()).unwrap();
            direct.insert(k, v);
        }
        let mut sim = Sim::new(Arc::clone(&plan), workers, slots)?;
        let mut kills_left = 3;
        for step in &steps {
            sim.step(step, &mut kills_left)?;
        }
        sim.drain()?;
        prop_assert_eq!(sim.scheduler.status(), Status::Finished);
        for t in targets {
            let holders = sim.scheduler.placement(t);
            prop_assert!(!holders.is_empty());
            for h in holders {
                let worker = &sim.workers[h.0 as usize];
                prop_assert!(worker.alive);
                prop_assert_eq!(worker.values.get(&t), direct.get(&t));
            }
        }
    }
}

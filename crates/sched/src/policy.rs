//! Scheduling policies as priority orders: the scheduler core runs ready tasks by rank,
//! so a policy is nothing but the order it ranks tasks in. Comparing policies then means
//! running the same core with different plans (`Plan::with_order`), as `simulate` does.

use std::cmp::Reverse;
use std::collections::VecDeque;

use taskloom_graph::{cull, KeyId};

use crate::plan::Plan;
use crate::workload::Workload;

/// A way to rank the tasks of a plan.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// The plan's own order (`taskloom_graph::priority_order`): what the threaded and
    /// process executors use.
    Default,
    /// First ready, first run: a breadth-first sweep, the naive queue.
    Fifo,
    /// Any ready task, at random (seeded, so a run can be repeated).
    Random { seed: u64 },
    /// Longest remaining path (in time) first: classic list scheduling for makespan.
    CriticalPath,
    /// Depth-first from the requested keys, dependencies in the order written: finishes
    /// each reduction before starting the next, for memory.
    DepthFirst,
}

impl Policy {
    /// Every policy's name, as `parse` takes them.
    pub const NAMES: [&'static str; 5] =
        ["default", "fifo", "random", "critical-path", "depth-first"];

    /// The policy called `name`, `random` seeded with `seed`; `None` for no such policy.
    pub fn parse(name: &str, seed: u64) -> Option<Policy> {
        Some(match name {
            "default" => Policy::Default,
            "fifo" => Policy::Fifo,
            "random" => Policy::Random { seed },
            "critical-path" => Policy::CriticalPath,
            "depth-first" => Policy::DepthFirst,
            _ => return None,
        })
    }

    /// The policy's name.
    pub fn name(&self) -> &'static str {
        match self {
            Policy::Default => "default",
            Policy::Fifo => "fifo",
            Policy::Random { .. } => "random",
            Policy::CriticalPath => "critical-path",
            Policy::DepthFirst => "depth-first",
        }
    }

    /// The tasks of `plan` (as `Plan::new` made it) in this policy's order, each after
    /// its dependencies; `workload` gives the durations that critical paths weigh.
    pub fn order(&self, plan: &Plan, workload: &Workload) -> Vec<KeyId> {
        match *self {
            Policy::Default => plan.order().to_vec(),
            Policy::Fifo => topological(plan, |ready| ready.pop_front()),
            Policy::Random { seed } => {
                let mut rng = SplitMix64(seed);
                topological(plan, |ready| match ready.len() {
                    0 => None,
                    n => ready.swap_remove_back(rng.below(n)),
                })
            }
            Policy::CriticalPath => {
                let rest = remaining_ns(plan, workload);
                let mut order = plan.order().to_vec();
                // Stable: ties keep the plan's order, which has dependencies first, so
                // a zero-length task never passes its inputs.
                order.sort_by_key(|k| Reverse(rest[k.index()]));
                order
            }
            Policy::DepthFirst => cull(plan.graph(), plan.targets()),
        }
    }
}

/// A topological order of `plan` in which `pick` chooses the next task among the ready
/// ones (Kahn's algorithm); sources start in the graph's key order.
fn topological(
    plan: &Plan,
    mut pick: impl FnMut(&mut VecDeque<KeyId>) -> Option<KeyId>,
) -> Vec<KeyId> {
    let graph = plan.graph();
    let mut waiting: Vec<u32> = graph
        .keys()
        .map(|k| graph.dependencies(k).len() as u32)
        .collect();
    let mut ready: VecDeque<KeyId> = graph
        .keys()
        .filter(|&k| plan.is_needed(k) && waiting[k.index()] == 0)
        .collect();
    let mut order = Vec::with_capacity(plan.len());
    while let Some(key) = pick(&mut ready) {
        order.push(key);
        for d in plan.dependents(key) {
            waiting[d.index()] -= 1;
            if waiting[d.index()] == 0 {
                ready.push_back(d);
            }
        }
    }
    order
}

/// Per key, the time from its start to the end of the longest path of tasks that
/// follows it (its own duration included): its "bottom level".
fn remaining_ns(plan: &Plan, workload: &Workload) -> Vec<u64> {
    let mut rest = vec![0u64; plan.graph().len()];
    for &key in plan.order().iter().rev() {
        let after = plan
            .dependents(key)
            .map(|d| rest[d.index()])
            .max()
            .unwrap_or(0);
        rest[key.index()] = workload.duration_ns(key) + after;
    }
    rest
}

/// A small seeded generator (SplitMix64): enough to shuffle ready tasks reproducibly.
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use taskloom_graph::{parse, validate, Registry};

    fn plan(src: &str) -> (Plan, Workload) {
        let graph = parse(src).unwrap();
        let ops = validate(&graph, &Registry::builtins()).unwrap();
        let workload = Workload::new(&graph, 1.0, &[]);
        let targets = graph.outputs();
        (Plan::new(Arc::new(graph), ops, targets), workload)
    }

    fn names(plan: &Plan, order: &[KeyId]) -> Vec<String> {
        order
            .iter()
            .map(|&k| plan.graph().name(k).to_string())
            .collect()
    }

    const TWO_SUMS: &str = "a0 = inc(0)\na1 = inc(1)\nb0 = inc(2)\nb1 = inc(3)\n\
                            sa = sum([a0, a1])\nsb = sum([b0, b1])\ntotal = add(sa, sb)\n";

    #[test]
    fn fifo_sweeps_breadth_first_and_depth_first_finishes_each_sum() {
        let (p, w) = plan(TWO_SUMS);
        let fifo = Policy::Fifo.order(&p, &w);
        assert_eq!(
            names(&p, &fifo),
            ["a0", "a1", "b0", "b1", "sa", "sb", "total"]
        );
        let dfs = Policy::DepthFirst.order(&p, &w);
        assert_eq!(
            names(&p, &dfs),
            ["a0", "a1", "sa", "b0", "b1", "sb", "total"]
        );
    }

    #[test]
    fn critical_path_starts_the_longest_remaining_work() {
        let (p, w) =
            plan("short = busy(1)\nlong = busy(9)\nl2 = busy(1, long)\nout = list(short, l2)\n");
        let order = Policy::CriticalPath.order(&p, &w);
        assert_eq!(names(&p, &order), ["long", "l2", "short", "out"]);
    }

    #[test]
    fn random_is_seeded_and_topological() {
        let (p, w) = plan(TWO_SUMS);
        let one = Policy::Random { seed: 7 }.order(&p, &w);
        assert_eq!(one, Policy::Random { seed: 7 }.order(&p, &w));
        let pos = |k: &str| one.iter().position(|&x| x == p.graph().key(k).unwrap());
        assert!(pos("a0") < pos("sa") && pos("sa") < pos("total"));
        let orders: std::collections::HashSet<Vec<KeyId>> = (0..20)
            .map(|seed| Policy::Random { seed }.order(&p, &w))
            .collect();
        assert!(orders.len() > 1, "the seed changes the order");
    }

    #[test]
    fn names_round_trip() {
        for name in Policy::NAMES {
            assert_eq!(Policy::parse(name, 0).map(|p| p.name()), Some(name));
        }
        assert_eq!(Policy::parse("lifo", 0), None);
    }
}

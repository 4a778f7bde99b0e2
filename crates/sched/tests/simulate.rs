//! The simulator, on cases worked out by hand, and its invariants on random DAGs under
//! every policy: each task runs once, no schedule beats the lower bound, and more
//! workers never take longer than one (without transfer costs).

use std::sync::Arc;

use proptest::prelude::*;
use taskloom_graph::{parse, validate, Registry};
use taskloom_sched::{simulate, Machine, Outcome, Plan, Policy, Workload};

const MS: u64 = 1_000_000;

fn load(src: &str) -> (Plan, Workload) {
    let graph = parse(src).unwrap();
    let ops = validate(&graph, &Registry::builtins()).unwrap();
    let workload = Workload::new(&graph, 1.0, &[]);
    let targets = graph.outputs();
    (Plan::new(Arc::new(graph), ops, targets), workload)
}

fn run(
    plan: &Plan,
    workload: &Workload,
    policy: Policy,
    workers: usize,
    transfer_ms: u64,
) -> Outcome {
    let ordered = Arc::new(plan.with_order(policy.order(plan, workload)));
    let machine = Machine {
        workers,
        transfer_ns: transfer_ms * MS,
        decision_ns: 0,
        latency_ns: 0,
    };
    simulate(ordered, workload, machine)
}

#[test]
fn a_chain_takes_the_sum_of_its_durations_on_any_number_of_workers() {
    let (p, w) = load("a = busy(1)\nb = busy(2, a)\nc = busy(3, b)\n");
    for workers in [1, 2, 8] {
        let o = run(&p, &w, Policy::Default, workers, 5);
        assert_eq!(o.makespan_ns, 6 * MS, "{workers} workers");
        assert_eq!((o.critical_path_ns, o.work_ns), (6 * MS, 6 * MS));
        assert_eq!(o.ratio(workers), 1.0);
        // b ends while a is still held: two results at once, never three.
        assert_eq!(o.peak_memory, 2);
        // The chain stays where its input is: nothing moves, so no transfer cost.
        assert_eq!(o.transfers, 0);
    }
}

#[test]
fn a_fork_join_on_one_and_two_workers() {
    // 1 ms, then four 2 ms tasks, then a 1 ms join.
    let src = "s = busy(1)\nf1 = busy(2, s)\nf2 = busy(2, s)\nf3 = busy(2, s)\nf4 = busy(2, s)\n\
               j = busy(1, [f1, f2, f3, f4])\n";
    let (p, w) = load(src);
    let one = run(&p, &w, Policy::Default, 1, 0);
    assert_eq!(one.makespan_ns, 10 * MS); // 1 + 4·2 + 1
    let two = run(&p, &w, Policy::Default, 2, 0);
    assert_eq!(two.makespan_ns, 6 * MS); // 1 + 2·2 + 1
                                         // Lower bounds: max(critical path 4, work 10 / N).
    assert_eq!(one.lower_bound_ns(1), 10 * MS);
    assert_eq!(two.lower_bound_ns(2), 5 * MS);
    assert_eq!(two.lower_bound_ns(4), 4 * MS);
    assert!((two.ratio(2) - 1.2).abs() < 1e-12);
    // The join ends holding its four inputs and its own result.
    assert_eq!(two.peak_memory, 5);
}

#[test]
fn transfers_are_counted_and_charged_on_a_diamond() {
    let (p, w) = load("a = busy(1)\nb = busy(1, a)\nc = busy(1, a)\nd = busy(1, [b, c])\n");
    // a on worker 0 (0-1); b stays there (1-2); c goes to worker 1 and first receives
    // a (1-3); d goes to worker 0 (both hold one input, both idle: the first) and first
    // receives c (3-5).
    let o = run(&p, &w, Policy::Default, 2, 1);
    assert_eq!((o.transfers, o.makespan_ns), (2, 5 * MS));
    // Free transfers: the same moves, no delay.
    let free = run(&p, &w, Policy::Default, 2, 0);
    assert_eq!((free.transfers, free.makespan_ns), (2, 3 * MS));
    // One worker holds everything.
    let alone = run(&p, &w, Policy::Default, 1, 1);
    assert_eq!((alone.transfers, alone.makespan_ns), (0, 4 * MS));
}

#[test]
fn depth_first_holds_fewer_results_than_fifo_on_a_reduction() {
    let mut src = String::new();
    for g in 0..8 {
        let leaves: Vec<String> = (0..4).map(|i| format!("l{g}_{i}")).collect();
        for l in &leaves {
            src.push_str(&format!("{l} = busy(1)\n"));
        }
        src.push_str(&format!("s{g} = busy(1, [{}])\n", leaves.join(", ")));
    }
    let sums: Vec<String> = (0..8).map(|g| format!("s{g}")).collect();
    src.push_str(&format!("total = busy(1, [{}])\n", sums.join(", ")));
    let (p, w) = load(&src);
    let fifo = run(&p, &w, Policy::Fifo, 1, 0);
    let dfs = run(&p, &w, Policy::DepthFirst, 1, 0);
    let default = run(&p, &w, Policy::Default, 1, 0);
    assert_eq!(fifo.peak_memory, 32 + 1); // every leaf, then the first sum
    assert_eq!(dfs.peak_memory, 4 + 1 + 7); // ... at the last group: 7 sums held
    assert_eq!(default.peak_memory, dfs.peak_memory);
}

/// A machine of `workers` whose driver costs `decision_ms` per `Run` and whose messages
/// take `latency_ms` each way.
fn driven(workers: usize, decision_ms: u64, latency_ms: u64) -> Machine {
    Machine {
        workers,
        transfer_ns: 0,
        decision_ns: decision_ms * MS,
        latency_ns: latency_ms * MS,
    }
}

#[test]
fn each_task_of_a_chain_costs_a_round_trip_to_the_driver() {
    // One task per worker at a time: b is given once the driver heard that a ended.
    // Run a reaches the worker at 1, a ends at 2, the driver hears at 3; b: 4 to 6,
    // heard at 7; c: 8 to 11, heard at 12.
    let (p, w) = load("a = busy(1)\nb = busy(2, a)\nc = busy(3, b)\n");
    let o = simulate(Arc::new(p), &w, driven(1, 0, 1));
    assert_eq!(o.makespan_ns, 12 * MS);
    assert_eq!(o.runs, [1, 1, 1]);
}

#[test]
fn a_slow_driver_feeds_its_workers_one_task_per_decision() {
    // Four 1 ms tasks on four workers, 1 ms per decision: started at 1, 2, 3 and 4 ms,
    // the last ends at 5 (reports that come while the driver decides wait for it).
    let src = "a = busy(1)\nb = busy(1)\nc = busy(1)\nd = busy(1)\n";
    let (p, w) = load(src);
    let p = Arc::new(p);
    assert_eq!(
        simulate(Arc::clone(&p), &w, driven(4, 0, 0)).makespan_ns,
        MS
    );
    let o = simulate(p, &w, driven(4, 1, 0));
    assert_eq!(o.makespan_ns, 5 * MS);
    assert_eq!(o.runs, [1, 1, 1, 1]);
}

/// A random DAG as graph text: key i reads up to three earlier keys and takes 0-9 ms.
fn dag() -> impl Strategy<Value = String> {
    (1..60usize).prop_flat_map(|n| {
        let task = (
            0..10u32,
            prop::collection::vec(any::<prop::sample::Index>(), 0..4),
        );
        prop::collection::vec(task, n).prop_map(|tasks| {
            tasks
                .iter()
                .enumerate()
                .map(|(i, (ms, ds))| {
                    let refs: Vec<String> = if i == 0 {
                        vec![]
                    } else {
                        ds.iter().map(|d| format!("k{}", d.index(i))).collect()
                    };
                    format!("k{i} = busy({ms}, [{}])\n", refs.join(", "))
                })
                .collect::<String>()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn every_policy_runs_each_task_once_within_the_bounds(
        src in dag(),
        workers in 2..9usize,
        transfer_ms in 0..3u64,
        seed in any::<u64>(),
    ) {
        let (p, w) = load(&src);
        let policies = Policy::NAMES.map(|name| Policy::parse(name, seed).unwrap());
        for policy in policies {
            let alone = run(&p, &w, policy, 1, transfer_ms);
            let many = run(&p, &w, policy, workers, 0);
            let charged = run(&p, &w, policy, workers, transfer_ms);
            for o in [&alone, &many, &charged] {
                for key in p.graph().keys() {
                    prop_assert_eq!(o.runs[key.index()], u32::from(p.is_needed(key)));
                }
                prop_assert!(o.peak_memory >= 1);
            }
            // One worker is never idle and never receives anything.
            prop_assert_eq!(alone.makespan_ns, alone.work_ns);
            prop_assert_eq!(alone.transfers, 0);
            prop_assert!(many.makespan_ns >= many.lower_bound_ns(workers));
            prop_assert!(charged.makespan_ns >= charged.lower_bound_ns(workers));
            // Without transfer costs some worker is always busy until the end.
            prop_assert!(many.makespan_ns <= alone.makespan_ns, "{}", policy.name());
        }
    }

    #[test]
    fn a_driver_that_costs_time_still_runs_each_task_once_and_never_sooner(
        src in dag(),
        workers in 1..9usize,
        decision_ms in 0..3u64,
        latency_ms in 0..3u64,
    ) {
        let (p, w) = load(&src);
        let p = Arc::new(p);
        let free = simulate(Arc::clone(&p), &w, driven(workers, 0, 0));
        let costly = simulate(Arc::clone(&p), &w, driven(workers, decision_ms, latency_ms));
        for key in p.graph().keys() {
            prop_assert_eq!(costly.runs[key.index()], u32::from(p.is_needed(key)));
        }
        prop_assert!(costly.makespan_ns >= costly.lower_bound_ns(workers));
        // At least a decision and a round trip before the first task and after the last.
        let floor = decision_ms * MS + 2 * latency_ms * MS + free.critical_path_ns;
        prop_assert!(costly.makespan_ns >= floor);
    }
}

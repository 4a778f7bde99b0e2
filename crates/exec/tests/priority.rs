//! The thread pool follows the plan's priorities: on a tree reduction, each reduction
//! runs as soon as its inputs are done (depth-first), not after all the leaves.

use std::sync::{Arc, Mutex};

use taskloom_exec::{Executor, Threads};
use taskloom_graph::{parse, validate, Registry, Value};
use taskloom_sched::Plan;

/// A two-level fan-in-4 tree over 64 leaves whose every task records its name as it runs.
fn recorded_tree() -> (String, Arc<Mutex<Vec<String>>>, Registry) {
    let mut text = String::new();
    for i in 0..64 {
        text.push_str(&format!("i{i} = rec(\"i{i}\", {i})\n"));
    }
    for j in 0..16 {
        let inputs: Vec<String> = (0..4).map(|k| format!("i{}", 4 * j + k)).collect();
        text.push_str(&format!(
            "s{j} = rec(\"s{j}\", sum([{}]))\n",
            inputs.join(", ")
        ));
    }
    let sums: Vec<String> = (0..16).map(|j| format!("s{j}")).collect();
    text.push_str(&format!(
        "total = rec(\"total\", sum([{}]))\n",
        sums.join(", ")
    ));

    let log = Arc::new(Mutex::new(Vec::new()));
    let mut registry = Registry::builtins();
    let sink = Arc::clone(&log);
    registry.register("rec", move |args| {
        if let Value::Str(name) = &args[0] {
            sink.lock().unwrap().push(name.to_string());
        }
        Ok(args[1].clone())
    });
    (text, log, registry)
}

/// The plan computing the recorded tree's total, and the log its tasks write to.
fn recorded_tree_plan() -> (Arc<Plan>, Arc<Mutex<Vec<String>>>) {
    let (text, log, registry) = recorded_tree();
    let graph = parse(&text).unwrap();
    let ops = validate(&graph, &registry).unwrap();
    let total = graph.key("total").unwrap();
    (Arc::new(Plan::new(Arc::new(graph), ops, vec![total])), log)
}

#[test]
fn one_worker_runs_tasks_in_the_plans_order() {
    let (plan, log) = recorded_tree_plan();
    let expected: Vec<String> = plan
        .order()
        .iter()
        .map(|&k| plan.graph().name(k).to_string())
        .collect();

    let values = Threads::new(1).run(Arc::clone(&plan)).unwrap();
    assert_eq!(values, vec![Value::Int((0..64).sum())]);
    let ran = log.lock().unwrap().clone();
    assert_eq!(ran, expected);
    // Depth-first: the first reduction runs right after its four inputs.
    assert_eq!(ran[..5], ["i0", "i1", "i2", "i3", "s0"]);
}

#[test]
fn with_two_workers_reductions_start_before_the_leaves_are_exhausted() {
    let (plan, log) = recorded_tree_plan();
    Threads::new(2).run(plan).unwrap();
    let ran = log.lock().unwrap().clone();
    let first_sum = ran.iter().position(|k| k.starts_with('s')).unwrap();
    let last_leaf = ran.iter().rposition(|k| k.starts_with('i')).unwrap();
    assert!(
        first_sum < last_leaf,
        "no reduction ran before the last leaf: {ran:?}"
    );
}

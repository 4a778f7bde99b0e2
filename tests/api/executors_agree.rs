//! Property: any random DAG gives the same results on every executor and worker
//! count, and those results match an independent, naive recursive evaluation.

use std::collections::HashMap;

use proptest::prelude::*;
use taskloom::graph::parse;
use taskloom::{Executor, Processes, Runtime, Sequential, Threads, Value};

/// One key of a random graph: an op over earlier keys (so the graph is acyclic).
#[derive(Clone, Debug)]
pub(super) enum Node {
    Literal(i64),
    /// mod(add(a, b), M): a nested task inside the key's task.
    AddMod(usize, usize),
    Sum(Vec<usize>),
    Max(Vec<usize>),
    /// len(list(deps...)) + first dep: lists as values.
    LenPlus(Vec<usize>),
}

const M: i64 = 1_000_003;

fn node(index: usize) -> BoxedStrategy<Node> {
    if index == 0 {
        return (0..100i64).prop_map(Node::Literal).boxed();
    }
    let dep = 0..index;
    let deps = prop::collection::vec(0..index, 1..6);
    prop_oneof![
        (0..100i64).prop_map(Node::Literal),
        (dep.clone(), dep).prop_map(|(a, b)| Node::AddMod(a, b)),
        deps.clone().prop_map(Node::Sum),
        deps.clone().prop_map(Node::Max),
        deps.prop_map(Node::LenPlus),
    ]
    .boxed()
}

pub(super) fn graph_strategy() -> impl Strategy<Value = Vec<Node>> {
    (1..60usize).prop_flat_map(|n| (0..n).map(node).collect::<Vec<_>>())
}

pub(super) fn text_of(nodes: &[Node]) -> String {
    let refs = |ds: &[usize]| {
        ds.iter()
            .map(|d| format!("k{d}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let expr = match n {
                Node::Literal(v) => v.to_string(),
                Node::AddMod(a, b) => format!("mod(add(k{a}, k{b}), {M})"),
                Node::Sum(ds) => format!("mod(sum([{}]), {M})", refs(ds)),
                Node::Max(ds) => format!("max([{}])", refs(ds)),
                Node::LenPlus(ds) => format!("add(len(list({})), k{})", refs(ds), ds[0]),
            };
            format!("k{i} = {expr}\n")
        })
        .collect()
}

/// The oracle: plain recursion with memoisation, sharing no code with the engine.
pub(super) fn reference(nodes: &[Node], i: usize, memo: &mut HashMap<usize, i64>) -> i64 {
    if let Some(&v) = memo.get(&i) {
        return v;
    }
    let mut get = |d: usize| reference(nodes, d, memo);
    let v = match &nodes[i] {
        Node::Literal(v) => *v,
        Node::AddMod(a, b) => (get(*a) + get(*b)) % M,
        Node::Sum(ds) => ds.iter().map(|&d| get(d)).sum::<i64>() % M,
        Node::Max(ds) => ds.iter().map(|&d| get(d)).max().unwrap(),
        Node::LenPlus(ds) => ds.len() as i64 + get(ds[0]),
    };
    memo.insert(i, v);
    v
}

pub(super) fn executors() -> Vec<(&'static str, Box<dyn Executor + Send + Sync>)> {
    vec![
        ("sync", Box::new(Sequential::default())),
        ("threads-1", Box::new(Threads::new(1))),
        ("threads-2", Box::new(Threads::new(2))),
        ("threads-8", Box::new(Threads::new(8))),
        (
            "processes-2",
            Box::new(Processes::new(2).executable(env!("CARGO_BIN_EXE_taskloom"))),
        ),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn every_executor_matches_the_reference(nodes in graph_strategy(), pick in any::<prop::sample::Index>()) {
        let text = text_of(&nodes);
        let mut memo = HashMap::new();
        // Ask for every output, plus one random key (which may be an inner one).
        let graph = parse(&text).unwrap();
        let mut targets: Vec<String> = graph.outputs().iter().map(|&k| graph.name(k).to_string()).collect();
        targets.push(format!("k{}", pick.index(nodes.len())));
        let expected: Vec<Value> = targets
            .iter()
            .map(|t| Value::Int(reference(&nodes, t[1..].parse().unwrap(), &mut memo)))
            .collect();
        let names: Vec<&str> = targets.iter().map(String::as_str).collect();
        for (label, executor) in executors() {
            let runtime = Runtime::new().with_boxed_executor(executor);
            let got = runtime.compute(parse(&text).unwrap(), &names);
            prop_assert_eq!(got.as_ref().ok(), Some(&expected), "executor {} on\n{}\nerror: {:?}", label, text, got.as_ref().err());
        }
    }
}

#[test]
fn a_failing_task_is_reported_the_same_by_every_executor() {
    let text = "a = 1\nb = inc(a)\nbad = div(b, 0)\nc = add(bad, a)\nd = inc(b)\n";
    for (label, executor) in executors() {
        let runtime = Runtime::new().with_boxed_executor(executor);
        let err = runtime
            .compute(parse(text).unwrap(), &["c", "d"])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "task 'bad' failed in op 'div': division by zero",
            "{label}"
        );
    }
}

#[test]
fn a_million_task_chain_needs_no_deep_stack() {
    let n = 1_000_000;
    let mut text = String::with_capacity(n * 24);
    text.push_str("c0 = 0\n");
    for i in 1..n {
        text.push_str(&format!("c{i} = inc(c{})\n", i - 1));
    }
    let last = format!("c{}", n - 1);
    for (label, executor) in [
        (
            "sync",
            Box::new(Sequential::default()) as Box<dyn Executor + Send + Sync>,
        ),
        ("threads", Box::new(Threads::new(2))),
    ] {
        let runtime = Runtime::new().with_boxed_executor(executor);
        let got = runtime.compute(parse(&text).unwrap(), &[&last]).unwrap();
        assert_eq!(got, vec![Value::Int(n as i64 - 1)], "{label}");
    }
}

#[test]
fn nesting_five_hundred_deep_evaluates_on_worker_threads() {
    let depth = 500;
    let text = format!("x = {}0{}\n", "inc(".repeat(depth), ")".repeat(depth));
    let runtime = Runtime::new().with_executor(Threads::new(2));
    assert_eq!(
        runtime.compute(parse(&text).unwrap(), &["x"]).unwrap(),
        vec![Value::Int(depth as i64)]
    );
}

//! Checkpoints through the library: `Runtime::with_checkpoint` with user ops that
//! count their calls (pure ones run once, effects every time), and the property that a
//! warm checkpoint changes no result on any executor.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use proptest::prelude::*;
use taskloom::graph::parse;
use taskloom::{Builder, Delayed, Error, Runtime, Sequential, Threads, Value};

use super::executors_agree::{executors, graph_strategy, reference, text_of};

/// A runtime on `dir` with a pure op `square` (version `version`) and an effect
/// `noisy`, each counting its calls in `calls`.
fn counting(dir: &std::path::Path, version: u32, calls: &Arc<[AtomicUsize; 2]>) -> Runtime {
    let mut runtime = Runtime::new()
        .with_executor(Threads::new(2))
        .with_checkpoint(dir)
        .unwrap();
    let pure = Arc::clone(calls);
    runtime.register_pure("square", version, move |args| {
        pure[0].fetch_add(1, Ordering::Relaxed);
        let x =
            <i64 as taskloom::FromValue>::from_value(args[0].clone()).map_err(taskloom::OpError)?;
        Ok(Value::Int(x * x))
    });
    let effect = Arc::clone(calls);
    runtime.register("noisy", move |args| {
        effect[1].fetch_add(1, Ordering::Relaxed);
        Ok(args[0].clone())
    });
    runtime
}

fn calls(counts: &[AtomicUsize; 2]) -> [usize; 2] {
    [0, 1].map(|i| counts[i].swap(0, Ordering::Relaxed))
}

#[test]
fn pure_ops_run_once_effects_every_time() {
    let dir = tempfile::tempdir().unwrap();
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let source = "a = square(3)\nb = square(a)\nn = noisy(b)\nc = square(n)\n";
    let compute = |runtime: &Runtime, key: &str| runtime.compute(parse(source).unwrap(), &[key]);
    let runtime = counting(dir.path(), 1, &counts);
    assert_eq!(compute(&runtime, "c").unwrap(), [Value::Int(6561)]);
    assert_eq!(calls(&counts), [3, 1]);
    // a and b are read; noisy is an effect, so it and c run again.
    assert_eq!(compute(&runtime, "c").unwrap(), [Value::Int(6561)]);
    assert_eq!(calls(&counts), [1, 1]);
    assert_eq!(compute(&runtime, "b").unwrap(), [Value::Int(81)]);
    assert_eq!(calls(&counts), [0, 0]);
    // A new version of the op computes anew.
    let bumped = counting(dir.path(), 2, &counts);
    assert_eq!(compute(&bumped, "b").unwrap(), [Value::Int(81)]);
    assert_eq!(calls(&counts), [2, 0]);
}

#[test]
fn delayed_compute_resumes_from_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let counts = Arc::new([AtomicUsize::new(0), AtomicUsize::new(0)]);
    let runtime = counting(dir.path(), 1, &counts);
    let g = Builder::new();
    let squares: Vec<Delayed<i64>> = (1..=4).map(|i| g.call("square", (i,))).collect();
    let total: Delayed<i64> = g.call("sum", (taskloom::Arg::list(&squares),));
    assert_eq!(total.compute_on(&runtime).unwrap(), 30);
    assert_eq!(calls(&counts), [4, 0]);
    assert_eq!(total.compute_on(&runtime).unwrap(), 30);
    assert_eq!(squares[2].compute_on(&runtime).unwrap(), 9);
    assert_eq!(calls(&counts), [0, 0]);
}

#[test]
fn a_directory_that_is_not_a_store_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("data.csv"), "1,2\n").unwrap();
    let refused = Runtime::new().with_checkpoint(dir.path());
    assert!(matches!(refused, Err(Error::Checkpoint(_))));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    #[test]
    fn a_warm_checkpoint_changes_no_result(nodes in graph_strategy(), pick in any::<prop::sample::Index>()) {
        let text = text_of(&nodes);
        let graph = parse(&text).unwrap();
        let mut targets: Vec<String> = graph.outputs().iter().map(|&k| graph.name(k).to_string()).collect();
        targets.push(format!("k{}", pick.index(nodes.len())));
        let mut memo = HashMap::new();
        let expected: Vec<Value> = targets
            .iter()
            .map(|t| Value::Int(reference(&nodes, t[1..].parse().unwrap(), &mut memo)))
            .collect();
        let names: Vec<&str> = targets.iter().map(String::as_str).collect();
        // A store filled by one run of a random part of the graph, then read by each
        // executor in turn (cold for the first, warm for the others).
        let dir = tempfile::tempdir().unwrap();
        let partial = Runtime::new().with_executor(Sequential::default()).with_checkpoint(dir.path()).unwrap();
        partial.compute(parse(&text).unwrap(), &names[names.len() - 1..]).unwrap();
        for (label, executor) in executors() {
            let runtime = Runtime::new().with_boxed_executor(executor).with_checkpoint(dir.path()).unwrap();
            for pass in ["warm", "warmer"] {
                let got = runtime.compute(parse(&text).unwrap(), &names);
                prop_assert_eq!(got.as_ref().ok(), Some(&expected), "{} {} on\n{}\nerror: {:?}", label, pass, text, got.as_ref().err());
            }
        }
    }
}

//! Resuming: a graph is rewritten so that the stored results it needs are read, and
//! nothing upstream of them is planned.

use std::sync::Arc;

use taskloom_checkpoint::{resume, Store, CHECKPOINT_OP};
use taskloom_graph::ops::Purity;
use taskloom_graph::{evaluate, parse, validate, Graph, KeyId, Registry, Value};

fn prepared(source: &str) -> (Arc<Graph>, Vec<taskloom_graph::OpFn>, Vec<Purity>) {
    let registry = Registry::builtins();
    let graph = parse(source).unwrap();
    let ops = validate(&graph, &registry).unwrap();
    let purity = graph
        .op_names()
        .iter()
        .map(|n| registry.purity(n).unwrap())
        .collect();
    (Arc::new(graph), ops, purity)
}

/// Evaluates every key in `order` (a topological order of the needed keys) as the
/// sync executor would, keeping results through the checkpoint.
fn run(source: &str, store: &Store, target: &str) -> (Value, usize, Vec<String>) {
    let (graph, ops, purity) = prepared(source);
    let target = graph.key(target).unwrap();
    let resumed = resume(store, &graph, &ops, &purity, &[target]);
    let g = &resumed.graph;
    let needed = taskloom_graph::cull(g, &[target]);
    let order = taskloom_graph::priority_order(g, &[target], &needed);
    let mut values: Vec<Option<Value>> = vec![None; g.len()];
    let mut labels = Vec::new();
    for &key in &order {
        let value = evaluate(g, key, &resumed.ops, &|k: KeyId| values[k.index()].clone()).unwrap();
        resumed.checkpoint.keep(key, &value).unwrap();
        labels.push(format!("{}:{}", g.name(key), g.label(key)));
        values[key.index()] = Some(value);
    }
    (
        values[target.index()].clone().unwrap(),
        resumed.read,
        labels,
    )
}

#[test]
fn stored_results_are_read_and_nothing_upstream_runs() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let source = "a = 2\nb = mul(a, 3)\nc = inc(b)\nd = add(c, b)\n";
    let (value, read, first) = run(source, &store, "d");
    assert_eq!((value, read), (Value::Int(13), 0));
    assert_eq!(first.len(), 4);
    assert_eq!(
        store.stats().unwrap().entries,
        3,
        "b, c and d; not the literal"
    );
    let (value, read, second) = run(source, &store, "d");
    assert_eq!((value, read), (Value::Int(13), 1));
    assert_eq!(second, [format!("d:{CHECKPOINT_OP}")]);
    let changed = source.replace("inc(b)", "dec(b)");
    let (value, read, third) = run(&changed, &store, "d");
    assert_eq!((value, read), (Value::Int(11), 1));
    third
        .iter()
        .for_each(|l| assert!(!l.starts_with("a:"), "{third:?}"));
    assert!(third.contains(&format!("b:{CHECKPOINT_OP}")), "{third:?}");
    assert!(third.contains(&"c:dec".to_string()), "{third:?}");
}

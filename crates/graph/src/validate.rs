//! Checks a whole graph before anything runs: every op known, no cycles.
//!
//! Validation covers every key, requested or not, so that a file is either valid or
//! not, whatever a particular run asks of it.

use std::sync::Arc;

use crate::error::GraphError;
use crate::graph::Graph;
use crate::key::KeyId;
use crate::node::Node;
use crate::ops::{OpError, OpFn, Registry};

/// The graph's ops looked up in `registry`, indexed by `OpId`, once the graph is known
/// to be valid: every op a key calls known (else the first key, in source order, using
/// an unknown one is named) and no cycle (else the keys along one cycle are named in order).
pub fn validate(graph: &Graph, registry: &Registry) -> Result<Vec<OpFn>, GraphError> {
    let ops = bind_ops(graph, registry)?;
    check_acyclic(graph)?;
    Ok(ops)
}

fn bind_ops(graph: &Graph, registry: &Registry) -> Result<Vec<OpFn>, GraphError> {
    let found: Vec<Option<&OpFn>> = graph
        .op_names()
        .iter()
        .map(|name| registry.get(name))
        .collect();
    if found.iter().all(Option::is_some) {
        return Ok(found.into_iter().flatten().cloned().collect());
    }
    for key in graph.keys() {
        let unknown = graph.nodes(key).iter().find_map(|node| match node {
            Node::Call(op) if found[op.index()].is_none() => Some(*op),
            _ => None,
        });
        if let Some(op) = unknown {
            let op = graph.op_name(op);
            return Err(GraphError::UnknownOp {
                key: graph.name(key).to_string(),
                op: op.to_string(),
                suggestion: registry.suggest(op).map(str::to_string),
            });
        }
    }
    // Unknown ops that no key calls: the binary form, or a program's builder, may list
    // ops a graph does not use, and those mean nothing to it.
    Ok(found
        .into_iter()
        .zip(graph.op_names())
        .map(|(op, name)| op.cloned().unwrap_or_else(|| never_called(name)))
        .collect())
}

/// The op bound to an unknown `name` that no key calls.
fn never_called(name: &str) -> OpFn {
    let message = format!("op '{name}' is unknown");
    Arc::new(move |_| Err(OpError::new(message.clone())))
}

/// No cycle when every key refers only to keys bound before it (the builder noted it).
/// Otherwise, Kahn's algorithm: repeatedly retire keys whose dependencies are all retired. Keys
/// left over lie on or behind a cycle; walking unretired dependencies from the first of
/// them must come back to a key already seen, which closes the cycle.
fn check_acyclic(graph: &Graph) -> Result<(), GraphError> {
    if graph.is_backward_only() {
        return Ok(());
    }
    let n = graph.len();
    let mut waiting: Vec<u32> = graph
        .keys()
        .map(|k| graph.dependencies(k).len() as u32)
        .collect();
    let mut ready: Vec<KeyId> = graph.keys().filter(|k| waiting[k.index()] == 0).collect();
    let mut retired = 0;
    while let Some(key) = ready.pop() {
        retired += 1;
        for &d in graph.dependents(key) {
            waiting[d.index()] -= 1;
            if waiting[d.index()] == 0 {
                ready.push(d);
            }
        }
    }
    if retired == n {
        return Ok(());
    }
    let start = graph
        .keys()
        .find(|k| waiting[k.index()] > 0)
        .expect("a key is left");
    let mut position = vec![u32::MAX; n];
    let mut path = Vec::new();
    let mut key = start;
    while position[key.index()] == u32::MAX {
        position[key.index()] = path.len() as u32;
        path.push(key);
        key = *graph
            .dependencies(key)
            .iter()
            .find(|d| waiting[d.index()] > 0)
            .expect("a key left by Kahn's algorithm has a dependency left too");
    }
    let cycle = &path[position[key.index()] as usize..];
    Err(GraphError::Cycle {
        keys: cycle.iter().map(|&k| graph.name(k).to_string()).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    fn check(src: &str) -> Result<usize, GraphError> {
        validate(&parse(src).unwrap(), &Registry::builtins()).map(|ops| ops.len())
    }

    #[test]
    fn cycles_are_reported_in_reference_order() {
        let err =
            check("z = inc(1)\na = inc(b)\nb = inc(c)\nc = add(z, a)\nd = inc(a)\n").unwrap_err();
        assert_eq!(
            err,
            GraphError::Cycle {
                keys: vec!["a".into(), "b".into(), "c".into()]
            }
        );
        assert_eq!(err.to_string(), "cycle: a -> b -> c -> a");
    }

    #[test]
    fn forward_references_without_a_cycle_are_valid() {
        assert_eq!(check("b = add(a, c)\na = inc(c)\nc = 1\n"), Ok(2));
    }

    #[test]
    fn a_self_reference_is_a_cycle() {
        let err = check("x = inc(x)\n").unwrap_err();
        assert_eq!(err.to_string(), "cycle: x -> x");
    }

    #[test]
    fn unknown_ops_name_the_op_and_key_even_when_nested() {
        let err = check("a = inc(1)\nb = add(a, frobnicate(2))\n").unwrap_err();
        assert_eq!(
            err,
            GraphError::UnknownOp {
                key: "b".into(),
                op: "frobnicate".into(),
                suggestion: None,
            }
        );
    }

    #[test]
    fn unknown_ops_suggest_the_nearest_builtin() {
        let err = check("a = 1\nb = ad(a, 2)\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "key 'b' uses unknown op 'ad' (did you mean 'add'?)"
        );
    }

    #[test]
    fn a_valid_graph_binds_its_ops() {
        assert_eq!(check("x = add(2, 3)\ny = add(x, 3)\n"), Ok(1));
    }
}

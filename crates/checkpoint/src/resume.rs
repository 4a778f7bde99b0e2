//! Resuming: which stored results a run can read, and the graph that reads them
//! instead of computing them.
//!
//! - From the requested keys, walk toward the sources: a key whose result is stored
//!   (and checks out) is read, and the walk stops there; any other key is computed,
//!   and its inputs walked in turn. Only keys the walk reaches are looked up.
//! - Each key read is bound anew to a call of the read op on its digest: a task with
//!   no inputs, so the ordinary plan culls away everything upstream that nothing else
//!   needs, and any executor runs the rest unchanged.
//! - Every computed key with a digest is kept as its worker finishes it: a run that
//!   stops keeps what it finished.

use std::sync::Arc;

use taskloom_graph::ops::Purity;
use taskloom_graph::{Graph, KeyId, Node, OpFn, OpId, Value};

use crate::checkpoint::{load_op, Checkpoint, CHECKPOINT_OP};
use crate::digest::digests;
use crate::store::Store;

/// A graph made ready to resume from a store.
pub struct Resumed {
    /// The graph, with each stored result it needs read instead of computed.
    pub graph: Arc<Graph>,
    /// Its ops, indexed by `OpId`: the read op last, when there is one.
    pub ops: Vec<OpFn>,
    /// What the workers need to keep results and read them.
    pub checkpoint: Checkpoint,
    /// How many stored results the run reads.
    pub read: usize,
}

/// Prepares the computation of `targets` in `graph` (whose ops `ops` are bound by
/// `OpId`, with `purity` each) to read what `store` holds and keep what it computes.
pub fn resume(
    store: &Store,
    graph: &Arc<Graph>,
    ops: &[OpFn],
    purity: &[Purity],
    targets: &[KeyId],
) -> Resumed {
    let mut keep = digests(graph, purity);
    // Literals and lists of references cost less to redo than to read.
    for key in graph.keys() {
        if !graph.nodes(key).iter().any(|n| matches!(n, Node::Call(_))) {
            keep[key.index()] = None;
        }
    }
    let mut read = Vec::new();
    let mut seen = vec![false; graph.len()];
    let mut todo: Vec<KeyId> = targets.to_vec();
    while let Some(key) = todo.pop() {
        if std::mem::replace(&mut seen[key.index()], true) {
            continue;
        }
        match keep[key.index()] {
            Some(digest) if store.holds(&digest) => {
                read.push((key, vec![Value::Bytes(Arc::from(&digest.0[..]))]));
                keep[key.index()] = None;
            }
            _ => todo.extend_from_slice(graph.dependencies(key)),
        }
    }
    if read.is_empty() {
        return Resumed {
            graph: Arc::clone(graph),
            ops: ops.to_vec(),
            checkpoint: Checkpoint::new(store.clone(), keep, None),
            read: 0,
        };
    }
    let load = OpId(ops.len() as u32);
    let mut bound = ops.to_vec();
    bound.push(load_op(store.clone()));
    Resumed {
        read: read.len(),
        graph: Arc::new(graph.rebound(CHECKPOINT_OP, read)),
        ops: bound,
        checkpoint: Checkpoint::new(store.clone(), keep, Some(load)),
    }
}

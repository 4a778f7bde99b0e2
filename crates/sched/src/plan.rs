//! A plan: the tasks that the requested keys need, their priorities, and how many
//! tasks consume each result, built once so that executors only count down.
//!
//! - A million-task plan lives beside its graph for the whole run, so it keeps only
//!   what the graph cannot give: the order and each key's rank (4 bytes each), and
//!   the targets as one bit per key.
//! - A result's consumers are its dependents inside the run, counted from the graph's
//!   edges when an executor sets up its counters (once per key), not stored.

use std::sync::Arc;

use taskloom_checkpoint::Checkpoint;
use taskloom_graph::{cull, priority_order, Graph, KeyId, OpFn};

/// Marks a key outside the run in `rank`.
const NOT_NEEDED: u32 = u32::MAX;

/// Everything an executor needs to run a graph for some keys.
///
/// Every executor runs the same plan: the keys to compute (`order`, lowest priority
/// value first), when a task becomes ready (all of `graph.dependencies` done), and when
/// its result can be dropped (its `consumers` have all run, unless it is a target).
pub struct Plan {
    graph: Arc<Graph>,
    ops: Vec<OpFn>,
    targets: Vec<KeyId>,
    order: Vec<KeyId>,
    rank: Vec<u32>,
    is_target: KeySet,
    checkpoint: Option<Arc<Checkpoint>>,
}

impl Plan {
    /// Plans the computation of `targets` (which may repeat) in `graph`, whose ops
    /// `validate` bound to `ops`.
    pub fn new(graph: Arc<Graph>, ops: Vec<OpFn>, targets: Vec<KeyId>) -> Plan {
        let culled = cull(&graph, &targets);
        let order = priority_order(&graph, &targets, &culled);
        drop(culled);
        let mut rank = vec![NOT_NEEDED; graph.len()];
        for (i, &key) in order.iter().enumerate() {
            rank[key.index()] = i as u32;
        }
        let is_target = KeySet::of(graph.len(), &targets);
        Plan {
            graph,
            ops,
            targets,
            order,
            rank,
            is_target,
            checkpoint: None,
        }
    }

    /// The same plan, whose workers keep their results in `checkpoint` (and whose
    /// graph reads the results stored there already: see `taskloom_checkpoint::resume`).
    pub fn with_checkpoint(mut self, checkpoint: Checkpoint) -> Plan {
        self.checkpoint = Some(Arc::new(checkpoint));
        self
    }

    /// Where the workers keep results, when the run is checkpointed: each calls
    /// `Checkpoint::keep` on every result it computes.
    pub fn checkpoint(&self) -> Option<&Checkpoint> {
        self.checkpoint.as_deref()
    }

    /// The same run with another priority order, e.g. a scheduling policy to compare
    /// against the default: `order` must hold exactly this plan's tasks, each after its
    /// dependencies.
    ///
    /// # Panics
    /// If `order` does not hold exactly this plan's tasks (a bug in the caller's policy).
    pub fn with_order(&self, order: Vec<KeyId>) -> Plan {
        let mut rank = vec![NOT_NEEDED; self.graph.len()];
        for (i, &key) in order.iter().enumerate() {
            assert!(
                self.is_needed(key) && rank[key.index()] == NOT_NEEDED,
                "a new order must hold each task of the plan once"
            );
            rank[key.index()] = i as u32;
        }
        assert_eq!(order.len(), self.order.len(), "a new order misses tasks");
        Plan {
            graph: Arc::clone(&self.graph),
            ops: self.ops.clone(),
            targets: self.targets.clone(),
            order,
            rank,
            is_target: self.is_target.clone(),
            checkpoint: self.checkpoint.clone(),
        }
    }

    /// The graph being run.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The graph's ops, indexed by `OpId`.
    pub fn ops(&self) -> &[OpFn] {
        &self.ops
    }

    /// The requested keys, as given.
    pub fn targets(&self) -> &[KeyId] {
        &self.targets
    }

    /// Whether `key` was requested: its result is kept to the end of the run.
    #[inline]
    pub fn is_target(&self, key: KeyId) -> bool {
        self.is_target.contains(key)
    }

    /// The distinct requested keys.
    pub fn distinct_targets(&self) -> usize {
        self.is_target.len()
    }

    /// The tasks to run, highest priority first; a valid sequential schedule.
    pub fn order(&self) -> &[KeyId] {
        &self.order
    }

    /// How many tasks the run has.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    /// Whether the run has no task.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// Whether `key` runs in this plan.
    #[inline]
    pub fn is_needed(&self, key: KeyId) -> bool {
        self.rank[key.index()] != NOT_NEEDED
    }

    /// The priority of a needed key: lower runs first.
    #[inline]
    pub fn rank(&self, key: KeyId) -> u32 {
        self.rank[key.index()]
    }

    /// How many tasks of this plan consume the result of `key`: a pass over its
    /// dependents, for an executor setting up its counters.
    #[inline]
    pub fn consumers(&self, key: KeyId) -> u32 {
        self.dependents(key).count() as u32
    }

    /// Whether task `key` is ready at the start (no dependencies): an executor finds
    /// the sources along the order with it, as it hands them out, rather than keeping a
    /// list of them (in a tree nearly every task is one).
    #[inline]
    pub fn is_source(&self, key: KeyId) -> bool {
        self.graph.dependencies(key).is_empty()
    }

    /// The tasks of this plan that consume the result of `key`.
    #[inline]
    pub fn dependents(&self, key: KeyId) -> impl Iterator<Item = KeyId> + '_ {
        self.graph
            .dependents(key)
            .iter()
            .copied()
            .filter(|&d| self.is_needed(d))
    }
}

/// A set of keys of a graph, one bit per key.
#[derive(Clone)]
struct KeySet {
    words: Vec<u64>,
    len: usize,
}

impl KeySet {
    /// The distinct keys of `keys`, in a graph of `n` keys.
    fn of(n: usize, keys: &[KeyId]) -> KeySet {
        let mut set = KeySet {
            words: vec![0; n.div_ceil(64)],
            len: 0,
        };
        for &key in keys {
            let (word, bit) = (key.index() / 64, 1u64 << (key.index() % 64));
            if set.words[word] & bit == 0 {
                set.words[word] |= bit;
                set.len += 1;
            }
        }
        set
    }

    #[inline]
    fn contains(&self, key: KeyId) -> bool {
        self.words[key.index() / 64] & (1 << (key.index() % 64)) != 0
    }

    /// How many keys the set holds.
    fn len(&self) -> usize {
        self.len
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskloom_graph::{parse, validate, Registry};

    fn plan(src: &str, targets: &[&str]) -> Plan {
        let graph = parse(src).unwrap();
        let ops = validate(&graph, &Registry::builtins()).unwrap();
        let targets = targets.iter().map(|t| graph.key(t).unwrap()).collect();
        Plan::new(Arc::new(graph), ops, targets)
    }

    #[test]
    fn counts_only_the_consumers_inside_the_run() {
        let p = plan(
            "a = 1\nb = inc(a)\nc = add(a, b)\nunused = inc(a)\n",
            &["c"],
        );
        let g = p.graph();
        let (a, b, c, unused) = ["a", "b", "c", "unused"].map(|k| g.key(k).unwrap()).into();
        assert_eq!(p.len(), 3);
        assert!(!p.is_needed(unused));
        assert_eq!(p.consumers(a), 2);
        assert_eq!(p.consumers(b), 1);
        assert_eq!(p.dependents(a).collect::<Vec<_>>(), vec![b, c]);
        assert!(p.is_target(c) && !p.is_target(a));
        let sources: Vec<KeyId> = p
            .order()
            .iter()
            .copied()
            .filter(|&k| p.is_source(k))
            .collect();
        assert_eq!(sources, vec![a]);
        assert!(p.rank(a) < p.rank(b) && p.rank(b) < p.rank(c));
    }
}

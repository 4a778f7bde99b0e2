//! The order in which tasks should run when there is a choice: their priorities.
//!
//! The rule, applied by a depth-first search from the requested keys that places each
//! key right after its last dependency (post-order):
//! 1. **Depth-first along reductions (memory).** The inputs of one reduction are
//!    computed together and the reduction runs as soon as they are done, so its
//!    inputs are freed before the next reduction's inputs are made. A fan-in tree over
//!    a million leaves then holds about (workers x fan-in) results at once, not a
//!    million. This is what `dask.order` aims at too.
//! 2. **Critical path first (makespan).** Among a key's dependencies, the one with the
//!    longest chain of tasks beneath it is visited first, so long chains start early
//!    and short ones fill the gaps; requested keys are taken in the same way.
//! 3. **Ties keep source order**, so the order is deterministic and readable.
//!
//! The position of a key in this order is its priority: lower runs first.

use std::cmp::Reverse;

use crate::graph::Graph;
use crate::key::KeyId;

/// The priority order of the keys `targets` need; `culled` is those keys with every
/// dependency before its dependents (as `cull` returns them).
pub fn priority_order(graph: &Graph, targets: &[KeyId], culled: &[KeyId]) -> Vec<KeyId> {
    let height = heights(graph, culled);
    let by_height = |k: &KeyId| Reverse(height[k.index()]);

    let mut roots = targets.to_vec();
    roots.sort_by_key(by_height);

    let mut visited = vec![false; graph.len()];
    let mut order = Vec::with_capacity(culled.len());
    // `pending` holds the sorted dependencies of every open key, one segment per frame;
    // a frame is (key, its segment's start, the next dependency to visit).
    let mut pending: Vec<KeyId> = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    let open = |key: KeyId, pending: &mut Vec<KeyId>| {
        let start = pending.len();
        pending.extend_from_slice(graph.dependencies(key));
        pending[start..].sort_by_key(by_height);
        Frame {
            key,
            start,
            next: start,
        }
    };
    for root in roots {
        if std::mem::replace(&mut visited[root.index()], true) {
            continue;
        }
        stack.push(open(root, &mut pending));
        while let Some(frame) = stack.last_mut() {
            if let Some(&dep) = pending.get(frame.next) {
                frame.next += 1;
                if !std::mem::replace(&mut visited[dep.index()], true) {
                    let child = open(dep, &mut pending);
                    stack.push(child);
                }
            } else {
                order.push(frame.key);
                pending.truncate(frame.start);
                stack.pop();
            }
        }
    }
    order
}

struct Frame {
    key: KeyId,
    start: usize,
    next: usize,
}

/// The number of tasks on the longest chain ending at each key (1 for a key with no
/// dependencies), for the keys in `culled`.
fn heights(graph: &Graph, culled: &[KeyId]) -> Vec<u32> {
    let mut height = vec![0u32; graph.len()];
    for &key in culled {
        let below = graph
            .dependencies(key)
            .iter()
            .map(|d| height[d.index()])
            .max()
            .unwrap_or(0);
        height[key.index()] = below + 1;
    }
    height
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cull::cull;
    use crate::parse::parse;

    fn order_of(src: &str, targets: &[&str]) -> Vec<String> {
        let g = parse(src).unwrap();
        let targets: Vec<KeyId> = targets.iter().map(|t| g.key(t).unwrap()).collect();
        let culled = cull(&g, &targets);
        priority_order(&g, &targets, &culled)
            .into_iter()
            .map(|k| g.name(k).to_string())
            .collect()
    }

    #[test]
    fn a_reduction_runs_right_after_its_inputs() {
        let src = "a0 = inc(0)\na1 = inc(1)\nb0 = inc(2)\nb1 = inc(3)\n\
                   sa = sum([a0, a1])\nsb = sum([b0, b1])\ntotal = add(sa, sb)\n";
        assert_eq!(
            order_of(src, &["total"]),
            ["a0", "a1", "sa", "b0", "b1", "sb", "total"]
        );
    }

    #[test]
    fn the_longest_chain_starts_first() {
        let src = "short = inc(1)\nl1 = inc(1)\nl2 = inc(l1)\nl3 = inc(l2)\nout = add(short, l3)\n";
        assert_eq!(order_of(src, &["out"]), ["l1", "l2", "l3", "short", "out"]);
    }

    #[test]
    fn every_needed_key_appears_once_after_its_dependencies() {
        let src =
            "a = 1\nb = inc(a)\nc = add(a, b)\nd = add(c, b)\ne = list(d, a, c)\nunused = inc(a)\n";
        let order = order_of(src, &["e", "c"]);
        assert_eq!(order.len(), 5);
        let pos = |k: &str| order.iter().position(|x| x == k).unwrap();
        assert!(pos("a") < pos("b") && pos("b") < pos("c") && pos("c") < pos("d"));
        assert!(pos("d") < pos("e"));
    }
}

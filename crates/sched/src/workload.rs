//! What each task of a graph would cost if it ran: how long it takes and how much memory
//! its result holds. A simulation needs these instead of running the ops, and graphs
//! say them in the only place they can: `sleep(ms)` and `busy(ms)` calls state a
//! duration, and the caller may estimate result sizes per op.

use taskloom_graph::{Graph, KeyId, Node, Value};

/// Milliseconds as the simulation's nanosecond ticks.
pub(crate) fn ms_to_ns(ms: f64) -> u64 {
    (ms * 1e6).round() as u64
}

/// The duration and result size of every key of a graph.
#[derive(Clone, Debug)]
pub struct Workload {
    duration_ns: Vec<u64>,
    size: Vec<u64>,
}

impl Workload {
    /// The workload of `graph`: a task takes the milliseconds of its `sleep`/`busy`
    /// calls with literal durations (summed when it nests several), else `default_ms`;
    /// its result counts one unit of memory, or `units` when its op is named in
    /// `size_of` as `(op, units)`. `default_ms` must be finite and not negative.
    pub fn new(graph: &Graph, default_ms: f64, size_of: &[(String, u64)]) -> Workload {
        let default_ns = ms_to_ns(default_ms);
        let duration_ns = graph
            .keys()
            .map(|k| stated_ms(graph, k).map_or(default_ns, ms_to_ns))
            .collect();
        let size = graph
            .keys()
            .map(|k| {
                let op = graph.label(k);
                size_of
                    .iter()
                    .rev() // The last estimate given for an op wins.
                    .find(|(name, _)| name == op)
                    .map_or(1, |&(_, units)| units)
            })
            .collect();
        Workload { duration_ns, size }
    }

    /// How long `key` takes, in nanoseconds.
    #[inline]
    pub fn duration_ns(&self, key: KeyId) -> u64 {
        self.duration_ns[key.index()]
    }

    /// How many units of memory the result of `key` holds.
    #[inline]
    pub fn size(&self, key: KeyId) -> u64 {
        self.size[key.index()]
    }
}

/// The milliseconds that the `sleep`/`busy` calls of `key` state as literals, if any.
fn stated_ms(graph: &Graph, key: KeyId) -> Option<f64> {
    let nodes = graph.nodes(key);
    let mut total = None;
    // A call is `Call(op) List(n) first-argument...` in preorder.
    for (i, node) in nodes.iter().enumerate() {
        let Node::Call(op) = *node else { continue };
        if !matches!(graph.op_name(op), "sleep" | "busy") {
            continue;
        }
        let ms = match nodes.get(i + 2) {
            Some(&Node::Int(ms)) => f64::from(ms),
            Some(&Node::Literal(index)) => match *graph.arena().literal(index) {
                Value::Int(ms) => ms as f64,
                Value::Float(ms) => ms,
                _ => continue,
            },
            _ => continue,
        };
        if ms.is_finite() && ms >= 0.0 {
            *total.get_or_insert(0.0) += ms;
        }
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskloom_graph::parse;

    #[test]
    fn durations_come_from_literal_sleeps_and_busies_else_the_default() {
        let g = parse(
            "a = sleep(3)\nb = busy(2.5, a)\nc = add(busy(1), sleep(4))\nd = inc(a)\n\
             e = sleep(a)\nf = 7\n",
        )
        .unwrap();
        let w = Workload::new(&g, 1.5, &[]);
        let ms = |k: &str| w.duration_ns(g.key(k).unwrap()) as f64 / 1e6;
        assert_eq!(
            ["a", "b", "c", "d", "e", "f"].map(ms),
            [3.0, 2.5, 5.0, 1.5, 1.5, 1.5]
        );
    }

    #[test]
    fn sizes_are_one_unit_unless_estimated_per_op() {
        let g = parse("a = sleep(3)\nb = inc(a)\nc = list(a, b)\n").unwrap();
        let sizes = [("inc".to_string(), 4), ("inc".to_string(), 8)];
        let w = Workload::new(&g, 1.0, &sizes);
        let size = |k: &str| w.size(g.key(k).unwrap());
        assert_eq!(["a", "b", "c"].map(size), [1, 8, 1]);
    }
}

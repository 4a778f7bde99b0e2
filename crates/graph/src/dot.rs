//! The graph as Graphviz dot: to see what a run will do before running it.

use std::fmt::Write;

use crate::graph::Graph;
use crate::key::KeyId;

/// Dot text for `keys` (usually a culled set): one node per key labelled with its name
/// and op, one arrow from each dependency to its dependent, drawn top-down.
pub fn to_dot(graph: &Graph, keys: &[KeyId]) -> String {
    let mut out = String::from(
        "digraph taskloom {\n  rankdir=TB;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    for &key in keys {
        let _ = writeln!(
            out,
            "  {} [label={}];",
            quote(graph.name(key)),
            quote(&format!("{}\n{}", graph.name(key), graph.describe(key)))
        );
    }
    for &key in keys {
        for &dep in graph.dependencies(key) {
            let _ = writeln!(
                out,
                "  {} -> {};",
                quote(graph.name(dep)),
                quote(graph.name(key))
            );
        }
    }
    out.push_str("}\n");
    out
}

/// A dot string literal; newlines become dot's `\n` line breaks.
fn quote(text: &str) -> String {
    let mut q = String::with_capacity(text.len() + 2);
    q.push('"');
    for c in text.chars() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cull::cull;
    use crate::parse::parse;

    #[test]
    fn nodes_are_labelled_and_edges_point_to_dependents() {
        let g = parse("x = add(2, 3)\ny = add(x, 3)\nz = inc(\"q\\\"\")\n").unwrap();
        let keys = cull(&g, &[g.key("y").unwrap()]);
        let dot = to_dot(&g, &keys);
        assert!(dot.contains(r#""x" [label="x\nadd"];"#), "{dot}");
        assert!(dot.contains(r#""x" -> "y";"#), "{dot}");
        assert!(!dot.contains("\"z\""), "culled key drawn: {dot}");
    }
}

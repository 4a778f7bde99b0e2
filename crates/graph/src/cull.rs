//! Lazy evaluation: computing some keys runs exactly the tasks they need.

use crate::graph::Graph;
use crate::key::KeyId;

/// The keys `targets` need (themselves included), dependencies before dependents.
///
/// An iterative depth-first search, so a chain of a million keys needs no deep stack.
pub fn cull(graph: &Graph, targets: &[KeyId]) -> Vec<KeyId> {
    let mut visited = vec![false; graph.len()];
    let mut order = Vec::with_capacity(graph.len());
    // Each frame: a key and how many of its dependencies were already pushed.
    let mut stack: Vec<(KeyId, u32)> = Vec::new();
    for &target in targets {
        if std::mem::replace(&mut visited[target.index()], true) {
            continue;
        }
        stack.push((target, 0));
        while let Some((key, next)) = stack.last_mut() {
            let deps = graph.dependencies(*key);
            match deps.get(*next as usize) {
                Some(&dep) => {
                    *next += 1;
                    if !std::mem::replace(&mut visited[dep.index()], true) {
                        stack.push((dep, 0));
                    }
                }
                None => {
                    order.push(*key);
                    stack.pop();
                }
            }
        }
    }
    order
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse;

    #[test]
    fn only_what_the_targets_need_dependencies_first() {
        let g = parse("a = 1\nb = inc(a)\nc = fail(\"no\")\nd = add(b, a)\ne = inc(c)\n").unwrap();
        let names: Vec<&str> = cull(&g, &[g.key("d").unwrap()])
            .into_iter()
            .map(|k| g.name(k))
            .collect();
        assert_eq!(names, ["a", "b", "d"]);
    }

    #[test]
    fn a_long_chain_needs_no_deep_stack() {
        let mut src = String::from("c0 = 0\n");
        for i in 1..200_000 {
            src.push_str(&format!("c{i} = inc(c{})\n", i - 1));
        }
        let g = parse(&src).unwrap();
        assert_eq!(cull(&g, &[g.key("c199999").unwrap()]).len(), 200_000);
    }
}

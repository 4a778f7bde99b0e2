//! `taskloom graph FILE --format dot`, end to end: one node per key labelled with the
//! key and its op, an edge from each dependency to its dependent, culled to the keys
//! given with --get, written to --out instead of stdout when asked.

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::assert_contains_all;
use crate::harness::graph::{touch_command, GraphFile};

/// What a dot text says: node id to label, and the set of edges (from, to).
#[derive(Debug, PartialEq)]
struct Dot {
    nodes: BTreeMap<String, String>,
    edges: BTreeSet<(String, String)>,
}

/// Reads a dot string literal at the start of `text` (which starts with `"`): the
/// unescaped content and the rest of the text.
fn quoted_id(text: &str) -> (String, &str) {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return (out, &text[i + 1..]),
            '\\' => match chars.next() {
                Some((_, 'n')) => out.push('\n'),
                Some((_, other)) => out.push(other),
                None => break,
            },
            c => out.push(c),
        }
    }
    panic!("unterminated dot string in {text:?}");
}

/// Parses the subset of dot that `taskloom graph` writes, checking its frame.
fn parse_dot(text: &str) -> Dot {
    assert!(text.starts_with("digraph"), "not a digraph: {text}");
    assert!(text.trim_end().ends_with('}'), "not closed: {text}");
    let mut dot = Dot {
        nodes: BTreeMap::new(),
        edges: BTreeSet::new(),
    };
    for line in text.lines().map(str::trim) {
        if !line.starts_with('"') {
            continue;
        }
        let (first, rest) = quoted_id(line);
        let rest = rest.trim_start();
        if let Some(target) = rest.strip_prefix("->") {
            let (second, _) = quoted_id(target.trim_start());
            dot.edges.insert((first, second));
        } else {
            let at = rest
                .find("label=")
                .unwrap_or_else(|| panic!("node without label: {line}"));
            let (label, _) = quoted_id(&rest[at + "label=".len()..]);
            let previous = dot.nodes.insert(first.clone(), label);
            assert!(previous.is_none(), "node {first} drawn twice: {text}");
        }
    }
    dot
}

/// The dot text for `file` with `args`, which must succeed.
fn dot_of(file: &GraphFile, args: &[&str]) -> Dot {
    let mut all = vec!["--format", "dot"];
    all.extend_from_slice(args);
    parse_dot(file.graph(&all).ok())
}

fn edges(pairs: &[(&str, &str)]) -> BTreeSet<(String, String)> {
    pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect()
}

fn node_set(dot: &Dot) -> BTreeSet<&str> {
    dot.nodes.keys().map(String::as_str).collect()
}

/// A small graph with tasks, a reference binding, a list binding and a literal.
const SAMPLE: &str = "\
base = 4
total = add(base, 3)
scaled = mul(total, base)
alias = scaled
bundle = [1, total]
lonely = inc(2)
";

mod drawing {
    use super::*;

    #[test]
    fn the_output_is_a_digraph_on_stdout() {
        let run = GraphFile::text(SAMPLE).graph(&["--format", "dot"]);
        let text = run.ok();
        assert!(text.starts_with("digraph"), "{text}");
        assert!(text.ends_with("}\n"), "{text:?}");
        assert_eq!(text.matches('{').count(), text.matches('}').count());
    }

    #[test]
    fn every_key_is_one_node() {
        let dot = dot_of(&GraphFile::text(SAMPLE), &[]);
        assert_eq!(
            node_set(&dot),
            BTreeSet::from(["base", "total", "scaled", "alias", "bundle", "lonely"])
        );
    }

    #[test]
    fn a_task_node_is_labelled_with_its_key_and_op() {
        let dot = dot_of(&GraphFile::text(SAMPLE), &[]);
        for (key, op) in [("total", "add"), ("scaled", "mul"), ("lonely", "inc")] {
            let label = &dot.nodes[key];
            assert_contains_all(label, &[key, op]);
        }
    }

    #[test]
    fn every_node_label_names_its_key() {
        let dot = dot_of(&GraphFile::text(SAMPLE), &[]);
        for (key, label) in &dot.nodes {
            assert!(label.contains(key.as_str()), "{key}: {label:?}");
        }
    }

    #[test]
    fn edges_go_from_dependency_to_dependent() {
        let dot = dot_of(&GraphFile::text(SAMPLE), &[]);
        assert_eq!(
            dot.edges,
            edges(&[
                ("base", "total"),
                ("base", "scaled"),
                ("total", "scaled"),
                ("scaled", "alias"),
                ("total", "bundle"),
            ])
        );
    }

    #[test]
    fn the_edge_is_written_as_quoted_ids_with_an_arrow() {
        let run = GraphFile::text("x = add(2, 3)\ny = add(x, 3)\n").graph(&["--format", "dot"]);
        assert!(run.ok().contains("\"x\" -> \"y\""), "{}", run.stdout);
        assert!(!run.stdout.contains("\"y\" -> \"x\""), "{}", run.stdout);
    }

    #[test]
    fn dependencies_inside_nested_arguments_and_lists_are_edges() {
        let file = GraphFile::text("a = 1\nb = 2\nc = list(inc(a), [1, [b]])\n");
        let dot = dot_of(&file, &[]);
        assert_eq!(dot.edges, edges(&[("a", "c"), ("b", "c")]));
    }

    #[test]
    fn keys_without_dependencies_have_no_incoming_edges() {
        let file = GraphFile::text("a = 1\nb = inc(2)\nc = range(3)\n");
        let dot = dot_of(&file, &[]);
        assert_eq!(dot.nodes.len(), 3);
        assert!(dot.edges.is_empty(), "{:?}", dot.edges);
    }

    #[test]
    fn json_and_text_forms_draw_the_same_graph() {
        let json = GraphFile::json(
            r#"{"base": 4,
                "total": {"op": "add", "args": [{"ref": "base"}, 3]},
                "scaled": {"op": "mul", "args": [{"ref": "total"}, {"ref": "base"}]},
                "alias": {"ref": "scaled"},
                "bundle": [1, {"ref": "total"}],
                "lonely": {"op": "inc", "args": [2]}}"#,
        );
        assert_eq!(dot_of(&json, &[]), dot_of(&GraphFile::text(SAMPLE), &[]));
    }

    #[test]
    fn quotes_in_keys_are_escaped() {
        let file = GraphFile::json(
            r#"{"say \"hi\"": 1, "next": {"op": "inc", "args": [{"ref": "say \"hi\""}]}}"#,
        );
        let run = file.graph(&["--format", "dot"]);
        assert!(
            run.ok().contains(r#""say \"hi\"" -> "next""#),
            "{}",
            run.stdout
        );
        let dot = parse_dot(&run.stdout);
        assert_eq!(node_set(&dot), BTreeSet::from(["next", "say \"hi\""]));
    }

    #[test]
    fn drawing_runs_no_task() {
        let mut file = GraphFile::text("");
        let marker = file.path("marker");
        file.write(&format!(
            "effect = shell({})\nbad = fail(\"no\")\nslow = sleep(60000)\n",
            touch_command(&marker)
        ));
        let dot = dot_of(&file, &[]);
        assert_eq!(dot.nodes.len(), 3);
        assert!(!marker.exists(), "taskloom graph ran a task");
    }

    #[test]
    fn a_large_graph_is_drawn_whole() {
        let n = 2_000;
        let mut source = String::from("k0 = 0\n");
        for i in 1..n {
            source.push_str(&format!("k{i} = inc(k{})\n", i - 1));
        }
        let dot = dot_of(&GraphFile::text(&source), &[]);
        assert_eq!(dot.nodes.len(), n);
        assert_eq!(dot.edges.len(), n - 1);
    }
}

mod culling {
    use super::*;

    #[test]
    fn get_keeps_only_the_key_and_what_it_depends_on() {
        let dot = dot_of(&GraphFile::text(SAMPLE), &["--get", "scaled"]);
        assert_eq!(node_set(&dot), BTreeSet::from(["base", "total", "scaled"]));
        assert_eq!(
            dot.edges,
            edges(&[("base", "total"), ("base", "scaled"), ("total", "scaled")])
        );
    }

    #[test]
    fn several_gets_keep_the_union() {
        let dot = dot_of(
            &GraphFile::text(SAMPLE),
            &["--get", "bundle", "--get", "lonely"],
        );
        assert_eq!(
            node_set(&dot),
            BTreeSet::from(["base", "total", "bundle", "lonely"])
        );
        assert_eq!(dot.edges, edges(&[("base", "total"), ("total", "bundle")]));
    }

    #[test]
    fn getting_a_key_through_a_reference_keeps_the_chain() {
        let dot = dot_of(&GraphFile::text(SAMPLE), &["--get", "alias"]);
        assert_eq!(
            node_set(&dot),
            BTreeSet::from(["base", "total", "scaled", "alias"])
        );
        assert!(dot
            .edges
            .contains(&("scaled".to_string(), "alias".to_string())));
    }

    #[test]
    fn getting_a_key_without_dependencies_draws_one_node() {
        let dot = dot_of(&GraphFile::text(SAMPLE), &["--get", "base"]);
        assert_eq!(node_set(&dot), BTreeSet::from(["base"]));
        assert!(dot.edges.is_empty());
    }

    #[test]
    fn culled_nodes_keep_their_labels() {
        let full = dot_of(&GraphFile::text(SAMPLE), &[]);
        let culled = dot_of(&GraphFile::text(SAMPLE), &["--get", "scaled"]);
        for (key, label) in &culled.nodes {
            assert_eq!(label, &full.nodes[key], "{key}");
        }
    }
}

mod out_file {
    use super::*;

    #[test]
    fn out_writes_the_dot_to_the_file_instead_of_stdout() {
        let file = GraphFile::text(SAMPLE);
        let expected = file.graph(&["--format", "dot"]).ok().to_string();
        let out = file.path("graph.dot");
        let run = file.graph(&["--format", "dot", "--out", out.to_str().unwrap()]);
        assert_eq!(run.ok(), "", "--out still printed to stdout");
        assert_eq!(std::fs::read_to_string(&out).unwrap(), expected);
    }

    #[test]
    fn out_with_a_relative_path_writes_in_the_working_directory() {
        let file = GraphFile::text(SAMPLE);
        let run = file.graph(&["--format", "dot", "--get", "total", "--out", "small.dot"]);
        assert_eq!(run.ok(), "");
        let written = std::fs::read_to_string(file.path("small.dot")).unwrap();
        let dot = parse_dot(&written);
        assert_eq!(node_set(&dot), BTreeSet::from(["base", "total"]));
    }

    #[test]
    fn out_replaces_an_existing_file() {
        let file = GraphFile::text("a = 1\n");
        let out = file.path("graph.dot");
        std::fs::write(
            &out,
            "old content that is longer than the new one ".repeat(20),
        )
        .unwrap();
        file.graph(&["--format", "dot", "--out", "graph.dot"]).ok();
        let written = std::fs::read_to_string(&out).unwrap();
        assert_eq!(node_set(&parse_dot(&written)), BTreeSet::from(["a"]));
        assert!(!written.contains("old content"));
    }

    #[test]
    fn an_unwritable_out_path_fails_cleanly() {
        let file = GraphFile::text("a = 1\n");
        let run = file.graph(&["--format", "dot", "--out", "no/such/dir/graph.dot"]);
        assert_ne!(run.code, Some(0), "{}", run.context);
        assert_eq!(run.stdout, "");
        run.assert_no_panic();
        assert!(
            run.stderr.starts_with("taskloom: error: "),
            "{}",
            run.stderr
        );
        assert!(!file.path("no").exists());
    }

    #[test]
    fn an_invalid_graph_writes_no_out_file() {
        let file = GraphFile::text("a = frob(1)\n");
        let run = file.graph(&["--format", "dot", "--out", "graph.dot"]);
        run.error(2);
        assert!(!file.path("graph.dot").exists());
    }
}

mod errors {
    use super::*;

    fn graph_error(file: &GraphFile, args: &[&str]) -> String {
        let mut all = vec!["--format", "dot"];
        all.extend_from_slice(args);
        file.graph(&all).error(2).to_string()
    }

    #[test]
    fn a_missing_get_key_exits_2_naming_it() {
        let message = graph_error(&GraphFile::text(SAMPLE), &["--get", "zz"]);
        assert_contains_all(&message, &["'zz'"]);
    }

    #[test]
    fn an_unknown_op_exits_2() {
        let message = graph_error(&GraphFile::text("a = 1\nb = frob(a)\n"), &[]);
        assert_contains_all(&message, &["'b'", "'frob'"]);
    }

    #[test]
    fn a_cycle_exits_2() {
        let message = graph_error(&GraphFile::text("a = b\nb = a\n"), &[]);
        assert_contains_all(&message, &["cycle", "a -> b", "b -> a"]);
    }

    #[test]
    fn a_missing_reference_exits_2() {
        let message = graph_error(&GraphFile::text("a = inc(ghost)\n"), &[]);
        assert_contains_all(&message, &["'a'", "'ghost'"]);
    }

    #[test]
    fn a_syntax_error_exits_2_with_the_line() {
        let message = graph_error(&GraphFile::text("a = 1\nb = (\n"), &[]);
        assert_contains_all(&message, &["graph.txt:2:"]);
    }

    #[test]
    fn validation_covers_keys_outside_get() {
        let message = graph_error(&GraphFile::text("a = 1\nb = frob(a)\n"), &["--get", "a"]);
        assert_contains_all(&message, &["'frob'"]);
    }

    #[test]
    fn an_unreadable_file_exits_2() {
        let file = GraphFile::text("a = 1\n");
        let run = file.invoke(&["graph", "missing.txt", "--format", "dot"]);
        assert_contains_all(run.error(2), &["missing.txt"]);
    }
}

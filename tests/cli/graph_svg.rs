//! `taskloom graph FILE --format svg`, end to end: a well-formed picture with one box per
//! key labelled with key and op, arrows from dependency to dependent, layered top-down,
//! culled by --get, written by --out, and summarised when the graph is huge.

use std::collections::{BTreeMap, BTreeSet};

use crate::harness::graph::GraphFile;

/// What a drawing says: key to (op label, depth, box top), and the arrows.
struct Picture {
    nodes: BTreeMap<String, (String, u32, f64)>,
    arrows: BTreeSet<(String, String)>,
}

fn read(svg: &str) -> Picture {
    let doc = roxmltree::Document::parse(svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    let mut nodes = BTreeMap::new();
    for node in doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("node"))
    {
        let key = node.attribute("data-key").expect("data-key").to_string();
        let texts: Vec<&str> = node
            .children()
            .filter(|c| c.has_tag_name("text"))
            .map(|c| c.text().unwrap_or(""))
            .collect();
        assert_eq!(texts[0], key, "box labelled with its key");
        let top: f64 = node
            .children()
            .find(|c| c.has_tag_name("rect"))
            .and_then(|r| r.attribute("y"))
            .and_then(|y| y.parse().ok())
            .expect("a box");
        let depth = node.attribute("data-depth").unwrap().parse().unwrap();
        let previous = nodes.insert(key.clone(), (texts[1].to_string(), depth, top));
        assert!(previous.is_none(), "{key} drawn twice");
    }
    let arrows = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("edge"))
        .map(|n| {
            (
                n.attribute("data-from").unwrap().to_string(),
                n.attribute("data-to").unwrap().to_string(),
            )
        })
        .collect();
    Picture { nodes, arrows }
}

const MAPREDUCE: &str = "inputs = range(1, 4)
sq1 = pow(getitem(inputs, 0), 2)
sq2 = pow(getitem(inputs, 1), 2)
sq3 = pow(getitem(inputs, 2), 2)
total = sum([sq1, sq2, sq3])
other = neg(sq1)
";

#[test]
fn boxes_arrows_and_layers() {
    let g = GraphFile::text(MAPREDUCE);
    let p = read(g.graph(&["--format", "svg"]).ok());
    assert_eq!(p.nodes.len(), 6);
    assert_eq!(p.nodes["inputs"].0, "range");
    assert_eq!(p.nodes["sq2"].0, "pow");
    assert_eq!(p.nodes["total"].0, "sum");
    let depth = |k: &str| p.nodes[k].1;
    assert_eq!(
        [
            depth("inputs"),
            depth("sq1"),
            depth("sq3"),
            depth("total"),
            depth("other")
        ],
        [0, 1, 1, 2, 2]
    );
    // Top-down: every arrow goes from a box to one drawn lower.
    for (from, to) in &p.arrows {
        assert!(p.nodes[from].2 < p.nodes[to].2, "{from} -> {to} points up");
    }
    let expected: BTreeSet<(String, String)> = [
        ("inputs", "sq1"),
        ("inputs", "sq2"),
        ("inputs", "sq3"),
        ("sq1", "total"),
        ("sq2", "total"),
        ("sq3", "total"),
        ("sq1", "other"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(p.arrows, expected);
}

#[test]
fn culled_and_written_to_a_file() {
    let g = GraphFile::text(MAPREDUCE);
    let run = g.graph(&["--get", "other", "--format", "svg", "--out", "g.svg"]);
    assert_eq!(run.ok(), "", "nothing on stdout with --out");
    let p = read(&std::fs::read_to_string(g.path("g.svg")).unwrap());
    let keys: Vec<&str> = p.nodes.keys().map(String::as_str).collect();
    assert_eq!(keys, ["inputs", "other", "sq1"]);
    assert_eq!(p.arrows.len(), 2);
}

#[test]
fn names_that_need_escaping_stay_well_formed() {
    let g =
        GraphFile::json(r#"{"a<&>\"b": 1, "c'd": {"op": "inc", "args": [{"ref": "a<&>\"b"}]}}"#);
    let p = read(g.graph(&["--format", "svg"]).ok());
    assert!(p.nodes.contains_key("a<&>\"b"));
    assert!(p
        .arrows
        .contains(&("a<&>\"b".to_string(), "c'd".to_string())));
}

#[test]
fn huge_graphs_are_summarised_within_bounds() {
    let mut src = String::from("root = 0\n");
    let leaves = 20_000;
    for i in 0..leaves {
        src.push_str(&format!("x{i} = inc(root)\n"));
    }
    let g = GraphFile::text(&src);
    let svg = g.graph(&["--format", "svg"]).ok().to_string();
    roxmltree::Document::parse(&svg).expect("well-formed summary");
    assert!(
        svg.contains("20,001 keys"),
        "{}",
        &svg[..svg.len().min(800)]
    );
    assert!(svg.contains("too many to draw one by one"));
    assert!(svg.contains("depth 1: 20,000 keys"));
    assert!(svg.len() < 50_000, "{} bytes", svg.len());
}

#[test]
fn unknown_formats_are_refused() {
    let g = GraphFile::text(MAPREDUCE);
    let run = g.graph(&["--format", "png"]);
    assert_eq!(run.code, Some(2));
    assert!(run.stderr.contains("--format"), "{}", run.stderr);
}

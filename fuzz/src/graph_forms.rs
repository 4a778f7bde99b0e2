//! A parsed graph written back in the JSON form, and in the text form when its names
//! allow, and graphs compared by meaning: the round trips the graph targets check.
//!
//! - Both forms mean the same graph (graph-format.md), so a graph parsed from either,
//!   written in either and parsed again, is the graph it was.
//! - A graph in the binary form is written back byte for byte (`check_binary`).
//! - Graphs are compared by names, not ids: ids follow the order of first appearance,
//!   which writing a graph back may change (a key referred to before its binding).

use taskloom_graph::{Expr, Graph, Value};

/// `graph` in the JSON form.
pub fn to_json(graph: &Graph) -> String {
    let mut out = String::from("{");
    for (i, key) in graph.keys().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&quoted(graph.name(key)));
        out.push(':');
        json_expr(graph, &graph.expr(key), &mut out);
    }
    out.push('}');
    out
}

fn json_expr(graph: &Graph, expr: &Expr, out: &mut String) {
    match expr {
        Expr::Value(value) => out.push_str(&value.to_json()),
        Expr::Ref(key) => {
            out.push_str("{\"ref\":");
            out.push_str(&quoted(graph.name(*key)));
            out.push('}');
        }
        Expr::List(items) => json_list(graph, items, out),
        Expr::Call { op, args } => {
            out.push_str("{\"op\":");
            out.push_str(&quoted(graph.op_name(*op)));
            out.push_str(",\"args\":");
            json_list(graph, args, out);
            out.push('}');
        }
    }
}

fn json_list(graph: &Graph, items: &[Expr], out: &mut String) {
    out.push('[');
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        json_expr(graph, item, out);
    }
    out.push(']');
}

/// `graph` in the text form, unless a key or op name is not an identifier (the JSON
/// form allows any non-empty string).
pub fn to_text(graph: &Graph) -> Option<String> {
    let names = graph.keys().map(|k| graph.name(k));
    let ops = graph.op_names().iter().map(String::as_str);
    if !names.chain(ops).all(is_text_name) {
        return None;
    }
    let mut out = String::new();
    for key in graph.keys() {
        out.push_str(graph.name(key));
        out.push_str(" = ");
        text_expr(graph, &graph.expr(key), &mut out);
        out.push('\n');
    }
    Some(out)
}

fn text_expr(graph: &Graph, expr: &Expr, out: &mut String) {
    match expr {
        Expr::Value(value) => out.push_str(&value.to_json()),
        Expr::Ref(key) => out.push_str(graph.name(*key)),
        Expr::List(items) => text_list(graph, items, '[', ']', out),
        Expr::Call { op, args } => {
            out.push_str(graph.op_name(*op));
            text_list(graph, args, '(', ')', out);
        }
    }
}

fn text_list(graph: &Graph, items: &[Expr], open: char, close: char, out: &mut String) {
    out.push(open);
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        text_expr(graph, item, out);
    }
    out.push(close);
}

/// Whether the text form can write `name`: an identifier that is not a literal.
fn is_text_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
        && !matches!(name, "true" | "false" | "null")
}

fn quoted(name: &str) -> String {
    serde_json::to_string(name).expect("a string serializes")
}

/// Where `a` and `b` differ, by key name; `None` when they mean the same graph.
pub fn difference(a: &Graph, b: &Graph) -> Option<String> {
    if a.len() != b.len() {
        return Some(format!("{} keys against {}", a.len(), b.len()));
    }
    a.keys().find_map(|key| {
        let name = a.name(key);
        let Ok(other) = b.key(name) else {
            return Some(format!("key {name:?} is missing"));
        };
        (!same_expr(a, &a.expr(key), b, &b.expr(other))).then(|| {
            format!(
                "key {name:?}: {:?} against {:?}",
                a.expr(key),
                b.expr(other)
            )
        })
    })
}

fn same_expr(a: &Graph, x: &Expr, b: &Graph, y: &Expr) -> bool {
    let same_items = |xs: &[Expr], ys: &[Expr]| {
        xs.len() == ys.len() && xs.iter().zip(ys).all(|(x, y)| same_expr(a, x, b, y))
    };
    match (x, y) {
        (Expr::Value(x), Expr::Value(y)) => x == y,
        (Expr::Ref(x), Expr::Ref(y)) => a.name(*x) == b.name(*y),
        (Expr::List(xs), Expr::List(ys)) => same_items(xs, ys),
        (Expr::Call { op: x, args: xs }, Expr::Call { op: y, args: ys }) => {
            a.op_name(*x) == b.op_name(*y) && same_items(xs, ys)
        }
        _ => false,
    }
}

/// How many pieces the parse on several threads is asked for: more than a small input
/// has cuts for, so that every cut found is used.
const PIECES: usize = 4;

/// What both graph targets check: parsing never panics, and in pieces on several
/// threads gives what one parser gives (the same error, or the same keys in the same
/// order); a graph that parses is validated against the builtin ops (cycles, unknown
/// ops) without panicking, and means the same graph once written in either form and
/// parsed again.
pub fn check(data: &[u8]) {
    let parsed = taskloom_graph::parse_bytes(data);
    let in_pieces = taskloom_graph::parse_bytes_in_parts(data, PIECES);
    let graph = match (parsed, in_pieces) {
        (Err(one), Err(pieces)) => {
            assert_eq!(one, pieces, "in pieces, another error");
            return;
        }
        (Ok(one), Ok(pieces)) => {
            let names = |g: &Graph| g.keys().map(|k| g.name(k).to_string()).collect::<Vec<_>>();
            assert_eq!(names(&one), names(&pieces), "in pieces, other ids");
            if let Some(diff) = difference(&one, &pieces) {
                panic!("in pieces, another graph: {diff}");
            }
            one
        }
        (one, pieces) => panic!("one parser: {:?}; in pieces: {:?}", one.err(), pieces.err()),
    };
    validates_and_reads_back_from_json(&graph);
    if let Some(text) = to_text(&graph) {
        let again = taskloom_graph::parse(&text)
            .unwrap_or_else(|e| panic!("the text form {text:?} does not parse: {e}"));
        if let Some(diff) = difference(&graph, &again) {
            panic!("the text form {text:?} is another graph: {diff}");
        }
    }
}

/// What the binary target checks: reading never panics, and a file that reads is one
/// the writer gives for that graph, byte for byte (the form has one way to write a
/// graph), validates without panicking, and means the same graph in the JSON form
/// where that form can write it.
pub fn check_binary(data: &[u8]) {
    let Ok(graph) = taskloom_graph::parse_bytes(data) else {
        return;
    };
    if taskloom_graph::binary::is_binary(data) {
        let mut again = Vec::new();
        graph
            .write_binary(&mut again)
            .expect("a graph read from a file can be written");
        assert!(again == data, "written back, other bytes");
    }
    if graph.keys().all(|key| json_holds(&graph.expr(key))) {
        validates_and_reads_back_from_json(&graph);
    } else {
        let _ = taskloom_graph::validate(&graph, &taskloom_graph::Registry::builtins());
    }
}

/// Whether the JSON form can write `expr`: the binary form holds bytes literals (a
/// program's `Builder` can make them), which the JSON form has no way to write.
fn json_holds(expr: &Expr) -> bool {
    fn value_holds(value: &Value) -> bool {
        match value {
            Value::Bytes(_) => false,
            Value::List(items) => items.iter().all(value_holds),
            _ => true,
        }
    }
    match expr {
        Expr::Value(value) => value_holds(value),
        Expr::Ref(_) => true,
        Expr::List(items) | Expr::Call { args: items, .. } => items.iter().all(json_holds),
    }
}

/// `graph` validates without panicking, and its JSON form reads back as the same graph.
fn validates_and_reads_back_from_json(graph: &Graph) {
    let _ = taskloom_graph::validate(graph, &taskloom_graph::Registry::builtins());
    let json = to_json(graph);
    let again = taskloom_graph::parse(&json)
        .unwrap_or_else(|e| panic!("the JSON form {json:?} does not parse: {e}"));
    if let Some(diff) = difference(graph, &again) {
        panic!("the JSON form {json:?} is another graph: {diff}");
    }
}

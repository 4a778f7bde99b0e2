//! Properties of the parsers: no input makes them panic, and the JSON and text forms
//! of the same graph parse to the same graph.

use proptest::prelude::*;
use taskloom_graph::{parse, Expr, Graph, Value};

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_text_never_panics(src in "\\PC{0,200}") {
        let _ = parse(&src);
    }

    #[test]
    fn text_made_of_graph_tokens_never_panics(
        src in prop::collection::vec(
            prop_oneof![
                Just("x"), Just("y"), Just(" = "), Just("add"), Just("("), Just(")"),
                Just("["), Just("]"), Just(","), Just("\n"), Just("#"), Just("\""),
                Just("1"), Just("-2.5e3"), Just("{"), Just("}"), Just("\"ref\""),
                Just(":"), Just("\"op\""), Just("\"args\""), Just("\\u12"), Just("null"),
            ],
            0..60,
        )
    ) {
        let _ = parse(&src.concat());
    }
}

/// A random text-form expression over keys k0..k{keys}.
fn expr(keys: usize) -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        any::<i64>().prop_map(|i| i.to_string()),
        (-1e6f64..1e6).prop_map(|f| format!("{f:?}")),
        "[a-z ]{0,8}".prop_map(|s| format!("\"{s}\"")),
        Just("true".to_string()),
        Just("null".to_string()),
        (0..keys.max(1)).prop_map(|k| format!("k{k}")),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4)
                .prop_map(|xs| format!("[{}]", xs.join(", "))),
            ("[a-z]{1,6}", prop::collection::vec(inner, 0..4))
                .prop_map(|(op, xs)| format!("{op}({})", xs.join(", "))),
        ]
    })
}

/// The JSON form of a parsed expression.
fn to_json(graph: &Graph, e: &Expr) -> String {
    let list = |items: &[Expr]| {
        items
            .iter()
            .map(|i| to_json(graph, i))
            .collect::<Vec<_>>()
            .join(",")
    };
    match e {
        Expr::Value(v) => v.to_json(),
        Expr::Ref(k) => format!("{{\"ref\": {}}}", Value::str(graph.name(*k)).to_json()),
        Expr::List(items) => format!("[{}]", list(items)),
        Expr::Call { op, args } => format!(
            "{{\"op\": {}, \"args\": [{}]}}",
            Value::str(graph.op_name(*op)).to_json(),
            list(args)
        ),
    }
}

proptest! {
    #[test]
    fn json_and_text_forms_mean_the_same_graph(
        exprs in (1..8usize).prop_flat_map(|n| prop::collection::vec(expr(n), n))
    ) {
        let text: String = exprs
            .iter()
            .enumerate()
            .map(|(i, e)| format!("k{i} = {e}\n"))
            .collect();
        let from_text = parse(&text).unwrap();
        let bindings: Vec<String> = from_text
            .keys()
            .map(|k| {
                let name = Value::str(from_text.name(k)).to_json();
                format!("{name}: {}", to_json(&from_text, &from_text.expr(k)))
            })
            .collect();
        let from_json = parse(&format!("{{{}}}", bindings.join(",\n"))).unwrap();
        prop_assert_eq!(from_text.len(), from_json.len());
        for k in from_text.keys() {
            let j = from_json.key(from_text.name(k)).unwrap();
            prop_assert_eq!(
                to_json(&from_text, &from_text.expr(k)),
                to_json(&from_json, &from_json.expr(j))
            );
        }
    }
}

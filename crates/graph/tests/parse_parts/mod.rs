//! Reading a source in pieces on several threads gives exactly what one parser gives:
//! the same ids, expressions, ops, edges, and, for a source with an error, the same
//! error (the first in file order, at the same line and column).

use proptest::prelude::*;
use taskloom_graph::{parse_bytes, parse_bytes_in_parts, Graph, GraphError};

/// Everything a later step reads of a graph, by id.
pub(crate) fn fingerprint(graph: &Graph) -> String {
    let keys: Vec<String> = graph
        .keys()
        .map(|k| {
            format!(
                "{} = {:?} <- {:?} -> {:?}",
                graph.name(k),
                graph.expr(k),
                graph.dependencies(k),
                graph.dependents(k)
            )
        })
        .collect();
    format!(
        "{keys:#?}\nops {:?}\nbackward only: {}",
        graph.op_names(),
        graph.is_backward_only()
    )
}

fn read(result: Result<Graph, GraphError>) -> Result<String, GraphError> {
    result.map(|graph| fingerprint(&graph))
}

/// A key's name: mostly one of the first few, so that references reach keys bound
/// before, after, twice, or never.
fn name(keys: usize) -> impl Strategy<Value = String> {
    (0..keys + 2).prop_map(|k| format!("k{k}"))
}

/// A random expression, written by `text` (the text form) or as JSON.
fn expr(keys: usize, json: bool) -> BoxedStrategy<String> {
    let reference = name(keys).prop_map(move |k| {
        if json {
            format!("{{\"ref\": \"{k}\"}}")
        } else {
            k
        }
    });
    let leaf = prop_oneof![
        1 => any::<i32>().prop_map(|i| i.to_string()),
        1 => Just((1i64 << 40).to_string()),
        1 => Just("-2.5e3".to_string()),
        1 => "[a-z é]{0,6}".prop_map(|s| format!("\"{s}\"")),
        1 => Just("\"\\u00e9\\n\"".to_string()),
        1 => Just("null".to_string()),
        3 => reference,
    ];
    leaf.prop_recursive(3, 16, 4, move |inner| {
        let list = prop::collection::vec(inner.clone(), 0..4).prop_map(|xs| xs.join(", "));
        prop_oneof![
            list.clone().prop_map(|xs| format!("[{xs}]")),
            ("[a-c]", list, any::<bool>()).prop_map(move |(op, xs, args_first)| {
                match (json, args_first) {
                    (false, _) => format!("{op}({xs})"),
                    (true, false) => format!("{{\"op\": \"{op}\", \"args\": [{xs}]}}"),
                    (true, true) => format!("{{\"args\": [{xs}], \"op\": \"{op}\"}}"),
                }
            }),
        ]
    })
    .boxed()
}

/// A graph of `keys` bindings in one form, one binding per line or several on a line
/// (JSON), with comments and blank lines between (text). Binding `i` binds `ki`, or
/// now and then another key (which may be bound twice).
pub(crate) fn source(json: bool) -> impl Strategy<Value = String> {
    (1..40usize).prop_flat_map(move |keys| {
        let binding = (
            prop::option::weighted(0.05, name(keys)),
            expr(keys, json),
            any::<bool>(),
        );
        prop::collection::vec(binding, keys).prop_map(move |bindings| {
            let bindings: Vec<String> = bindings
                .into_iter()
                .enumerate()
                .map(|(i, (other, expr, spaced))| {
                    let key = other.unwrap_or_else(|| format!("k{i}"));
                    match (json, spaced) {
                        (false, false) => format!("{key} = {expr}\n"),
                        (false, true) => format!("\n# {key} = 1\n  {key}  =  {expr}  # note\n"),
                        (true, false) => format!("\"{key}\": {expr}"),
                        (true, true) => format!("\n  \"{key}\" : {expr}"),
                    }
                })
                .collect();
            if json {
                format!("{{{}}}\n", bindings.join(","))
            } else {
                bindings.concat()
            }
        })
    })
}

/// `source` with an edit at a random place: a stray token, or bytes cut out.
fn edited(json: bool) -> impl Strategy<Value = Vec<u8>> {
    let stray = prop_oneof![
        Just(""),
        Just(","),
        Just("}"),
        Just("]"),
        Just("\""),
        Just("\n"),
        Just("x = 1\n"),
        Just("\"k1\": 2, "),
        Just("\\u"),
        Just("\u{feff}"),
        Just("\u{ff}"),
    ];
    (source(json), any::<prop::sample::Index>(), stray, 0..3usize).prop_map(
        |(source, at, stray, cut)| {
            let mut bytes = source.into_bytes();
            let at = at.index(bytes.len() + 1);
            bytes.splice(at..(at + cut).min(bytes.len()), stray.bytes());
            bytes
        },
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1000))]

    #[test]
    fn valid_sources_in_pieces_give_the_same_graph(
        parts in 2..6usize,
        source in any::<bool>().prop_flat_map(source),
    ) {
        prop_assert_eq!(
            read(parse_bytes_in_parts(source.as_bytes(), parts)),
            read(parse_bytes(source.as_bytes())),
            "{}",
            source
        );
    }

    #[test]
    fn sources_with_errors_in_pieces_give_the_same_error(
        parts in 2..6usize,
        bytes in any::<bool>().prop_flat_map(edited),
    ) {
        prop_assert_eq!(
            read(parse_bytes_in_parts(&bytes, parts)),
            read(parse_bytes(&bytes)),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
    }
}

//! The binary form: every graph of the other forms round-trips through it unchanged,
//! and a damaged or truncated file is an error naming a byte offset, never a panic.

use proptest::prelude::*;
use taskloom_graph::binary::{MAGIC, VERSION};
use taskloom_graph::{parse, parse_bytes, Expr, Graph, GraphBuilder, GraphError, Value};

use crate::parse_parts::{fingerprint, source};

fn binary(graph: &Graph) -> Vec<u8> {
    let mut bytes = Vec::new();
    graph.write_binary(&mut bytes).unwrap();
    bytes
}

/// Everything a later step reads of a graph but whether it is known to be acyclic
/// without a pass: the binary form binds keys in id order, so it knows that of more
/// graphs than the other forms (never of fewer).
fn meaning(graph: &Graph) -> String {
    let print = fingerprint(graph);
    print.rsplit_once("\nbackward only").unwrap().0.to_string()
}

/// `graph` read back from the binary form, checked to mean the same.
fn round_trip(graph: &Graph) -> Graph {
    let back = parse_bytes(&binary(graph)).unwrap();
    assert_eq!(meaning(&back), meaning(graph));
    assert!(back.is_backward_only() || !graph.is_backward_only());
    back
}

/// The offset and message of a binary form's error.
fn fault(bytes: &[u8]) -> (u64, String) {
    match parse_bytes(bytes) {
        Err(GraphError::Binary { offset, message }) => (offset, message),
        other => panic!("{:?}", other.map(|g| fingerprint(&g))),
    }
}

const LECTURE: &str =
    "x = add(2, 3)\ny = add(x, 3.5)\nz = list(y, \"é\", [null, true, 1099511627776], x)\n";

#[test]
fn a_graph_reads_back_as_it_was_written() {
    let graph = parse(LECTURE).unwrap();
    let bytes = binary(&graph);
    assert!(bytes.starts_with(&MAGIC));
    let back = round_trip(&graph);
    assert_eq!(back.key("y").unwrap(), graph.key("y").unwrap());
    assert!(back.is_backward_only());
    // Written again, the same bytes: the form has one way to write a graph.
    assert_eq!(binary(&back), bytes);
}

#[test]
fn literals_of_every_kind_and_forward_references_round_trip() {
    let mut b = GraphBuilder::new();
    let later = b.key("later");
    let list = b.op("list");
    let values = [
        Value::Int(i64::MIN),
        Value::Float(-0.5),
        Value::str(""),
        Value::Bytes(vec![0u8, 255].into()),
        Value::list([Value::list([Value::Null]), Value::Bool(false)]),
    ];
    let mut args: Vec<Expr> = values.iter().cloned().map(Expr::Value).collect();
    args.push(Expr::Ref(later));
    b.define("first", &Expr::call(list, args)).unwrap();
    b.define("later", &Expr::Value(Value::Int(-1))).unwrap();
    let graph = b.finish().unwrap();
    assert!(!graph.is_backward_only());
    // `later` has id 0, being referred to first: in id order, every reference is
    // backward.
    assert!(round_trip(&graph).is_backward_only());
}

#[test]
fn what_no_graph_file_holds_is_refused_when_written() {
    for literal in [Value::Float(f64::NAN), Value::Float(f64::INFINITY)] {
        let mut b = GraphBuilder::new();
        b.define("a", &Expr::Value(literal)).unwrap();
        let err = b.finish().unwrap().write_binary(Vec::new()).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(err.to_string().contains("cannot be written"), "{err}");
    }
}

#[test]
fn an_empty_op_name_is_refused_when_written_and_when_read() {
    // The builder refuses an empty key name itself; an op name it takes as given.
    let mut b = GraphBuilder::new();
    let op = b.op("");
    b.define("a", &Expr::call(op, vec![Expr::Value(Value::Int(1))]))
        .unwrap();
    let err = b.finish().unwrap().write_binary(Vec::new()).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert_eq!(err.to_string(), "an empty op name cannot be written");
    // The ops of "a = inc(1)": one, "inc". Its end (3, just after the header) made 0
    // gives an empty op, as neither the text nor the JSON form can.
    let mut bytes = binary(&parse("a = inc(1)\n").unwrap());
    let at = MAGIC.len() + 8 * 4;
    assert_eq!(bytes[at..at + 4], 3u32.to_le_bytes());
    bytes[at..at + 4].copy_from_slice(&0u32.to_le_bytes());
    let (offset, message) = fault(&bytes);
    assert_eq!(offset, at as u64);
    assert!(message.starts_with("entry 0 is empty"), "{message}");
}

#[test]
fn an_unknown_op_that_no_key_calls_is_read_and_validates() {
    let mut b = GraphBuilder::new();
    b.op("nowhere");
    let inc = b.op("inc");
    b.define("a", &Expr::call(inc, vec![Expr::Value(Value::Int(1))]))
        .unwrap();
    let graph = round_trip(&b.finish().unwrap());
    assert_eq!(graph.op_names(), ["nowhere", "inc"]);
    let ops = taskloom_graph::validate(&graph, &taskloom_graph::Registry::builtins()).unwrap();
    assert_eq!(ops[1](&[Value::Int(1)]).unwrap(), Value::Int(2));
    assert!(ops[0](&[]).unwrap_err().to_string().contains("'nowhere'"));
}

#[test]
fn an_empty_graph_round_trips() {
    let graph = parse("").unwrap();
    assert_eq!(round_trip(&graph).len(), 0);
}

#[test]
fn damaged_headers_name_their_fault() {
    let bytes = binary(&parse(LECTURE).unwrap());
    let mut wrong = bytes.clone();
    wrong[5] = b'x';
    assert_eq!(
        fault(&wrong),
        (5, "not a graph in the binary form (wrong magic)".into())
    );
    let mut newer = bytes.clone();
    newer[8..12].copy_from_slice(&(VERSION + 1).to_le_bytes());
    let (at, message) = fault(&newer);
    assert_eq!(at, 8);
    assert!(message.contains("version 2"), "{message}");
    let (at, message) = fault(&bytes[..bytes.len() - 1]);
    assert_eq!(at, bytes.len() as u64 - 1);
    assert!(message.starts_with("truncated"), "{message}");
    assert_eq!(fault(&bytes[..6]).0, 6);
    let mut longer = bytes.clone();
    longer.push(0);
    assert_eq!(
        fault(&longer),
        (
            bytes.len() as u64,
            "1 bytes after the end the header's counts give".into()
        )
    );
}

#[test]
fn a_reference_past_the_keys_and_a_repeated_name_are_refused() {
    let graph = parse("a = 1\nb = inc(a)\n").unwrap();
    let bytes = binary(&graph);
    // The last node is b's reference to a, its payload the last 4 bytes before the
    // literals (there are none).
    let mut far = bytes.clone();
    let end = far.len();
    far[end - 4..].copy_from_slice(&7u32.to_le_bytes());
    let (at, message) = fault(&far);
    assert_eq!(
        (at, message.as_str()),
        (end as u64 - 8, "a reference to key 7 of 2")
    );
    // The key names are "ab": make them "aa".
    let mut twice = bytes.clone();
    let names = twice.windows(2).position(|w| w == b"ab").unwrap();
    twice[names + 1] = b'a';
    assert_eq!(
        fault(&twice),
        (names as u64 + 1, "key 'a' is named twice".into())
    );
}

#[test]
fn a_cycle_is_left_to_validate_as_in_the_other_forms() {
    let graph = parse("a = inc(b)\nb = inc(a)\n").unwrap();
    let back = round_trip(&graph);
    assert!(!back.is_backward_only());
    let registry = taskloom_graph::Registry::builtins();
    let err = taskloom_graph::validate(&back, &registry).err().unwrap();
    assert_eq!(err.to_string(), "cycle: a -> b -> a");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(500))]

    /// Random graphs of both forms, some with forward references and cycles.
    #[test]
    fn every_parsed_graph_round_trips(src in prop_oneof![source(false), source(true)]) {
        if let Ok(graph) = parse(&src) {
            round_trip(&graph);
        }
    }

    /// Any byte changed, or the file cut anywhere: a graph or an error within the
    /// file, never a panic.
    #[test]
    fn damage_is_an_error_never_a_panic(
        src in source(false),
        at in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<bool>(),
    ) {
        if let Ok(graph) = parse(&src) {
            let mut bytes = binary(&graph);
            let at = at.index(bytes.len());
            if cut {
                bytes.truncate(at);
            } else {
                bytes[at] = byte;
            }
            match parse_bytes(&bytes) {
                Ok(_) => {}
                Err(GraphError::Binary { offset, .. }) => prop_assert!(offset <= bytes.len() as u64),
                Err(GraphError::Syntax { .. }) if at < 4 => {}
                Err(other) => prop_assert!(false, "{other}"),
            }
        }
    }
}

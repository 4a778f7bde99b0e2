//! Sources at the edges: graphs with no keys, unknown ops with and without a near
//! builtin, and the documentation a registry lists for its ops.

use taskloom_graph::{parse, validate, GraphError, Registry, Value};

#[test]
fn sources_without_bindings_are_empty_graphs() {
    for source in [
        "",
        "{}",
        " { }\n",
        "# a comment\n\n  # another\n",
        "\n\n\n",
        "\u{feff}",
    ] {
        let graph = parse(source).unwrap_or_else(|e| panic!("{source:?}: {e}"));
        assert!(graph.is_empty(), "{source:?}");
        assert!(graph.outputs().is_empty(), "{source:?}");
    }
}

#[test]
fn an_unknown_op_suggests_the_nearest_registered_op() {
    let registry = Registry::builtins();
    let unknown = |source: &str| match validate(&parse(source).unwrap(), &registry) {
        Err(GraphError::UnknownOp { suggestion, .. }) => suggestion,
        other => panic!("{source}: {:?}", other.map(|ops| ops.len())),
    };
    assert_eq!(unknown("a = mena([1])\n").as_deref(), Some("mean"));
    assert_eq!(unknown("a = getitme([1], 0)\n").as_deref(), Some("getitem"));
    assert_eq!(unknown("a = frobnicate()\n"), None);
}

#[test]
fn user_ops_are_suggested_and_listed_without_documentation() {
    let mut registry = Registry::builtins();
    registry.register("normalize", |_| Ok(Value::Null));
    registry.register("add", |_| Ok(Value::Null));
    assert_eq!(registry.suggest("normalise"), Some("normalize"));
    let ops = registry.ops();
    let doc = |name: &str| ops.iter().find(|(n, _, _)| *n == name).unwrap().2;
    assert!(doc("normalize").is_none());
    // A replaced builtin no longer does what its documentation says.
    assert!(doc("add").is_none());
    assert_eq!(
        doc("range").unwrap().forms,
        ["n", "start, stop", "start, stop, step"]
    );
}

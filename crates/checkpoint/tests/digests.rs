//! Digests: the same computation has the same digest, a changed literal changes the
//! digests of exactly the keys that depend on it, and effects have none.

use proptest::prelude::*;
use taskloom_checkpoint::{digests, Digest};
use taskloom_graph::ops::Purity;
use taskloom_graph::{parse, validate, Graph, Registry};

fn registry() -> Registry {
    let mut registry = Registry::builtins();
    registry.register_pure("score", 1, |args| Ok(args[0].clone()));
    registry
}

/// The graph of `source`, and the digest of each key by name.
fn digests_of(source: &str, registry: &Registry) -> (Graph, Vec<Option<Digest>>) {
    let graph = parse(source).unwrap();
    validate(&graph, registry).unwrap();
    let purity: Vec<Purity> = graph
        .op_names()
        .iter()
        .map(|name| registry.purity(name).unwrap())
        .collect();
    let digests = digests(&graph, &purity);
    (graph, digests)
}

fn of(graph: &Graph, digests: &[Option<Digest>], key: &str) -> Option<Digest> {
    digests[graph.key(key).unwrap().index()]
}

const SOURCE: &str = "\
a = 3
b = 4
fa = mul(a, 10)
fb = mul(b, 10)
ga = inc(fa)
gb = score(fb)
both = add(ga, gb)
";

#[test]
fn the_same_graph_has_the_same_digests() {
    let registry = registry();
    let (_, first) = digests_of(SOURCE, &registry);
    let (_, second) = digests_of(SOURCE, &registry);
    assert_eq!(first, second);
    assert!(first.iter().all(Option::is_some));
    // Distinct computations, distinct digests.
    let mut distinct = first.clone();
    distinct.sort_by_key(|d| d.unwrap().0);
    distinct.dedup();
    assert_eq!(distinct.len(), first.len());
}

#[test]
fn a_changed_literal_changes_only_its_dependents() {
    let registry = registry();
    let (graph, before) = digests_of(SOURCE, &registry);
    let (_, after) = digests_of(&SOURCE.replace("b = 4", "b = 5"), &registry);
    for key in ["a", "fa", "ga"] {
        assert_eq!(of(&graph, &before, key), of(&graph, &after, key), "{key}");
    }
    for key in ["b", "fb", "gb", "both"] {
        assert_ne!(of(&graph, &before, key), of(&graph, &after, key), "{key}");
    }
}

#[test]
fn names_and_order_of_keys_take_no_part() {
    let registry = registry();
    let (g1, d1) = digests_of("x = 2\ny = inc(x)\n", &registry);
    let (g2, d2) = digests_of("second = inc(first)\nfirst = 2\n", &registry);
    assert_eq!(of(&g1, &d1, "y"), of(&g2, &d2, "second"));
}

#[test]
fn ops_versions_and_literal_forms_count() {
    let registry = registry();
    let digest = |source: &str, registry: &Registry| {
        let (graph, digests) = digests_of(source, registry);
        of(&graph, &digests, "k")
    };
    assert_ne!(
        digest("k = inc(1)\n", &registry),
        digest("k = dec(1)\n", &registry)
    );
    assert_ne!(
        digest("k = inc(1)\n", &registry),
        digest("k = inc(1.0)\n", &registry)
    );
    assert_ne!(
        digest("k = [1, 2]\n", &registry),
        digest("k = [[1], 2]\n", &registry)
    );
    assert_ne!(
        digest("k = \"1\"\n", &registry),
        digest("k = 1\n", &registry)
    );
    // Ints too large to be stored inline are literals, hashed by value all the same.
    let big = 1i64 << 40;
    assert_ne!(
        digest(&format!("k = inc({big})\n"), &registry),
        digest(&format!("k = inc({})\n", big + 1), &registry)
    );
    let mut bumped = registry.clone();
    bumped.register_pure("score", 2, |args| Ok(args[0].clone()));
    assert_ne!(
        digest("k = score(1)\n", &registry),
        digest("k = score(1)\n", &bumped)
    );
}

#[test]
fn effects_and_their_dependents_have_no_digest() {
    let mut registry = registry();
    registry.register("user_effect", |args| Ok(args[0].clone()));
    let source = "a = 1\ns = shell(\"echo 1\")\nt = inc(len(s))\nu = user_effect(a)\nv = inc(u)\nw = inc(a)\nnested = inc(sleep(1, 2))\n";
    let (graph, digests) = digests_of(source, &registry);
    for key in ["s", "t", "u", "v", "nested"] {
        assert_eq!(of(&graph, &digests, key), None, "{key}");
    }
    for key in ["a", "w"] {
        assert!(of(&graph, &digests, key).is_some(), "{key}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    /// In a random chain-and-join graph, changing one literal changes the digest of
    /// exactly the keys that (transitively) depend on it.
    #[test]
    fn a_change_reaches_exactly_the_dependents(
        deps in prop::collection::vec(prop::collection::vec(any::<prop::sample::Index>(), 0..3), 1..30),
        changed in any::<prop::sample::Index>(),
    ) {
        let registry = registry();
        let n = deps.len();
        let inputs: Vec<Vec<usize>> = deps
            .iter()
            .enumerate()
            .map(|(i, ds)| if i == 0 { Vec::new() } else { ds.iter().map(|d| d.index(i)).collect() })
            .collect();
        let source = |bump: usize| -> String {
            inputs
                .iter()
                .enumerate()
                .map(|(i, ds)| {
                    let args: Vec<String> = ds.iter().map(|d| format!("k{d}")).collect();
                    let literal = if i == bump { 1 } else { 0 };
                    format!("k{i} = list({literal}, {})\n", args.join(", ")).replace(", )", ")")
                })
                .collect()
        };
        let changed = changed.index(n);
        let (graph, before) = digests_of(&source(usize::MAX), &registry);
        let (_, after) = digests_of(&source(changed), &registry);
        let mut depends = vec![false; n];
        depends[changed] = true;
        for i in 0..n {
            if inputs[i].iter().any(|&d| depends[d]) {
                depends[i] = true;
            }
        }
        for (i, &depends) in depends.iter().enumerate() {
            let key = format!("k{i}");
            prop_assert_eq!(of(&graph, &before, &key) != of(&graph, &after, &key), depends, "{}", key);
        }
    }
}

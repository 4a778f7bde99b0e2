//! Property: random DAGs give the same results under `mpirun -n 2, 3, 4` with the
//! MPI executor as under threads, over shared memory and over TCP. Each case costs a
//! launch, so the cases are few and each covers one ranks-and-fabric pair.

use proptest::prelude::*;

use crate::harness::graph::GraphFile;
use crate::harness::mpi::Fabric;

/// One key: an op over earlier keys (so the graph is acyclic), with some busy work so
/// that tasks spread over the ranks.
fn key(index: usize) -> BoxedStrategy<String> {
    if index == 0 {
        return (0..100i64).prop_map(|v| v.to_string()).boxed();
    }
    let refs = prop::collection::vec(0..index, 1..5).prop_map(|ds| {
        ds.iter()
            .map(|d| format!("k{d}"))
            .collect::<Vec<_>>()
            .join(", ")
    });
    prop_oneof![
        (0..100i64).prop_map(|v| format!("busy(1, {v})")),
        (0..index, 0..index).prop_map(|(a, b)| format!("mod(add(k{a}, k{b}), 1000003)")),
        refs.clone()
            .prop_map(|r| format!("mod(sum(list({r})), 1000003)")),
        refs.clone().prop_map(|r| format!("max(list({r}))")),
        refs.prop_map(|r| format!("len(list({r}))")),
    ]
    .boxed()
}

fn graph() -> impl Strategy<Value = String> {
    (1..80usize).prop_flat_map(|n| {
        (0..n).map(key).collect::<Vec<_>>().prop_map(|exprs| {
            exprs
                .iter()
                .enumerate()
                .map(|(i, e)| format!("k{i} = {e}\n"))
                .collect()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn random_graphs_give_the_same_results_as_threads(
        source in graph(),
        ranks in 2..=4usize,
        tcp in any::<bool>(),
    ) {
        let file = GraphFile::text(&source);
        let threads = file.run(&["--workers", "2"]);
        let fabric = if tcp { Fabric::Tcp } else { Fabric::SharedMemory };
        let mpi = file.mpi_command(ranks, fabric, &["--workers", "2"]).output();
        prop_assert_eq!(
            (&mpi.stdout, &mpi.stderr, mpi.code),
            (&threads.stdout, &threads.stderr, threads.code),
            "{}", mpi.context
        );
    }
}

#[test]
fn every_rank_count_and_fabric_agrees_on_a_fixed_graph() {
    let mut source = String::new();
    for i in 0..40 {
        source.push_str(&format!("a{i} = busy(1, {i})\n"));
    }
    for i in 1..40 {
        source.push_str(&format!("b{i} = add(a{i}, a{})\n", i - 1));
    }
    let all: Vec<String> = (1..40).map(|i| format!("b{i}")).collect();
    source.push_str(&format!("total = sum(list({}))\n", all.join(", ")));
    let file = GraphFile::text(&source);
    let expected = file.run(&[]);
    for ranks in [2, 3, 4] {
        for fabric in [Fabric::SharedMemory, Fabric::Tcp] {
            let mpi = file.mpi_command(ranks, fabric, &[]).output();
            assert_eq!(mpi.ok(), expected.ok(), "{}", mpi.context);
        }
    }
}

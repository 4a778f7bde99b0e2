//! `taskloom map --executor mpi` is not available yet: refused with exit 2 before any
//! item runs, and under `mpirun` by rank 0 alone (no rank runs the items on its own).

use super::map::map_command;
use crate::harness::Dir;

const REFUSAL: &str = "--executor mpi: map does not spread items over MPI ranks yet";

#[test]
fn executor_mpi_is_refused_before_any_item_runs() {
    let ws = Dir::new();
    let args = ["--executor", "mpi", "--", "touch", "{}", ":::", "a", "b"];
    let out = map_command(&ws, &args).output();
    assert!(out.error(2).contains(REFUSAL), "{}", out.stderr);
    assert!(ws.listing().is_empty(), "an item ran: {:?}", ws.listing());
}

#[cfg(feature = "mpi")]
#[test]
fn under_mpirun_rank_0_alone_refuses() {
    use crate::harness::mpi::{mpirun, Fabric};
    let ws = Dir::new();
    let out = mpirun(ws.root(), 3, Fabric::SharedMemory)
        .args(&["map", "--executor", "mpi", "--", "touch", "{}", ":::", "a"])
        .output();
    assert_eq!(out.stderr.matches(REFUSAL).count(), 1, "{}", out.stderr);
    assert!(ws.listing().is_empty(), "an item ran: {:?}", ws.listing());
}

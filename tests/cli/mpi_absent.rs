//! A taskloom built without the `mpi` feature refuses `--executor mpi` before reading
//! anything, saying how to build it with MPI.

use crate::harness::graph::GraphFile;

#[test]
fn the_mpi_executor_needs_a_build_with_mpi() {
    let file = GraphFile::text("a = add(1, 2)\n");
    let out = file.run(&["--executor", "mpi"]);
    let message = out.error(2);
    assert!(message.contains("built without MPI"), "{message}");
    assert!(message.contains("--features mpi"), "{message}");
    assert_eq!(out.stdout, "");
}

//! A taskloom built without the `mpi` feature refuses `--executor mpi` before reading
//! anything, saying how to build it with MPI.
//!
//! A test target of its own, apart from the suites of `tests/tests.rs` (all built with
//! MPI): checking the build without MPI (scripts/test.sh) then compiles this file, not
//! every suite again.
#![cfg(not(feature = "mpi"))]

use std::process::Command;

#[test]
fn the_mpi_executor_needs_a_build_with_mpi() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.txt");
    std::fs::write(&file, "a = add(1, 2)\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_taskloom"))
        .arg("run")
        .arg(&file)
        .args(["--executor", "mpi"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.starts_with("taskloom: error: "), "{stderr}");
    assert_eq!(stderr.trim_end().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("built without MPI"), "{stderr}");
    assert!(stderr.contains("--features mpi"), "{stderr}");
    assert!(out.stdout.is_empty());
}

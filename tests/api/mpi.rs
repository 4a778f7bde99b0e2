//! The library's MPI executor under a real `mpirun`: a program with ops of its own
//! (`examples/mpi_word_lengths.rs`) computes `Delayed` values across 3 ranks, its
//! worker ranks running the user ops, and only rank 0 prints.

use std::path::PathBuf;

use crate::harness::TASKLOOM;

/// The example, built by `cargo test --features mpi` beside the binary under test.
fn example() -> PathBuf {
    let dir = std::path::Path::new(TASKLOOM)
        .parent()
        .expect("the binary's directory");
    dir.join("examples").join("mpi_word_lengths")
}

#[test]
fn user_ops_run_on_the_worker_ranks_and_rank_zero_prints() {
    assert!(
        example().exists(),
        "{} is missing: `cargo test --features mpi` builds the examples (`--test tests` alone does not)",
        example().display()
    );
    let out = std::process::Command::new("mpirun")
        .args(["--allow-run-as-root", "--oversubscribe", "-q", "-n", "3"])
        .arg(example())
        .output()
        .expect("run mpirun");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        stdout,
        "9 words, 35 letters, the longest has 5\n\
         tasks ran in 2 processes, rank 0 not among them\n",
        "{stderr}"
    );
    assert_eq!(stderr, "");
}

//! `taskloom` under a real `mpirun` (Open MPI), for the MPI executor's tests (built
//! with `--features mpi`).
//!
//! - `-q` keeps mpirun's own notices (a rank's non-zero exit) off stderr, so stderr is
//!   taskloom's alone and compares with a threads run byte for byte.
//! - Shared memory is Open MPI's default between ranks on one machine; [`Fabric::Tcp`]
//!   forces the TCP transport over loopback, as between machines.

use std::path::Path;

use super::graph::GraphFile;
use super::{Outcome, TestCommand, TASKLOOM};

/// How the ranks reach each other.
#[derive(Clone, Copy, Debug)]
pub enum Fabric {
    SharedMemory,
    Tcp,
}

/// `mpirun -n RANKS taskloom` in `dir`, to be given taskloom's arguments.
pub fn mpirun(dir: &Path, ranks: usize, fabric: Fabric) -> TestCommand {
    let mut command = std::process::Command::new("mpirun");
    command
        .current_dir(dir)
        .args(["--allow-run-as-root", "--oversubscribe", "-q", "-n"])
        .arg(ranks.to_string());
    if let Fabric::Tcp = fabric {
        command.args([
            "--mca",
            "btl",
            "tcp,self",
            "--mca",
            "btl_tcp_if_include",
            "lo",
        ]);
    }
    command.arg(TASKLOOM);
    TestCommand {
        command,
        stdin: String::new(),
        context: format!("mpirun -n {ranks} ({fabric:?}) taskloom"),
    }
}

impl GraphFile {
    /// `mpirun -n RANKS taskloom run FILE ARGS --executor mpi`, to be given more.
    pub fn mpi_command(&self, ranks: usize, fabric: Fabric, args: &[&str]) -> TestCommand {
        mpirun(self.root(), ranks, fabric)
            .args(&["run", self.name()])
            .args(args)
            .args(&["--executor", "mpi"])
    }

    /// Runs `taskloom run FILE ARGS` under threads, then under MPI with 2 and 3 ranks
    /// (shared memory): asserts the same stdout, stderr and exit code; returns the
    /// threads outcome.
    pub fn run_under_mpi_too(&self, args: &[&str]) -> Outcome {
        let threads = self.run(args);
        for ranks in [2, 3] {
            let mpi = self.mpi_command(ranks, Fabric::SharedMemory, args).output();
            assert_eq!(
                (&mpi.stdout, &mpi.stderr, mpi.code),
                (&threads.stdout, &threads.stderr, threads.code),
                "mpi and threads disagree: `{}` vs `{}`",
                mpi.context,
                threads.context
            );
        }
        threads
    }
}

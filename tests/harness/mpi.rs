//! `taskloom` under a real `mpirun` (Open MPI), for the MPI executor's tests (built
//! with `--features mpi`).
//!
//! - `-q` keeps mpirun's own notices (a rank's non-zero exit) off stderr, so stderr is
//!   taskloom's alone and compares with a threads run byte for byte.
//! - Shared memory is Open MPI's default between ranks on one machine; [`Fabric::Tcp`]
//!   forces the TCP transport over loopback, as between machines.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::graph::GraphFile;
use super::process::{marked_processes, wait_for};
use super::{Dir, Outcome, Running, TestCommand, TASKLOOM};

/// How soon a signalled run, or one whose rank was killed, must have ended: it stops
/// its tasks and exits, it does not finish its work.
pub const STOP_LIMIT: Duration = Duration::from_secs(10);

impl Running {
    /// Does `stop` to the command (a signal to mpirun or to a rank) and waits for its
    /// end, asserting that it came within [`STOP_LIMIT`]: stopping is prompt.
    pub fn stopped_by(self, stop: impl FnOnce(&Running)) -> Outcome {
        let sent = std::time::Instant::now();
        stop(&self);
        let out = self.wait();
        assert!(
            sent.elapsed() < STOP_LIMIT,
            "took {:?} to stop\n{}",
            sent.elapsed(),
            out.context
        );
        out
    }
}

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
    TestCommand::of(command, &format!("mpirun -n {ranks} ({fabric:?}) taskloom"))
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
            mpi.assert_alike(&threads);
        }
        threads
    }
}

impl Dir {
    /// `mpirun -n RANKS taskloom array ARGS --executor mpi` in this directory (shared
    /// memory), run to its end.
    pub fn array_mpi(&self, ranks: usize, args: &[&str]) -> Outcome {
        mpirun(self.root(), ranks, Fabric::SharedMemory)
            .arg("array")
            .args(args)
            .args(&["--executor", "mpi"])
            .output()
    }

    /// Runs `taskloom array ARGS` on threads, then under MPI with 2 and 3 ranks:
    /// asserts the same stdout, stderr and exit code and that the directory changed
    /// alike (the same files, byte for byte); returns the threads outcome, the
    /// directory left as the threads run left it.
    pub fn array_under_mpi_too(&self, args: &[&str]) -> Outcome {
        let before = self.snapshot();
        let threads = self.array(args);
        let after = self.snapshot();
        for ranks in [2, 3] {
            self.restore(&before, &after);
            let mpi = self.array_mpi(ranks, args);
            mpi.assert_alike(&threads);
            assert!(
                self.snapshot() == after,
                "`{}` left other files than `{}`",
                mpi.context,
                threads.context
            );
        }
        threads
    }

    /// Every entry under the directory: a file with its bytes, a directory as `None`.
    fn snapshot(&self) -> Snapshot {
        self.listing()
            .into_iter()
            .map(|name| {
                let path = self.path(&name);
                let bytes = path
                    .is_file()
                    .then(|| std::fs::read(&path).expect("read a file"));
                (name, bytes)
            })
            .collect()
    }

    /// Takes the directory from `after` back to `before`: removes what appeared
    /// (deepest first), rewrites what changed, puts back what went.
    fn restore(&self, before: &Snapshot, after: &Snapshot) {
        for (name, bytes) in after.iter().rev() {
            match (before.get(name), bytes) {
                (None, Some(_)) => std::fs::remove_file(self.path(name)).expect("remove a file"),
                (None, None) => std::fs::remove_dir(self.path(name)).expect("remove a directory"),
                (Some(old), new) if old != new => {
                    let old = old.as_ref().expect("a file stays a file");
                    std::fs::write(self.path(name), old).expect("restore a file")
                }
                _ => {}
            }
        }
        for (name, bytes) in before.iter().filter(|(name, _)| !after.contains_key(*name)) {
            match bytes {
                Some(bytes) => std::fs::write(self.path(name), bytes).expect("restore a file"),
                None => std::fs::create_dir_all(self.path(name)).expect("restore a directory"),
            }
        }
    }
}

/// A directory's entries: a file with its bytes, a directory as `None`.
type Snapshot = BTreeMap<String, Option<Vec<u8>>>;

/// The taskloom ranks of the run marked `mark`, as (pid, rank).
pub fn ranks(mark: &str) -> Vec<(u32, u32)> {
    marked_processes(mark)
        .iter()
        .filter_map(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
            let rank = env.split(|&b| b == 0).find_map(|v| {
                let v = std::str::from_utf8(v).ok()?;
                v.strip_prefix("OMPI_COMM_WORLD_RANK=")?.parse().ok()
            })?;
            let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let taskloom = cmdline.split(|&b| b == 0).next()?.ends_with(b"taskloom");
            taskloom
                .then(|| (pid.parse().ok(), rank))
                .and_then(|(p, r)| Some((p?, r)))
        })
        .collect()
}

/// Waits up to 20 s until `count` processes marked `mark` run `program`; panics with
/// `what` otherwise.
pub fn await_running(mark: &str, program: &str, count: usize, what: &str) {
    let prefix = format!("{program}\0");
    let running = || {
        marked_processes(mark)
            .iter()
            .filter(|pid| {
                std::fs::read(format!("/proc/{pid}/cmdline"))
                    .is_ok_and(|c| c.starts_with(prefix.as_bytes()))
            })
            .count()
            == count
    };
    assert!(wait_for(Duration::from_secs(20), running), "{what}");
}

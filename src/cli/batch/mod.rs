//! Batch systems: how `taskloom submit`, `jobs`, `peek`, `cancel` and `wait` talk to
//! Slurm, LSF and PBS.
//!
//! - One trait, [`System`], one file per system (`slurm`, `lsf`, `pbs`): the lines that
//!   ask for resources, the MPI launcher, how a job requeues itself, and the client
//!   commands that submit, query and cancel, with their documented output parsed.
//! - Everything else is shared and lives once: the batch script (`script`), the record
//!   of each submitted job (`record`), and the job's state as taskloom reports it
//!   (`status`), which joins the batch system's view with what the job wrote itself.
//! - The system is the one whose submit command is on `PATH` (`sbatch`, then `bsub`,
//!   then `qsub`), unless `--batch` names it; a job keeps the system it was submitted to.
//! - The client commands are short queries run to completion, each with its output
//!   captured; a command that fails is an error naming it and quoting its stderr.

mod lsf;
mod pbs;
pub mod record;
pub mod script;
mod slurm;
pub mod status;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// The batch systems taskloom submits to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Kind {
    /// Slurm: sbatch, squeue, scancel; ranks started by `srun --mpi=pmix`.
    Slurm,
    /// IBM Spectrum LSF: bsub, bjobs, bkill; ranks started by `mpirun`.
    Lsf,
    /// PBS Pro / OpenPBS: qsub, qstat, qdel; ranks started by `mpirun`.
    Pbs,
}

/// Every kind, in the order `PATH` is searched when `--batch` is not given.
const KINDS: [Kind; 3] = [Kind::Slurm, Kind::Lsf, Kind::Pbs];

impl Kind {
    /// The name in records and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Kind::Slurm => "slurm",
            Kind::Lsf => "lsf",
            Kind::Pbs => "pbs",
        }
    }

    /// The kind a record names.
    pub fn from_name(name: &str) -> Option<Kind> {
        KINDS.into_iter().find(|k| k.name() == name)
    }

    /// The client commands of this system.
    pub fn system(self) -> &'static dyn System {
        match self {
            Kind::Slurm => &slurm::Slurm,
            Kind::Lsf => &lsf::Lsf,
            Kind::Pbs => &pbs::Pbs,
        }
    }

    /// The first system whose submit command is on `PATH`.
    pub fn find() -> Result<Kind, BatchError> {
        KINDS
            .into_iter()
            .find(|k| on_path(k.system().submit_program()))
            .ok_or(BatchError::NoneFound)
    }
}

/// What a job asks of the batch system.
pub struct Resources {
    /// The job's name in the queue.
    pub name: String,
    pub nodes: u32,
    pub ranks_per_node: u32,
    /// Cores for each rank; `None` asks for whole nodes.
    pub cores_per_rank: Option<u32>,
    /// The time limit, if any.
    pub time: Option<Duration>,
    /// How long before the limit the job is warned, when there is a limit.
    pub grace: Duration,
    /// Whether a job stopped by the warning requeues itself (it has a checkpoint).
    pub requeue: bool,
    /// Where the batch system writes what the script prints before it redirects its
    /// output (a launcher that cannot start, say).
    pub batch_output: std::path::PathBuf,
}

impl Resources {
    /// Every rank of the job.
    pub fn ranks(&self) -> u32 {
        self.nodes * self.ranks_per_node
    }
}

/// Where a job is, as its batch system sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Queue {
    /// Waiting to start, or requeued.
    Pending,
    /// Started (or ending).
    Running,
    /// Over; the system's own word for how it ended (`COMPLETED`, `TIMEOUT`, `EXIT`, ...).
    Ended(String),
    /// The system no longer knows the job (finished jobs leave the queue after a while).
    Forgotten,
}

/// One batch system's commands and script lines.
pub trait System: Sync {
    /// The command that submits; its presence on `PATH` says the system is here.
    fn submit_program(&self) -> &'static str;
    /// The script's header lines that ask for `resources`.
    fn directives(&self, resources: &Resources) -> String;
    /// The command that starts `ranks` MPI ranks of what follows it.
    fn launcher(&self, ranks: u32) -> String;
    /// Whether the system itself warns the job with SIGUSR1 before its time limit;
    /// otherwise the script sets a timer of its own.
    fn warns_before_limit(&self) -> bool;
    /// The shell statement that puts the running job back in the queue: the script
    /// exits right after it succeeds.
    fn requeue(&self) -> &'static str;
    /// Submits the script at `script` and returns the job id.
    fn submit(&self, script: &Path) -> Result<String, BatchError>;
    /// Where the job is now.
    fn queue(&self, id: &str) -> Result<Queue, BatchError>;
    /// Asks the system to end the job (pending or running).
    fn cancel(&self, id: &str) -> Result<(), BatchError>;
}

/// Why a batch-job command failed.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// No batch system on this machine, and `--batch` not given.
    #[error("no batch system found: none of sbatch (Slurm), bsub (LSF) or qsub (PBS) is on PATH")]
    NoneFound,
    /// No record of a job with this id under `.taskloom/jobs`.
    #[error("no job '{0}' was submitted from this directory (see taskloom jobs)")]
    UnknownJob(String),
    /// A client command could not run or failed.
    #[error("{program} failed: {message}")]
    Command { program: String, message: String },
    /// A client command's answer is not in the format its system documents.
    #[error("cannot read the answer of {program}: {answer:?}")]
    Answer { program: String, answer: String },
    /// The job's record or its files cannot be read or written.
    #[error("{}: {source}", path.display())]
    Record {
        path: std::path::PathBuf,
        source: std::io::Error,
    },
}

impl BatchError {
    /// 2 when the command named nothing that exists here (input it cannot accept),
    /// 1 when the batch system or the filesystem failed.
    pub fn exit_code(&self) -> i32 {
        match self {
            BatchError::NoneFound | BatchError::UnknownJob(_) => 2,
            BatchError::Command { .. } | BatchError::Answer { .. } | BatchError::Record { .. } => 1,
        }
    }
}

/// Runs a client command to its end and returns its stdout; a failure to start or a
/// non-zero exit is [`BatchError::Command`] with its stderr. `accept` lets a caller take
/// a known non-zero answer (a job the system has forgotten) as an answer.
fn client(
    program: &str,
    args: &[&str],
    stdin: Option<&Path>,
    accept: impl Fn(&str) -> bool,
) -> Result<String, BatchError> {
    let failed = |message: String| BatchError::Command {
        program: program.to_string(),
        message,
    };
    let mut command = Command::new(program);
    command.args(args);
    if let Some(path) = stdin {
        let file = std::fs::File::open(path).map_err(|source| BatchError::Record {
            path: path.to_path_buf(),
            source,
        })?;
        command.stdin(file);
    }
    let output = command
        .output()
        .map_err(|e| failed(format!("cannot start it: {e}")))?;
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.success() || accept(&stderr) || accept(&stdout) {
        return Ok(stdout);
    }
    let said = stderr.trim();
    let said = if said.is_empty() { stdout.trim() } else { said };
    Err(failed(format!("{} ({})", said, output.status)))
}

/// Whether `program` is an executable file in a directory of `PATH`.
fn on_path(program: &str) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| {
            std::fs::metadata(dir.join(program))
                .is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        })
    })
}

/// `HH:MM:SS` of a duration rounded up to whole seconds, with `D-` in front from a day
/// on when `days` (Slurm's form; PBS counts hours past 24 instead).
fn clock(time: Duration, days: bool) -> String {
    let total = time.as_secs() + u64::from(time.subsec_nanos() > 0);
    let (d, rest) = if days {
        (total / 86_400, total % 86_400)
    } else {
        (0, total)
    };
    let hms = format!("{:02}:{:02}:{:02}", rest / 3600, rest / 60 % 60, rest % 60);
    if d > 0 {
        format!("{d}-{hms}")
    } else {
        hms
    }
}

/// Whole minutes, rounded up (LSF's limits and warnings are in minutes).
fn minutes(time: Duration) -> u64 {
    time.as_secs().div_ceil(60).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clocks_round_up_and_count_days_only_for_slurm() {
        assert_eq!(clock(Duration::from_secs(59), true), "00:00:59");
        assert_eq!(clock(Duration::from_millis(1500), true), "00:00:02");
        assert_eq!(clock(Duration::from_secs(90_061), true), "1-01:01:01");
        assert_eq!(clock(Duration::from_secs(90_061), false), "25:01:01");
        assert_eq!(minutes(Duration::from_secs(61)), 2);
        assert_eq!(minutes(Duration::from_secs(5)), 1);
    }
}

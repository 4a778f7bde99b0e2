//! Slurm: `sbatch --parsable`, `squeue`, `scancel`, `scontrol requeue`.
//!
//! - Ranks start with `srun --mpi=pmix`: Debian's Open MPI wires up through PMIx
//!   (`--mpi=pmi2` does not work with it).
//! - The walltime warning is `--signal=B:USR1@GRACE`: to the batch shell, which
//!   forwards it to the run (srun passes it on to every rank).
//! - `sbatch --parsable` answers `ID` or `ID;CLUSTER`. `squeue -h -j ID -o %T` answers
//!   the job's state in capitals; once the job has left the queue (`MinJobAge`), squeue
//!   fails with "Invalid job id specified".

use std::path::Path;

use super::{client, clock, BatchError, Queue, Resources, System};

pub struct Slurm;

/// squeue's states of a job that has not started yet, or waits to start again.
const PENDING: [&str; 6] = [
    "PENDING",
    "REQUEUED",
    "REQUEUE_HOLD",
    "REQUEUE_FED",
    "RESV_DEL_HOLD",
    "SPECIAL_EXIT",
];

/// squeue's states of a job that holds its resources.
const RUNNING: [&str; 8] = [
    "RUNNING",
    "COMPLETING",
    "CONFIGURING",
    "SUSPENDED",
    "STOPPED",
    "SIGNALING",
    "STAGE_OUT",
    "RESIZING",
];

/// What squeue says of a job it no longer knows.
const FORGOTTEN: &str = "Invalid job id specified";

impl System for Slurm {
    fn submit_program(&self) -> &'static str {
        "sbatch"
    }

    fn directives(&self, resources: &Resources) -> String {
        let mut lines = vec![
            format!("--job-name={}", resources.name),
            format!("--nodes={}", resources.nodes),
            format!("--ntasks-per-node={}", resources.ranks_per_node),
            format!("--output={}", resources.batch_output.display()),
            "--open-mode=append".to_string(),
        ];
        match resources.cores_per_rank {
            Some(cores) => lines.push(format!("--cpus-per-task={cores}")),
            None => lines.push("--exclusive".to_string()),
        }
        if let Some(time) = resources.time {
            lines.push(format!("--time={}", clock(time, true)));
            lines.push(format!("--signal=B:USR1@{}", resources.grace.as_secs()));
        }
        lines.push(
            if resources.requeue {
                "--requeue"
            } else {
                "--no-requeue"
            }
            .to_string(),
        );
        lines.iter().map(|l| format!("#SBATCH {l}\n")).collect()
    }

    fn launcher(&self, _ranks: u32) -> String {
        // srun takes the rank count from the allocation.
        "srun --mpi=pmix".to_string()
    }

    fn warns_before_limit(&self) -> bool {
        true
    }

    fn requeue(&self) -> &'static str {
        "scontrol requeue \"$SLURM_JOB_ID\""
    }

    fn submit(&self, script: &Path) -> Result<String, BatchError> {
        let path = script.to_string_lossy();
        let answer = client("sbatch", &["--parsable", &path], None, |_| false)?;
        let id = answer.trim().split(';').next().unwrap_or("");
        if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit() || b == b'_') {
            return Err(BatchError::Answer {
                program: "sbatch".into(),
                answer,
            });
        }
        Ok(id.to_string())
    }

    fn queue(&self, id: &str) -> Result<Queue, BatchError> {
        let answer = client("squeue", &["-h", "-j", id, "-o", "%T"], None, |said| {
            said.contains(FORGOTTEN)
        })?;
        let state = answer.trim();
        Ok(match state {
            "" => Queue::Forgotten,
            s if PENDING.contains(&s) => Queue::Pending,
            s if RUNNING.contains(&s) => Queue::Running,
            s if s.bytes().all(|b| b.is_ascii_uppercase() || b == b'_') => {
                Queue::Ended(s.to_string())
            }
            _ => {
                return Err(BatchError::Answer {
                    program: "squeue".into(),
                    answer,
                })
            }
        })
    }

    fn cancel(&self, id: &str) -> Result<(), BatchError> {
        client("scancel", &[id], None, |_| false).map(drop)
    }
}

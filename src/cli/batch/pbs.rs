//! PBS Pro and OpenPBS: `qsub SCRIPT`, `qstat -f`, `qdel`, `qrerun`.
//!
//! - Resources are one chunk per node: `-l select=N:ncpus=R*C:mpiprocs=R`; whole nodes
//!   are `-l place=scatter:excl`. Ranks start with `mpirun -n K`.
//! - PBS does not warn a job before its walltime: the script sets a timer of its own.
//!   A stopped job requeues itself with `qrerun`.
//! - qsub answers the job id (`ID.SERVER`). `qstat -f ID` answers `Job Id: ID` and
//!   `key = value` lines, among them `job_state` (`Q`, `R`, `E`, `F`, ...); a job PBS
//!   has forgotten is `qstat: Unknown Job Id ID`.

use std::path::Path;

use super::{client, clock, BatchError, Queue, Resources, System};

pub struct Pbs;

/// qstat's states of a job that waits: queued, held, waiting, moved, in transit.
const PENDING: [&str; 5] = ["Q", "H", "W", "M", "T"];

/// qstat's states of a job that started: running, exiting, suspended, begun (arrays).
const RUNNING: [&str; 5] = ["R", "E", "S", "U", "B"];

impl System for Pbs {
    fn submit_program(&self) -> &'static str {
        "qsub"
    }

    fn directives(&self, resources: &Resources) -> String {
        let cores = resources.cores_per_rank.unwrap_or(1) * resources.ranks_per_node;
        let mut lines = vec![
            format!("-N {}", resources.name),
            format!(
                "-l select={}:ncpus={}:mpiprocs={}",
                resources.nodes, cores, resources.ranks_per_node
            ),
            format!("-o {}", resources.batch_output.display()),
            "-j oe".to_string(),
        ];
        if resources.cores_per_rank.is_none() {
            lines.push("-l place=scatter:excl".to_string());
        }
        if let Some(time) = resources.time {
            lines.push(format!("-l walltime={}", clock(time, false)));
        }
        lines.push(format!("-r {}", if resources.requeue { "y" } else { "n" }));
        lines.iter().map(|l| format!("#PBS {l}\n")).collect()
    }

    fn launcher(&self, ranks: u32) -> String {
        format!("mpirun -n {ranks}")
    }

    fn warns_before_limit(&self) -> bool {
        false
    }

    fn requeue(&self) -> &'static str {
        "qrerun \"$PBS_JOBID\""
    }

    fn submit(&self, script: &Path) -> Result<String, BatchError> {
        let path = script.to_string_lossy();
        let answer = client("qsub", &[&path], None, |_| false)?;
        let id = answer.trim();
        if id.is_empty() || id.contains(char::is_whitespace) {
            return Err(BatchError::Answer {
                program: "qsub".into(),
                answer,
            });
        }
        Ok(id.to_string())
    }

    fn queue(&self, id: &str) -> Result<Queue, BatchError> {
        let answer = client("qstat", &["-f", id], None, |said| {
            said.contains("Unknown Job Id")
        })?;
        if !answer.contains("Job Id:") {
            return Ok(Queue::Forgotten);
        }
        let state = answer.lines().find_map(|line| {
            let (key, value) = line.split_once('=')?;
            (key.trim() == "job_state").then(|| value.trim())
        });
        match state {
            Some(s) if PENDING.contains(&s) => Ok(Queue::Pending),
            Some(s) if RUNNING.contains(&s) => Ok(Queue::Running),
            Some(s) if s.len() == 1 && s.bytes().all(|b| b.is_ascii_uppercase()) => {
                Ok(Queue::Ended(s.into()))
            }
            _ => Err(BatchError::Answer {
                program: "qstat".into(),
                answer,
            }),
        }
    }

    fn cancel(&self, id: &str) -> Result<(), BatchError> {
        client("qdel", &[id], None, |_| false).map(drop)
    }
}

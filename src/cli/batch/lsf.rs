//! IBM Spectrum LSF: `bsub < SCRIPT`, `bjobs`, `bkill`.
//!
//! - bsub reads `#BSUB` lines only from a script on its standard input.
//! - Ranks start with `mpirun -n K`: Open MPI finds the LSF allocation by itself.
//! - The walltime warning is `-wa USR1 -wt MINUTES` (LSF's limits are whole minutes);
//!   requeue is `-Q "138"`: LSF itself requeues a job that exits with the code of a
//!   run stopped by the warning, so the script needs no statement of its own.
//! - bsub answers `Job <ID> is submitted to default queue <QUEUE>.`; `bjobs ID` answers
//!   a table whose third column (STAT) is the state (`PEND`, `RUN`, `DONE`, `EXIT`, ...);
//!   a job LSF has forgotten is `Job <ID> is not found`.

use std::path::Path;

use super::{client, minutes, BatchError, Queue, Resources, System};

pub struct Lsf;

/// bjobs' states of a job that waits: pending, or suspended before it started.
const PENDING: [&str; 3] = ["PEND", "PSUSP", "WAIT"];

/// bjobs' states of a job that started (running, or suspended while running).
const RUNNING: [&str; 3] = ["RUN", "USUSP", "SSUSP"];

impl System for Lsf {
    fn submit_program(&self) -> &'static str {
        "bsub"
    }

    fn directives(&self, resources: &Resources) -> String {
        let mut lines = vec![
            format!("-J {}", resources.name),
            format!("-n {}", resources.ranks()),
            format!("-R \"span[ptile={}]\"", resources.ranks_per_node),
            format!("-o {}", resources.batch_output.display()),
        ];
        match resources.cores_per_rank {
            Some(cores) => lines.push(format!("-R \"affinity[core({cores})]\"")),
            None => lines.push("-x".to_string()),
        }
        if let Some(time) = resources.time {
            lines.push(format!("-W {}", minutes(time)));
            lines.push("-wa USR1".to_string());
            lines.push(format!("-wt {}", minutes(resources.grace)));
        }
        if resources.requeue {
            lines.push(format!("-Q \"{}\"", super::script::WARNED_CODE));
        }
        lines.iter().map(|l| format!("#BSUB {l}\n")).collect()
    }

    fn launcher(&self, ranks: u32) -> String {
        format!("mpirun -n {ranks}")
    }

    fn warns_before_limit(&self) -> bool {
        true
    }

    fn requeue(&self) -> &'static str {
        // -Q requeues on the exit code.
        ":"
    }

    fn submit(&self, script: &Path) -> Result<String, BatchError> {
        let answer = client("bsub", &[], Some(script), |_| false)?;
        bracketed(&answer, "Job <")
            .filter(|id| id.bytes().all(|b| b.is_ascii_digit()))
            .map(str::to_string)
            .ok_or(BatchError::Answer {
                program: "bsub".into(),
                answer,
            })
    }

    fn queue(&self, id: &str) -> Result<Queue, BatchError> {
        let answer = client("bjobs", &[id], None, |said| said.contains("is not found"))?;
        let row = answer
            .lines()
            .find(|line| line.split_whitespace().next() == Some(id));
        let Some(row) = row else {
            return Ok(Queue::Forgotten);
        };
        match row.split_whitespace().nth(2) {
            Some(s) if PENDING.contains(&s) => Ok(Queue::Pending),
            Some(s) if RUNNING.contains(&s) => Ok(Queue::Running),
            Some(s) if s.bytes().all(|b| b.is_ascii_uppercase()) => Ok(Queue::Ended(s.into())),
            _ => Err(BatchError::Answer {
                program: "bjobs".into(),
                answer,
            }),
        }
    }

    fn cancel(&self, id: &str) -> Result<(), BatchError> {
        client("bkill", &[id], None, |_| false).map(drop)
    }
}

/// The text between `<` and `>` after `lead` in `text`.
fn bracketed<'a>(text: &'a str, lead: &str) -> Option<&'a str> {
    let start = text.find(lead)? + lead.len();
    let end = text[start..].find('>')?;
    Some(&text[start..start + end])
}

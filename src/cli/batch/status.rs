//! A job's state as `jobs`, `peek` and `wait` report it: the batch system's view
//! joined with what the job wrote itself.
//!
//! - While the batch system has the job pending or running, that is its state.
//! - Once the system says it ended, or has forgotten it, the exit code the script wrote
//!   decides: `done` (0) or `failed` (its code). A job `taskloom cancel` asked to end is
//!   `cancelled`. Without an exit code the job ended outside the command (a time limit,
//!   a node failure): the system's own word, or `lost` when it has forgotten the job.

use super::record::Record;
use super::{BatchError, Queue};

/// Where a job is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Running,
    Done,
    Failed(i32),
    Cancelled,
    /// Ended without an exit code; the batch system's word for how, lowercase.
    Ended(String),
    /// Ended without an exit code, and the batch system has forgotten it.
    Lost,
}

/// The exit code `wait` gives a cancelled job: a run stopped by SIGTERM (128 + 15).
const CANCELLED_CODE: i32 = 143;

impl Status {
    /// Whether the job is over (nothing more will happen to it).
    pub fn over(&self) -> bool {
        !matches!(self, Status::Pending | Status::Running)
    }

    /// The state in one word, for `jobs` and `peek`.
    pub fn word(&self) -> String {
        match self {
            Status::Pending => "pending".into(),
            Status::Running => "running".into(),
            Status::Done => "done".into(),
            Status::Failed(code) => format!("failed({code})"),
            Status::Cancelled => "cancelled".into(),
            Status::Ended(word) => word.clone(),
            Status::Lost => "lost".into(),
        }
    }

    /// How a job that did not succeed ended, as `wait` says it after "job ID".
    pub fn sentence(&self) -> String {
        match self {
            Status::Failed(code) => format!("failed with exit code {code}"),
            Status::Cancelled => "was cancelled".into(),
            Status::Ended(word) => format!("ended without an exit code ({word})"),
            Status::Lost => {
                "ended without an exit code, and the batch system no longer knows it".into()
            }
            other => other.word(),
        }
    }

    /// The exit code `wait` ends with: the command's own, 143 for a cancelled job, 1 for
    /// one that ended without an exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            Status::Done => 0,
            Status::Failed(code) => *code,
            Status::Cancelled => CANCELLED_CODE,
            Status::Pending | Status::Running | Status::Ended(_) | Status::Lost => 1,
        }
    }
}

/// The job's state now.
pub fn status(record: &Record) -> Result<Status, BatchError> {
    // The queue first: a job the system calls ended has written its exit code already.
    let queue = record.kind()?.system().queue(&record.id)?;
    Ok(match queue {
        Queue::Pending => Status::Pending,
        Queue::Running => Status::Running,
        Queue::Ended(_) | Queue::Forgotten if record.cancelled() => Status::Cancelled,
        ended => match (record.exit_code(), ended) {
            (Some(0), _) => Status::Done,
            (Some(code), _) => Status::Failed(code),
            (None, Queue::Ended(word)) => Status::Ended(word.to_lowercase()),
            (None, _) => Status::Lost,
        },
    })
}

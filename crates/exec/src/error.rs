//! Why a run failed.

use std::time::Duration;

use taskloom_graph::{EvalError, Graph, KeyId};
use taskloom_sched::Failure;
use thiserror::Error;

/// The op a failure names when a result written past the memory limit cannot be read
/// back: the failure is the executor's, not a task's own op's.
const READ_BACK_OP: &str = "(read back)";

/// A failed run: the message names the key, the op and the cause.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum RunError {
    /// A task's op failed.
    #[error("task '{key}' failed in op '{op}': {cause}")]
    Task {
        key: String,
        op: String,
        cause: String,
    },
    /// The process running a task died (or was killed on a timeout), after retries.
    #[error("task '{key}' failed: {cause}")]
    WorkerDied { key: String, cause: String },
    /// A task ran longer than the task timeout on a thread, which cannot be taken
    /// back: the run ended without it (its shell commands ended).
    #[error("task '{key}' failed: it ran longer than the task timeout ({limit:?})")]
    TimedOut { key: String, limit: Duration },
    /// A stop was requested (`Stop`), for this signal.
    #[error("stopped by {}", taskloom_child::signal_name(*.signal))]
    Stopped { signal: i32 },
    /// The operating system refused to start a worker.
    #[error("cannot start a worker thread: {0}")]
    Spawn(String),
    /// The environment the run started in cannot serve it: a setting's value, an MPI
    /// library without the thread support needed.
    #[error("{0}")]
    Environment(String),
    /// A bug in taskloom itself, reported instead of hanging.
    #[error("internal error: {0}")]
    Internal(String),
}

impl RunError {
    /// The error of a run the scheduler core failed with `failure`.
    pub fn failed(graph: &Graph, failure: Failure) -> RunError {
        match failure {
            Failure::Task { key, op, cause } => RunError::Task {
                key: graph.name(key).to_string(),
                op,
                cause,
            },
            Failure::WorkerDied { key, cause } => RunError::WorkerDied {
                key: graph.name(key).to_string(),
                cause,
            },
        }
    }

    /// The error of a run in which the result of `key`, written past the memory limit,
    /// could not be read back (`cause`) for a task or a transfer: the executor's
    /// failure, not an op's, named by the key whose result was lost.
    pub fn unreadable(graph: &Graph, key: KeyId, cause: impl std::fmt::Display) -> RunError {
        RunError::Task {
            key: graph.name(key).to_string(),
            op: READ_BACK_OP.to_string(),
            cause: format!("its result cannot be read back from its scratch file: {cause}"),
        }
    }

    /// The error of task `key` whose evaluation failed with `error`.
    pub fn task(graph: &Graph, key: KeyId, error: EvalError) -> RunError {
        match error {
            EvalError::Op { op, cause } => RunError::Task {
                key: graph.name(key).to_string(),
                op: graph.op_name(op).to_string(),
                cause: cause.0,
            },
            EvalError::MissingInput(input) => RunError::Internal(format!(
                "task '{}' ran before its input '{}' was there",
                graph.name(key),
                graph.name(input)
            )),
        }
    }
}

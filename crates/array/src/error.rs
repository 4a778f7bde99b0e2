//! Why an array operation could not be built or computed.

use thiserror::Error;

/// An array error. Those found while building an expression (shapes, axes, indices)
/// are the caller's input; a failed run names the task, op and chunk.
#[derive(Debug, Error)]
pub enum ArrayError {
    /// Operands or arguments that do not fit the operation; the message names them.
    #[error("{0}")]
    Invalid(String),
    /// Reading or writing Zarr storage failed.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    /// A task failed while computing.
    #[error(transparent)]
    Run(#[from] taskloom_exec::RunError),
    /// Signal number `signal` stopped the run; nothing it wrote is left.
    #[error("interrupted by {}", taskloom_child::signal_name(*signal))]
    Interrupted { signal: i32 },
}

impl ArrayError {
    /// An invalid-input error with `message`.
    pub fn invalid(message: impl Into<String>) -> Self {
        ArrayError::Invalid(message.into())
    }
}

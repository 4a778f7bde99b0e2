//! Why an item of a pool map failed, or why a map could not start.
//!
//! Errors are per item: one failing item does not lose the results of the others
//! (`map_results`, `map_unordered`); `map` reports the failed item with the lowest
//! index.

use thiserror::Error;

/// A failed item, or a map that could not start.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum PoolError {
    /// The op returned an error (or panicked) on item `index`.
    #[error("item {index} failed in op '{op}': {cause}")]
    Item {
        index: usize,
        op: String,
        cause: String,
    },
    /// The worker process died (a crash, a signal, the OOM killer) while it ran item
    /// `index` alone: the items of a chunk whose worker dies run again one by one, so
    /// that this error is the crashing item's own. (Or no worker could be started in
    /// the dead one's place.) The cause names the signal or exit code.
    #[error("item {index} (op '{op}') failed: {cause}")]
    WorkerDied {
        index: usize,
        op: String,
        cause: String,
    },
    /// The pool shut down (or lost its workers) before item `index` finished.
    #[error("item {index} (op '{op}') did not finish: the pool shut down")]
    Closed { index: usize, op: String },
    /// The op is not in the thread pool's registry.
    #[error("unknown op '{0}': register it on the pool's registry")]
    UnknownOp(String),
    /// `Chunking::Fixed(0)` or `Chunking::Dynamic(0)`.
    #[error("chunk size must be at least 1")]
    ZeroChunkSize,
    /// The operating system refused to start a worker, or a worker process did not
    /// start serving.
    #[error("cannot start the pool's workers: {0}")]
    Spawn(String),
}

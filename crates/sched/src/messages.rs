//! What a driver and the scheduler core say to each other: one typed message per thing
//! that happens (`Event`) and per thing to do (`Decision`).
//!
//! The driver's side of the protocol:
//! - Every `Transfer` it is given ends with exactly one `Arrived` or `TransferFailed`,
//!   unless its destination is lost first (`WorkerLost` covers it then).
//! - Every `Run` ends with `Finished` or `Failed`, unless it is cancelled or its worker
//!   is lost.
//! - A worker runs a task once every input is there (arrived, or computed there by a
//!   task given to it earlier), and never starts a task it was told to `Cancel`.

use taskloom_graph::KeyId;

/// A worker's index, in order of joining.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct WorkerId(pub u32);

/// What happened, as the driver reports it.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// Task `key` finished on `worker`, which now holds its result of `bytes` bytes.
    Finished {
        key: KeyId,
        worker: WorkerId,
        bytes: u64,
    },
    /// Task `key` failed on `worker` with `cause` (the op's name and why).
    Failed {
        key: KeyId,
        worker: WorkerId,
        op: String,
        cause: String,
    },
    /// A `Transfer` of `key` to `worker` is complete: `worker` holds it now.
    Arrived { key: KeyId, worker: WorkerId },
    /// A `Transfer` of `key` to `worker` cannot be made (its source died before the
    /// bytes left it).
    TransferFailed { key: KeyId, worker: WorkerId },
    /// `worker` is gone (it died, or was killed), with every result it held.
    WorkerLost { worker: WorkerId, cause: String },
}

/// What the driver must do, in the order given.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Send the result of `key` from worker `from`, which holds it, to worker `to`:
    /// directly or through the driver, as the executor chooses.
    Transfer {
        key: KeyId,
        from: WorkerId,
        to: WorkerId,
    },
    /// Run `key` on `worker`. Each input is there already or on its way: a transfer
    /// ordered earlier, or a task given to the same worker earlier.
    Run { key: KeyId, worker: WorkerId },
    /// Take back `key`, given to `worker` but not started: an input it waits for will
    /// not come. The core schedules it again.
    Cancel { key: KeyId, worker: WorkerId },
    /// Drop the result of `key` on these workers: nothing needs it any more.
    Release { key: KeyId, workers: Vec<WorkerId> },
}

/// Why a run failed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// A task's op failed (after its retries).
    Task {
        key: KeyId,
        op: String,
        cause: String,
    },
    /// The worker running a task died while running it alone (after the task's
    /// retries). Replacing lost workers is the driver's part: the core waits for
    /// `add_worker`.
    WorkerDied { key: KeyId, cause: String },
}

/// Where a run stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Status {
    Running,
    /// Every requested key is computed: `Scheduler::placement` says where each is.
    Finished,
    Failed(Failure),
}

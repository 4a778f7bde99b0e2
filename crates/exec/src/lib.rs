//! Executors: what runs a plan's tasks, and where.
//!
//! Every executor takes the same `Plan` and must give the same results; they differ in
//! where tasks run (the calling thread, a thread pool, worker processes; MPI ranks in
//! the `taskloom-mpi` crate) and so in speed and isolation.

mod error;
mod idle;
mod limits;
#[cfg(all(test, feature = "loom"))]
mod model;
mod observe;
pub mod owned;
mod pool;
mod primitives;
mod process;
mod progress;
mod sequential;
mod slots;
mod spill;
mod spill_file;
mod stop;
mod task;
mod threads;
mod trace;
mod watch;

use std::sync::Arc;

use taskloom_graph::Value;
use taskloom_sched::Plan;

pub use error::RunError;
pub use limits::Limits;
pub use observe::Observers;
pub use pool::{Chunking, Handle, MapUnordered, Pool, PoolError, ProcessPool, ThreadPool};
pub use process::{serve as serve_worker, Processes, WORKER_ENV};
pub use progress::Progress;
pub use sequential::Sequential;
pub use spill::{MemoryLimit, SpillCounts};
pub use stop::{on_signals, Catching, Stop};
pub use threads::Threads;
pub use trace::{Span, Trace};

/// The process executor's messages and task logic, for executors whose workers are
/// reached another way (the MPI executor's ranks, in `taskloom-mpi`): one protocol and
/// one way to run a task, whatever carries the messages.
pub mod worker {
    pub use crate::process::protocol::{
        encode_load, receive, send, send_encoded, Program, Reply, Request, WorkerLimit,
    };
    pub use crate::process::tasks::{bind, evaluate, Evaluated, Tasks};
}

/// Runs a plan to completion.
pub trait Executor {
    /// The values of the plan's targets, in the order they were requested.
    fn run(&self, plan: Arc<Plan>) -> Result<Vec<Value>, RunError>;
}

//! taskloom: a parallel task-graph engine.
//!
//! Split a program into tasks, named ops applied to arguments, whose dependencies form
//! a graph; taskloom computes the keys you ask for, running only the tasks they need,
//! on every core. Graphs come from files (see `Runtime::load`) or from code
//! (`Builder` and `Delayed`).
//!
//! The layers are separate crates, re-exported here: `graph` (values, parsing,
//! validation, ordering), `sched` (plans and priorities), `exec` (executors), `mpi`
//! (the MPI executor, with the `mpi` feature), `array`
//! (chunked arrays larger than memory, on Zarr storage), `checkpoint` (stored results
//! that a run resumes from).

pub mod allocator;
mod delayed;
mod error;
mod runtime;

pub use delayed::{Arg, Builder, Delayed, IntoArgs};
pub use error::Error;
#[cfg(feature = "mpi")]
pub use runtime::serve_mpi_worker_if_rank_nonzero;
pub use runtime::{serve_worker_if_requested, Program, Runtime};

pub use taskloom_array as array;
pub use taskloom_checkpoint as checkpoint;
pub use taskloom_exec as exec;
pub use taskloom_graph as graph;
#[cfg(feature = "mpi")]
pub use taskloom_mpi as mpi;
pub use taskloom_sched as sched;

pub use taskloom_exec::{Chunking, Handle, MapUnordered, Pool, PoolError, ProcessPool, ThreadPool};
pub use taskloom_exec::{Executor, Processes, Sequential, Threads};
pub use taskloom_graph::{FromValue, Graph, KeyId, OpError, OpResult, Registry, Value};
#[cfg(feature = "mpi")]
pub use taskloom_mpi::Mpi;

//! One map (or one submitted call) in flight: its items, the op to call, and where
//! its results go. Both pool kinds share it, so that `map`, `map_unordered` and
//! `submit` behave the same over threads and processes.

use std::sync::mpsc;
use std::sync::Arc;

use taskloom_graph::{OpFn, Value};

use crate::pool::error::PoolError;

/// Items to call one op on.
pub(crate) struct Job {
    /// The op's name (for processes, the only thing sent; for errors, always).
    pub op: Arc<str>,
    /// The op itself, for thread pools.
    pub func: Option<OpFn>,
    pub items: Vec<Value>,
    /// Each item is a list of arguments (`starmap`, `submit`) rather than the one
    /// argument.
    pub spread: bool,
    pub sink: mpsc::Sender<Batch>,
}

/// Items `start..end` of a job: what one worker runs at a time.
#[derive(Clone)]
pub(crate) struct Chunk {
    pub job: Arc<Job>,
    pub start: usize,
    pub end: usize,
}

impl Chunk {
    pub fn items(&self) -> &[Value] {
        &self.job.items[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// Delivers this chunk's results (one per item, in order).
    pub fn deliver(&self, results: Vec<Result<Value, Failure>>) {
        // The receiver may be gone (a dropped iterator): the results are not wanted.
        let _ = self.job.sink.send(Batch {
            start: self.start,
            results,
        });
    }

    /// Fails every item of this chunk with `failure`.
    pub fn fail(&self, failure: Failure) {
        self.deliver(vec![Err(failure); self.len()]);
    }
}

/// The results of one chunk, for the job's receiver.
pub(crate) struct Batch {
    pub start: usize,
    pub results: Vec<Result<Value, Failure>>,
}

/// Why one item failed, before its index and op name are attached.
#[derive(Clone, Debug)]
pub(crate) enum Failure {
    Op(String),
    Died(String),
    Closed,
}

impl Failure {
    pub fn at(self, index: usize, op: &str) -> PoolError {
        let op = op.to_string();
        match self {
            Failure::Op(cause) => PoolError::Item { index, op, cause },
            Failure::Died(cause) => PoolError::WorkerDied { index, op, cause },
            Failure::Closed => PoolError::Closed { index, op },
        }
    }
}

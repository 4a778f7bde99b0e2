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

    /// Delivers this chunk's results: one value per item, in order (`Null` where
    /// the item failed), and the failures by item index.
    pub fn deliver(&self, values: Vec<Value>, failures: Vec<(usize, Failure)>) {
        // The receiver may be gone (a dropped iterator): the results are not wanted.
        let _ = self.job.sink.send(Batch {
            start: self.start,
            values,
            failures,
        });
    }

    /// Fails every item of this chunk with `failure`.
    pub fn fail(&self, failure: Failure) {
        let failures = (self.start..self.end)
            .map(|i| (i, failure.clone()))
            .collect();
        self.deliver(vec![Value::Null; self.len()], failures);
    }
}

/// The results of one chunk, for the job's receiver: values in item order, and the
/// (rare) failures apart, so that the common case moves plain values only.
pub(crate) struct Batch {
    pub start: usize,
    pub values: Vec<Value>,
    /// (item index, why), in index order.
    pub failures: Vec<(usize, Failure)>,
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

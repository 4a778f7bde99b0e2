//! One map (or one submitted call) in flight: its items, the op to call, and where
//! its results go. Both pool kinds share it, so that `map`, `map_unordered` and
//! `submit` behave the same over threads and processes.
//!
//! A job runs in batches (the chunks of `Chunking`, named as `multiprocessing`'s
//! task batches are): items `start..end`, handed to one worker at a time. Each batch
//! delivers its results to the job's receiver as one `Delivery`.

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
    pub sink: mpsc::Sender<Delivery>,
}

/// Items `start..end` of a job: what one worker runs at a time.
#[derive(Clone)]
pub(crate) struct Batch {
    pub job: Arc<Job>,
    pub start: usize,
    pub end: usize,
}

impl Batch {
    /// Every item of `job`, as one batch.
    pub fn whole(job: Arc<Job>) -> Batch {
        Batch {
            end: job.items.len(),
            job,
            start: 0,
        }
    }

    pub fn items(&self) -> &[Value] {
        &self.job.items[self.start..self.end]
    }

    pub fn len(&self) -> usize {
        self.end - self.start
    }

    /// This batch's items, each a batch of its own, in order.
    pub fn singles(self) -> impl DoubleEndedIterator<Item = Batch> {
        (self.start..self.end).map(move |i| Batch {
            job: Arc::clone(&self.job),
            start: i,
            end: i + 1,
        })
    }

    /// Delivers one result per item, in order: an error fails its item only.
    pub fn deliver_results(&self, results: impl IntoIterator<Item = Result<Value, String>>) {
        let mut values = Vec::with_capacity(self.len());
        let mut faults = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(value) => values.push(value),
                Err(cause) => {
                    values.push(Value::Null);
                    faults.push((self.start + i, Fault::Op(cause)));
                }
            }
        }
        self.deliver(values, faults);
    }

    /// Fails every item of this batch with `fault`.
    pub fn fail(&self, fault: Fault) {
        let faults = (self.start..self.end).map(|i| (i, fault.clone())).collect();
        self.deliver(vec![Value::Null; self.len()], faults);
    }

    /// Delivers this batch's results: one value per item, in order (`Null` where
    /// the item failed), and the faults by item index.
    fn deliver(&self, values: Vec<Value>, faults: Vec<(usize, Fault)>) {
        // The receiver may be gone (a dropped iterator): the results are not wanted.
        let _ = self.job.sink.send(Delivery {
            start: self.start,
            values,
            faults,
        });
    }
}

/// The results of one batch, for the job's receiver: values in item order, and the
/// (rare) faults apart, so that the common case moves plain values only.
pub(crate) struct Delivery {
    pub start: usize,
    pub values: Vec<Value>,
    /// (item index, why), in index order.
    pub faults: Vec<(usize, Fault)>,
}

/// Why one item failed, before its index and op name make it a `PoolError`.
#[derive(Clone, Debug)]
pub(crate) enum Fault {
    Op(String),
    Died(String),
    Closed,
}

impl Fault {
    pub fn at(self, index: usize, op: &str) -> PoolError {
        let op = op.to_string();
        match self {
            Fault::Op(cause) => PoolError::Item { index, op, cause },
            Fault::Died(cause) => PoolError::WorkerDied { index, op, cause },
            Fault::Closed => PoolError::Closed { index, op },
        }
    }
}

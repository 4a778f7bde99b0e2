//! What the workers of a checkpointed run need, wherever they run: the store, the
//! digest of each result to keep, and the op that reads a stored result.
//!
//! - Serializable, so that the process protocol (and any executor that reuses it)
//!   sends it to workers with the program: results are saved by the worker that made
//!   them and read by the worker that needs them, never carried to the driver for it.
//! - `keep` is the one place a result is saved: every executor calls it where a
//!   worker keeps a finished task's result.
//! - The read op is bound by its id in the graph (`op`), not by name, so a user op
//!   that happens to share its name is never taken for it.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use taskloom_graph::{KeyId, OpError, OpFn, OpId, Value};

use crate::digest::Digest;
use crate::store::{EntryError, Store};

/// The op name of checkpoint work: the task that reads a stored result (as traces
/// and timelines show it), and the op a task error names when a result cannot be
/// saved.
pub const CHECKPOINT_OP: &str = "checkpoint";

/// A run's checkpoint, as its workers see it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Checkpoint {
    store: Store,
    /// The digest under which to keep each key's result (`None`: not kept).
    keep: Vec<Option<Digest>>,
    /// The id of the op that reads a stored result, if the run reads any.
    load: Option<OpId>,
}

impl Checkpoint {
    pub(crate) fn new(store: Store, keep: Vec<Option<Digest>>, load: Option<OpId>) -> Self {
        Checkpoint { store, keep, load }
    }

    /// The store results are kept in.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Saves the result of task `key` if it is to be kept. Called by the worker that
    /// computed it, as soon as it has; an error is the task's failure, in op
    /// `CHECKPOINT_OP`.
    pub fn keep(&self, key: KeyId, value: &Value) -> Result<(), String> {
        let Some(Some(digest)) = self.keep.get(key.index()) else {
            return Ok(());
        };
        self.store.save(digest, value).map_err(|e| {
            format!(
                "cannot save its result in {}: {e}",
                self.store.dir().display()
            )
        })
    }

    /// The implementation of op `op` when it is the op that reads stored results;
    /// `None` for every other op, which the registry binds as usual.
    pub fn op(&self, op: OpId) -> Option<OpFn> {
        (self.load == Some(op)).then(|| load_op(self.store.clone()))
    }
}

/// The op that reads a stored result: its one argument is the digest, as bytes.
pub(crate) fn load_op(store: Store) -> OpFn {
    Arc::new(move |args: &[Value]| {
        let digest = match args {
            [Value::Bytes(bytes)] => bytes
                .as_ref()
                .try_into()
                .map(Digest)
                .map_err(|_| OpError::new("a digest is 32 bytes"))?,
            _ => return Err(OpError::new("takes one digest")),
        };
        store.load(&digest).map_err(|error| {
            // A damaged entry goes, so that the next run computes the result again.
            if let EntryError::Damaged(_) = error {
                store.holds(&digest);
            }
            OpError::new(format!(
                "cannot read the stored result {digest} in {}: {error}; run again to compute it",
                store.dir().display()
            ))
        })
    })
}

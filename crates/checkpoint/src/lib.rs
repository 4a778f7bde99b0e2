//! Checkpoints: a content-addressed store of task results, so that running the same
//! graph again computes only what is not stored (joblib.Memory's idea, for graphs).
//!
//! - A result is named by a `Digest` of how it is computed (its ops and their versions,
//!   its literals, its inputs' digests), known before anything runs (`digest.rs`).
//! - Only results of pure ops are kept (`taskloom_graph::ops::Purity`); anything
//!   downstream of an effect has no digest.
//! - The `Store` is a directory of entries written atomically, each checked against
//!   its length and hash when read (`store.rs`).
//! - A resumed run rewrites its graph so that each stored result it needs becomes a
//!   task with no inputs that reads it (`resume.rs`): the tasks upstream are culled
//!   away, and the result is read by whichever worker runs that task.
//! - Workers save what they compute through one call, `Checkpoint::keep`, which the
//!   `Checkpoint` they are sent (with the program) makes available anywhere
//!   (`checkpoint.rs`).

mod checkpoint;
mod digest;
mod resume;
mod store;

pub use checkpoint::{Checkpoint, CHECKPOINT_OP};
pub use digest::{digests, Digest};
pub use resume::{resume, Resumed};
pub use store::{EntryError, Stats, Store, StoreError};

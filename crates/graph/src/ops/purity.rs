//! Whether an op's result depends on its arguments alone.
//!
//! - A pure op gives the same value for the same arguments, every time and anywhere:
//!   its results may be kept and reused (a checkpoint), named by a hash of the op, its
//!   version and its arguments.
//! - The version names what the op computes: raising it when the op comes to compute
//!   something else keeps old stored results from being reused.
//! - Everything else (time, randomness, processes, files, failing on purpose) is an
//!   effect, and never kept. An op is an effect unless registered as pure: a wrong
//!   "effect" costs a recomputation, a wrong "pure" a wrong result.

use serde::{Deserialize, Serialize};

/// An op's purity, as registered.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Purity {
    /// The result depends on the arguments alone; `version` names what is computed.
    Pure { version: u32 },
    /// The op has effects or may differ between calls: its results are never kept.
    Effect,
}

impl Purity {
    /// Whether results may be kept.
    pub fn is_pure(self) -> bool {
        matches!(self, Purity::Pure { .. })
    }
}

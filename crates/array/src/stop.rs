//! Stopping a run from outside, at a signal, so that it ends the way a failed run
//! does: no task left running, its partial output and scratch removed.
//!
//! - A job's ops are wrapped to check the job's own stop request before each call:
//!   once it is made, the next call fails, the executor starts nothing more and waits
//!   for the calls already running (it settles on failure). No state is shared between
//!   jobs and no executor needs to know.
//! - The request is the executors' own [`Stop`], which `Stop::on_signals` raises at
//!   the terminating signals, whichever `taskloom_child::Interrupts` catches. It is
//!   not given to the executor: that would end the run at once, while a write may
//!   still be going into the partial output this crate must then remove.

use std::sync::Arc;

use taskloom_exec::Stop;
use taskloom_graph::{OpError, OpFn};

/// `ops`, each failing instead of running once `stop` is requested.
pub(crate) fn stopping(ops: Vec<OpFn>, stop: &Stop) -> Vec<OpFn> {
    ops.into_iter()
        .map(|op| -> OpFn {
            let stop = stop.clone();
            Arc::new(move |args| {
                if stop.requested().is_some() {
                    return Err(OpError::new("the run was interrupted"));
                }
                op(args)
            })
        })
        .collect()
}

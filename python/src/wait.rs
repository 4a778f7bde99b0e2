//! Waiting for the engine from Python: the work runs on a thread of its own while the
//! caller waits with the GIL released, and Ctrl-C stops it.
//!
//! - The caller looks for a pending signal every `TICK`: prompt for a person, no cost
//!   to speak of (the engine's executors look for a stop request as often).
//! - At Ctrl-C the run's `Stop` is requested; the caller waits until the run has
//!   ended (its workers gone, its partial output removed) and raises the
//!   KeyboardInterrupt, so that nothing outlives the call.

use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread;
use std::time::Duration;

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use taskloom_exec::Stop;

/// How often a waiting caller looks for Ctrl-C.
const TICK: Duration = Duration::from_millis(50);

/// The signal a Ctrl-C stops a run for.
const SIGINT: i32 = 2;

/// Runs `work` on a thread named `name`, which `stop` stops, and returns its outcome;
/// Ctrl-C meanwhile stops it and raises KeyboardInterrupt once it has ended.
pub fn interruptible<T: Send + 'static>(
    py: Python<'_>,
    name: &str,
    stop: &Stop,
    work: impl FnOnce() -> T + Send + 'static,
) -> PyResult<T> {
    let (sender, outcome) = mpsc::channel();
    thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let _ = sender.send(work());
        })
        .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
    py.detach(move || loop {
        match outcome.recv_timeout(TICK) {
            Ok(outcome) => return Ok(outcome),
            Err(RecvTimeoutError::Timeout) => {
                if let Err(interrupt) = Python::attach(|py| py.check_signals()) {
                    stop.request(SIGINT);
                    // The work ends what it started before it returns.
                    let _ = outcome.recv();
                    return Err(interrupt);
                }
            }
            Err(RecvTimeoutError::Disconnected) => {
                return Err(PyRuntimeError::new_err(format!(
                    "internal error: {name} ended without an outcome"
                )))
            }
        }
    })
}

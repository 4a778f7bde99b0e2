//! Where a map's items run: as children of this process ([`Local`]), or elsewhere, on
//! runners that a front end reaches (the ranks of an MPI job), so that this crate
//! knows no transport.
//!
//! - Either way the caller keeps the run: output order, the results log, resuming and
//!   the final report stay in [`crate::run`]; a place only runs attempts and reports
//!   each item's end as it comes.
//! - A place elsewhere halts as [`crate::course::Course`] decides and runs each item
//!   with [`crate::runner::run_fed`], so that retries, timeouts and halts behave the
//!   same wherever an item runs.

use std::ffi::OsString;

use crate::runner::{self, Ended, Flow, Options, Stop};
use crate::Error;

/// Runs items `0..count` as [`runner::run`] does, wherever they run.
pub trait Place {
    /// Runs the items whose command lines `command_line` gives, by `options`, and
    /// reports each to `on_end` as it ends; returns once no attempt runs anywhere.
    fn run(
        &mut self,
        count: usize,
        command_line: &mut dyn FnMut(usize) -> Vec<OsString>,
        options: &Options,
        on_end: &mut dyn FnMut(Ended) -> Flow,
    ) -> Result<Stop, Error>;
}

/// Items run as children of this process.
pub struct Local;

impl Place for Local {
    fn run(
        &mut self,
        count: usize,
        command_line: &mut dyn FnMut(usize) -> Vec<OsString>,
        options: &Options,
        on_end: &mut dyn FnMut(Ended) -> Flow,
    ) -> Result<Stop, Error> {
        runner::run(count, command_line, options, on_end)
    }
}

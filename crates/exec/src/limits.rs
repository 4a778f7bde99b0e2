//! What every executor takes the same way besides its observers: how often a failed
//! task runs again, how long a task may run, and the request that stops a run early.

use std::time::Duration;

use crate::stop::Stop;

/// The limits of a run; the default retries nothing, times nothing out and is never
/// stopped. Every executor honours each of them (see `watch.rs` for what a timeout
/// can and cannot end on a thread).
#[derive(Clone, Debug, Default)]
pub struct Limits {
    /// How many more times a failed task runs.
    pub retries: u32,
    /// How long a task may run before it fails (and its shell commands are ended).
    pub task_timeout: Option<Duration>,
    /// Ends the run early when requested.
    pub stop: Option<Stop>,
}

impl Limits {
    /// The signal a stop was requested for, if one was.
    pub fn stopped(&self) -> Option<i32> {
        self.stop.as_ref().and_then(Stop::requested)
    }

    /// How long a waiting executor may sleep before it looks for a stop request and
    /// for tasks past their timeout: a quarter of the timeout, at most `TICK`.
    pub fn tick(&self) -> Duration {
        let tick = crate::stop::TICK;
        self.task_timeout
            .map_or(tick, |t| (t / 4).clamp(Duration::from_millis(1), tick))
    }
}

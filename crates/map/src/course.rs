//! What the end of an item, a signal, or a stop asked from elsewhere means for the rest
//! of a run: whether more items start, how the run stops, and what becomes of the
//! attempts still running.
//!
//! - The one place of the halt policy: the runner of this machine follows it, and so
//!   does a front end that runs the items elsewhere (on other ranks) and tells them
//!   what it decided, so that a run halts alike wherever its items run.
//! - Only the first failure halts; an attempt the halt itself stopped is no new one.
//! - A terminating signal stops the run whatever stopped it before; a second one
//!   leaves the running attempts no grace.

use crate::runner::{Ended, Flow, Halt, Stop, Stopped};

/// The state of a run that decides how it goes on; see the module header.
#[derive(Debug)]
pub struct Course {
    halt: Halt,
    accepting: bool,
    stop: Stop,
}

/// What must happen to the running attempts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cut {
    /// SIGTERM to each attempt's group, SIGKILL after the grace; the attempt is
    /// stopped for this reason.
    Cancel(Stopped),
    /// SIGKILL to each attempt's group now.
    Kill,
}

impl Course {
    /// A run that has not started, failing by `halt`.
    pub fn new(halt: Halt) -> Self {
        Course {
            halt,
            accepting: true,
            stop: Stop::Done,
        }
    }

    /// Whether more items may start.
    pub fn accepting(&self) -> bool {
        self.accepting
    }

    /// How the run stops, as far as decided.
    pub fn stop(&self) -> Stop {
        self.stop
    }

    /// Hands `ended` to `on_end` and applies what follows: a caller that abandons the
    /// run stops it; a failure of the item's own halts it by the halt policy.
    pub fn conclude(&mut self, ended: Ended, on_end: &mut dyn FnMut(Ended) -> Flow) -> Option<Cut> {
        let mut flow = if ended.failed_by_itself() {
            Flow::Failed
        } else {
            Flow::Go
        };
        flow = flow.max(on_end(ended));
        if !self.accepting {
            return None;
        }
        match flow {
            Flow::Abandon => self.stop_by(Stop::Abandoned),
            Flow::Failed if self.halt == Halt::Now => self.stop_by(Stop::Halted),
            Flow::Failed if self.halt == Halt::Soon => {
                self.accepting = false;
                self.stop = Stop::Halted;
                None
            }
            Flow::Failed | Flow::Go => None,
        }
    }

    /// A terminating signal arrived: the run stops; at the second one the running
    /// attempts get no more grace.
    pub fn interrupt(&mut self, signal: i32) -> Option<Cut> {
        match self.stop {
            Stop::Interrupted(_) => Some(Cut::Kill),
            _ => self.stop_by(Stop::Interrupted(signal)),
        }
    }

    /// Stops the run as `stop` says, unless it is stopping that way already: the
    /// decision of the process that hands out the items, or this run's own.
    pub fn stop_by(&mut self, stop: Stop) -> Option<Cut> {
        let reason = match (stop, self.stop) {
            (Stop::Done, _) | (Stop::Interrupted(_), Stop::Interrupted(_)) => return None,
            (Stop::Interrupted(_), _) => Stopped::Interrupt,
            (Stop::Halted | Stop::Abandoned, _) if !self.accepting => return None,
            (Stop::Halted, _) => Stopped::Halt,
            (Stop::Abandoned, _) => Stopped::Abandon,
        };
        self.accepting = false;
        self.stop = stop;
        Some(Cut::Cancel(reason))
    }

    /// The machine refused what the run needs: no item starts any more, and the
    /// running ones are stopped (the error, not the stop, is the run's outcome).
    pub fn fail(&mut self) -> Option<Cut> {
        self.accepting = false;
        Some(Cut::Cancel(Stopped::Halt))
    }

    /// How the run stopped, once nothing runs. A signal `pending` as the last item
    /// ended still stops it: the caller then exits as the signal asked, not as if all
    /// went well.
    pub fn finish(self, pending: Option<i32>) -> Stop {
        match (pending, self.stop) {
            (Some(signal), Stop::Done | Stop::Halted) => Stop::Interrupted(signal),
            (_, stop) => stop,
        }
    }
}

//! Stopping a run from outside, at a signal, so that it ends the way a failed run
//! does: no task left running, its partial output and scratch removed.
//!
//! - A job's ops are wrapped to check the job's own flag before each call: once it is
//!   set, the next call fails, the executor starts nothing more and waits for the
//!   calls already running (it settles on failure). No state is shared between jobs
//!   and no executor needs to know.
//! - The signals are those `taskloom_child::Interrupts` catches, whichever they are: a
//!   watcher thread polls their sockets, and a wake socket the end of the run writes
//!   to, so the watcher ends with the run.

use std::io::Write;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustix::event::{poll, PollFd, PollFlags};
use taskloom_child::Interrupts;
use taskloom_graph::{OpError, OpFn};

/// The flag a job's ops check before each call.
#[derive(Clone, Default)]
pub(crate) struct Stop(Arc<AtomicBool>);

impl Stop {
    /// `ops`, each failing instead of running once the flag is set.
    pub(crate) fn wrap(&self, ops: Vec<OpFn>) -> Vec<OpFn> {
        ops.into_iter()
            .map(|op| -> OpFn {
                let stop = Arc::clone(&self.0);
                Arc::new(move |args| {
                    if stop.load(Ordering::Relaxed) {
                        return Err(OpError::new("the run was interrupted"));
                    }
                    op(args)
                })
            })
            .collect()
    }

    fn set(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Runs `run`, setting `stop` at the first signal `interrupts` catches meanwhile;
/// returns what `run` returned and that signal's number, if one came.
pub(crate) fn watching<R>(
    interrupts: &Interrupts,
    stop: &Stop,
    run: impl FnOnce() -> R,
) -> (R, Option<i32>) {
    let Ok((wake, mut woken)) = UnixStream::pair() else {
        // Without a wake socket the watcher could not be ended: run unwatched.
        return (run(), None);
    };
    std::thread::scope(|scope| {
        let watcher = scope.spawn(|| watch(interrupts, &wake, stop));
        let result = run();
        // A failed write leaves the watcher waiting for a signal or the process's
        // end; neither loses anything.
        let _ = woken.write_all(&[1]);
        (result, watcher.join().unwrap_or(None))
    })
}

/// Waits for a signal or the wake socket; at a signal sets `stop` and returns it.
fn watch(interrupts: &Interrupts, wake: &UnixStream, stop: &Stop) -> Option<i32> {
    loop {
        let mut fds: Vec<PollFd<'_>> = interrupts
            .streams()
            .map(|(_, stream)| PollFd::new(stream, PollFlags::IN))
            .collect();
        fds.push(PollFd::new(wake, PollFlags::IN));
        match poll(&mut fds, None) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => return None,
        }
        let signal = interrupts
            .streams()
            .zip(&fds)
            .find(|(_, fd)| !fd.revents().is_empty())
            .map(|((signal, _), _)| signal);
        if let Some(signal) = signal {
            interrupts.drain();
            stop.set();
            return Some(signal);
        }
        if fds.last().is_some_and(|fd| !fd.revents().is_empty()) {
            return None;
        }
    }
}

//! Ending runs from outside: a stop request, and the terminating signals that make one.
//!
//! - A [`Stop`] is a flag with the signal that raised it, shared by whoever receives
//!   the signal and the runs it must end. Executors look at it while they wait for
//!   their workers (every [`TICK`]), end the run with `RunError::Stopped` and stop its
//!   shell commands; so a library run is stopped only when its caller asks for it.
//! - [`on_signals`] turns the terminating signals that `taskloom_child::Interrupts`
//!   catches into calls on a thread of its own, while the returned guard lives.

use std::io;
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use rustix::event::{poll, PollFd, PollFlags};
use taskloom_child::Interrupts;

/// How often a waiting executor looks for a stop request and for tasks past their
/// timeout: prompt for a person at a terminal, and no cost to speak of.
pub(crate) const TICK: Duration = Duration::from_millis(50);

/// A request to end runs early; see the module header. Clones share the request.
#[derive(Clone, Debug, Default)]
pub struct Stop(Arc<AtomicI32>);

impl Stop {
    /// No stop requested yet.
    pub fn new() -> Self {
        Stop::default()
    }

    /// Requests a stop because of `signal` (the first request is the one kept).
    pub fn request(&self, signal: i32) {
        let _ = self
            .0
            .compare_exchange(0, signal, Ordering::AcqRel, Ordering::Acquire);
    }

    /// The signal a stop was requested for, if one was.
    pub fn requested(&self) -> Option<i32> {
        match self.0.load(Ordering::Acquire) {
            0 => None,
            signal => Some(signal),
        }
    }

    /// Requests a stop on every terminating signal from now until the guard is dropped
    /// (instead of dying of it).
    pub fn on_signals(&self) -> io::Result<Catching> {
        let stop = self.clone();
        on_signals(move |signal| stop.request(signal))
    }
}

/// While it lives, the terminating signals `Interrupts` catches do not end this
/// process: they call `handle` with the number of the first that arrived, on a thread
/// of its own (so while the program's threads are busy). Dropping it restores their usual handling.
pub fn on_signals(handle: impl Fn(i32) + Send + 'static) -> io::Result<Catching> {
    let interrupts = Interrupts::install()?;
    let (wake, woken) = UnixStream::pair()?;
    let thread = std::thread::Builder::new()
        .name("taskloom-signals".into())
        .spawn(move || watch(&interrupts, &woken, handle))?;
    Ok(Catching {
        wake: Some(wake),
        thread: Some(thread),
    })
}

/// The guard of [`on_signals`].
pub struct Catching {
    /// Closing it ends the watching thread.
    wake: Option<UnixStream>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Catching {
    fn drop(&mut self) {
        drop(self.wake.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// Calls `handle` as signals arrive, until `woken` closes at the other end.
///
/// What arrived is read from the sockets, not from `poll`'s events: a signal whose
/// handler runs on this very thread interrupts the `poll` (EINTR, no events) with
/// its byte already written, and would otherwise be drained unseen.
fn watch(interrupts: &Interrupts, woken: &UnixStream, handle: impl Fn(i32)) {
    loop {
        let mut fds: Vec<PollFd<'_>> = interrupts
            .streams()
            .map(|(_, stream)| PollFd::new(stream, PollFlags::IN))
            .collect();
        fds.push(PollFd::new(woken, PollFlags::IN));
        match poll(&mut fds, None) {
            Ok(_) | Err(rustix::io::Errno::INTR) => {}
            Err(_) => return,
        }
        if !fds.last().expect("pushed above").revents().is_empty() {
            return;
        }
        if let Some(signal) = interrupts.pending() {
            handle(signal);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_request_is_kept() {
        let stop = Stop::new();
        assert_eq!(stop.requested(), None);
        stop.request(15);
        stop.clone().request(2);
        assert_eq!(stop.requested(), Some(15));
    }

    #[test]
    fn a_signal_handled_on_the_watching_thread_itself_is_not_lost() {
        let (sender, received) = std::sync::mpsc::channel();
        let sender = std::sync::Mutex::new(sender);
        let _catching = on_signals(move |signal| {
            let _ = sender.lock().unwrap().send(signal);
        })
        .unwrap();
        // The kernel keeps 15 bytes of a thread's name; the thread sets it once it runs.
        let named = |task: &std::fs::DirEntry| {
            std::fs::read_to_string(task.path().join("comm"))
                .is_ok_and(|name| "taskloom-signals".starts_with(name.trim_end()))
        };
        let started = std::time::Instant::now();
        let watcher = loop {
            let found = std::fs::read_dir("/proc/self/task")
                .unwrap()
                .filter_map(|task| task.ok())
                .find(named)
                .and_then(|task| task.file_name().to_str()?.parse::<libc::pid_t>().ok());
            match found {
                Some(tid) => break tid,
                None if started.elapsed().as_secs() < 10 => std::thread::yield_now(),
                None => panic!("the watching thread is not listed"),
            }
        };
        // Aimed at the watcher, blocked in `poll`: the handler runs there and the poll
        // ends with EINTR.
        // SAFETY: tgkill takes plain integers and touches no memory of ours.
        let sent =
            unsafe { libc::syscall(libc::SYS_tgkill, libc::getpid(), watcher, libc::SIGUSR1) };
        assert_eq!(sent, 0);
        let signal = received.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(signal, Ok(libc::SIGUSR1));
    }
}

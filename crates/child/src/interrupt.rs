//! The signals that ask taskloom to end, as readable sockets, for a poll loop that
//! must end its children before it exits: no orphan after Ctrl-C, a hangup or a
//! `kill`.
//!
//! - Every signal whose default action ends the process and that other processes
//!   send to ask for an end is caught ([`TERMINATING`]); each arrival writes a byte to
//!   that signal's own socket, so the owner knows which one came and can exit 128 + N
//!   once its children are reaped.
//! - Faults (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT, SIGTRAP, SIGSYS) are not
//!   caught: they report a bug in this very process, which must not go on.
//! - SIGPIPE is not caught: it stays ignored, as Rust programs start, so a closed
//!   reader shows up as `EPIPE` on the write that hit it, where the writer knows what
//!   was lost (`taskloom map` stops quietly and logs what it could not deliver).
//! - SIGXCPU and SIGXFSZ are not caught either: the kernel sends them for our own
//!   resource limits, and a write beyond the file size limit then fails with `EFBIG`,
//!   an ordinary write error.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;

use rustix::process::Signal;

/// The signals [`Interrupts`] catches: Ctrl-C (SIGINT), Ctrl-\ (SIGQUIT), a closed
/// terminal or `nohup`-less logout (SIGHUP), `kill` and service managers (SIGTERM),
/// and the ones `timeout -s` or a supervisor may choose (SIGALRM, SIGUSR1, SIGUSR2),
/// all of which would otherwise end us at once and orphan every child in a process
/// group of its own.
pub const TERMINATING: [Signal; 7] = [
    Signal::HUP,
    Signal::INT,
    Signal::QUIT,
    Signal::TERM,
    Signal::ALARM,
    Signal::USR1,
    Signal::USR2,
];

/// While it lives, the [`TERMINATING`] signals do not end this process: each arrival
/// writes a byte to its own socket instead, which the owner polls. Dropping it stops
/// catching them, but signal-hook cannot give the default action back: a signal that
/// arrives afterwards is ignored, so drop it only when the work is over.
pub struct Interrupts {
    /// (signal number, the socket it makes readable).
    streams: Vec<(i32, UnixStream)>,
    ids: Vec<signal_hook::SigId>,
}

impl Interrupts {
    /// Catches the [`TERMINATING`] signals from now on.
    pub fn install() -> io::Result<Self> {
        let mut interrupts = Interrupts {
            streams: Vec::new(),
            ids: Vec::new(),
        };
        for signal in TERMINATING {
            let (read, write) = UnixStream::pair()?;
            read.set_nonblocking(true)?;
            interrupts.ids.push(signal_hook::low_level::pipe::register(
                signal.as_raw(),
                write,
            )?);
            interrupts.streams.push((signal.as_raw(), read));
        }
        Ok(interrupts)
    }

    /// Each signal's number and the socket to poll for it.
    pub fn streams(&self) -> impl Iterator<Item = (i32, &UnixStream)> {
        self.streams
            .iter()
            .map(|(signal, stream)| (*signal, stream))
    }

    /// The signal that arrived since the last call (the first one caught, when several
    /// did), emptying the sockets: for the owner whose poll found a socket readable,
    /// and for one that stopped polling, so that a signal sent just as its work ended
    /// is not lost.
    pub fn pending(&self) -> Option<i32> {
        let mut buffer = [0u8; 64];
        let mut first = None;
        for (signal, mut stream) in self.streams() {
            while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {
                first = first.or(Some(signal));
            }
        }
        first
    }
}

impl Drop for Interrupts {
    fn drop(&mut self) {
        for id in self.ids.drain(..) {
            signal_hook::low_level::unregister(id);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_terminating_signal_makes_its_socket_readable_instead_of_ending_us() {
        let interrupts = Interrupts::install().unwrap();
        for signal in TERMINATING {
            rustix::process::kill_process(rustix::process::getpid(), signal).unwrap();
            let mut byte = [0u8; 1];
            let (_, mut stream) = interrupts
                .streams()
                .find(|&(s, _)| s == signal.as_raw())
                .unwrap();
            stream.set_nonblocking(false).unwrap();
            assert_eq!(stream.read(&mut byte).unwrap(), 1, "{signal:?}");
            // As `install` left it, so that `pending` returns once the socket is empty.
            stream.set_nonblocking(true).unwrap();
            assert_eq!(interrupts.pending(), None, "{signal:?} came once");
        }
        assert_eq!(interrupts.pending(), None);
        rustix::process::kill_process(rustix::process::getpid(), Signal::HUP).unwrap();
        let arrived = std::time::Instant::now();
        let mut pending = interrupts.pending();
        while pending.is_none() && arrived.elapsed().as_secs() < 5 {
            std::thread::sleep(std::time::Duration::from_millis(1));
            pending = interrupts.pending();
        }
        assert_eq!(pending, Some(Signal::HUP.as_raw()));
    }
}

//! SIGINT and SIGTERM as readable sockets, for a poll loop that must end its children
//! before it exits: no orphan after Ctrl-C.

use std::io::{self, Read};
use std::os::unix::net::UnixStream;

use rustix::process::Signal;

/// While it lives, SIGINT and SIGTERM do not end this process: each arrival writes a
/// byte to its own socket instead, which the owner polls. Dropping it restores the
/// usual handling.
pub struct Interrupts {
    /// (signal number, the socket it makes readable).
    streams: Vec<(i32, UnixStream)>,
    ids: Vec<signal_hook::SigId>,
}

impl Interrupts {
    /// Catches SIGINT and SIGTERM from now on.
    pub fn install() -> io::Result<Self> {
        let mut interrupts = Interrupts {
            streams: Vec::new(),
            ids: Vec::new(),
        };
        for signal in [Signal::INT, Signal::TERM] {
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

    /// Empties the sockets, once their signals are handled.
    pub fn drain(&self) {
        let mut buffer = [0u8; 64];
        for (_, mut stream) in self.streams() {
            while matches!(stream.read(&mut buffer), Ok(n) if n > 0) {}
        }
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
    fn a_signal_makes_its_socket_readable_instead_of_ending_us() {
        let interrupts = Interrupts::install().unwrap();
        rustix::process::kill_process(rustix::process::getpid(), Signal::TERM).unwrap();
        let mut byte = [0u8; 1];
        let (_, mut term) = interrupts
            .streams()
            .find(|&(s, _)| s == Signal::TERM.as_raw())
            .unwrap();
        term.set_nonblocking(false).unwrap();
        assert_eq!(term.read(&mut byte).unwrap(), 1);
        // As `install` left it, so that `drain` returns once the socket is empty.
        term.set_nonblocking(true).unwrap();
        interrupts.drain();
    }
}

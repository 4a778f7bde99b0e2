//! Messages between ranks for work that is not a graph (`taskloom map`'s items): a
//! thread of its own speaks MPI, so that the rest of the rank waits in `poll(2)` on
//! its children, its signals and a socket that says a message came.
//!
//! - The MPI thread is the only one that calls MPI between [`Link::init`] and the
//!   link's drop (MPI at `MPI_THREAD_SERIALIZED`): it hands each received batch to the
//!   rank, writes a byte to the news socket when it did, and sends what the rank
//!   queued, batched per destination (`transport.rs`).
//! - It looks for messages as the graph ranks do (`Idle`: yield, then sleep a little
//!   longer each time) and parks while it sleeps, so that a message queued by the rank
//!   wakes it at once.
//! - Messages are the caller's serde types, encoded with postcard (the process
//!   protocol's framing); a message that cannot be decoded is an error, not a panic.
//! - Dropping the link stops the thread, completes its sends and finalizes MPI, on
//!   the thread that initialized it. Every rank must drop its link (MPI's finalize is
//!   collective): a rank that sends the others their last message then drops.

use std::io::{self, ErrorKind, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::net::UnixStream;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use mpi::environment::Universe;
use serde::de::DeserializeOwned;
use serde::Serialize;
use taskloom_exec::RunError;

use super::transport::{messages, Idle, Transport};

/// A transport moved to the MPI thread and back.
struct Moved(Transport);

// SAFETY: MPI is initialized at `MPI_THREAD_SERIALIZED` (checked in `Link::init`):
// any thread may call it, one at a time. The transport is used by the MPI thread alone
// from its start until it returns it when joined; the thread that made the link calls
// MPI only before the start (initialize) and after the join (complete, finalize).
unsafe impl Send for Moved {}

/// A rank's link to the others; see the module header.
pub struct Link {
    rank: usize,
    ranks: usize,
    outbox: Sender<(usize, Vec<u8>)>,
    inbox: Receiver<(usize, Vec<u8>)>,
    news: UnixStream,
    closing: Arc<AtomicBool>,
    thread: Option<JoinHandle<Moved>>,
    /// Dropped last: finalizes MPI once the transport's sends are complete.
    _universe: Universe,
}

impl Link {
    /// Initializes MPI (once per process) and starts the MPI thread.
    pub fn init() -> Result<Link, RunError> {
        let (universe, transport) = super::initialize()?;
        let (rank, ranks) = (transport.rank(), transport.size());
        let (outbox, outgoing) = mpsc::channel();
        let (incoming, inbox) = mpsc::channel();
        let closing = Arc::new(AtomicBool::new(false));
        let start = || -> io::Result<_> {
            let (news, told) = UnixStream::pair()?;
            news.set_nonblocking(true)?;
            told.set_nonblocking(true)?;
            let closing = Arc::clone(&closing);
            let moved = Moved(transport);
            let thread = thread::Builder::new()
                .name("taskloom-mpi".into())
                .spawn(move || speak(moved, &outgoing, &incoming, told, &closing))?;
            Ok((news, thread))
        };
        let (news, thread) =
            start().map_err(|e| RunError::Internal(format!("cannot start the MPI thread: {e}")))?;
        Ok(Link {
            rank,
            ranks,
            outbox,
            inbox,
            news,
            closing,
            thread: Some(thread),
            _universe: universe,
        })
    }

    /// This process's rank.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// How many ranks the job has.
    pub fn ranks(&self) -> usize {
        self.ranks
    }

    /// Queues `message` for rank `to`; it leaves with the MPI thread's next batch.
    pub fn send<T: Serialize>(&self, to: usize, message: &T) -> io::Result<()> {
        let bytes = postcard::to_stdvec(message).map_err(io::Error::other)?;
        self.outbox
            .send((to, bytes))
            .map_err(|_| io::Error::other("the MPI thread has ended"))?;
        if let Some(thread) = &self.thread {
            thread.thread().unpark();
        }
        Ok(())
    }

    /// Readable when messages have come (see [`Link::receive`]).
    pub fn news(&self) -> BorrowedFd<'_> {
        self.news.as_fd()
    }

    /// Hands every message that has come to `each`, with the rank it came from.
    pub fn receive<T: DeserializeOwned>(
        &self,
        mut each: impl FnMut(usize, T) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut drained = [0u8; 64];
        loop {
            match (&self.news).read(&mut drained) {
                Ok(0) => break,
                Ok(_) => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
        while let Ok((from, batch)) = self.inbox.try_recv() {
            messages(&batch, |message| each(from, message))?;
        }
        Ok(())
    }
}

/// The MPI thread: sends what the rank queues and receives what comes until the link
/// closes; returns the transport with its last sends under way.
fn speak(
    moved: Moved,
    outgoing: &Receiver<(usize, Vec<u8>)>,
    incoming: &Sender<(usize, Vec<u8>)>,
    mut told: UnixStream,
    closing: &AtomicBool,
) -> Moved {
    let Moved(mut transport) = moved;
    let mut idle = Idle::default();
    loop {
        // Read before draining: a message queued before the close is sent.
        let closed = closing.load(Ordering::Acquire);
        let mut active = false;
        while let Ok((to, bytes)) = outgoing.try_recv() {
            transport.push_encoded(to, &bytes);
            active = true;
        }
        transport.flush();
        let mut received = false;
        while let Some(batch) = transport.receive() {
            // The rank has gone (its link is closing): what comes no longer matters.
            let _ = incoming.send(batch);
            received = true;
        }
        if received {
            // A full socket already says that something came.
            let _ = told.write(&[1]);
        }
        if closed {
            return Moved(transport);
        }
        if active || received {
            idle.busy();
        } else {
            idle.wait();
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        self.closing.store(true, Ordering::Release);
        let Some(thread) = self.thread.take() else {
            return;
        };
        thread.thread().unpark();
        // A panicked MPI thread leaves no transport to complete: MPI finalizes as is.
        if let Ok(Moved(mut transport)) = thread.join() {
            transport.finish();
        }
    }
}

//! Messages between ranks: batches of framed protocol messages (`process::protocol`),
//! sent without blocking and received as they come.
//!
//! - Each destination has an outgoing batch; messages are appended to it as they are
//!   decided and the batch leaves at the next `flush`, one MPI message per destination
//!   per loop turn however many messages it holds.
//! - Sends are nonblocking (`MPI_Isend`) and every rank receives whatever has come
//!   while its own sends are in flight, so two ranks sending each other large batches
//!   at once cannot deadlock: each one's receives let the other's sends complete.
//! - Nothing blocks inside MPI (Open MPI spins in a blocking call, taking the core
//!   from the ranks that share it): `receive` returns at once, and `Idle` waits
//!   between looks, yielding a few times, then parked, twice as long each time, so a
//!   rank can also watch its task threads, stop requests and timeouts, and ranks that
//!   share a core (oversubscribed) leave it to the busy one. A thread with news for
//!   the rank (a task that ended) unparks it.

use std::io;
use std::thread;
use std::time::Duration;

use mpi::point_to_point::{Destination, MatchedReceiveVec, Source};
use mpi::request::{Request, StaticScope};
use mpi::topology::{Communicator, SimpleCommunicator};
use serde::Serialize;
use taskloom_exec::worker as protocol;

/// The one tag every batch is sent with: MPI keeps the order of messages between two
/// ranks on one tag, which the protocol relies on (a `Send` before a `Release`).
const TAG: i32 = 11;

/// A batch is sent once it holds this much, without waiting for the end of the turn:
/// large results do not pile up in one buffer.
const BATCH_BYTES: usize = 1 << 20;

/// Idle looks that only yield the core before the rank starts sleeping: about the
/// round trip of a message between ranks on one machine, so a reply that is on its
/// way is seen at once, while a rank that waits longer leaves the core to the others.
const YIELDS: u32 = 16;

/// The first sleep: the kernel's default timer slack, which a shorter sleep lasts
/// anyway.
const SHORTEST_SLEEP: Duration = Duration::from_micros(50);

/// The longest sleep between two idle looks: short next to the tasks a worker rank
/// has queued ahead (`driver::SLOTS_AHEAD`), long enough that an idle rank costs
/// nothing to speak of.
const LONGEST_SLEEP: Duration = Duration::from_micros(500);

/// A batch in flight. Its bytes are leaked into the request (MPI reads them until it
/// completes) and taken back once `MPI_Test` says the send is complete.
struct InFlight {
    request: Request<'static, [u8], StaticScope>,
    bytes: *mut [u8],
}

/// See the module header.
pub(crate) struct Transport {
    world: SimpleCommunicator,
    outgoing: Vec<Vec<u8>>,
    in_flight: Vec<InFlight>,
}

impl Transport {
    pub fn new(world: SimpleCommunicator) -> Transport {
        let size = world.size() as usize;
        Transport {
            world,
            outgoing: vec![Vec::new(); size],
            in_flight: Vec::new(),
        }
    }

    pub fn rank(&self) -> usize {
        self.world.rank() as usize
    }

    pub fn size(&self) -> usize {
        self.outgoing.len()
    }

    /// Appends `message` to the batch for rank `to`; returns its encoded size.
    pub fn push<T: Serialize + ?Sized>(&mut self, to: usize, message: &T) -> usize {
        // Encoding into a Vec cannot fail for the protocol's types.
        let size = protocol::send(&mut self.outgoing[to], message).unwrap_or(0);
        self.send_if_full(to);
        size
    }

    /// Appends a message encoded already (the program, encoded once for every rank).
    pub fn push_encoded(&mut self, to: usize, bytes: &[u8]) {
        // A Vec takes every write.
        let _ = protocol::send_encoded(&mut self.outgoing[to], bytes);
        self.send_if_full(to);
    }

    fn send_if_full(&mut self, to: usize) {
        if self.outgoing[to].len() >= BATCH_BYTES {
            self.send(to);
        }
    }

    /// Sends every batch that holds a message, and takes back the buffers of sends
    /// that completed.
    pub fn flush(&mut self) {
        for to in 0..self.outgoing.len() {
            if !self.outgoing[to].is_empty() {
                self.send(to);
            }
        }
        self.complete();
    }

    fn send(&mut self, to: usize) {
        let batch = std::mem::take(&mut self.outgoing[to]);
        let bytes: &'static mut [u8] = Box::leak(batch.into_boxed_slice());
        let pointer: *mut [u8] = bytes;
        let request = self
            .world
            .process_at_rank(to as i32)
            .immediate_send_with_tag(StaticScope, &*bytes, TAG);
        self.in_flight.push(InFlight {
            request,
            bytes: pointer,
        });
    }

    /// Takes back the buffers of completed sends.
    fn complete(&mut self) {
        let mut i = 0;
        while i < self.in_flight.len() {
            let InFlight { request, bytes } = self.in_flight.swap_remove(i);
            match request.test() {
                Ok(_) => {
                    // SAFETY: `bytes` came from `Box::leak` in `send`, and its request
                    // has completed: MPI no longer reads it, and nothing else refers
                    // to it.
                    drop(unsafe { Box::from_raw(bytes) });
                }
                Err(request) => {
                    self.in_flight.push(InFlight { request, bytes });
                    let last = self.in_flight.len() - 1;
                    self.in_flight.swap(i, last);
                    i += 1;
                }
            }
        }
    }

    /// Waits until every send has completed (before the rank finalizes MPI).
    pub fn finish(&mut self) {
        self.flush();
        while !self.in_flight.is_empty() {
            // Receiving what comes keeps a peer that sends to us from blocking our
            // sends to it; what it says no longer matters.
            let _ = self.receive();
            self.complete();
            thread::yield_now();
        }
    }

    /// Ends the whole job at once (`MPI_Abort`): for a rank that cannot go on, which
    /// a finalize would leave waiting for the others.
    pub fn abort(&self) -> ! {
        self.world.abort(1)
    }

    /// A batch that has come, with the rank it came from; `None` when none has.
    pub fn receive(&mut self) -> Option<(usize, Vec<u8>)> {
        let probed = self
            .world
            .any_process()
            .immediate_matched_probe_with_tag(TAG)?;
        let from = probed.1.source_rank() as usize;
        let (bytes, _) = probed.matched_receive_vec::<u8>();
        Some((from, bytes))
    }
}

/// The messages of a received batch, in order.
pub(crate) fn messages<T: for<'de> serde::Deserialize<'de>>(
    batch: &[u8],
    mut each: impl FnMut(T) -> io::Result<()>,
) -> io::Result<()> {
    let mut input = batch;
    let mut buf = Vec::new();
    while let Some(message) = protocol::receive::<T>(&mut input, &mut buf)? {
        each(message)?;
    }
    Ok(())
}

/// How long an idle loop waits before it looks again; see the module header.
#[derive(Default)]
pub(crate) struct Idle {
    looks: u32,
}

impl Idle {
    /// Something happened: the next wait starts short again.
    pub fn busy(&mut self) {
        self.looks = 0;
    }

    /// Nothing happened: wait a little before looking again. The wait is a park, so
    /// another thread of the rank with news for it (a task that ended) ends it early.
    pub fn wait(&mut self) {
        self.looks = self.looks.saturating_add(1);
        if self.looks <= YIELDS {
            thread::yield_now();
        } else {
            let doublings = (self.looks - YIELDS - 1).min(8);
            thread::park_timeout((SHORTEST_SLEEP * (1 << doublings)).min(LONGEST_SLEEP));
        }
    }
}

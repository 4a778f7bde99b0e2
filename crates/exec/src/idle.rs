//! Parking idle workers so that a pool waiting on a slow task burns no CPU, and waking
//! them when work appears, without losing a wake-up.
//!
//! - One word holds both the number of sleepers and a count of events, so that a single
//!   read-modify-write announces a sleeper and reads the events, or counts an event and
//!   reads the sleepers. Acquire/release is then all the protocol needs (there is no
//!   store followed by a load of another word, which only `SeqCst` would order), and
//!   loom models that exactly (`model.rs` checks the protocol).
//! - The common case, nobody asleep, costs a producer that one atomic add.

use crate::primitives::{
    AtomicU64, Condvar, Mutex,
    Ordering::{Acquire, Relaxed, Release},
};

/// Low bits of the state that count sleepers: more than a system has threads (Linux
/// allows at most 2^22).
const SLEEPER_BITS: u32 = 24;
/// One sleeper in the state.
const SLEEPER: u64 = 1;
/// The sleepers' bits of the state.
const SLEEPERS: u64 = (1 << SLEEPER_BITS) - 1;
/// One event in the state. The events in the remaining 40 bits repeat only after 2^40
/// of them, far more than can happen between a worker's two reads of the count.
const EVENT: u64 = 1 << SLEEPER_BITS;

/// Sleeping workers and the event count that tells them whether to wait.
///
/// Protocol: a worker joins the sleepers, reading the event count in the same step
/// (acquire), looks for work a last time, and waits only if the count is unchanged
/// when it reads it again under the lock. A producer publishes work, then counts an
/// event, reading the sleepers in the same step (release), and takes the lock to
/// notify whenever there are any. The two steps are ordered on the one word: if the
/// producer's came first, the worker's last look sees the work; if the worker's came
/// first, the producer notifies it, either while it waits or before it takes the lock
/// (and then it reads the new count). No wake-up is lost.
#[derive(Default)]
pub(crate) struct Idle {
    /// Sleepers (the low `SLEEPER_BITS`) and events (the rest).
    state: AtomicU64,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Idle {
    /// Sleeps until notified, unless `has_work` (checked after announcing) says there
    /// is something to do. May return spuriously.
    pub fn sleep(&self, has_work: impl Fn() -> bool) {
        let joined = self.state.fetch_add(SLEEPER, Acquire);
        debug_assert!(joined & SLEEPERS < SLEEPERS, "more sleepers than threads");
        if !has_work() {
            let guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            // Under the lock, this read follows every notifier that saw us sleeping.
            if events(self.state.load(Relaxed)) == events(joined) {
                drop(self.wake.wait(guard).unwrap_or_else(|e| e.into_inner()));
            }
        }
        let left = self.state.fetch_sub(SLEEPER, Relaxed);
        debug_assert!(left & SLEEPERS > 0, "a sleeper leaves once");
    }

    /// Wakes one sleeping worker, if any: new work was published.
    #[inline]
    pub fn notify_one(&self) {
        if self.state.fetch_add(EVENT, Release) & SLEEPERS != 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_one();
        }
    }

    /// Wakes every sleeping worker: the run is over.
    pub fn notify_all(&self) {
        self.state.fetch_add(EVENT, Release);
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_all();
    }
}

/// The event count of a state.
fn events(state: u64) -> u64 {
    state & !SLEEPERS
}

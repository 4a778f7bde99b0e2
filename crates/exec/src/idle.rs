//! Parking idle workers so that a pool waiting on a slow task burns no CPU, and waking
//! them when work appears, without losing a wake-up.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Condvar, Mutex};

/// Sleeping workers and the event counter that tells them whether to wait.
///
/// A worker reads `epoch`, announces itself in `sleepers`, looks for work a last time,
/// and waits only if `epoch` is unchanged under the lock. A producer bumps `epoch`
/// after publishing work and takes the lock to notify whenever `sleepers` is non-zero.
/// Either the worker sees the new epoch, or the producer sees the sleeper: no wake-up
/// is lost, and the common case (nobody asleep) costs the producer one atomic add.
#[derive(Default)]
pub(crate) struct Idle {
    epoch: AtomicU64,
    sleepers: AtomicUsize,
    lock: Mutex<()>,
    wake: Condvar,
}

impl Idle {
    /// Sleeps until notified, unless `has_work` (checked after announcing) says there
    /// is something to do. May return spuriously.
    pub fn sleep(&self, has_work: impl Fn() -> bool) {
        let epoch = self.epoch.load(SeqCst);
        self.sleepers.fetch_add(1, SeqCst);
        if !has_work() {
            let guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            if self.epoch.load(SeqCst) == epoch {
                drop(self.wake.wait(guard).unwrap_or_else(|e| e.into_inner()));
            }
        }
        self.sleepers.fetch_sub(1, SeqCst);
    }

    /// Wakes one sleeping worker, if any: new work was published.
    #[inline]
    pub fn notify_one(&self) {
        self.epoch.fetch_add(1, SeqCst);
        if self.sleepers.load(SeqCst) > 0 {
            let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
            self.wake.notify_one();
        }
    }

    /// Wakes every sleeping worker: the run is over.
    pub fn notify_all(&self) {
        self.epoch.fetch_add(1, SeqCst);
        let _guard = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        self.wake.notify_all();
    }
}

//! Where each result is: the workers holding a copy, and the workers a copy is
//! travelling to (data in flight is state of the core, not of the driver).
//!
//! - A copy is *placed* on a worker once it was computed there or its transfer arrived.
//! - A copy is *incoming* to a worker from the moment the core orders its transfer
//!   until the driver reports `Arrived` or `TransferFailed`, or the worker is lost.
//! - A result is gone when it has neither: then it must be computed again if needed.

use taskloom_graph::KeyId;

use crate::messages::WorkerId;

pub(crate) struct Placement {
    holders: Vec<Vec<WorkerId>>,
    incoming: Vec<Vec<WorkerId>>,
}

impl Placement {
    pub fn new(keys: usize) -> Placement {
        Placement {
            holders: vec![Vec::new(); keys],
            incoming: vec![Vec::new(); keys],
        }
    }

    /// The workers holding a copy of `key`, first placed first.
    pub fn holders(&self, key: KeyId) -> &[WorkerId] {
        &self.holders[key.index()]
    }

    /// The workers holding `key` or being sent it: only they have any of it locally.
    pub fn local_workers(&self, key: KeyId) -> impl Iterator<Item = WorkerId> + '_ {
        let (held, incoming) = (&self.holders[key.index()], &self.incoming[key.index()]);
        held.iter().chain(incoming).copied()
    }

    /// Whether `worker` holds `key` or will once a transfer arrives.
    pub fn is_local(&self, key: KeyId, worker: WorkerId) -> bool {
        self.holders[key.index()].contains(&worker) || self.incoming[key.index()].contains(&worker)
    }

    /// Whether no copy of `key` is held or travelling anywhere.
    pub fn is_gone(&self, key: KeyId) -> bool {
        self.holders[key.index()].is_empty() && self.incoming[key.index()].is_empty()
    }

    /// `worker` computed `key`.
    pub fn computed(&mut self, key: KeyId, worker: WorkerId) {
        self.holders[key.index()].push(worker);
    }

    /// A transfer of `key` to `worker` was ordered.
    pub fn send(&mut self, key: KeyId, worker: WorkerId) {
        debug_assert!(
            !self.is_local(key, worker),
            "a second copy ordered to one worker"
        );
        self.incoming[key.index()].push(worker);
    }

    /// The transfer of `key` to `worker` ended; false when none was travelling (a late
    /// report about a worker since lost).
    pub fn transfer_ended(&mut self, key: KeyId, worker: WorkerId) -> bool {
        let incoming = &mut self.incoming[key.index()];
        match incoming.iter().position(|&w| w == worker) {
            Some(i) => {
                incoming.swap_remove(i);
                true
            }
            None => false,
        }
    }

    /// A transfer of `key` to `worker` arrived.
    pub fn arrived(&mut self, key: KeyId, worker: WorkerId) {
        self.holders[key.index()].push(worker);
    }

    /// Forgets every copy `key` has: the result is released.
    pub fn release(&mut self, key: KeyId) -> Vec<WorkerId> {
        std::mem::take(&mut self.holders[key.index()])
    }

    /// Forgets every copy held by or travelling to `worker`, which is lost; returns the
    /// keys that are gone because of it.
    pub fn forget(&mut self, worker: WorkerId) -> Vec<KeyId> {
        let mut gone = Vec::new();
        for i in 0..self.holders.len() {
            let held = &mut self.holders[i];
            let before = held.len() + self.incoming[i].len();
            held.retain(|&w| w != worker);
            self.incoming[i].retain(|&w| w != worker);
            if before > 0 && held.is_empty() && self.incoming[i].is_empty() {
                gone.push(KeyId(i as u32));
            }
        }
        gone
    }
}

//! The ready tasks of a run, best priority (lowest rank) first.
//!
//! - The tasks ready from the start (sources: a million leaves of a tree, every item of
//!   a map) come in the plan's order, which is already by rank: they wait in a queue
//!   and cost O(1) each, where a heap of a million costs a cache-missing O(log n) pop.
//! - Tasks made ready later (as their inputs finish, or again after a failure) go to a
//!   heap. The best task is the better of the two fronts.
//! - Entries are not removed when a task leaves the ready state some other way: the
//!   caller skips those that are stale.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};

use taskloom_graph::KeyId;

/// A ready task with its rank.
pub(crate) type Entry = (u32, KeyId);

#[derive(Default)]
pub(crate) struct Ready {
    /// Tasks ready from the start, by rank.
    sources: VecDeque<Entry>,
    later: BinaryHeap<Reverse<Entry>>,
}

impl Ready {
    /// Adds a task ready from the start; sources must come in rank order.
    pub fn push_source(&mut self, entry: Entry) {
        debug_assert!(self.sources.back().is_none_or(|last| last.0 < entry.0));
        self.sources.push_back(entry);
    }

    /// Adds a task made ready during the run.
    pub fn push(&mut self, entry: Entry) {
        self.later.push(Reverse(entry));
    }

    /// The best ready task.
    pub fn peek(&self) -> Option<Entry> {
        let later = self.later.peek().map(|r| r.0);
        match (self.sources.front().copied(), later) {
            (Some(s), Some(l)) => Some(s.min(l)),
            (s, l) => s.or(l),
        }
    }

    /// Removes the best ready task.
    pub fn pop(&mut self) -> Option<Entry> {
        let best = self.peek()?;
        if self.sources.front() == Some(&best) {
            self.sources.pop_front()
        } else {
            self.later.pop().map(|r| r.0)
        }
    }

    /// Every entry, in no particular order.
    #[cfg(test)]
    pub fn iter(&self) -> impl Iterator<Item = Entry> + '_ {
        self.sources
            .iter()
            .copied()
            .chain(self.later.iter().map(|r| r.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sources_and_later_tasks_come_out_by_rank() {
        let mut ready = Ready::default();
        for rank in [0, 2, 5, 9] {
            ready.push_source((rank, KeyId(rank)));
        }
        for rank in [7, 1, 3] {
            ready.push((rank, KeyId(rank)));
        }
        let mut ranks = Vec::new();
        while let Some((rank, key)) = ready.pop() {
            assert_eq!(key, KeyId(rank));
            ranks.push(rank);
        }
        assert_eq!(ranks, [0, 1, 2, 3, 5, 7, 9]);
        assert_eq!(ready.peek(), None);
    }
}

//! Counting finished tasks for progress bars: executors add to a shared counter that a
//! display reads whenever it likes. The thread pool adds in batches, so a bar costs no
//! contention worth measuring even on a million tiny tasks.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// A count of finished tasks, shared between an executor and whoever shows it.
#[derive(Clone, Debug, Default)]
pub struct Progress(Arc<AtomicU64>);

impl Progress {
    /// A counter at zero.
    pub fn new() -> Self {
        Progress::default()
    }

    /// Tasks finished so far.
    pub fn done(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }

    pub(crate) fn add(&self, tasks: u64) {
        self.0.fetch_add(tasks, Ordering::Relaxed);
    }
}

/// A worker's unreported finished tasks, handed to the shared counter in batches: one
/// task at a time on small graphs (where tasks are few and a bar must move), up to 64
/// on graphs of a million tiny tasks (where a shared counter would be contended).
pub(crate) struct LocalCount<'a> {
    progress: Option<&'a Progress>,
    pending: u64,
    batch: u64,
}

impl<'a> LocalCount<'a> {
    pub fn new(progress: Option<&'a Progress>, tasks: usize) -> Self {
        LocalCount {
            progress,
            pending: 0,
            batch: (tasks as u64 / 10_000).clamp(1, 64),
        }
    }

    /// One more task finished.
    #[inline]
    pub fn tick(&mut self) {
        if self.progress.is_some() {
            self.pending += 1;
            if self.pending >= self.batch {
                self.flush();
            }
        }
    }

    /// Reports what is pending (before waiting for work, and at the end).
    pub fn flush(&mut self) {
        if let (Some(progress), true) = (self.progress, self.pending > 0) {
            progress.add(self.pending);
            self.pending = 0;
        }
    }
}

impl Drop for LocalCount<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

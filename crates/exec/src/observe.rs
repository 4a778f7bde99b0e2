//! What a run reports while it runs, when asked: counts of finished tasks (progress
//! bars) and when and where each task ran (profiles). One value that every executor
//! takes the same way, so that a caller chooses its observers once.

use taskloom_graph::KeyId;

use crate::progress::Progress;
use crate::trace::{Span, Trace};

/// The observers of a run; the default observes nothing and costs nothing.
#[derive(Clone, Debug, Default)]
pub struct Observers {
    /// Counts finished tasks, for a progress bar.
    pub progress: Option<Progress>,
    /// Records when and on which worker each task runs.
    pub trace: Option<Trace>,
}

impl Observers {
    /// Reports a task that a remote worker (a process, a rank) finished between
    /// `started_ns` and `ended_ns` on the machine's monotonic clock: counted at once,
    /// its span kept in `spans` until the run ends.
    pub fn remote_task_finished(
        &self,
        spans: &mut Vec<Span>,
        key: KeyId,
        worker: u32,
        (started_ns, ended_ns): (u64, u64),
    ) {
        if let Some(progress) = &self.progress {
            progress.add(1);
        }
        if let Some(trace) = &self.trace {
            spans.push(Span {
                key,
                worker,
                start_ns: trace.since(started_ns),
                end_ns: trace.since(ended_ns),
            });
        }
    }
}

//! What a run reports while it runs, when asked: counts of finished tasks (progress
//! bars) and when and where each task ran (profiles). One value that every executor
//! takes the same way, so that a caller chooses its observers once.

use crate::progress::Progress;
use crate::trace::Trace;

/// The observers of a run; the default observes nothing and costs nothing.
#[derive(Clone, Debug, Default)]
pub struct Observers {
    /// Counts finished tasks, for a progress bar.
    pub progress: Option<Progress>,
    /// Records when and on which worker each task runs.
    pub trace: Option<Trace>,
}

//! The simplest executor: every task on the calling thread, in priority order.
//!
//! Deterministic and easy to step through in a debugger; the reference every other
//! executor must agree with.

use std::sync::Arc;

use taskloom_graph::Value;
use taskloom_sched::Plan;

use crate::error::RunError;
use crate::progress::{LocalCount, Progress};
use crate::slots::Slots;
use crate::task::run_task;
use crate::trace::{LocalSpans, Trace};
use crate::Executor;

/// Runs tasks one at a time on the calling thread.
#[derive(Clone, Debug, Default)]
pub struct Sync {
    progress: Option<Progress>,
    trace: Option<Trace>,
}

impl Sync {
    /// Counts finished tasks on `progress`, for a progress bar.
    pub fn progress(mut self, progress: Progress) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Records when each task runs on `trace`.
    pub fn trace(mut self, trace: Trace) -> Self {
        self.trace = Some(trace);
        self
    }
}

impl Executor for Sync {
    fn run(&self, plan: Arc<Plan>) -> Result<Vec<Value>, RunError> {
        let slots = Slots::new(&plan);
        let mut count = LocalCount::new(self.progress.as_ref(), 1);
        let mut spans = LocalSpans::new(self.trace.as_ref(), 0, plan.len());
        // The priority order is topological, so each task's inputs are ready in turn.
        for &key in plan.order() {
            let start = spans.start();
            run_task(&plan, &slots, key)?;
            spans.record(key, start);
            count.tick();
        }
        // SAFETY: every task, targets included, has completed.
        Ok(plan
            .targets()
            .iter()
            .map(|&t| unsafe { slots.target(t) })
            .collect())
    }
}

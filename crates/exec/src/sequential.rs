//! The simplest executor: every task on the calling thread, in priority order.
//!
//! Deterministic and easy to step through in a debugger; the reference every other
//! executor must agree with.

use std::sync::Arc;

use taskloom_graph::Value;
use taskloom_sched::Plan;

use crate::error::RunError;
use crate::observe::Observers;
use crate::progress::LocalCount;
use crate::slots::Slots;
use crate::task::run_task;
use crate::trace::LocalSpans;
use crate::Executor;

/// Runs tasks one at a time on the calling thread.
#[derive(Clone, Debug, Default)]
pub struct Sequential {
    observers: Observers,
}

impl Sequential {
    /// Reports finished tasks and task spans to `observers`.
    pub fn observed(mut self, observers: Observers) -> Self {
        self.observers = observers;
        self
    }
}

impl Executor for Sequential {
    fn run(&self, plan: Arc<Plan>) -> Result<Vec<Value>, RunError> {
        let slots = Slots::new(&plan);
        let mut count = LocalCount::new(self.observers.progress.as_ref(), 1);
        let mut spans = LocalSpans::new(self.observers.trace.as_ref(), 0, plan.len());
        // The priority order is topological, so each task's inputs are ready in turn.
        for &key in plan.order() {
            let start = spans.start();
            // SAFETY: each task runs once, on this thread, after its dependencies.
            unsafe { run_task(&plan, &slots, key) }?;
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

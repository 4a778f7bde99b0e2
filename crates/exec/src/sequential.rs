//! The simplest executor: every task on one thread, in priority order.
//!
//! Deterministic and easy to step through in a debugger; the reference every other
//! executor must agree with. The tasks run on a thread of their own so that the caller
//! can end the run on a timeout or a stop request while a task still runs (`watch.rs`).

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::Arc;
use std::thread;

use taskloom_graph::Value;
use taskloom_sched::Plan;

use crate::error::RunError;
use crate::limits::Limits;
use crate::observe::Observers;
use crate::progress::LocalCount;
use crate::slots::Slots;
use crate::task::run_task;
use crate::trace::LocalSpans;
use crate::watch::Watch;
use crate::Executor;

/// Runs tasks one at a time, on one thread.
#[derive(Clone, Debug, Default)]
pub struct Sequential {
    observers: Observers,
    limits: Limits,
}

impl Sequential {
    /// Reports finished tasks and task spans to `observers`.
    pub fn observed(mut self, observers: Observers) -> Self {
        self.observers = observers;
        self
    }

    /// Runs under `limits`: retries, a task timeout, a stop request.
    pub fn limited(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }
}

/// What the caller and the task thread share.
struct Run {
    plan: Arc<Plan>,
    slots: Slots,
    watch: Watch,
    observers: Observers,
}

impl Run {
    fn work(&self) {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.work_loop()));
        if outcome.is_err() {
            self.watch
                .fail(RunError::Internal("the task thread panicked".into()));
        }
    }

    fn work_loop(&self) {
        let _shells = self.watch.enter();
        let plan = &self.plan;
        let mut count = LocalCount::new(self.observers.progress.as_ref(), 1);
        let mut spans = LocalSpans::new(self.observers.trace.as_ref(), 0, plan.len());
        // The priority order is topological, so each task's inputs are ready in turn.
        for &key in plan.order() {
            if self.watch.is_over() {
                return;
            }
            let start = spans.start();
            // SAFETY: each task runs once, on this thread, after its dependencies.
            if let Err(error) = unsafe { run_task(plan, &self.slots, key, &self.watch, 0) } {
                return self.watch.fail(error);
            }
            spans.record(key, start);
            count.tick();
        }
        drop(spans);
        self.watch.end();
    }
}

impl Executor for Sequential {
    fn run(&self, plan: Arc<Plan>) -> Result<Vec<Value>, RunError> {
        if let Some(trace) = &self.observers.trace {
            trace.note_workers(1);
        }
        let run = Arc::new(Run {
            slots: Slots::new(&plan),
            plan,
            watch: Watch::new(1, self.limits.clone()),
            observers: self.observers.clone(),
        });
        let worker = Arc::clone(&run);
        let handle = thread::Builder::new()
            .name("taskloom-sync".into())
            .spawn(move || worker.work())
            .map_err(|e| RunError::Spawn(e.to_string()))?;
        if let Some(error) = run.watch.wait(run.plan.graph()) {
            return Err(error);
        }
        // Its spans are handed over as it ends.
        let _ = handle.join();
        // SAFETY: every task, targets included, has completed, and the thread that ran
        // them has ended.
        Ok(run
            .plan
            .targets()
            .iter()
            .map(|&t| unsafe { run.slots.target(t) })
            .collect())
    }
}

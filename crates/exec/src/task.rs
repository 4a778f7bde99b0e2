//! One step of the executors that run tasks in this process: run a task (again, after
//! a failure, as often as the retries allow), keep its result in the run's checkpoint
//! if it has one, store it, release its inputs.

use std::cell::Cell;

use taskloom_checkpoint::CHECKPOINT_OP;
use taskloom_graph::{evaluate, EvalError, KeyId};
use taskloom_sched::Plan;

use crate::error::RunError;
use crate::slots::Slots;
use crate::watch::Watch;

/// Runs task `key`, whose dependencies have all completed, on worker `worker`.
///
/// # Safety
/// Called once per key, after every dependency's task returned and before any
/// dependent's starts (each of these ordered by a happens-before edge: the same
/// thread, or release/acquire), as the protocol of `Slots` requires.
pub(crate) unsafe fn run_task(
    plan: &Plan,
    slots: &Slots,
    key: KeyId,
    watch: &Watch,
    worker: usize,
) -> Result<(), RunError> {
    let graph = plan.graph();
    // A result written past the memory limit that cannot be read back.
    let unreadable = Cell::new(None);
    // SAFETY: every dependency was stored before this task started (by the caller),
    // and this task releases it only below, after its last read.
    let lookup = |dep: KeyId| match unsafe { slots.get(dep) } {
        Ok(value) => Some(value),
        Err(error) => {
            unreadable.set(Some((dep, error)));
            None
        }
    };
    let mut retries = watch.retries();
    watch.begin(worker, key);
    let value = loop {
        match evaluate(graph, key, plan.ops(), &lookup) {
            Ok(value) => break value,
            // A failed evaluation stored and released nothing: it may simply run again.
            Err(EvalError::Op { .. }) if retries > 0 && !watch.is_over() => retries -= 1,
            Err(error) => {
                watch.done(worker);
                if let Some((dep, cause)) = unreadable.take() {
                    return Err(RunError::unreadable(graph, dep, cause));
                }
                return Err(RunError::task(graph, key, error));
            }
        }
    };
    // Saved by the worker that made it, before any dependent can start: a run that
    // stops has kept every result it finished.
    let kept = plan.checkpoint().map_or(Ok(()), |c| c.keep(key, &value));
    watch.done(worker);
    if let Err(cause) = kept {
        return Err(RunError::Task {
            key: graph.name(key).to_string(),
            op: CHECKPOINT_OP.to_string(),
            cause,
        });
    }
    // SAFETY: this task runs once, and its dependents only after it (by the caller).
    unsafe { slots.put(plan, key, value) };
    for &dep in graph.dependencies(key) {
        // SAFETY: this task consumes `dep` (dependencies are distinct), and read it above.
        unsafe { slots.release(plan, dep) };
    }
    Ok(())
}

//! One step of every executor: run a task, store its result, release its inputs.

use taskloom_graph::{evaluate, KeyId};
use taskloom_sched::Plan;

use crate::error::RunError;
use crate::slots::Slots;

/// Runs task `key`, whose dependencies have all completed.
///
/// # Safety
/// Called once per key, after every dependency's task returned and before any
/// dependent's starts (each of these ordered by a happens-before edge: the same
/// thread, or release/acquire), as the protocol of `Slots` requires.
pub(crate) unsafe fn run_task(plan: &Plan, slots: &Slots, key: KeyId) -> Result<(), RunError> {
    let graph = plan.graph();
    // SAFETY: every dependency was stored before this task started (by the caller),
    // and this task releases it only below, after this read.
    let lookup = |dep: KeyId| Some(unsafe { slots.get(dep) });
    let value =
        evaluate(graph, key, plan.ops(), &lookup).map_err(|e| RunError::task(graph, key, e))?;
    // SAFETY: this task runs once, and its dependents only after it (by the caller).
    unsafe { slots.put(key, value) };
    for &dep in graph.dependencies(key) {
        // SAFETY: this task consumes `dep` (dependencies are distinct), and read it above.
        unsafe { slots.release(plan, dep) };
    }
    Ok(())
}

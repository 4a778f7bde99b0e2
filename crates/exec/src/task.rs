//! One step of every executor: run a task, store its result, release its inputs.

use taskloom_graph::{evaluate, KeyId};
use taskloom_sched::Plan;

use crate::error::RunError;
use crate::slots::Slots;

/// Runs task `key`, whose dependencies have all completed.
pub(crate) fn run_task(plan: &Plan, slots: &Slots, key: KeyId) -> Result<(), RunError> {
    let graph = plan.graph();
    // SAFETY: the executor runs `key` only after all its dependencies completed, and
    // releases them below, after this read.
    let lookup = |dep: KeyId| Some(unsafe { slots.get(dep) });
    let value =
        evaluate(graph, key, plan.ops(), &lookup).map_err(|e| RunError::task(graph, key, e))?;
    // SAFETY: each task runs once; dependents are counted down only after this.
    unsafe { slots.put(key, value) };
    for &dep in graph.dependencies(key) {
        slots.release(plan, dep);
    }
    Ok(())
}

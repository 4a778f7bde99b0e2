//! Where results live while a run needs them: one slot per key, written once by the
//! task that computes it, read by its consumers, emptied by the last of them.
//!
//! A slot holds its result boxed: 8 bytes per key rather than `Value`'s 24, as a
//! million-task run has a slot per key but holds few results at once (a reduction's
//! inputs are freed as it runs); a result then costs a small allocation more.
//!
//! The slots are shared by all workers without locks. That is sound because the plan's
//! counters order every access (the protocol below): the methods are `unsafe`, their
//! callers state why they follow it, and the accesses themselves live here alone.
//!
//! Under a memory limit (`spill.rs`) the slots also keep an account of the bytes they
//! hold and write results past the limit to files: every access to a cell then takes
//! the account's lock, as a writer may empty a slot that consumers read. Without a
//! limit nothing changes but one branch per access.

use std::io;

use taskloom_graph::{KeyId, Value};
use taskloom_sched::Plan;

use crate::primitives::{AtomicU32, Ordering, UnsafeCell};
use crate::spill::Spill;

/// Result slots of one run.
///
/// Protocol, which callers uphold and `run_task` follows:
/// 1. `put(k)` happens once, by the task computing `k`, before it counts down any
///    dependent; a dependent runs only after the count-down that made it ready
///    (acquire/release on that counter, then the deque hand-off) so it sees the value.
/// 2. `get(k)` is called only by a task consuming `k`, before it calls `release(k)`.
/// 3. `release(k)` counts consumers down; the last one empties the slot, after every
///    other consumer's `get` (acquire/release on `waiting`). Targets are never emptied.
/// 4. Under a limit, a cell is read or written only with the spill's ledger locked; a
///    result may then be moved to a file between `put` and the last `release`, and
///    `get` reads the file (see `Spill`).
pub(crate) struct Slots {
    cells: Box<[UnsafeCell<Held>]>,
    waiting: Box<[AtomicU32]>,
    /// Where results past the memory limit go, under one.
    spill: Option<Spill>,
}

/// What a slot holds: nothing, or a result.
pub(crate) type Held = Option<Box<Value>>;

// SAFETY: access to `cells` is ordered by the protocol above.
unsafe impl Sync for Slots {}

impl Slots {
    pub fn new(plan: &Plan) -> Slots {
        let n = plan.graph().len();
        Slots {
            cells: (0..n).map(|_| UnsafeCell::new(None)).collect(),
            waiting: (0..n)
                .map(|k| AtomicU32::new(plan.consumers(KeyId(k as u32))))
                .collect(),
            spill: None,
        }
    }

    /// Slots that hold at most the limit of `spill` and write the rest to its files.
    pub fn spilling(plan: &Plan, spill: Spill) -> Slots {
        Slots {
            spill: Some(spill),
            ..Slots::new(plan)
        }
    }

    /// Removes the files of results past a memory limit, of a run that ends while tasks
    /// may still run (see `Spill::close`).
    pub fn close(&self) {
        if let Some(spill) = &self.spill {
            spill.close();
        }
    }

    /// Stores the result of `key`.
    ///
    /// # Safety
    /// Called once per key, by the task computing it, before its dependents may run.
    #[inline]
    pub unsafe fn put(&self, plan: &Plan, key: KeyId, value: Value) {
        if let Some(spill) = &self.spill {
            // SAFETY: by the caller.
            return unsafe { spill.put(plan, &self.cells, key, value) };
        }
        self.cells[key.index()].with_mut(|cell| {
            // SAFETY: by the caller, no other task reads or writes this slot yet.
            let cell = unsafe { &mut *cell };
            debug_assert!(cell.is_none(), "a result is stored once");
            *cell = Some(Box::new(value));
        });
    }

    /// The result of `key`, for a task that consumes it; an error only when a result
    /// written out cannot be read back.
    ///
    /// # Safety
    /// `key` was computed before this task became ready, and this task has not yet
    /// released it.
    #[inline]
    pub unsafe fn get(&self, key: KeyId) -> io::Result<Value> {
        debug_assert!(
            self.waiting[key.index()].load(Ordering::Relaxed) > 0,
            "a result is read before its consumer releases it"
        );
        if let Some(spill) = &self.spill {
            // SAFETY: by the caller.
            return unsafe { spill.get(&self.cells, key) };
        }
        // SAFETY: by the caller, the slot was written before and is not emptied until
        // this task releases it.
        Ok(unsafe { self.read(key) })
    }

    /// A consumer of `key` is done with it; the last one frees it unless it is a target.
    ///
    /// # Safety
    /// Called once by each task that consumes `key` (so after `key` was stored), after
    /// that task's last `get(key)`.
    #[inline]
    pub unsafe fn release(&self, plan: &Plan, key: KeyId) {
        let waiting = self.waiting[key.index()].fetch_sub(1, Ordering::AcqRel);
        debug_assert!(waiting > 0, "a result is released once per consumer");
        if waiting == 1 && !plan.is_target(key) {
            if let Some(spill) = &self.spill {
                // SAFETY: every consumer released it, this one last.
                return unsafe { spill.free(plan, &self.cells, key) };
            }
            self.cells[key.index()].with_mut(|cell| {
                // SAFETY: every other consumer released, and so finished reading, before
                // us (acquire/release on `waiting`), and no task reads it after us.
                unsafe { *cell = None }
            });
        }
    }

    /// The result of a target, once the run is complete.
    ///
    /// # Safety
    /// `key` is a target whose task has completed, and the run is over (so no worker
    /// touches the slots, under a limit too: targets are never written out).
    pub unsafe fn target(&self, key: KeyId) -> Value {
        // SAFETY: by the caller, the slot was written, no task writes it any more, and
        // releases never empty a target's slot.
        unsafe { self.read(key) }
    }

    /// The value in the slot of `key`.
    ///
    /// # Safety
    /// The slot holds a value, which nothing writes meanwhile.
    unsafe fn read(&self, key: KeyId) -> Value {
        self.cells[key.index()].with(|cell| {
            // SAFETY: by the caller, nothing writes the slot while we read it.
            unsafe { &*cell }
                .as_deref()
                .cloned()
                .expect("a consumed result is present until released")
        })
    }
}

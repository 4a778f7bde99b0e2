//! Where results live while a run needs them: one slot per key, written once by the
//! task that computes it, read by its consumers, emptied by the last of them.
//!
//! A slot takes 8 bytes rather than `Value`'s 24 (`Held`), as a million-task run has a
//! slot per key but holds few results at once (a reduction's inputs are freed as it
//! runs): small integers, bools and null sit in the slot itself, other results are
//! boxed, at the cost of a small allocation each.
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

/// What a slot holds, in one word: nothing, a result inline, or a boxed result.
///
/// Invariant: the low `TAG_BITS` bits say which. `BOXED` with the other bits 0 is
/// empty, else they are the address of a `Box<Value>` this `Held` owns (a `Value` is
/// aligned to at least 8 bytes, so its address has those bits clear); `INT` holds an
/// integer of up to 62 bits in the others, `BOOL` a bool, `NULL` nothing more.
pub(crate) struct Held(usize);

/// The bits of a `Held` that say what it holds, and what each value of them means.
const TAG_BITS: u32 = 2;
const TAG_MASK: usize = (1 << TAG_BITS) - 1;
const BOXED: usize = 0;
const INT: usize = 1;
const BOOL: usize = 2;
const NULL: usize = 3;

impl Held {
    /// A slot with no result.
    pub const EMPTY: Held = Held(BOXED);

    /// A slot holding `value`: inline when it fits, boxed otherwise.
    pub fn new(value: Value) -> Held {
        match value {
            Value::Null => Held(NULL),
            Value::Bool(b) => Held(usize::from(b) << TAG_BITS | BOOL),
            Value::Int(i) if Held::fits(i) => Held((i as usize) << TAG_BITS | INT),
            other => {
                const { assert!(std::mem::align_of::<Value>() > TAG_MASK) };
                Held(Box::into_raw(Box::new(other)).expose_provenance())
            }
        }
    }

    /// Whether the integer `i` survives being shifted into a word and back.
    fn fits(i: i64) -> bool {
        isize::try_from(i).is_ok_and(|i| (i << TAG_BITS) >> TAG_BITS == i)
    }

    /// Whether no result is held.
    pub fn is_empty(&self) -> bool {
        self.0 == BOXED
    }

    /// A copy of the result held, if any.
    pub fn value(&self) -> Option<Value> {
        match self.0 & TAG_MASK {
            NULL => Some(Value::Null),
            BOOL => Some(Value::Bool(self.0 >> TAG_BITS != 0)),
            INT => Some(Value::Int(((self.0 as isize) >> TAG_BITS) as i64)),
            _ => self.boxed().cloned(),
        }
    }

    /// The boxed result, if this holds one.
    fn boxed(&self) -> Option<&Value> {
        if self.0 & TAG_MASK != BOXED || self.is_empty() {
            return None;
        }
        // SAFETY: by the invariant, a `BOXED` word other than 0 is the address of a
        // `Box<Value>` this owns, alive until it is dropped.
        Some(unsafe { &*std::ptr::with_exposed_provenance::<Value>(self.0) })
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some(value) = self.boxed() {
            // SAFETY: the box is owned by this `Held` (the invariant), which forgets it.
            drop(unsafe { Box::from_raw(std::ptr::from_ref(value).cast_mut()) });
        }
    }
}

// SAFETY: access to `cells` is ordered by the protocol above.
unsafe impl Sync for Slots {}

impl Slots {
    pub fn new(plan: &Plan) -> Slots {
        let n = plan.graph().len();
        Slots {
            cells: (0..n).map(|_| UnsafeCell::new(Held::EMPTY)).collect(),
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
            debug_assert!(cell.is_empty(), "a result is stored once");
            *cell = Held::new(value);
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
                unsafe { *cell = Held::EMPTY }
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
                .value()
                .expect("a consumed result is present until released")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_held_result_comes_back_the_same_inline_or_boxed() {
        let edge = 1i64 << (usize::BITS - TAG_BITS - 1);
        let ints = [
            0,
            1,
            -1,
            edge - 1,
            -edge,
            edge,
            -edge - 1,
            i64::MAX,
            i64::MIN,
        ];
        let values = ints.into_iter().map(Value::Int).chain([
            Value::Null,
            Value::Bool(false),
            Value::Bool(true),
            Value::Float(-0.5),
            Value::str("text"),
            Value::List(vec![Value::Int(1), Value::str("two")].into()),
        ]);
        for value in values {
            assert_eq!(Held::new(value.clone()).value(), Some(value));
        }
        assert!(Held::EMPTY.is_empty() && Held::EMPTY.value().is_none());
        assert_eq!(std::mem::size_of::<UnsafeCell<Held>>(), 8);
    }
}

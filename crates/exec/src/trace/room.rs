//! One buffer that the workers of a traced run write their spans into, a block at a
//! time, so that each span is written once, where it is handed over: a million-task run
//! touches 24 MB for its spans and copies none of them (separate per-worker lists would
//! need a second buffer of the same size to be joined). The `unsafe` lives here; its
//! users only vouch that they make no more writers than the room was made for.
//!
//! Protocol: a writer claims a block of slots with one atomic add, owns it alone, and
//! fills it from the front. When it stops it reports the blocks it filled and how far.
//! The last writer to stop (of as many as the room was made for) moves the filled
//! slots together (only blocks left partly full leave holes, at most one per writer)
//! and takes the buffer as a `Vec<Span>`.

use super::Span;
use crate::primitives::{Accesses, AtomicUsize, Mutex, Ordering};

/// Slots a writer claims at once: few claims, small holes.
#[cfg(not(feature = "loom"))]
const BLOCK: usize = 4096;
/// Under the model checker: small enough that a few spans take several claims.
#[cfg(feature = "loom")]
const BLOCK: usize = 2;

/// Room for the spans of `writers` writers that record `tasks` spans in all.
pub(crate) struct Room {
    /// `capacity` slots from `Box::new_uninit_slice`, owned here.
    slots: *mut Span,
    capacity: usize,
    next_block: AtomicUsize,
    state: Mutex<State>,
    /// The accesses to `slots`, for the model checker.
    accesses: Accesses,
}

struct State {
    /// Writers that have not stopped yet.
    writers: usize,
    /// (start, slots filled) of each block claimed by a writer that stopped.
    filled: Vec<(usize, usize)>,
    /// Whether the last writer took the buffer.
    taken: bool,
}

// SAFETY: writers only touch the slots of blocks they claimed (disjoint ranges), and
// the slots are read only by the last writer, after every other one has stopped
// (the mutex orders their writes before that read).
unsafe impl Send for Room {}
unsafe impl Sync for Room {}

impl Room {
    pub(crate) fn new(tasks: usize, writers: usize) -> Room {
        // Every writer leaves at most one block unfilled: claims never run out.
        let capacity = tasks + writers * BLOCK;
        let slots = Box::into_raw(Box::<[Span]>::new_uninit_slice(capacity)) as *mut Span;
        Room {
            slots,
            capacity,
            next_block: AtomicUsize::new(0),
            state: Mutex::new(State {
                writers,
                filled: Vec::new(),
                taken: false,
            }),
            accesses: Accesses::new(capacity),
        }
    }

    fn claim(&self) -> Option<Block> {
        let start = self.next_block.fetch_add(BLOCK, Ordering::Relaxed);
        (start < self.capacity).then(|| Block {
            start,
            end: (start + BLOCK).min(self.capacity),
            filled: 0,
        })
    }

    /// A writer stops, having filled `blocks`; the last one gets every span recorded,
    /// in claim order (so each writer's in the order it recorded them).
    ///
    /// # Safety
    /// `blocks` are the blocks that the calling writer claimed, each with its first
    /// `filled` slots written, and the writer neither writes nor stops after this.
    unsafe fn stop(&self, blocks: &[Block]) -> Option<Vec<Span>> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .filled
            .extend(blocks.iter().map(|b| (b.start, b.filled)));
        debug_assert!(state.writers > 0, "more writers than the room was made for");
        state.writers -= 1;
        if state.writers > 0 {
            return None;
        }
        let mut filled = std::mem::take(&mut state.filled);
        filled.sort_unstable();
        let mut len = 0;
        for (start, n) in filled {
            debug_assert!(
                len <= start && start + n <= self.capacity,
                "spans move down"
            );
            self.accesses.read(start..start + n);
            self.accesses.write(len..len + n);
            // SAFETY: [start, start + n) was written by its writer, which has stopped
            // (the mutex orders its writes before this); len <= start, and copy handles
            // overlap.
            unsafe { std::ptr::copy(self.slots.add(start), self.slots.add(len), n) };
            len += n;
        }
        // SAFETY: the first `len` slots are initialised spans, in the allocation of
        // `capacity` spans made in `new`; the room gives up that allocation here.
        let spans = unsafe { Vec::from_raw_parts(self.slots, len, self.capacity) };
        state.taken = true;
        Some(spans)
    }
}

impl Drop for Room {
    fn drop(&mut self) {
        let state = self.state.get_mut().unwrap_or_else(|e| e.into_inner());
        if !state.taken {
            // SAFETY: the allocation is still ours; spans need no drop, so none is read.
            drop(unsafe { Vec::from_raw_parts(self.slots, 0, self.capacity) });
        }
    }
}

struct Block {
    start: usize,
    end: usize,
    filled: usize,
}

/// One writer's part of a `Room`.
pub(super) struct Writer<'a> {
    room: &'a Room,
    current: Option<Block>,
    done: Vec<Block>,
}

impl<'a> Writer<'a> {
    /// A writer of `room`.
    ///
    /// # Safety
    /// At most as many writers are made for `room` as it was made for: the last of
    /// them to stop takes the buffer, so none may still be writing then.
    pub unsafe fn new(room: &'a Room) -> Self {
        Writer {
            room,
            current: None,
            done: Vec::new(),
        }
    }

    /// Records `span`; returns it if the room is full (impossible when every writer
    /// records no more than `tasks` spans in all, as `Room::new` was told).
    #[inline]
    pub fn push(&mut self, span: Span) -> Result<(), Span> {
        if !matches!(&self.current, Some(b) if b.start + b.filled < b.end) {
            let Some(fresh) = self.room.claim() else {
                return Err(span);
            };
            self.done.extend(self.current.replace(fresh));
        }
        let Some(block) = &mut self.current else {
            return Err(span);
        };
        let slot = block.start + block.filled;
        self.room.accesses.write(slot..slot + 1);
        // SAFETY: the slot is inside this writer's own block, and not yet written; the
        // buffer is not taken before this writer stops (by the caller of `new`).
        unsafe { self.room.slots.add(slot).write(span) };
        block.filled += 1;
        Ok(())
    }

    /// Stops writing; the last writer of the room gets every span.
    pub fn stop(mut self) -> Option<Vec<Span>> {
        self.done.extend(self.current.take());
        // SAFETY: `done` holds every block this writer claimed, filled up to `filled`,
        // and `self` is gone after this.
        unsafe { self.room.stop(&self.done) }
    }
}

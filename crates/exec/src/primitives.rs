//! The synchronisation primitives of the lock-free pieces (`Idle`, `Slots`, the span
//! room): std's in every normal build, loom's when the crate is built with
//! the `loom` feature to model-check them (`model.rs`).
//!
//! - Atomics, `Mutex` and `Condvar` keep std's names and signatures, so the code that
//!   uses them reads as usual.
//! - `UnsafeCell` has loom's closure API (`with`, `with_mut`), through which loom sees
//!   every access to the cell; the std one wraps std's cell and inlines to nothing.
//! - `Accesses` tells loom about memory reached through raw pointers, which it cannot
//!   see otherwise; in normal builds it is empty and does nothing.

use std::ops::Range;

#[cfg(feature = "loom")]
pub(crate) use loom::sync::{
    atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Condvar, Mutex,
};
#[cfg(not(feature = "loom"))]
pub(crate) use std::sync::{
    atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering},
    Condvar, Mutex,
};

#[cfg(feature = "loom")]
pub(crate) use loom::cell::UnsafeCell;

/// std's `UnsafeCell` behind loom's access API.
#[cfg(not(feature = "loom"))]
#[repr(transparent)]
pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

#[cfg(not(feature = "loom"))]
impl<T> UnsafeCell<T> {
    pub fn new(value: T) -> Self {
        UnsafeCell(std::cell::UnsafeCell::new(value))
    }

    /// Calls `f` with a pointer to read the value through.
    #[inline(always)]
    pub fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Calls `f` with a pointer to write the value through.
    #[inline(always)]
    pub fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}

/// Reads and writes of `len` memory locations that are reached through a raw pointer,
/// reported so that loom checks them for races as it checks an `UnsafeCell`.
pub(crate) struct Accesses {
    #[cfg(feature = "loom")]
    cells: Box<[loom::cell::UnsafeCell<()>]>,
}

impl Accesses {
    #[cfg(not(feature = "loom"))]
    pub fn new(_len: usize) -> Self {
        Accesses {}
    }

    #[cfg(feature = "loom")]
    pub fn new(len: usize) -> Self {
        Accesses {
            cells: (0..len).map(|_| loom::cell::UnsafeCell::new(())).collect(),
        }
    }

    /// The locations in `range` are read.
    #[inline(always)]
    pub fn read(&self, range: Range<usize>) {
        #[cfg(feature = "loom")]
        for cell in &self.cells[range] {
            cell.with(|_| ());
        }
        #[cfg(not(feature = "loom"))]
        let _ = range;
    }

    /// The locations in `range` are written.
    #[inline(always)]
    pub fn write(&self, range: Range<usize>) {
        #[cfg(feature = "loom")]
        for cell in &self.cells[range] {
            cell.with_mut(|_| ());
        }
        #[cfg(not(feature = "loom"))]
        let _ = range;
    }
}

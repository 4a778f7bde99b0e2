//! The allocator taskloom's programs use: mimalloc, tuned to keep freed memory a moment.
//!
//! A million-task graph is millions of small allocations made on one thread and freed
//! on others; mimalloc makes them cheaper and maps memory in large pages: loading the
//! million-task tree of bench/ took 0.51 s instead of 0.76 s with the system allocator
//! (`perf stat -e page-faults`: 233 faults instead of 82,000), median of 5 runs.
//!
//! Array chunks are tens of MiB, allocated and freed once per task. mimalloc returns
//! freed memory to the system after 10 ms (and glibc unmaps blocks this large at
//! once), so the next chunk of the same size faults in fresh zeroed pages. Under
//! `perf record`, `examples/array_bench topk 134217728 8388608` with the system
//! allocator spent 49% of its samples in the kernel's `clear_page_erms`. Keeping freed
//! memory lets the next task reuse it; a second is far longer than a task waits for a
//! buffer and short enough that idle memory still goes back.
//!
//! A program opts in with
//! ```ignore
//! #[global_allocator]
//! static ALLOCATOR: taskloom::allocator::MiMalloc = taskloom::allocator::MiMalloc;
//! fn main() { taskloom::allocator::keep_freed_memory_for_reuse(); }
//! ```

pub use mimalloc::MiMalloc;

extern "C" {
    /// mimalloc's run-time option setter (part of the library the allocator links).
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
    /// mimalloc's collection of the calling thread's free memory; `force` also
    /// returns every freed range to the system at once, whatever the purge delay.
    fn mi_collect(force: bool);
}

/// mimalloc's `mi_option_purge_delay`, in milliseconds: 15 in mimalloc.h of both v2
/// and v3 (`libmimalloc-sys` builds v3 unless its `v2` feature is on). Arenas wait
/// `arena_purge_mult` (10) times as long. With it, chunk memory is reused: the page
/// faults of `examples/array_bench sum N 2896` stay at 371-379 for 16, 64 and 144
/// chunks of 64 MiB (`perf stat -e page-faults`), the first touch of the working set.
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Keeps memory freed to mimalloc for a second before returning it to the system.
/// Call it first thing in `main`, with `MiMalloc` as the global allocator.
pub fn keep_freed_memory_for_reuse() {
    // SAFETY: setting an option has no preconditions; purge_delay takes milliseconds.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, 1000) };
}

/// Returns the memory freed so far to the system now, rather than after the delay
/// `keep_freed_memory_for_reuse` sets: for a program that has just dropped large
/// tables it will not need again (loading a graph: its name table, 16 bytes per task of
/// a million-task graph, and the planner's scratch arrays), so that they do not add to
/// the peak of the run that follows, which allocates arrays of other sizes.
pub fn return_freed_memory() {
    // SAFETY: collecting has no preconditions; it only returns pages no block uses.
    unsafe { mi_collect(true) };
}

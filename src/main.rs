//! The `taskloom` command: argument parsing and printing only; the work is in the
//! library.

mod cli;

// mimalloc, keeping freed memory a moment: see the library's `allocator` module.
#[global_allocator]
static ALLOCATOR: taskloom::allocator::MiMalloc = taskloom::allocator::MiMalloc;

fn main() -> ! {
    taskloom::allocator::keep_freed_memory_for_reuse();
    // Started by a worker rank of `map --executor mpi` to end its items should the
    // rank be killed outright.
    #[cfg(feature = "mpi")]
    taskloom_map::guard::serve_if_requested();
    // Started by the process executor: serve tasks instead of parsing arguments (the
    // tasks of `taskloom array --executor processes` too).
    taskloom::serve_worker_if_requested(&taskloom::Runtime::new().with_array_ops());
    cli::main()
}

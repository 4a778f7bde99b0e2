//! The `taskloom` command: argument parsing and printing only; the work is in the
//! library.

mod cli;

// mimalloc, keeping freed memory a moment: see the library's `allocator` module.
#[global_allocator]
static ALLOCATOR: taskloom::allocator::MiMalloc = taskloom::allocator::MiMalloc;

fn main() -> ! {
    taskloom::allocator::keep_freed_memory_for_reuse();
    // Started by the process executor: serve tasks instead of parsing arguments.
    taskloom::serve_worker_if_requested(&taskloom::Runtime::new());
    cli::main()
}

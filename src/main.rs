//! The `taskloom` command: argument parsing and printing only; the work is in the
//! library.

mod cli;

// A million-task graph is millions of small allocations made on one thread and freed
// on others. mimalloc makes them cheaper and maps memory in large pages: loading a
// million-task file takes about a third less time than with the system allocator
// (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Started by the process executor: serve tasks instead of parsing arguments.
    taskloom::serve_worker_if_requested(&taskloom::Runtime::new());
    cli::main()
}

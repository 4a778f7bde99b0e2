//! The `taskloom` command: argument parsing and printing only; the work is in the
//! library.

mod cli;

// A million-task graph is millions of small allocations made on one thread and freed
// on others. mimalloc makes them cheaper and maps memory in large pages: loading the
// million-task tree of bench/ took 0.51 s instead of 0.76 s with the system allocator
// (`perf stat -e page-faults`: 233 faults instead of 82,000), median of 5 runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // Started by the process executor: serve tasks instead of parsing arguments.
    taskloom::serve_worker_if_requested(&taskloom::Runtime::new());
    cli::main()
}

//! One timing of the Pool API for `bench/pool_bench.sh`: `Pool::processes(2)` mapping
//! op `inc` over 1,000,000 ints with `Chunking::Auto`, and with `Dynamic(1)` over
//! 10,000 ints (multiprocessing's `chunksize=1`). Prints `name microseconds_per_item`
//! lines. The pool is started (and warmed up) before the clock starts, as in the
//! Python script.

use std::time::Instant;

use taskloom::{Chunking, Pool, Runtime};

// The allocator of the `taskloom` binary (see src/main.rs): a million-item map makes
// millions of allocations, and the system allocator returns big blocks to the OS and
// faults them back in on every map.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = Runtime::new();
    taskloom::serve_worker_if_requested(&runtime);
    let workers = 2;
    let pool = Pool::processes(workers)?;
    // Warm-up: the same map once, untimed (as the Python script does).
    pool.map("inc", 0..1_000_000i64, Chunking::Auto)?;
    for (name, n, chunking) in [
        ("auto_1M", 1_000_000i64, Chunking::Auto),
        ("chunk1_10k", 10_000, Chunking::Dynamic(1)),
    ] {
        let started = Instant::now();
        let out = pool.map("inc", 0..n, chunking)?;
        let seconds = started.elapsed().as_secs_f64();
        assert_eq!(out.len(), n as usize);
        println!("{name} {:.4}", seconds * 1e6 / n as f64);
    }
    Ok(())
}

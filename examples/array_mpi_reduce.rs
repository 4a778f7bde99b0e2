//! `array reduce --op sum` of a Zarr array on MPI ranks, timed in the process from the
//! plan to the result, with the bytes the ranks sent each other: what the CLI cannot
//! print (`taskloom array reduce ... --executor mpi` gives the same sum).
//!
//! ```text
//! cargo build --release --features mpi --example array_mpi_reduce
//! mpirun -n 3 target/release/examples/array_mpi_reduce PATH [WORKERS]
//! ```
//! Prints one JSON line: `{"ranks", "seconds", "bytes_moved", "sum"}` (with one rank,
//! rank 0 computes on threads and nothing moves).

use std::path::Path;
use std::time::Instant;

use taskloom::array::{Array, Engine};
use taskloom::graph::Chunk;

// The `taskloom` binary's allocator, so these numbers are those of the CLI's engine.
#[global_allocator]
static ALLOCATOR: taskloom::allocator::MiMalloc = taskloom::allocator::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    taskloom::allocator::keep_freed_memory_for_reuse();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [path, rest @ ..] = args.as_slice() else {
        return Err("usage: array_mpi_reduce PATH [WORKERS]".into());
    };
    let workers = match rest.first() {
        Some(n) => n
            .parse()
            .map_err(|_| format!("WORKERS: not a number: {n}"))?,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mpi = taskloom::Mpi::init()?.threads(workers);
    if mpi.rank() != 0 {
        std::process::exit(mpi.serve(taskloom::array::ops::registry()));
    }
    let ranks = mpi.ranks();
    let sum = Array::open(Path::new(path))?.sum()?;
    let job = Engine::new().workers(workers).compute_job(&sum)?;
    let mpi = mpi
        .threads(job.workers())
        .limited(job.limits())
        .settle_on_failure();
    let started = Instant::now();
    let result = job.run_on(&mpi)?;
    let seconds = started.elapsed().as_secs_f64();
    let sum = match result {
        Some(Chunk::F64(values)) => values.iter().sum::<f64>(),
        other => return Err(format!("expected a float64 sum, got {other:?}").into()),
    };
    println!(
        "{{\"ranks\": {ranks}, \"seconds\": {seconds:.6}, \"bytes_moved\": {}, \"sum\": {sum}}}",
        mpi.bytes_moved()
    );
    Ok(())
}

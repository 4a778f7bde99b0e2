//! Times a graph file across MPI ranks and reports the bytes moved between them.
//!
//! `cargo build --release --features mpi --example mpi_bench`, then
//! `mpirun -n 3 target/release/examples/mpi_bench FILE KEY [THREADS]`: prints one JSON
//! line with the run's seconds (load to result, as rank 0 sees it), the tasks run,
//! microseconds per task and the result bytes moved between ranks. bench/mpi.sh
//! reports the bytes moved of its tree with it.

use std::sync::Arc;
use std::time::Instant;

use taskloom::exec::Executor;
use taskloom::{Mpi, Runtime};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let runtime = Runtime::new();
    let args: Vec<String> = std::env::args().collect();
    let threads = args.get(3).map_or(Ok(1), |t| t.parse())?;
    let mpi = taskloom::serve_mpi_worker_if_rank_nonzero(&runtime, Mpi::init()?.threads(threads));
    let (Some(file), Some(key)) = (args.get(1), args.get(2)) else {
        return Err("usage: mpi_bench FILE KEY [THREADS]".into());
    };
    let started = Instant::now();
    let program = runtime.load(std::path::Path::new(file))?;
    let target = program.graph().key(key)?;
    let plan = program.plan(vec![target]);
    let tasks = plan.len();
    let value = mpi.run(Arc::new(plan))?;
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{{\"file\":{file:?},\"ranks\":{},\"threads\":{threads},\"tasks\":{tasks},\"seconds\":{seconds:.4},\"us_per_task\":{:.2},\"bytes_moved\":{},\"value\":{}}}",
        mpi.ranks(),
        seconds / tasks as f64 * 1e6,
        mpi.bytes_moved(),
        value[0].to_json()
    );
    Ok(())
}

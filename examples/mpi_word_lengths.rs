//! The word-lengths map-reduce across MPI ranks, with an op of your own.
//!
//! Build and run with `cargo build --release --features mpi --example mpi_word_lengths`
//! and `mpirun -n 3 target/release/examples/mpi_word_lengths`. Every rank runs this
//! program: ranks 1 and 2 register the same ops and serve rank 0, which builds the
//! graph, computes it across them and prints.

use taskloom::{Arg, Builder, Delayed, Mpi, Runtime};

fn main() -> Result<(), taskloom::Error> {
    let mut runtime = Runtime::new();
    runtime.register_fn1("char_count", |word: String| word.chars().count() as i64);
    // Which process ran a task: to show that the worker ranks did.
    runtime.register_fn1("pid", |_: i64| i64::from(std::process::id()));
    let mpi = taskloom::serve_mpi_worker_if_rank_nonzero(&runtime, Mpi::init()?.threads(2));
    let runtime = runtime.with_executor(mpi);

    let text = "the quick brown fox jumps over the lazy dog";
    let g = Builder::new();
    let lengths: Vec<Delayed<i64>> = text
        .split_whitespace()
        .map(|w| g.call("char_count", (w,)))
        .collect();
    let total: Delayed<i64> = g.call("sum", (Arg::list(&lengths),));
    let longest: Delayed<i64> = g.call("max", (Arg::list(&lengths),));
    println!(
        "{} words, {} letters, the longest has {}",
        lengths.len(),
        total.compute_on(&runtime)?,
        longest.compute_on(&runtime)?
    );

    let pids: Vec<Delayed<i64>> = (0..16i64)
        .map(|i| g.call("pid", (&g.call::<i64>("busy", (5, i)),)))
        .collect();
    let all: Delayed<Vec<i64>> = g.call("list", pids.iter().collect::<Vec<_>>());
    let mut ran_on = all.compute_on(&runtime)?;
    ran_on.sort_unstable();
    ran_on.dedup();
    let here = i64::from(std::process::id());
    println!(
        "tasks ran in {} processes, rank 0 {}",
        ran_on.len(),
        if ran_on.contains(&here) {
            "among them"
        } else {
            "not among them"
        }
    );
    Ok(())
}

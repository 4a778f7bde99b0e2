//! Static versus dynamic scheduling, on threads and on processes: 64 items whose
//! durations fall steeply with their index (item i takes `(64 - i)^2 / 64` ms, about
//! 1.4 s of work in all), so the first chunks hold most of the work.
//!
//! Items `sleep` by default: a duration that does not depend on what else the machine
//! runs, so the table reads the same on a busy machine. `--cpu` makes them `busy`
//! (burn CPU time) instead, which shows the same when the cores are free.
//!
//! `Fixed(n / workers)` gives the first worker the slow half: the others finish early
//! and wait. `Auto` (four chunks per worker) helps, and `Dynamic(1)` lets every idle
//! worker take the next item, so all finish together.
//!
//! ```sh
//! cargo run --release --example pool_chunking          # sleeping items
//! cargo run --release --example pool_chunking -- --cpu  # CPU-bound items
//! ```

use std::time::{Duration, Instant};

use taskloom::{Chunking, Pool, PoolError, Runtime, Value};

const ITEMS: i64 = 64;

fn main() -> Result<(), PoolError> {
    // Worker processes are this program again: serve before doing anything else.
    let runtime = Runtime::new();
    taskloom::serve_worker_if_requested(&runtime);

    let workers = std::thread::available_parallelism().map_or(2, |n| n.get());
    // sleep(ms) waits and busy(ms) burns that much CPU time; both return null.
    let op = if std::env::args().any(|a| a == "--cpu") {
        "busy"
    } else {
        "sleep"
    };
    let items: Vec<Value> = (0..ITEMS)
        .map(|i| Value::Float(((ITEMS - i) * (ITEMS - i)) as f64 / ITEMS as f64))
        .collect();
    let total_ms: f64 = items
        .iter()
        .map(|v| match v {
            Value::Float(ms) => *ms,
            _ => 0.0,
        })
        .sum();
    let chunkings = [
        (
            "Fixed(n/workers)",
            Chunking::Fixed(ITEMS as usize / workers),
        ),
        ("Auto", Chunking::Auto),
        ("Dynamic(1)", Chunking::Dynamic(1)),
    ];

    let threads = Pool::threads(workers);
    let processes = Pool::processes(workers)?;
    println!(
        "{ITEMS} items of uneven duration (op {op}, {:.2} s in all) on {workers} workers; ideal {:.2} s\n",
        total_ms / 1000.0,
        total_ms / 1000.0 / workers as f64
    );
    println!("{:<18} {:>10} {:>12}", "chunking", "threads", "processes");
    for (name, chunking) in chunkings {
        let on_threads = time(|| threads.map(op, items.clone(), chunking))?;
        let on_processes = time(|| processes.map(op, items.clone(), chunking))?;
        println!(
            "{name:<18} {:>9.2}s {:>11.2}s",
            on_threads.as_secs_f64(),
            on_processes.as_secs_f64()
        );
    }
    println!(
        "\nFixed chunks are dealt out before anything runs, so the worker holding the slow \
         items finishes last while the others idle; Dynamic(1) hands each idle worker the \
         next item and balances the load, at one message per item."
    );
    Ok(())
}

fn time(f: impl FnOnce() -> Result<Vec<Value>, PoolError>) -> Result<Duration, PoolError> {
    let started = Instant::now();
    f()?;
    Ok(started.elapsed())
}

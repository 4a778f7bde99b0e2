//! `(a + a.T).sum()` on a Zarr array larger than the memory limit: one lazy expression,
//! one task graph, computed with the chunks in flight kept under the limit.
//!
//! ```text
//! cargo run --release --example array_transpose_sum -- [PATH] [SIDE] [CHUNK] [LIMIT_MIB]
//! ```
//! Creates a SIDE x SIDE float64 array of random numbers at PATH (default
//! `target/example-a.zarr`, 16384 x 16384 = 2 GiB in 2048 x 2048 chunks) unless one is
//! there, then sums `a + a.T` with a 256 MiB limit and prints the sum, the time and the
//! peak memory of the process.

use std::path::PathBuf;
use std::time::Instant;

use taskloom::array::store::Compression;
use taskloom::array::{Array, Engine, WriteOptions};
use taskloom::graph::Chunk;

#[global_allocator]
static ALLOCATOR: taskloom::allocator::MiMalloc = taskloom::allocator::MiMalloc;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    taskloom::allocator::keep_freed_memory_for_reuse();
    let mut args = std::env::args().skip(1);
    let path = PathBuf::from(
        args.next()
            .unwrap_or_else(|| "target/example-a.zarr".into()),
    );
    let side: usize = args.next().map_or(Ok(16384), |s| s.parse())?;
    let chunk: usize = args.next().map_or(Ok(2048), |s| s.parse())?;
    let limit_mib: u64 = args.next().map_or(Ok(256), |s| s.parse())?;
    let engine = Engine::new().memory_limit(limit_mib << 20);

    if !path.exists() {
        let random = Array::random(&[side, side], &[chunk, chunk], 42)?;
        // Random numbers do not compress: store them plain.
        let options = WriteOptions {
            compression: Compression::None,
            ..WriteOptions::default()
        };
        engine.write(&random, &path, &options)?;
    }
    let a = Array::open(&path)?;
    let started = Instant::now();
    let total = engine.compute(&a.add(&a.t())?.sum()?)?;
    let Chunk::F64(total) = total else {
        return Err("a float64 array sums to a float64".into());
    };
    println!(
        "(a + a.T).sum() of a {:?} array ({} MiB) = {}",
        a.shape(),
        a.nbytes() >> 20,
        total.first().copied().unwrap_or_default()
    );
    println!(
        "{:.2} s with a {limit_mib} MiB memory limit; peak memory of this process: {}",
        started.elapsed().as_secs_f64(),
        peak_rss()
    );
    Ok(())
}

/// The process's peak resident set size, as Linux reports it.
fn peak_rss() -> String {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l["VmHWM:".len()..].trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

//! The in-memory cases of `bench/array/run.sh`: one array expression on generated
//! random float64 data, computed by the array engine, timed from the first task to the
//! result in memory. The CLI only reads Zarr files, so generated arrays (which cost no
//! disk reads and let the engine and Dask be compared on compute alone) need this.
//!
//! ```text
//! cargo run --release --example array_bench -- CASE SIZE CHUNK [--workers N] [--memory-limit MIB]
//! ```
//! CASE is `sum`, `mean0` (mean along axis 0), `xxt` (`(x + x.T).sum()`), `chain`
//! (`(x * 2 + 1).sum()`), `chain0` (`(x * 2 + 1).mean(axis=0)`: an elementwise block
//! feeding a reduction along an axis) or `cumsum0`
//! (`x.cumsum(0).sum()`: the blocked scan along axis 0, reduced to one number) of a
//! SIZE x SIZE array in CHUNK x CHUNK blocks; `topk` (the 10 largest) or `sort` of a 1-D
//! array of SIZE elements in blocks of CHUNK; `matmul` of two SIZE x SIZE arrays; or
//! `gen2` (the sum of the two arrays `matmul` multiplies, so the cost of generating its
//! inputs can be subtracted). Prints one JSON line: `{"case", "seconds", "check"}`, where
//! `check` is a value the Dask side should reproduce in kind (a sum near n/2, the top
//! value near 1, whether the sort is ordered, ...). A sort's check also gives the bytes
//! the process read and wrote through files (`io_bytes`, from `/proc/self/io`): with a
//! `--memory-limit` below three times the input, its traffic through scratch files.

use std::borrow::Cow;
use std::time::Instant;

use taskloom::array::{Array, ArrayError, Engine, Reduction};
use taskloom::graph::Chunk;

// The `taskloom` binary's allocator and its setting, so these numbers are those of the
// CLI's engine.
#[global_allocator]
static ALLOCATOR: taskloom::allocator::MiMalloc = taskloom::allocator::MiMalloc;

const SEED: u64 = 42;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    taskloom::allocator::keep_freed_memory_for_reuse();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage =
        "usage: array_bench sum|mean0|xxt|chain|chain0|cumsum0|topk|sort|matmul|gen2 SIZE CHUNK \
                 [--workers N] [--memory-limit MIB]";
    let [case, size, chunk, options @ ..] = args.as_slice() else {
        return Err(usage.into());
    };
    let size: usize = size
        .parse()
        .map_err(|_| format!("SIZE: not a number: {size}"))?;
    let chunk: usize = chunk
        .parse()
        .map_err(|_| format!("CHUNK: not a number: {chunk}"))?;
    let mut engine = Engine::new();
    let mut options = options.iter();
    while let Some(option) = options.next() {
        let value = options
            .next()
            .ok_or_else(|| format!("{option} needs a value"))?;
        let number: u64 = value
            .parse()
            .map_err(|_| format!("{option}: not a number: {value}"))?;
        engine = match option.as_str() {
            "--workers" => engine.workers(number as usize),
            "--memory-limit" => engine.memory_limit(number << 20),
            _ => return Err(format!("unknown option {option}; {usage}").into()),
        };
    }

    let square = |seed| Array::random(&[size, size], &[chunk, chunk], seed);
    let line = |seed| Array::random(&[size], &[chunk], seed);
    let expr: Array = match case.as_str() {
        "sum" => square(SEED)?.sum()?,
        "mean0" => square(SEED)?.reduce(Reduction::Mean, Some(0))?,
        "xxt" => {
            let x = square(SEED)?;
            x.add(&x.t())?.sum()?
        }
        "chain" => square(SEED)?.mul(2i64)?.add(1i64)?.sum()?,
        "chain0" => square(SEED)?
            .mul(2i64)?
            .add(1i64)?
            .reduce(Reduction::Mean, Some(0))?,
        "cumsum0" => square(SEED)?.cumsum(0)?.sum()?,
        "topk" => line(SEED)?.topk(10, true)?,
        "sort" => line(SEED)?.sort(false)?,
        "matmul" => square(SEED)?.matmul(&square(SEED + 1)?)?,
        "gen2" => square(SEED)?.sum()?.add(&square(SEED + 1)?.sum()?)?,
        other => return Err(format!("unknown CASE {other}; {usage}").into()),
    };
    let started = Instant::now();
    let result = engine.compute(&expr)?;
    let seconds = started.elapsed().as_secs_f64();
    let check = check(case, &result)?;
    println!("{{\"case\": \"{case}\", \"seconds\": {seconds:.6}, \"check\": {check}}}");
    Ok(())
}

/// A small summary of the result that shows it is right in kind: scalars as they are,
/// the first values of a top-k, whether a sort is in order, a checksum of the rest.
fn check(case: &str, result: &Chunk) -> Result<String, ArrayError> {
    let Chunk::F64(values) = result else {
        return Err(ArrayError::invalid(
            "random float64 input gave a non-float64 result",
        ));
    };
    // Borrowed, not copied: a copy of a 1 GiB sort result would count in the peak RSS.
    let values: Cow<[f64]> = match values.as_slice_memory_order() {
        Some(slice) => Cow::Borrowed(slice),
        None => Cow::Owned(values.iter().copied().collect()),
    };
    Ok(match case {
        "topk" => format!("{:?}", &values[..values.len().min(3)]),
        "sort" => {
            let ordered = values.windows(2).all(|w| w[0] <= w[1]);
            format!(
                "{{\"ordered\": {ordered}, \"len\": {}, \"io_bytes\": {}}}",
                values.len(),
                io_bytes()
            )
        }
        _ if values.len() == 1 => format!("{}", values[0]),
        _ => format!("{}", values.iter().sum::<f64>() / values.len() as f64),
    })
}

/// The bytes this process has read and written through system calls so far
/// (`rchar + wchar` of `/proc/self/io`; 0 where there is no such file).
fn io_bytes() -> u64 {
    let io = std::fs::read_to_string("/proc/self/io").unwrap_or_default();
    io.lines()
        .filter_map(|line| line.split_once(": "))
        .filter(|(field, _)| matches!(*field, "rchar" | "wchar"))
        .filter_map(|(_, value)| value.trim().parse::<u64>().ok())
        .sum()
}

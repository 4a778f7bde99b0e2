//! How close fused elementwise reductions come to memory bandwidth: on one thread, a
//! plain copy of a chunk's bytes, a plain sum of it, and `(x*2+1).sum()` and
//! `(x + y.T).sum()` computed chunk by chunk (each op a whole chunk, as nested calls
//! did) and fused tile by tile (`array.fused_partial`), each as GB/s of the chunks read
//! (median of `REPEATS`).
//!
//! ```text
//! cargo run --release --example fused_speed -- [N [FILTER]]
//! ```
//! N x N float64 chunks (default 2896); FILTER runs only the cases whose name has it.

use std::sync::Arc;
use std::time::Instant;

use taskloom::array::ops::registry;
use taskloom::array::{Array, Engine};
use taskloom::graph::{Chunk, Value};

// The CLI's allocator and setting, so chunk-sized allocations cost what they do there.
#[global_allocator]
static ALLOCATOR: taskloom::allocator::MiMalloc = taskloom::allocator::MiMalloc;

/// A case: its name, the bytes it reads, and one run of it.
type Case<'a> = (&'static str, f64, Box<dyn FnMut() + 'a>);

/// Runs per case; the median is reported.
const REPEATS: usize = 7;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    taskloom::allocator::keep_freed_memory_for_reuse();
    let n: usize = std::env::args().nth(1).map_or(Ok(2896), |a| a.parse())?;
    let filter = std::env::args().nth(2).unwrap_or_default();
    let chunk = |seed| -> Result<Value, Box<dyn std::error::Error>> {
        let values = Engine::new().compute(&Array::random(&[n, n], &[n, n], seed)?)?;
        Ok(Value::Chunk(Arc::new(values)))
    };
    let (x, y) = (chunk(1)?, chunk(2)?);
    let bytes = (n * n * 8) as f64;
    let call = |name: &str, args: Vec<Value>| -> Value {
        let f = registry().get(name).expect("an array op");
        f(&args).expect("the op runs")
    };
    let s = Value::str;
    let int = Value::Int;
    let leaf =
        |slot: i64, axes: [i64; 2]| Value::list([s("leaf"), int(slot), Value::list(axes.map(int))]);
    let shape = Value::list([int(n as i64), int(n as i64)]);
    let fused = |tree: Value, leaves: Vec<Value>| {
        let start = Value::list([int(0), int(0)]);
        let blocks = Value::list([Value::list([tree, shape.clone(), start])]);
        let mut args = vec![s("sum"), Value::Null, shape.clone(), blocks];
        args.extend(leaves);
        call("array.fused_partial", args)
    };
    let chain = Value::list([
        s("binary"),
        s("add"),
        Value::list([s("binary"), s("mul"), leaf(0, [0, 1]), int(2)]),
        int(1),
    ]);
    let xyt = Value::list([s("binary"), s("add"), leaf(0, [0, 1]), leaf(1, [1, 0])]);
    let source: Vec<f64> = match &x {
        Value::Chunk(c) => match &**c {
            Chunk::F64(a) => a.iter().copied().collect(),
            _ => unreachable!("made as float64"),
        },
        _ => unreachable!("made as a chunk"),
    };
    let mut target = vec![0.0f64; source.len()];

    let mut cases: Vec<Case> = vec![
        ("copy", bytes, Box::new(|| target.copy_from_slice(&source))),
        (
            "sum",
            bytes,
            Box::new(|| {
                call("array.partial", vec![s("sum"), x.clone(), Value::Null]);
            }),
        ),
        (
            "chain, chunk by chunk",
            bytes,
            Box::new(|| {
                let doubled = call("array.binary", vec![s("mul"), x.clone(), int(2)]);
                let plus = call("array.binary", vec![s("add"), doubled, int(1)]);
                call("array.partial", vec![s("sum"), plus, Value::Null]);
            }),
        ),
        (
            "chain, fused",
            bytes,
            Box::new(|| {
                fused(chain.clone(), vec![x.clone()]);
            }),
        ),
        (
            "x + y.T, chunk by chunk",
            2.0 * bytes,
            Box::new(|| {
                let t = call("array.transpose", vec![y.clone(), Value::Null]);
                let plus = call("array.binary", vec![s("add"), x.clone(), t]);
                call("array.partial", vec![s("sum"), plus, Value::Null]);
            }),
        ),
        (
            "x + y.T, fused",
            2.0 * bytes,
            Box::new(|| {
                fused(xyt.clone(), vec![x.clone(), y.clone()]);
            }),
        ),
    ];
    for (name, read, run) in cases.iter_mut().filter(|c| c.0.contains(&filter)) {
        let mut times: Vec<f64> = (0..REPEATS)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed().as_secs_f64()
            })
            .collect();
        times.sort_by(f64::total_cmp);
        let median = times[REPEATS / 2];
        println!(
            "{name:>24}: {:7.2} ms  {:6.2} GB/s",
            median * 1e3,
            *read / median / 1e9
        );
    }
    Ok(())
}

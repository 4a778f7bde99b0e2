//! The speed of one block of a chunked matrix product: `array.matmul` on two square
//! float64 blocks with an accumulator, on one core, in GFLOP/s.
//!
//! `cargo run --release -p taskloom-array --example matmul_speed -- [n] [repeats]`
//! (default 2000 and 5). Also times the copy of the accumulator the op makes, a
//! float32 product, and one product per core at once (as the executor runs them:
//! cores share caches and memory bandwidth).

use std::time::Instant;

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, Registry, Value};

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args
        .next()
        .map_or(2000, |s| s.parse().expect("n is a number"));
    let repeats: usize = args
        .next()
        .map_or(5, |s| s.parse().expect("repeats is a number"));
    let mut registry = Registry::empty();
    taskloom_array::ops::register(&mut registry);
    let op = registry.get("array.matmul").expect("registered").clone();

    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut random = |len: usize| -> Vec<f64> {
        (0..len)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5
            })
            .collect()
    };
    let square = |v: Vec<f64>| ArrayD::from_shape_vec(IxDyn(&[n, n]), v).expect("n*n values");
    let (a, b, c) = (
        square(random(n * n)),
        square(random(n * n)),
        square(random(n * n)),
    );
    let flops = 2.0 * (n as f64).powi(3);

    let time = |label: &str, args: &[Value]| {
        let mut best = f64::INFINITY;
        for _ in 0..repeats {
            let start = Instant::now();
            let out = op(args).expect("matmul succeeds");
            best = best.min(start.elapsed().as_secs_f64());
            drop(out);
        }
        println!(
            "{label:<28} best of {repeats}: {:8.3} s  {:6.1} GFLOP/s",
            best,
            flops / best / 1e9
        );
    };
    let value = |a: &ArrayD<f64>| Value::Chunk(Chunk::F64(a.clone()).into());
    let (va, vb, vc) = (value(&a), value(&b), value(&c));
    time("float64 a @ b + acc", &[va.clone(), vb.clone(), vc.clone()]);
    time("float64 a @ b", &[va.clone(), vb.clone(), Value::Null]);

    let start = Instant::now();
    for _ in 0..repeats {
        std::hint::black_box(c.as_standard_layout().into_owned());
    }
    println!(
        "copy of the accumulator      mean of {repeats}: {:8.4} s",
        start.elapsed().as_secs_f64() / repeats as f64
    );

    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mut best = f64::INFINITY;
    for _ in 0..repeats {
        let start = Instant::now();
        std::thread::scope(|s| {
            for _ in 0..cores {
                s.spawn(|| op(&[va.clone(), vb.clone(), vc.clone()]).expect("matmul succeeds"));
            }
        });
        best = best.min(start.elapsed().as_secs_f64());
    }
    println!(
        "float64 + acc, {cores} at once    best of {repeats}: {:8.3} s  {:6.1} GFLOP/s in all",
        best,
        cores as f64 * flops / best / 1e9
    );

    let single = |a: &ArrayD<f64>| Value::Chunk(Chunk::F32(a.mapv(|x| x as f32)).into());
    time("float32 a @ b + acc", &[single(&a), single(&b), single(&c)]);
}

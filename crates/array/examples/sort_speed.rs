//! The speed of the out-of-core sample sort on one thread: every task of a sort graph,
//! run in order, on random float64 blocks, with the scratch files in a temp dir.
//!
//! `cargo run --release -p taskloom-array --example sort_speed -- [MiB] [block MiB]`
//! (default 1024 and 8: 128M values in 128 blocks). Blocks are generated from a seed
//! each time a task reads one, so memory stays at a few blocks; generating is timed
//! apart from the sort. The output is checked to be in order and complete.

use std::time::{Duration, Instant};

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, OpFn, Registry, Value};

/// Random floats in [-1, 1) for block `seed` (xorshift: fast and reproducible).
fn block(seed: u64, len: usize) -> Value {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let values: Vec<f64> = (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 52) as f64 - 1.0
        })
        .collect();
    let chunk = Chunk::F64(ArrayD::from_shape_vec(IxDyn(&[len]), values).expect("1-D"));
    Value::Chunk(chunk.into())
}

fn main() {
    let mut args = std::env::args().skip(1);
    let total_mib: usize = args.next().map_or(1024, |s| s.parse().expect("MiB"));
    let block_mib: usize = args.next().map_or(8, |s| s.parse().expect("block MiB"));
    let per_block = block_mib << 17;
    let blocks = total_mib / block_mib;
    let buckets = blocks;
    let samples_per_block = 64;

    let mut registry = Registry::empty();
    taskloom_array::ops::register(&mut registry);
    let op = |name: &str| -> OpFn { registry.get(name).expect("registered").clone() };
    let (samples, splitters, partition) = (
        op("array.samples"),
        op("array.splitters"),
        op("array.partition"),
    );
    let (gather, read_sorted) = (op("array.gather"), op("array.read_sorted"));
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_arg = Value::str(dir.path().to_str().expect("utf-8 path"));
    let dtype = Value::str("float64");
    let int = |n: usize| Value::Int(n as i64);

    let mut generating = Duration::ZERO;
    let mut make = |seed: usize| {
        let start = Instant::now();
        let v = block(seed as u64, per_block);
        generating += start.elapsed();
        v
    };
    let mut phases: Vec<(&str, Duration)> = Vec::new();

    let start = Instant::now();
    let mut splitter_args = vec![int(buckets)];
    for b in 0..blocks {
        let x = make(b);
        let t = Instant::now();
        splitter_args.push(samples(&[x, int(samples_per_block)]).expect("samples"));
        phases.push(("samples", t.elapsed()));
    }
    let t = Instant::now();
    let cuts = splitters(&splitter_args).expect("splitters");
    phases.push(("splitters", t.elapsed()));
    for b in 0..blocks {
        let x = make(b);
        let t = Instant::now();
        partition(&[x, cuts.clone(), dir_arg.clone(), int(b)]).expect("partition");
        phases.push(("partition", t.elapsed()));
    }
    let mut sizes = Vec::with_capacity(buckets);
    for bucket in 0..buckets {
        let t = Instant::now();
        sizes.push(
            gather(&[
                dir_arg.clone(),
                int(bucket),
                int(blocks),
                dtype.clone(),
                Value::Bool(false),
            ])
            .expect("gather"),
        );
        phases.push(("gather", t.elapsed()));
    }
    let mut previous = f64::NEG_INFINITY;
    let mut count = 0;
    for b in 0..blocks {
        let t = Instant::now();
        let mut read = vec![
            dir_arg.clone(),
            int(b * per_block),
            int(per_block),
            dtype.clone(),
            Value::Bool(false),
        ];
        read.extend(sizes.iter().cloned());
        let out = read_sorted(&read).expect("read_sorted");
        phases.push(("read_sorted", t.elapsed()));
        let Value::Chunk(out) = &out else {
            panic!("a chunk")
        };
        let Chunk::F64(out) = &**out else {
            panic!("float64")
        };
        for &x in out {
            assert!(x >= previous, "out of order at {count}");
            previous = x;
            count += 1;
        }
    }
    assert_eq!(count, blocks * per_block);
    let wall = start.elapsed();

    println!("{} values ({total_mib} MiB) in {blocks} blocks of {block_mib} MiB, {buckets} buckets, one thread", count);
    let mut sort_total = Duration::ZERO;
    for name in ["samples", "splitters", "partition", "gather", "read_sorted"] {
        let spent: Duration = phases.iter().filter(|p| p.0 == name).map(|p| p.1).sum();
        sort_total += spent;
        println!("  {name:<12} {:7.2} s", spent.as_secs_f64());
    }
    println!(
        "  sort total   {:7.2} s  (generating blocks: {:.2} s; wall with checks {:.2} s)",
        sort_total.as_secs_f64(),
        generating.as_secs_f64(),
        wall.as_secs_f64()
    );
}

//! The out-of-core sample sort run end to end, in process: the ops a sort graph calls,
//! in graph order, on a 1-D array cut into blocks, checked against a plain sort.

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use taskloom_graph::{Chunk, DType, OpFn, Registry, Value};

struct Ops(Registry);

impl Ops {
    fn new() -> Ops {
        let mut registry = Registry::empty();
        taskloom_array::ops::register(&mut registry);
        Ops(registry)
    }

    fn op(&self, name: &str) -> &OpFn {
        self.0.get(name).expect("op registered")
    }

    fn call(&self, name: &str, args: &[Value]) -> Value {
        self.op(name)(args).unwrap_or_else(|e| panic!("{name} failed: {e}"))
    }

    fn chunk(&self, name: &str, args: &[Value]) -> Chunk {
        match &self.call(name, args) {
            Value::Chunk(c) => Chunk::clone(c),
            other => panic!("{name} returned {}", other.type_name()),
        }
    }
}

fn int(v: &Value) -> usize {
    match v {
        Value::Int(n) => usize::try_from(*n).expect("non-negative"),
        other => panic!("expected an int, got {}", other.type_name()),
    }
}

fn arg(c: Chunk) -> Value {
    Value::Chunk(c.into())
}

/// `values` (f64s holding ints or NaN) as a 1-D chunk of `dtype`.
fn chunk_of(values: &[f64], dtype: DType) -> Chunk {
    let shape = IxDyn(&[values.len()]);
    match dtype {
        DType::Float64 => Chunk::F64(ArrayD::from_shape_vec(shape, values.to_vec()).unwrap()),
        DType::Float32 => Chunk::F32(
            ArrayD::from_shape_vec(shape, values.iter().map(|&x| x as f32).collect()).unwrap(),
        ),
        DType::Int64 => Chunk::I64(
            ArrayD::from_shape_vec(shape, values.iter().map(|&x| x as i64).collect()).unwrap(),
        ),
        DType::Int32 => Chunk::I32(
            ArrayD::from_shape_vec(shape, values.iter().map(|&x| x as i32).collect()).unwrap(),
        ),
        DType::Bool => Chunk::Bool(
            ArrayD::from_shape_vec(shape, values.iter().map(|&x| x != 0.0).collect()).unwrap(),
        ),
    }
}

/// The bit patterns of a chunk's values widened to f64, so NaN equals NaN.
fn bits(c: &Chunk) -> Vec<u64> {
    taskloom_array::kernels::args::cast::<f64>(c)
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

/// Sorts `values` the way the graph would: samples per block, splitters, a partition
/// task per block, a gather task per bucket, and a read task per output block (the
/// output keeps the input's chunking).
fn sample_sort(
    ops: &Ops,
    values: &[f64],
    dtype: DType,
    chunk: usize,
    buckets: usize,
    per_block: usize,
    descending: bool,
) -> Chunk {
    let dir = tempfile::tempdir().expect("temp dir");
    let dir_arg = Value::str(dir.path().to_str().expect("utf-8 path"));
    let dtype_arg = Value::str(dtype.name());
    let len = values.len();
    let blocks: Vec<(usize, usize)> = (0..len)
        .step_by(chunk)
        .map(|s| (s, chunk.min(len - s)))
        .collect();
    let block_chunks: Vec<Chunk> = blocks
        .iter()
        .map(|&(s, n)| chunk_of(&values[s..s + n], dtype))
        .collect();
    let mut sample_args = vec![Value::Int(buckets as i64)];
    for c in &block_chunks {
        let n = per_block.min(c.len());
        sample_args.push(ops.call("array.samples", &[arg(c.clone()), Value::Int(n as i64)]));
    }
    let splitters = ops.call("array.splitters", &sample_args);
    let mut per_bucket = vec![0usize; buckets];
    for (i, c) in block_chunks.iter().enumerate() {
        let counts = ops.call(
            "array.partition",
            &[
                arg(c.clone()),
                splitters.clone(),
                dir_arg.clone(),
                Value::Int(i as i64),
            ],
        );
        let Value::List(counts) = &counts else {
            panic!("partition returns a list")
        };
        assert_eq!(counts.len(), buckets);
        assert_eq!(counts.iter().map(int).sum::<usize>(), c.len());
        for (total, n) in per_bucket.iter_mut().zip(counts.iter()) {
            *total += int(n);
        }
    }
    let sizes: Vec<Value> = (0..buckets)
        .map(|b| {
            ops.call(
                "array.gather",
                &[
                    dir_arg.clone(),
                    Value::Int(b as i64),
                    Value::Int(blocks.len() as i64),
                    dtype_arg.clone(),
                    Value::Bool(descending),
                ],
            )
        })
        .collect();
    assert_eq!(sizes.iter().map(int).collect::<Vec<_>>(), per_bucket);
    let mut out = Vec::with_capacity(len);
    for &(s, n) in &blocks {
        let mut read = vec![
            dir_arg.clone(),
            Value::Int(s as i64),
            Value::Int(n as i64),
            dtype_arg.clone(),
            Value::Bool(descending),
        ];
        read.extend(sizes.iter().cloned());
        let part = ops.chunk("array.read_sorted", &read);
        assert_eq!(part.dtype(), dtype);
        assert_eq!(part.shape(), &[n]);
        out.extend(
            taskloom_array::kernels::args::cast::<f64>(&part)
                .iter()
                .copied(),
        );
    }
    chunk_of(&out, dtype)
}

/// The reference order: numbers ascending or descending, then NaN.
fn reference(values: &[f64], descending: bool) -> Vec<f64> {
    let mut v = values.to_vec();
    v.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
        (true, true) => std::cmp::Ordering::Equal,
        (true, false) => std::cmp::Ordering::Greater,
        (false, true) => std::cmp::Ordering::Less,
        _ if descending => b.total_cmp(a),
        _ => a.total_cmp(b),
    });
    v
}

fn values(range: i32) -> impl Strategy<Value = Vec<f64>> {
    let value = prop_oneof![
        20 => (-range..range).prop_map(f64::from),
        1 => Just(f64::NAN),
    ];
    prop::collection::vec(value, 1..300)
}

proptest! {
    #[test]
    fn sample_sort_equals_a_plain_sort(
        data in prop_oneof![values(3), values(1000)],
        dtype in prop::sample::select(DType::NUMERIC.to_vec()),
        chunk in 1usize..60,
        buckets in 1usize..9,
        per_block in 1usize..8,
        descending in any::<bool>(),
    ) {
        let ops = Ops::new();
        let data: Vec<f64> = if dtype.is_float() {
            data
        } else {
            data.into_iter().map(|x| if x.is_nan() { 7.0 } else { x }).collect()
        };
        let input = chunk_of(&data, dtype);
        let want = chunk_of(&reference(&data, descending), dtype);
        let got = sample_sort(&ops, &data, dtype, chunk, buckets, per_block, descending);
        prop_assert_eq!(bits(&got), bits(&want));
        let whole = ops.chunk("array.sort", &[arg(input), Value::Bool(descending)]);
        prop_assert_eq!(bits(&whole), bits(&want));
    }
}

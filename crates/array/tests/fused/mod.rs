//! Elementwise trees reduced tile by tile give what the same values reduced chunk by
//! chunk give: exactly for ints, bools, min and max; for float sums within pairwise
//! summation's bound, |error| <= c·ε·log2(n)·Σ|x| on each side.

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use taskloom_array::{Array, BinaryOp, CompareOp, Engine, Operand, Reduction, UnaryOp};
use taskloom_graph::{Chunk, DType, Value};

fn engine() -> Engine {
    Engine::new().workers(2).fan_in(3)
}

const NUMERIC: [DType; 4] = [DType::Float64, DType::Float32, DType::Int64, DType::Int32];

/// Deterministic values of `dtype` from `seed`: small ints (zeros and negatives
/// included, so division and wrap-around are exercised) or floats in (-2, 2).
fn leaf(shape: &[usize], chunks: &[usize], dtype: DType, seed: u64) -> Array {
    let n: usize = shape.iter().product();
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let ints: Vec<i64> = (0..n).map(|_| (next() % 9) as i64 - 4).collect();
    let floats: Vec<f64> = (0..n)
        .map(|_| (next() % 4000) as f64 / 1000.0 - 2.0)
        .collect();
    let s = IxDyn(shape);
    let values = match dtype {
        DType::Float64 => Chunk::F64(ArrayD::from_shape_vec(s, floats).unwrap()),
        DType::Float32 => Chunk::F32(
            ArrayD::from_shape_vec(s, floats.iter().map(|&f| f as f32).collect()).unwrap(),
        ),
        DType::Int64 => Chunk::I64(ArrayD::from_shape_vec(s, ints).unwrap()),
        _ => {
            Chunk::I32(ArrayD::from_shape_vec(s, ints.iter().map(|&i| i as i32).collect()).unwrap())
        }
    };
    let chunks: Vec<usize> = chunks.iter().zip(shape).map(|(&c, &e)| c.min(e)).collect();
    Array::from_chunk(values, &chunks).unwrap()
}

/// An operand of the tree being built, of the expression's shape `shape` (chunked by
/// `chunks`): a scalar, a leaf, a transposed leaf, or a leaf broadcast along some axes.
fn operand(kind: u8, shape: &[usize], chunks: &[usize], dtype: DType, seed: u64) -> Operand {
    match kind % 6 {
        0 => Operand::from(2i64),
        1 => Operand::from(0.5),
        2 => Operand::from(&leaf(shape, chunks, dtype, seed)),
        3 => {
            let reversed: Vec<usize> = shape.iter().rev().copied().collect();
            let rchunks: Vec<usize> = chunks.iter().rev().copied().collect();
            Operand::from(&leaf(&reversed, &rchunks, dtype, seed).t())
        }
        4 => {
            // Extent 1 on every other axis: stretched there.
            let stretched: Vec<usize> = shape
                .iter()
                .enumerate()
                .map(|(k, &e)| {
                    if (k + seed as usize).is_multiple_of(2) {
                        1
                    } else {
                        e
                    }
                })
                .collect();
            Operand::from(&leaf(&stretched, chunks, dtype, seed))
        }
        _ => {
            // Fewer axes: right-aligned, the leading ones stretched.
            let tail = &shape[shape.len() - 1..];
            Operand::from(&leaf(tail, &chunks[chunks.len() - 1..], dtype, seed))
        }
    }
}

/// One step of building a tree, as random bytes pick it.
type Step = (u8, u8, u8, u8);

/// The expression `steps` build on a leaf of `shape`.
fn expression(shape: &[usize], chunks: &[usize], dtype: DType, steps: &[Step]) -> Array {
    build(shape, chunks, dtype, steps, &mut |a| Ok(a)).unwrap()
}

/// The values of the expression `steps` build, each op's result (and each operand)
/// computed and held in memory before the next op reads it: chunk kernel by chunk
/// kernel, nothing fused. An error is the first op's that fails.
fn held_values(
    shape: &[usize],
    chunks: &[usize],
    dtype: DType,
    steps: &[Step],
) -> Result<Chunk, String> {
    let mut hold = |a: Array| -> Result<Array, String> {
        let values = engine().compute(&a).map_err(|e| e.to_string())?;
        Ok(Array::from_chunk(values, a.chunks()).unwrap())
    };
    let e = build(shape, chunks, dtype, steps, &mut hold)?;
    engine().compute(&e).map_err(|e| e.to_string())
}

/// The expression `steps` build on a leaf of `shape`, each array made passed through
/// `hold`.
fn build(
    shape: &[usize],
    chunks: &[usize],
    dtype: DType,
    steps: &[Step],
    hold: &mut dyn FnMut(Array) -> Result<Array, String>,
) -> Result<Array, String> {
    let mut e = leaf(shape, chunks, dtype, 1);
    for (i, &(what, op, kind, ty)) in steps.iter().enumerate() {
        let seed = 10 + i as u64;
        let ty = NUMERIC[ty as usize % 4];
        let other = |kind: u8, seed: u64, hold: &mut dyn FnMut(Array) -> Result<Array, String>| {
            match operand(kind, shape, chunks, ty, seed) {
                Operand::Array(a) => hold(a).map(|a| Operand::from(&a)),
                scalar => Ok(scalar),
            }
        };
        e = match what % 6 {
            0 => {
                let op =
                    [BinaryOp::Add, BinaryOp::Sub, BinaryOp::Mul, BinaryOp::Div][op as usize % 4];
                e.binary(op, other(kind, seed, hold)?).unwrap()
            }
            1 => {
                let ops = [
                    CompareOp::Gt,
                    CompareOp::Lt,
                    CompareOp::Ge,
                    CompareOp::Le,
                    CompareOp::Eq,
                    CompareOp::Ne,
                ];
                let cond = e.compare(ops[op as usize % 6], other(kind, seed, hold)?);
                let cond = hold(cond.unwrap())?;
                if kind % 2 == 0 {
                    cond.select(&e, other(kind / 2, seed + 100, hold)?).unwrap()
                } else {
                    cond.astype(ty)
                }
            }
            2 => e.scale(Value::Int(3), Value::Float(-0.25)).unwrap(),
            3 => e.astype(ty),
            4 => {
                let ops = [
                    UnaryOp::Neg,
                    UnaryOp::Abs,
                    UnaryOp::Square,
                    UnaryOp::Sqrt,
                    UnaryOp::Exp,
                    UnaryOp::Log,
                ];
                e.map(ops[op as usize % 6]).unwrap()
            }
            // A transpose of a subtree, combined with a leaf of its shape and turned back.
            _ => {
                let reversed: Vec<usize> = shape.iter().rev().copied().collect();
                let rchunks: Vec<usize> = chunks.iter().rev().copied().collect();
                let y = hold(leaf(&reversed, &rchunks, ty, seed))?;
                let t = hold(e.t())?;
                hold(t.add(&y).unwrap())?.t()
            }
        };
        e = hold(e)?;
    }
    Ok(e)
}

/// Elements of a chunk as float64.
fn floats(c: &Chunk) -> Vec<f64> {
    match c {
        Chunk::F64(a) => a.iter().copied().collect(),
        Chunk::F32(a) => a.iter().map(|&x| f64::from(x)).collect(),
        Chunk::I64(a) => a.iter().map(|&x| x as f64).collect(),
        Chunk::I32(a) => a.iter().map(|&x| f64::from(x)).collect(),
        Chunk::Bool(a) => a.iter().map(|&x| f64::from(u8::from(x))).collect(),
    }
}

/// Whether `got` (fused) and `want` (chunk by chunk) agree for `op` along `axis` over
/// `values`: each element equal, both NaN, or for a float sum or mean within twice
/// pairwise summation's bound (taken over every value, a bound for each lane).
fn agree(op: Reduction, axis: Option<usize>, got: &Chunk, want: &Chunk, values: &Chunk) -> bool {
    if got == want {
        return true;
    }
    if !matches!(got, Chunk::F64(_) | Chunk::F32(_))
        || got.dtype() != want.dtype()
        || got.shape() != want.shape()
    {
        return false;
    }
    let x = floats(values);
    let n = axis.map_or(x.len(), |k| values.shape()[k]).max(1) as f64;
    let eps = if got.dtype() == DType::Float32 {
        f32::EPSILON as f64
    } else {
        f64::EPSILON
    };
    // Lanes with a NaN or an infinity are NaN or infinite on both sides.
    let magnitude: f64 = x.iter().filter(|v| v.is_finite()).map(|v| v.abs()).sum();
    let mut bound = 2.0 * 4.0 * f64::EPSILON * (n.log2() + 2.0) * magnitude;
    if op == Reduction::Mean {
        bound /= n;
    }
    floats(got).iter().zip(floats(want)).all(|(&g, w)| {
        // A float32 result is rounded once from float64 on each side.
        let close = matches!(op, Reduction::Sum | Reduction::Mean)
            && (g - w).abs() <= bound + 2.0 * eps * w.abs();
        g == w || (g.is_nan() && w.is_nan()) || close
    })
}

/// `e` reduced fused (tile by tile) and chunk by chunk (the same values held in
/// memory, reduced as a plain array) agree for every reduction, over everything and
/// along each axis: positions exactly (the first best, whatever the tiles).
fn check(e: &Array) -> Result<(), TestCaseError> {
    let values = engine().compute(e).unwrap();
    let held = Array::from_chunk(values.clone(), e.chunks()).unwrap();
    let float = matches!(values.dtype(), DType::Float64 | DType::Float32);
    let mut ops = vec![
        Reduction::Sum,
        Reduction::Mean,
        Reduction::Min,
        Reduction::Max,
        Reduction::Any,
        Reduction::All,
        Reduction::Argmin,
        Reduction::Argmax,
    ];
    if !float {
        ops.push(Reduction::Prod);
    }
    let axes = std::iter::once(None).chain((0..e.ndim()).map(Some));
    for axis in axes {
        for &op in &ops {
            let fused = engine().compute(&e.reduce(op, axis).unwrap());
            let reference = engine().compute(&held.reduce(op, axis).unwrap());
            match (fused, reference) {
                (Ok(got), Ok(want)) => prop_assert!(
                    agree(op, axis, &got, &want, &values),
                    "{:?} along {:?}: {:?} fused vs {:?}",
                    op,
                    axis,
                    got,
                    want
                ),
                (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
                (a, b) => {
                    prop_assert!(false, "{:?} along {:?}: {:?} fused vs {:?}", op, axis, a, b)
                }
            }
        }
    }
    Ok(())
}

fn tree() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, u8, Vec<Step>)> {
    (1usize..=3).prop_flat_map(|ndim| {
        (
            prop::collection::vec(1usize..9, ndim),
            prop::collection::vec(1usize..5, ndim),
            0u8..4,
            prop::collection::vec(any::<Step>(), 1..5),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_tree_reduces_fused_as_chunk_by_chunk((shape, chunks, ty, steps) in tree()) {
        let chunks: Vec<usize> = chunks.iter().zip(&shape).map(|(&c, &e)| c.min(e)).collect();
        check(&expression(&shape, &chunks, NUMERIC[ty as usize], &steps))?;
    }
}

/// Whether two results are the same values of the same dtype and shape (NaN equal
/// to NaN): fused blocks compute each element by the same ops in the same order.
fn same(a: &Chunk, b: &Chunk) -> bool {
    a.dtype() == b.dtype()
        && a.shape() == b.shape()
        && floats(a)
            .iter()
            .zip(floats(b))
            .all(|(x, y)| x.to_bits() == y.to_bits() || (x.is_nan() && y.is_nan()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_tree_computes_fused_blocks_as_chunk_by_chunk((shape, chunks, ty, steps) in tree()) {
        let chunks: Vec<usize> = chunks.iter().zip(&shape).map(|(&c, &e)| c.min(e)).collect();
        let dtype = NUMERIC[ty as usize];
        let fused = engine()
            .compute(&expression(&shape, &chunks, dtype, &steps))
            .map_err(|e| e.to_string());
        match (fused, held_values(&shape, &chunks, dtype, &steps)) {
            (Ok(got), Ok(want)) => prop_assert!(same(&got, &want), "{:?} fused vs {:?}", got, want),
            (Err(a), Err(b)) => prop_assert_eq!(a, b),
            (a, b) => prop_assert!(false, "{:?} fused vs {:?}", a, b),
        }
    }
}

/// Blocks larger than a tile: several tiles per block along both axes, ragged edges,
/// transposed leaves read a square block at a time, and leading axes.
#[test]
fn blocks_of_many_tiles_reduce_as_chunk_by_chunk() {
    let cases: [(&[usize], &[usize]); 3] = [
        (&[300, 260], &[300, 140]),
        (&[3, 150, 140], &[2, 150, 70]),
        (&[40000], &[30000]),
    ];
    for (shape, chunks) in cases {
        for steps in [
            vec![(0, 0, 3, 0)],
            vec![(0, 2, 2, 2), (0, 0, 1, 0)],
            vec![(5, 0, 0, 0), (1, 0, 4, 0)],
            vec![(0, 3, 5, 1), (4, 1, 0, 0)],
        ] {
            check(&expression(shape, chunks, DType::Float64, &steps)).unwrap();
        }
    }
}

/// `(x + x.T).sum()` of an arange: twice the sum, exactly.
#[test]
fn a_plus_its_transpose_reduces_tile_by_tile_exactly_for_ints() {
    let x = Array::arange(&[257, 257], &[129, 129], DType::Int64).unwrap();
    let n = 257 * 257i64;
    let got = engine()
        .compute(&x.add(&x.t()).unwrap().sum().unwrap())
        .unwrap();
    assert_eq!(got, Chunk::I64(ArrayD::from_elem(IxDyn(&[]), n * (n - 1))));
}

/// Fused expressions (reduced over all elements, or feeding a reduction along an
/// axis through fused blocks) give NumPy's values: `x + x.T`, `x*2 + 1`, a broadcast
/// row, astype and where, on a float64 arange whose sums are exact.
#[test]
fn fused_expressions_reduce_as_numpy_does() {
    use crate::python_env::run_json;
    let (n, c) = (203usize, 70usize);
    let x = Array::arange(&[n, n], &[c, c], DType::Float64).unwrap();
    let row = Array::arange(&[n], &[c], DType::Float64).unwrap();
    let cond = x.compare(CompareOp::Gt, Operand::from(&x.t())).unwrap();
    let expressions = [
        x.add(&x.t()).unwrap(),
        x.mul(2i64).unwrap().add(1i64).unwrap(),
        x.add(&row).unwrap().mul(&x.t()).unwrap(),
        x.astype(DType::Int32)
            .add(&x.t().astype(DType::Int32))
            .unwrap(),
        cond.select(&x, Operand::from(0.5))
            .unwrap()
            .add(1i64)
            .unwrap(),
    ];
    let ops = [
        Reduction::Sum,
        Reduction::Mean,
        Reduction::Min,
        Reduction::Max,
    ];
    let mut got = Vec::new();
    for e in &expressions {
        for op in ops {
            got.push(floats(
                &engine().compute(&e.reduce(op, None).unwrap()).unwrap(),
            ));
        }
        got.push(floats(
            &engine()
                .compute(&e.reduce(Reduction::Sum, Some(0)).unwrap())
                .unwrap(),
        ));
    }
    let script = r#"
import json, sys
import numpy as np
n = int(sys.argv[1])
x = np.arange(n * n, dtype=np.float64).reshape(n, n)
row = np.arange(n, dtype=np.float64)
exprs = [x + x.T, x * 2 + 1, (x + row) * x.T,
         x.astype(np.int32) + x.T.astype(np.int32), np.where(x > x.T, x, 0.5) + 1]
out = []
for e in exprs:
    out += [[float(e.sum())], [float(e.mean())], [float(e.min())], [float(e.max())]]
    out.append([float(v) for v in e.sum(axis=0)])
print(json.dumps(out))
"#;
    let want: Vec<Vec<f64>> = serde_json::from_value(run_json(script, &[n.to_string().as_ref()]))
        .expect("lists of numbers");
    assert_eq!(got.len(), want.len());
    for (k, (g, w)) in got.iter().zip(&want).enumerate() {
        assert_eq!(g.len(), w.len(), "result {k}");
        for (a, b) in g.iter().zip(w) {
            assert!(
                (a - b).abs() <= 1e-12 * b.abs(),
                "result {k}: {a} vs NumPy's {b}"
            );
        }
    }
}

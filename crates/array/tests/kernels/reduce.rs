//! `array.partial`, `array.combine` and `array.finish`.

use super::*;
use proptest::prelude::*;
use taskloom_graph::{Chunk, DType, Value};

const OPS: [&str; 7] = ["sum", "prod", "min", "max", "mean", "var", "std"];

fn axis_arg(axis: Option<usize>) -> Value {
    axis.map_or(Value::Null, |k| Value::Int(k as i64))
}

/// partial -> finish of one chunk.
fn reduce(op: &str, x: &Chunk, axis: Option<usize>) -> Chunk {
    let state = call("array.partial", &[s(op), val(x.clone()), axis_arg(axis)]).expect("partial");
    call_chunk(
        "array.finish",
        &[s(op), state, axis_arg(axis), s(x.dtype().name())],
    )
}

/// The reduction by plain loops: each output element's values gathered, then folded
/// left to right in float64 (prod, min and max exact for the small values used).
fn naive(op: &str, values: &[f64], shape: &[usize], axis: Option<usize>) -> (Vec<usize>, Vec<f64>) {
    let groups: Vec<Vec<f64>> = match axis {
        None => vec![values.to_vec()],
        Some(k) => {
            let outer: usize = shape[..k].iter().product();
            let inner: usize = shape[k + 1..].iter().product();
            let mut g = Vec::new();
            for o in 0..outer {
                for i in 0..inner {
                    g.push(
                        (0..shape[k])
                            .map(|r| values[(o * shape[k] + r) * inner + i])
                            .collect(),
                    );
                }
            }
            g
        }
    };
    let out_shape = match axis {
        None => vec![],
        Some(k) => shape
            .iter()
            .enumerate()
            .filter(|&(j, _)| j != k)
            .map(|(_, &e)| e)
            .collect(),
    };
    let fold = |g: &Vec<f64>| {
        let n = g.len() as f64;
        let mean = g.iter().sum::<f64>() / n;
        let var = g.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n;
        match op {
            "sum" => g.iter().sum(),
            "prod" => g.iter().product(),
            "min" => g.iter().copied().fold(f64::INFINITY, f64::min),
            "max" => g.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            "mean" => mean,
            "var" => var,
            _ => var.sqrt(),
        }
    };
    (out_shape, groups.iter().map(fold).collect())
}

fn close(got: &[f64], want: &[f64], rel: f64) -> bool {
    got.len() == want.len()
        && got
            .iter()
            .zip(want)
            .all(|(g, w)| (g - w).abs() <= rel * w.abs().max(1.0))
}

#[test]
fn every_op_on_every_axis_of_small_3d_chunks_matches_plain_loops() {
    let shape = [3usize, 4, 5];
    let n = 60;
    // Small values keep the product within float64's exact range.
    let ints: Vec<i64> = (0..n).map(|i| (i * 7 % 11) - 4).collect();
    let floats: Vec<f64> = (0..n)
        .map(|i| ((i * 13 % 17) as f64 - 8.0) * 0.25 + 0.1)
        .collect();
    let inputs = [
        chunk(&shape, ints.iter().map(|&x| x as i32).collect()),
        chunk(&shape, ints.clone()),
        chunk(&shape, floats.iter().map(|&x| x as f32).collect()),
        chunk(&shape, floats.clone()),
    ];
    for x in &inputs {
        let values = f64s(x);
        for op in OPS {
            for axis in [None, Some(0), Some(1), Some(2)] {
                let r = reduce(op, x, axis);
                let (want_shape, want) = naive(op, &values, &shape, axis);
                assert_eq!(r.shape(), &want_shape[..], "{op} {axis:?}");
                // NumPy 2's result types.
                let want_type = match (op, x.dtype()) {
                    (_, DType::Float32) => DType::Float32,
                    ("mean" | "var" | "std", _) => DType::Float64,
                    (_, DType::Float64) => DType::Float64,
                    ("min" | "max", d) => d,
                    _ => DType::Int64,
                };
                assert_eq!(r.dtype(), want_type, "{op} of {}", x.dtype());
                assert!(is_c(&r));
                // A float32 result is rounded once, to float32.
                let tolerance = if want_type == DType::Float32 {
                    1e-6
                } else {
                    1e-12
                };
                assert!(
                    close(&f64s(&r), &want, tolerance),
                    "{op} {axis:?} of {}: {:?} vs {want:?}",
                    x.dtype(),
                    f64s(&r)
                );
            }
        }
    }
}

#[test]
fn int_sums_are_exact_in_int64_and_wrap() {
    let x = chunk(&[3], vec![i32::MAX, i32::MAX, 2]);
    assert_eq!(
        reduce("sum", &x, None),
        chunk(&[], vec![2 * i32::MAX as i64 + 2])
    );
    let big = chunk(&[2], vec![i64::MAX, 1]);
    assert_eq!(reduce("sum", &big, None), chunk(&[], vec![i64::MIN]));
    let n = 100_000i64;
    let r = reduce("sum", &chunk(&[n as usize], (0..n).collect()), None);
    assert_eq!(r, chunk(&[], vec![n * (n - 1) / 2]));
}

#[test]
fn float_sums_are_pairwise_accurate() {
    // Left-to-right summation of a million 0.1s is off by ~1e-6 relative.
    let n = 1_000_000;
    let x = chunk(&[n], vec![0.1f64; n]);
    let got = f64s(&reduce("sum", &x, None))[0];
    assert!((got - 100_000.0).abs() < 1e-13 * 100_000.0, "{got}");
    let col = chunk(&[n / 2, 2], vec![0.1f64; n]);
    for v in f64s(&reduce("sum", &col, Some(0))) {
        assert!((v - 50_000.0).abs() < 1e-13 * 50_000.0, "{v}");
    }
    let m = f64s(&reduce("mean", &x, None))[0];
    assert!((m - 0.1).abs() < 1e-15, "{m}");
    assert!(f64s(&reduce("var", &x, None))[0].abs() < 1e-25);
}

#[test]
fn nan_propagates_through_min_and_max() {
    let x = chunk(&[2, 3], vec![1.0f64, f64::NAN, 3.0, 4.0, 5.0, 6.0]);
    for op in ["min", "max", "sum", "mean"] {
        let all = f64s(&reduce(op, &x, None));
        assert!(all[0].is_nan(), "{op}");
        let cols = f64s(&reduce(op, &x, Some(0)));
        assert!(
            !cols[0].is_nan() && cols[1].is_nan() && !cols[2].is_nan(),
            "{op} {cols:?}"
        );
    }
    // NaN first in the lane, too.
    let y = chunk(&[2], vec![f64::NAN, 1.0]);
    assert!(f64s(&reduce("min", &y, None))[0].is_nan());
}

/// States merged across chunks keep NumPy's answers for infinities: the mean of
/// [inf, 1] is inf (Chan's update alone would give inf - inf = NaN), of [inf, -inf]
/// NaN, and a variance with an infinity NaN.
#[test]
fn moments_merged_across_chunks_keep_infinities() {
    let state = |v: f64| {
        call(
            "array.partial",
            &[s("var"), val(chunk(&[1], vec![v])), Value::Null],
        )
        .expect("partial")
    };
    let merged = |a: f64, b: f64, op: &str| {
        let both = call("array.combine", &[s(op), state(a), state(b)]).expect("combine");
        f64s(&call_chunk(
            "array.finish",
            &[s(op), both, Value::Null, s("float64")],
        ))[0]
    };
    assert_eq!(merged(f64::INFINITY, 1.0, "mean"), f64::INFINITY);
    assert_eq!(merged(1.0, f64::NEG_INFINITY, "mean"), f64::NEG_INFINITY);
    assert!(merged(f64::INFINITY, f64::NEG_INFINITY, "mean").is_nan());
    assert!(merged(f64::INFINITY, 1.0, "var").is_nan());
    assert_eq!(merged(2.0, 4.0, "mean"), 3.0);
    assert_eq!(merged(2.0, 4.0, "var"), 1.0);
}

#[test]
fn empty_reductions_follow_numpy() {
    let empty = chunk(&[0, 3], Vec::<f64>::new());
    assert_eq!(reduce("sum", &empty, None), chunk(&[], vec![0.0f64]));
    assert_eq!(
        reduce("prod", &empty, Some(0)),
        chunk(&[3], vec![1.0f64; 3])
    );
    assert_eq!(
        reduce("sum", &chunk(&[0], Vec::<i32>::new()), None),
        chunk(&[], vec![0i64])
    );
    assert!(f64s(&reduce("mean", &empty, None))[0].is_nan());
    assert!(f64s(&reduce("std", &empty, Some(0)))
        .iter()
        .all(|v| v.is_nan()));
    // Reducing the non-empty axis of an empty chunk has no outputs, and no error.
    assert_eq!(reduce("min", &empty, Some(1)).shape(), &[0]);
    for op in ["min", "max"] {
        let err = call_err("array.partial", &[s(op), val(empty.clone()), Value::Null]);
        assert!(err.contains("zero-size array"), "{err}");
    }
}

#[test]
fn bad_arguments_are_explained() {
    let x = chunk(&[2, 2], vec![1i64, 2, 3, 4]);
    let err = call_err("array.partial", &[s("median"), val(x.clone()), Value::Null]);
    assert!(
        err.contains("unknown reduction op 'median'") && err.contains("sum, prod"),
        "{err}"
    );
    let err = call_err("array.partial", &[s("sum"), val(x.clone()), Value::Int(2)]);
    assert!(err.contains("axis 2") && err.contains("(2, 2)"), "{err}");
    let state = call("array.partial", &[s("sum"), val(x.clone()), Value::Int(0)]).unwrap();
    let other = call("array.partial", &[s("sum"), val(x.clone()), Value::Int(1)]).unwrap();
    let err = call_err("array.combine", &[s("sum"), state.clone(), other]);
    assert!(
        err.contains("state 2") && err.contains("(2, 1)") && err.contains("(1, 2)"),
        "{err}"
    );
    let err = call_err(
        "array.finish",
        &[s("sum"), state.clone(), Value::Int(1), s("float64")],
    );
    assert!(err.contains("(1, 2)") && err.contains("axis 1"), "{err}");
    let err = call_err(
        "array.finish",
        &[s("mean"), state, Value::Int(0), s("float64")],
    );
    assert!(err.contains("[count, mean, m2]"), "{err}");
    let err = call_err("array.combine", &[s("sum")]);
    assert!(err.contains("at least 2 arguments"), "{err}");
}

/// The states of `values` split at `cuts` along axis 0 of a (n, 3) chunk, combined in
/// one call, then finished.
fn split_reduce(op: &str, values: &[f64], cuts: &[usize], axis: Option<usize>) -> Vec<f64> {
    let rows = values.len() / 3;
    let mut bounds = vec![0];
    bounds.extend(cuts.iter().copied().filter(|&c| c < rows));
    bounds.push(rows);
    let mut args = vec![s(op)];
    for w in bounds.windows(2) {
        let piece = chunk(&[w[1] - w[0], 3], values[w[0] * 3..w[1] * 3].to_vec());
        args.push(call("array.partial", &[s(op), val(piece), axis_arg(axis)]).unwrap());
    }
    let merged = call("array.combine", &args).unwrap();
    f64s(&call_chunk(
        "array.finish",
        &[s(op), merged, axis_arg(axis), s("float64")],
    ))
}

proptest! {
    #[test]
    fn any_split_reduces_like_the_whole(
        values in prop::collection::vec(-100.0f64..100.0, 3..60).prop_map(|mut v| { v.truncate(v.len() / 3 * 3); v }),
        cuts in prop::collection::btree_set(1usize..20, 0..5),
        op_index in 0usize..7,
        over_rows in any::<bool>(),
    ) {
        let op = OPS[op_index];
        let cuts: Vec<usize> = cuts.into_iter().collect();
        let axis = if over_rows { Some(0) } else { None };
        let whole = f64s(&reduce(op, &chunk(&[values.len() / 3, 3], values.clone()), axis));
        let split = split_reduce(op, &values, &cuts, axis);
        let rel = if op == "prod" { 1e-9 } else { 1e-10 };
        prop_assert!(close(&split, &whole, rel), "{op}: {split:?} vs {whole:?}");
    }

    #[test]
    fn chan_merge_equals_a_one_shot_variance(
        values in prop::collection::vec(-1e3f64..1e3, 2..200),
        cut_fracs in prop::collection::vec(0.0f64..1.0, 1..6),
    ) {
        let n = values.len();
        let mut cuts: Vec<usize> = cut_fracs.iter().map(|f| (f * n as f64) as usize).collect();
        cuts.sort_unstable();
        cuts.dedup();
        let mut bounds = vec![0];
        bounds.extend(cuts.into_iter().filter(|&c| c > 0 && c < n));
        bounds.push(n);
        // Merge pairwise, right to left, to exercise a different grouping than one call.
        let states: Vec<Value> = bounds.windows(2).map(|w| {
            call("array.partial", &[s("var"), val(chunk(&[w[1] - w[0]], values[w[0]..w[1]].to_vec())), Value::Null]).unwrap()
        }).collect();
        let mut merged = states.last().unwrap().clone();
        for st in states.iter().rev().skip(1) {
            merged = call("array.combine", &[s("var"), st.clone(), merged]).unwrap();
        }
        let var = f64s(&call_chunk(
            "array.finish",
            &[s("var"), merged, Value::Null, s("float64")],
        ))[0];
        let mean = values.iter().sum::<f64>() / n as f64;
        let direct = values.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / n as f64;
        prop_assert!((var - direct).abs() <= 1e-9 * direct.max(1.0), "{var} vs {direct}");
    }
}

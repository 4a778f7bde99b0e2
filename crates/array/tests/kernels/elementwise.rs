//! `array.unary`, `array.binary`, `array.scale` and `array.astype`.

use super::*;
use taskloom_graph::{Chunk, DType, Value};

/// A small chunk of `dtype` with values 1..=n (as floats: plus a half, to catch
/// truncation).
fn sample(dtype: DType, shape: &[usize]) -> Chunk {
    let n: usize = shape.iter().product();
    let base: Vec<i64> = (1..=n as i64).collect();
    match dtype {
        DType::Float64 => chunk(shape, base.iter().map(|&x| x as f64 + 0.5).collect()),
        DType::Float32 => chunk(shape, base.iter().map(|&x| x as f32 + 0.5).collect()),
        DType::Int64 => chunk(shape, base),
        DType::Int32 => chunk(shape, base.iter().map(|&x| x as i32).collect()),
        DType::Bool => chunk(shape, base.iter().map(|&x| x % 2 == 1).collect()),
    }
}

fn binary(op: &str, x: Value, y: Value) -> Chunk {
    call_chunk("array.binary", &[s(op), x, y])
}

#[test]
fn every_dtype_pair_promotes_as_numpy_2_and_computes_in_the_promoted_type() {
    use DType::*;
    for a in DType::NUMERIC {
        for b in DType::NUMERIC {
            // The table NumPy 2 gives for `a + b`, written independently of the kernel.
            let sum_type = match (a, b) {
                _ if a == b => a,
                (Int32, Int64) | (Int64, Int32) => Int64,
                _ => Float64,
            };
            let div_type = if sum_type == Float32 {
                Float32
            } else {
                Float64
            };
            let (x, y) = (sample(a, &[2, 3]), sample(b, &[2, 3]));
            let (xs, ys) = (f64s(&x), f64s(&y));
            for (op, want, f) in [
                ("add", sum_type, (|p, q| p + q) as fn(f64, f64) -> f64),
                ("sub", sum_type, |p, q| p - q),
                ("mul", sum_type, |p, q| p * q),
                ("div", div_type, |p, q| p / q),
            ] {
                let r = binary(op, val(x.clone()), val(y.clone()));
                assert_eq!(r.dtype(), want, "{a} {op} {b}");
                assert_eq!(r.shape(), &[2, 3]);
                let tol = if want == Float32 { 1e-6 } else { 1e-15 };
                for ((&p, &q), &got) in xs.iter().zip(&ys).zip(&f64s(&r)) {
                    let exact = f(p, q);
                    assert!(
                        (got - exact).abs() <= tol * exact.abs(),
                        "{p} {op} {q}: {got}"
                    );
                }
            }
        }
    }
}

#[test]
fn python_scalars_adapt_to_the_array_nep_50() {
    use DType::*;
    let cases = [
        (Int32, Value::Int(2), Int32),
        (Int64, Value::Int(2), Int64),
        (Float32, Value::Int(2), Float32),
        (Float64, Value::Int(2), Float64),
        (Int32, Value::Float(0.5), Float64),
        (Int64, Value::Float(0.5), Float64),
        (Float32, Value::Float(0.5), Float32),
        (Float64, Value::Float(0.5), Float64),
    ];
    for (dtype, scalar, want) in cases {
        let x = sample(dtype, &[3]);
        let sum = binary("add", val(x.clone()), scalar.clone());
        assert_eq!(sum.dtype(), want, "{dtype} + {scalar:?}");
        let k = match scalar {
            Value::Int(i) => i as f64,
            Value::Float(f) => f,
            _ => unreachable!(),
        };
        let expected: Vec<f64> = f64s(&x).iter().map(|v| v + k).collect();
        assert_eq!(f64s(&sum), expected);
        // Scalar on the left.
        let diff = binary("sub", scalar.clone(), val(x.clone()));
        assert_eq!(diff.dtype(), want);
        assert_eq!(
            f64s(&diff),
            f64s(&x).iter().map(|v| k - v).collect::<Vec<_>>()
        );
        // Division is true division.
        let q = binary("div", val(x.clone()), scalar);
        assert_eq!(q.dtype(), if want == Float32 { Float32 } else { Float64 });
    }
    let two_scalars = binary("mul", Value::Int(6), Value::Int(7));
    assert_eq!(two_scalars, chunk(&[], vec![42i64]));
    let err = call_err(
        "array.binary",
        &[s("add"), val(sample(Int32, &[2])), Value::Int(1 << 40)],
    );
    assert!(err.contains("out of bounds for int32"), "{err}");
}

#[test]
fn int_arithmetic_wraps_and_int_division_is_float() {
    let x = chunk(&[3], vec![i32::MAX, i32::MIN, 7]);
    let y = chunk(&[3], vec![1i32, -1, 2]);
    assert_eq!(
        binary("add", val(x.clone()), val(y.clone())),
        chunk(&[3], vec![i32::MIN, i32::MAX, 9])
    );
    assert_eq!(
        binary("mul", val(x.clone()), Value::Int(2)),
        chunk(&[3], vec![-2i32, 0, 14])
    );
    let q = binary(
        "div",
        val(chunk(&[3], vec![7i64, -7, 1])),
        val(chunk(&[3], vec![2i64, 2, 0])),
    );
    assert_eq!(f64s(&q), vec![3.5, -3.5, f64::INFINITY]);
}

#[test]
fn shapes_broadcast_as_numpy() {
    // (n, m) + (m,): each row gets the vector.
    let (n, m) = (3usize, 4usize);
    let a = sample(DType::Int64, &[n, m]);
    let v = chunk(&[m], vec![10i64, 20, 30, 40]);
    let r = binary("add", val(a.clone()), val(v.clone()));
    assert_eq!(r.shape(), &[n, m]);
    let (av, vv, rv) = (f64s(&a), f64s(&v), f64s(&r));
    for i in 0..n {
        for j in 0..m {
            assert_eq!(rv[i * m + j], av[i * m + j] + vv[j]);
        }
    }
    // (n, 1) * (1, m): an outer product.
    let col = chunk(&[n, 1], vec![1.0f64, 2.0, 3.0]);
    let row = chunk(&[1, m], vec![1.0f64, 10.0, 100.0, 1000.0]);
    let outer = binary("mul", val(col), val(row));
    assert!(is_c(&outer));
    assert_eq!(outer.shape(), &[n, m]);
    let ov = f64s(&outer);
    for i in 0..n {
        for j in 0..m {
            assert_eq!(ov[i * m + j], (i + 1) as f64 * 10f64.powi(j as i32));
        }
    }
    // Fewer axes on the left, and a 0-d chunk.
    let r = binary("sub", val(v.clone()), val(a.clone()));
    assert_eq!(f64s(&r)[m + 1], 20.0 - av[m + 1]);
    let zero_d = chunk(&[], vec![5i64]);
    assert_eq!(
        f64s(&binary("add", val(zero_d), val(v))),
        vec![15.0, 25.0, 35.0, 45.0]
    );
}

#[test]
fn mismatched_shapes_are_named_in_the_error() {
    let err = call_err(
        "array.binary",
        &[
            s("add"),
            val(sample(DType::Float64, &[3, 4])),
            val(sample(DType::Float64, &[5])),
        ],
    );
    assert!(err.contains("(3, 4)") && err.contains("(5,)"), "{err}");
    let err = call_err("array.binary", &[s("pow"), Value::Int(1), Value::Int(2)]);
    assert!(
        err.contains("unknown binary op 'pow'") && err.contains("add, sub, mul, div"),
        "{err}"
    );
    let err = call_err("array.binary", &[s("add"), s("x"), Value::Int(2)]);
    assert!(
        err.contains("argument 2 must be an array chunk or a number"),
        "{err}"
    );
}

#[test]
fn unary_ops_keep_or_widen_the_dtype() {
    let ints = chunk(&[4], vec![-3i32, 0, 4, i32::MIN]);
    assert_eq!(
        call_chunk("array.unary", &[s("neg"), val(ints.clone())]),
        chunk(&[4], vec![3i32, 0, -4, i32::MIN])
    );
    assert_eq!(
        call_chunk("array.unary", &[s("abs"), val(ints.clone())]),
        chunk(&[4], vec![3i32, 0, 4, i32::MIN])
    );
    assert_eq!(
        call_chunk("array.unary", &[s("square"), val(ints)]),
        chunk(&[4], vec![9i32, 0, 16, 0])
    );
    let n = chunk(&[3], vec![1i64, 4, 9]);
    let r = call_chunk("array.unary", &[s("sqrt"), val(n.clone())]);
    assert_eq!(r, chunk(&[3], vec![1.0f64, 2.0, 3.0]));
    let r = call_chunk("array.unary", &[s("log"), val(n)]);
    assert_eq!(r.dtype(), DType::Float64);
    assert!((f64s(&r)[2] - 9f64.ln()).abs() < 1e-15);
    let f = chunk(&[2], vec![0.0f32, 1.0]);
    let r = call_chunk("array.unary", &[s("exp"), val(f)]);
    assert_eq!(r, chunk(&[2], vec![1.0f32, std::f32::consts::E]));
    let err = call_err("array.unary", &[s("tan"), val(chunk(&[1], vec![1.0f64]))]);
    assert!(err.contains("unknown unary op 'tan'"), "{err}");
}

#[test]
fn scale_multiplies_then_adds_with_scalar_rules() {
    let x = chunk(&[3], vec![1i32, 2, 3]);
    assert_eq!(
        call_chunk(
            "array.scale",
            &[val(x.clone()), Value::Int(2), Value::Int(1)]
        ),
        chunk(&[3], vec![3i32, 5, 7])
    );
    // An int product wraps in int32 before a float offset makes it float64, as NumPy's
    // `x * 2**30 + 0.5` does.
    let big = chunk(&[1], vec![4i32]);
    let r = call_chunk(
        "array.scale",
        &[val(big), Value::Int(1 << 30), Value::Float(0.5)],
    );
    assert_eq!(r, chunk(&[1], vec![0.5f64]));
    let r = call_chunk("array.scale", &[val(x), Value::Float(0.5), Value::Int(1)]);
    assert_eq!(r, chunk(&[3], vec![1.5f64, 2.0, 2.5]));
    let f = chunk(&[2], vec![1.0f32, 2.0]);
    let r = call_chunk(
        "array.scale",
        &[val(f), Value::Float(0.5), Value::Float(0.25)],
    );
    assert_eq!(r, chunk(&[2], vec![0.75f32, 1.25]));
    let err = call_err(
        "array.scale",
        &[val(chunk(&[1], vec![1.0f64])), Value::Null, Value::Int(0)],
    );
    assert!(err.contains("argument 2 must be a number"), "{err}");
}

#[test]
fn astype_converts_between_every_pair() {
    for from in DType::NUMERIC {
        for to in DType::NUMERIC {
            let x = sample(from, &[2, 2]);
            let r = call_chunk("array.astype", &[val(x.clone()), s(to.name())]);
            assert_eq!(r.dtype(), to);
            let expected: Vec<f64> = f64s(&x)
                .iter()
                .map(|&v| if to.is_float() { v } else { v.trunc() })
                .collect();
            assert_eq!(f64s(&r), expected, "{from} -> {to}");
        }
    }
    let err = call_err(
        "array.astype",
        &[val(sample(DType::Int32, &[1])), s("complex128")],
    );
    assert!(err.contains("unknown dtype 'complex128'"), "{err}");
}

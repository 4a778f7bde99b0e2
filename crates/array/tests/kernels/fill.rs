//! `array.full`, `array.arange` and `array.random`.

use super::*;
use taskloom_graph::{Chunk, DType, Value};

#[test]
fn full_casts_the_value_to_the_dtype() {
    let c = call_chunk(
        "array.full",
        &[s("int32"), ints(&[2, 3]), Value::Float(2.7)],
    );
    assert_eq!(c, chunk(&[2, 3], vec![2i32; 6]));
    let c = call_chunk("array.full", &[s("float32"), ints(&[4]), Value::Int(3)]);
    assert_eq!(c, chunk(&[4], vec![3.0f32; 4]));
    let c = call_chunk("array.full", &[s("float64"), ints(&[]), Value::Float(0.5)]);
    assert_eq!(c, chunk(&[], vec![0.5f64]));
    let c = call_chunk("array.full", &[s("int64"), ints(&[0, 5]), Value::Int(1)]);
    assert_eq!(c.shape(), &[0, 5]);
}

#[test]
fn full_rejects_bad_arguments() {
    let err = call_err("array.full", &[s("int8"), ints(&[2]), Value::Int(0)]);
    assert!(err.contains("unknown dtype 'int8'"), "{err}");
    let err = call_err("array.full", &[s("int64"), ints(&[2]), s("x")]);
    assert!(err.contains("argument 3 must be a number"), "{err}");
    let err = call_err("array.full", &[s("int64"), ints(&[-1]), Value::Int(0)]);
    assert!(err.contains("argument 2"), "{err}");
    let err = call_err(
        "array.full",
        &[s("int64"), ints(&[1 << 40, 1 << 40]), Value::Int(0)],
    );
    assert!(err.contains("too large"), "{err}");
}

#[test]
fn arange_of_the_whole_array_sums_to_n_n_minus_1_over_2() {
    let (rows, cols) = (37i64, 53i64);
    let n = rows * cols;
    let c = call_chunk(
        "array.arange",
        &[
            s("int64"),
            ints(&[rows, cols]),
            ints(&[0, 0]),
            ints(&[rows, cols]),
        ],
    );
    let Chunk::I64(a) = &c else {
        panic!("not int64: {c:?}")
    };
    assert_eq!(a.iter().sum::<i64>(), n * (n - 1) / 2);
    assert_eq!(
        a.iter().copied().collect::<Vec<_>>(),
        (0..n).collect::<Vec<_>>()
    );
}

#[test]
fn arange_blocks_hold_their_global_linear_indices() {
    let shape = [4usize, 5, 6];
    let (start, block) = ([1usize, 2, 3], [2usize, 3, 2]);
    for dtype in DType::NUMERIC {
        let c = call_chunk(
            "array.arange",
            &[
                s(dtype.name()),
                ints(&shape.map(|x| x as i64)),
                ints(&start.map(|x| x as i64)),
                ints(&block.map(|x| x as i64)),
            ],
        );
        assert_eq!(c.dtype(), dtype);
        assert_eq!(c.shape(), &block);
        let mut expected = Vec::new();
        for i in 0..block[0] {
            for j in 0..block[1] {
                for k in 0..block[2] {
                    let (p, q, r) = (start[0] + i, start[1] + j, start[2] + k);
                    expected.push(((p * shape[1] + q) * shape[2] + r) as f64);
                }
            }
        }
        assert_eq!(f64s(&c), expected, "{dtype}");
    }
    let scalar = call_chunk(
        "array.arange",
        &[s("int32"), ints(&[]), ints(&[]), ints(&[])],
    );
    assert_eq!(scalar, chunk(&[], vec![0i32]));
}

#[test]
fn arange_blocks_must_lie_inside_the_array() {
    let err = call_err(
        "array.arange",
        &[s("int64"), ints(&[4, 5]), ints(&[3, 0]), ints(&[2, 5])],
    );
    assert!(err.contains("axis 0") && err.contains("extent 4"), "{err}");
    let err = call_err(
        "array.arange",
        &[s("int64"), ints(&[4, 5]), ints(&[0]), ints(&[2, 5])],
    );
    assert!(err.contains("same length"), "{err}");
}

fn random(seed: i64, block: i64, shape: &[i64]) -> Vec<f64> {
    let c = call_chunk(
        "array.random",
        &[Value::Int(seed), Value::Int(block), ints(shape)],
    );
    assert_eq!(c.dtype(), DType::Float64);
    assert_eq!(
        c.shape(),
        shape.iter().map(|&x| x as usize).collect::<Vec<_>>()
    );
    f64s(&c)
}

#[test]
fn random_blocks_are_reproducible_uniform_and_independent() {
    let a = random(7, 3, &[100, 1000]);
    assert_eq!(a, random(7, 3, &[100, 1000]), "same seed and block");
    assert!(a.iter().all(|&x| (0.0..1.0).contains(&x)));
    let n = a.len() as f64;
    let mean = a.iter().sum::<f64>() / n;
    let var = a.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    // Standard error of the mean of 1e5 uniforms is 0.0009; of the variance, 0.0003.
    assert!((mean - 0.5).abs() < 0.005, "mean {mean}");
    assert!((var - 1.0 / 12.0).abs() < 0.002, "variance {var}");
    // Neighbouring elements are uncorrelated (lanes interleave, so check lag 1 and 2).
    for lag in [1, 2] {
        let cov = a
            .windows(lag + 1)
            .map(|w| (w[0] - mean) * (w[lag] - mean))
            .sum::<f64>()
            / n;
        assert!(
            cov.abs() / var < 0.02,
            "lag {lag} correlation {}",
            cov / var
        );
    }
    let other_block = random(7, 4, &[100, 1000]);
    let other_seed = random(8, 3, &[100, 1000]);
    let same = |b: &[f64]| a.iter().zip(b).filter(|(x, y)| x == y).count();
    assert_eq!(same(&other_block), 0);
    assert_eq!(same(&other_seed), 0);
    // Odd sizes fill every element.
    let odd = random(1, 0, &[3, 3]);
    assert!(odd.iter().all(|&x| x > 0.0 && x < 1.0));
    assert!(random(1, 0, &[0, 4]).is_empty());
}

#[test]
fn random_rejects_bad_arguments() {
    let err = call_err("array.random", &[Value::Int(1), Value::Int(-1), ints(&[2])]);
    assert!(err.contains("argument 2"), "{err}");
    let err = call_err(
        "array.random",
        &[Value::Float(1.0), Value::Int(0), ints(&[2])],
    );
    assert!(err.contains("argument 1 must be an int"), "{err}");
}

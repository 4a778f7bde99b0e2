//! `array.transpose`, `array.slice` and `array.concat`.

use super::*;
use proptest::prelude::*;
use taskloom_graph::{Chunk, DType, Value};

/// An int64 chunk whose elements are their own C-order positions.
fn positions(shape: &[usize]) -> Chunk {
    let n: usize = shape.iter().product();
    chunk(shape, (0..n as i64).collect())
}

fn range(start: usize, stop: usize, step: usize) -> Value {
    ints(&[start as i64, stop as i64, step as i64])
}

#[test]
fn transpose_moves_element_i_j_k_to_the_permuted_position() {
    let shape = [2usize, 3, 4];
    let x = positions(&shape);
    for axes in [[0usize, 1, 2], [2, 1, 0], [1, 0, 2], [1, 2, 0], [2, 0, 1]] {
        let r = call_chunk(
            "array.transpose",
            &[val(x.clone()), ints(&axes.map(|a| a as i64))],
        );
        let out_shape = axes.map(|a| shape[a]);
        assert_eq!(r.shape(), &out_shape);
        assert!(is_c(&r));
        let rv = f64s(&r);
        for (flat, &got) in rv.iter().enumerate() {
            // The output index, then the input index it came from.
            let o = [
                flat / (out_shape[1] * out_shape[2]),
                flat / out_shape[2] % out_shape[1],
                flat % out_shape[2],
            ];
            let mut i = [0usize; 3];
            for k in 0..3 {
                i[axes[k]] = o[k];
            }
            assert_eq!(
                got,
                ((i[0] * shape[1] + i[1]) * shape[2] + i[2]) as f64,
                "{axes:?}"
            );
        }
    }
    let reversed = call_chunk("array.transpose", &[val(x.clone()), Value::Null]);
    let explicit = call_chunk("array.transpose", &[val(x.clone()), ints(&[2, 1, 0])]);
    assert_eq!(reversed, explicit);
    for bad in [ints(&[0, 1]), ints(&[0, 0, 1]), ints(&[0, 1, 3])] {
        let err = call_err("array.transpose", &[val(x.clone()), bad]);
        assert!(
            err.contains("not a permutation") && err.contains("(2, 3, 4)"),
            "{err}"
        );
    }
}

#[test]
fn slice_selects_ranges_steps_and_drops_indexed_axes() {
    let x = positions(&[4, 5, 6]);
    // x[1:4:2, 3, :] -> shape (2, 6)
    let r = call_chunk(
        "array.slice",
        &[val(x.clone()), Value::list([range(1, 4, 2), Value::Int(3)])],
    );
    assert_eq!(r.shape(), &[2, 6]);
    assert!(is_c(&r));
    let mut expected = Vec::new();
    for i in [1usize, 3] {
        for k in 0..6 {
            expected.push(((i * 5 + 3) * 6 + k) as f64);
        }
    }
    assert_eq!(f64s(&r), expected);
    // Empty ranges and all-int indexes.
    let empty = call_chunk(
        "array.slice",
        &[val(x.clone()), Value::list([range(2, 2, 1)])],
    );
    assert_eq!(empty.shape(), &[0, 5, 6]);
    let one = call_chunk(
        "array.slice",
        &[
            val(x.clone()),
            Value::list([Value::Int(3), Value::Int(4), Value::Int(5)]),
        ],
    );
    assert_eq!(one, chunk(&[], vec![119i64]));
    let same = call_chunk("array.slice", &[val(x.clone()), Value::list([])]);
    assert_eq!(same, x);
}

#[test]
fn slice_errors_name_the_axis_and_its_extent() {
    let x = positions(&[4, 5]);
    let err = call_err(
        "array.slice",
        &[
            val(x.clone()),
            Value::list([range(0, 4, 1), range(0, 6, 1)]),
        ],
    );
    assert!(err.contains("axis 1") && err.contains("extent 5"), "{err}");
    let err = call_err(
        "array.slice",
        &[val(x.clone()), Value::list([Value::Int(4)])],
    );
    assert!(err.contains("axis 0") && err.contains("extent 4"), "{err}");
    let err = call_err(
        "array.slice",
        &[val(x.clone()), Value::list([range(0, 4, 0)])],
    );
    assert!(err.contains("axis 0"), "{err}");
    let err = call_err(
        "array.slice",
        &[val(x.clone()), Value::list([range(3, 2, 1)])],
    );
    assert!(err.contains("axis 0"), "{err}");
    let err = call_err(
        "array.slice",
        &[val(x.clone()), Value::list([Value::Int(-1)])],
    );
    assert!(err.contains("axis 0"), "{err}");
    let err = call_err(
        "array.slice",
        &[
            val(x),
            Value::list([Value::Int(0), Value::Int(0), Value::Int(0)]),
        ],
    );
    assert!(
        err.contains("3 index entries") && err.contains("(4, 5)"),
        "{err}"
    );
}

#[test]
fn concat_promotes_mixed_dtypes_and_checks_extents() {
    let a = chunk(&[2], vec![1i32, 2]);
    let b = chunk(&[1], vec![3i64]);
    let c = chunk(&[2], vec![0.5f32, 1.5]);
    let r = call_chunk(
        "array.concat",
        &[ints(&[2]), Value::list([val(a.clone()), val(b.clone())])],
    );
    assert_eq!(r, chunk(&[3], vec![1i64, 2, 3]));
    let r = call_chunk(
        "array.concat",
        &[ints(&[3]), Value::list([val(a), val(b), val(c)])],
    );
    assert_eq!(r, chunk(&[5], vec![1.0f64, 2.0, 3.0, 0.5, 1.5]));
    // A 2 x 2 grid whose top-right part is too tall for its row.
    let parts = [
        positions(&[2, 3]),
        positions(&[3, 1]),
        positions(&[1, 3]),
        positions(&[1, 1]),
    ];
    let err = call_err(
        "array.concat",
        &[ints(&[2, 2]), Value::list(parts.iter().cloned().map(val))],
    );
    assert!(
        err.contains("part 1") && err.contains("(3, 1)") && err.contains("(2, 1)"),
        "{err}"
    );
    let err = call_err(
        "array.concat",
        &[ints(&[2, 2]), Value::list([val(positions(&[1, 1]))])],
    );
    assert!(err.contains("(2, 2)") && err.contains("got 1"), "{err}");
    let err = call_err("array.concat", &[ints(&[1]), Value::list([Value::Int(1)])]);
    assert!(err.contains("part 0 must be an array chunk"), "{err}");
}

/// A shape of 1 to 3 axes, and for each axis the cut points splitting it into parts.
fn shape_and_cuts() -> impl Strategy<Value = (Vec<usize>, Vec<Vec<usize>>)> {
    prop::collection::vec(1usize..6, 1..4).prop_flat_map(|shape| {
        let cuts: Vec<_> = shape
            .iter()
            .map(|&e| {
                prop::collection::btree_set(1..e.max(2), 0..e)
                    .prop_map(move |s| s.into_iter().filter(|&c| c < e).collect::<Vec<_>>())
            })
            .collect();
        (Just(shape), cuts)
    })
}

proptest! {
    #[test]
    fn slicing_into_a_grid_and_concatenating_gives_the_chunk_back((shape, cuts) in shape_and_cuts(), float in any::<bool>()) {
        let x = positions(&shape);
        let x = if float { call_chunk("array.astype", &[val(x), s(DType::Float32.name())]) } else { x };
        // Bounds of the pieces along each axis.
        let bounds: Vec<Vec<(usize, usize)>> = shape.iter().zip(&cuts).map(|(&e, c)| {
            let mut points = vec![0];
            points.extend(c);
            points.push(e);
            points.windows(2).map(|w| (w[0], w[1])).collect()
        }).collect();
        let grid: Vec<usize> = bounds.iter().map(|b| b.len()).collect();
        let total: usize = grid.iter().product();
        let mut parts = Vec::new();
        for p in 0..total {
            let mut rest = p;
            let mut index = vec![Value::Null; shape.len()];
            for k in (0..shape.len()).rev() {
                let (lo, hi) = bounds[k][rest % grid[k]];
                rest /= grid[k];
                index[k] = range(lo, hi, 1);
            }
            parts.push(val(call_chunk("array.slice", &[val(x.clone()), Value::list(index)])));
        }
        let back = call_chunk("array.concat", &[ints(&grid.iter().map(|&g| g as i64).collect::<Vec<_>>()), Value::list(parts)]);
        prop_assert_eq!(back, x);
    }

    #[test]
    fn transposing_twice_by_inverse_permutations_is_the_identity(shape in prop::collection::vec(1usize..5, 0..4), seed in any::<u64>()) {
        let x = positions(&shape);
        // A permutation from the seed, and its inverse.
        let mut axes: Vec<usize> = (0..shape.len()).collect();
        let mut state = seed;
        for i in (1..axes.len()).rev() {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            axes.swap(i, (state >> 33) as usize % (i + 1));
        }
        let mut inverse = vec![0usize; axes.len()];
        for (k, &a) in axes.iter().enumerate() {
            inverse[a] = k;
        }
        let as_list = |p: &[usize]| ints(&p.iter().map(|&a| a as i64).collect::<Vec<_>>());
        let t = call_chunk("array.transpose", &[val(x.clone()), as_list(&axes)]);
        let back = call_chunk("array.transpose", &[val(t), as_list(&inverse)]);
        prop_assert_eq!(back, x);
    }

    #[test]
    fn stepped_slices_pick_every_step_th_element(n in 1usize..30, start in 0usize..30, len in 0usize..30, step in 1usize..5) {
        let start = start.min(n);
        let stop = (start + len).min(n);
        let x = positions(&[n]);
        let r = call_chunk("array.slice", &[val(x), Value::list([range(start, stop, step)])]);
        let expected: Vec<f64> = (start..stop).step_by(step).map(|i| i as f64).collect();
        prop_assert_eq!(f64s(&r), expected);
    }
}

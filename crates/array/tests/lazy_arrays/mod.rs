//! The lazy array API end to end: expressions lowered to graphs, run on threads, and
//! checked against closed forms and against the same computation done directly with
//! ndarray on the whole array in memory.

use ndarray::{ArrayD, Axis, IxDyn};
use proptest::prelude::*;
use taskloom_array::store::Compression;
use taskloom_array::{Array, BinaryOp, Engine, Reduction, WriteOptions};
use taskloom_graph::{Chunk, DType};

fn engine() -> Engine {
    Engine::new().workers(2).fan_in(3)
}

fn f64s(chunk: Chunk) -> ArrayD<f64> {
    match chunk {
        Chunk::F64(a) => a,
        other => panic!("expected float64, got {:?}", other.dtype()),
    }
}

fn i64s(chunk: Chunk) -> ArrayD<i64> {
    match chunk {
        Chunk::I64(a) => a,
        other => panic!("expected int64, got {:?}", other.dtype()),
    }
}

/// Same shape, and every element within 1e-12 relative (absolute near zero), or NaN
/// on both sides.
fn close(a: &ArrayD<f64>, b: &ArrayD<f64>) -> bool {
    a.shape() == b.shape()
        && a.iter()
            .zip(b.iter())
            .all(|(x, y)| (x.is_nan() && y.is_nan()) || (x - y).abs() <= 1e-12 * y.abs().max(1.0))
}

fn scalar_i64(chunk: Chunk) -> i64 {
    let a = i64s(chunk);
    assert_eq!(a.ndim(), 0, "a reduction over all axes is 0-d");
    a[IxDyn(&[])]
}

#[test]
fn sum_of_an_arange_with_ragged_chunks_is_the_closed_form() {
    let a = Array::arange(&[10, 7], &[4, 3], DType::Int64).unwrap();
    let n = 70i64;
    assert_eq!(
        scalar_i64(engine().compute(&a.sum().unwrap()).unwrap()),
        n * (n - 1) / 2
    );
}

#[test]
fn values_in_memory_come_back_whole_and_work_as_any_array_in_ragged_chunks() {
    let values = ArrayD::from_shape_fn(IxDyn(&[7, 5]), |i| (i[0] * 5 + i[1]) as f64);
    let a = Array::from_chunk(Chunk::F64(values.clone()), &[3, 2]).unwrap();
    assert_eq!((a.shape(), a.chunks()), (&[7, 5][..], &[3, 2][..]));
    assert_eq!(f64s(engine().compute(&a).unwrap()), values);
    let from_scalar = taskloom_array::Operand::from(1.0)
        .binary(BinaryOp::Sub, (&a.t()).into())
        .unwrap();
    let expected = values.t().mapv(|v| 1.0 - v);
    assert!(close(
        &f64s(engine().compute(&from_scalar).unwrap()),
        &expected
    ));
    assert!(Array::from_chunk(Chunk::F64(values), &[3]).is_err());
}

#[test]
fn a_plus_its_transpose_sums_to_twice_the_sum() {
    let a = Array::arange(&[9, 9], &[4, 2], DType::Int64).unwrap();
    let total = a.add(&a.t()).unwrap().sum().unwrap();
    let n = 81i64;
    assert_eq!(scalar_i64(engine().compute(&total).unwrap()), n * (n - 1));
}

#[test]
fn column_means_of_an_arange() {
    let (n, m) = (13usize, 5usize);
    let a = Array::arange(&[n, m], &[4, 2], DType::Int32).unwrap();
    let means = f64s(
        engine()
            .compute(&a.reduce(Reduction::Mean, Some(0)).unwrap())
            .unwrap(),
    );
    assert_eq!(means.shape(), &[m]);
    for j in 0..m {
        let expected = j as f64 + (m * (n - 1)) as f64 / 2.0;
        assert!(
            (means[[j]] - expected).abs() < 1e-9,
            "column {j}: {} vs {expected}",
            means[[j]]
        );
    }
}

#[test]
fn broadcasting_a_row_over_a_matrix() {
    let x = Array::arange(&[6, 4], &[4, 3], DType::Float64).unwrap();
    let row = Array::arange(&[4], &[2], DType::Float64).unwrap();
    let got = f64s(
        engine()
            .compute(&x.binary(BinaryOp::Mul, &row).unwrap())
            .unwrap(),
    );
    for i in 0..6 {
        for j in 0..4 {
            assert_eq!(got[[i, j]], (i * 4 + j) as f64 * j as f64);
        }
    }
    let err = x
        .add(&Array::arange(&[5], &[5], DType::Float64).unwrap())
        .unwrap_err();
    assert!(
        err.to_string().contains("(6, 4)") && err.to_string().contains("(5,)"),
        "{err}"
    );
}

#[test]
fn axis_out_of_range_names_the_shape() {
    let x = Array::zeros(&[3, 4], &[2, 2], DType::Float64).unwrap();
    let err = x.reduce(Reduction::Sum, Some(2)).unwrap_err().to_string();
    assert!(err.contains("axis 2") && err.contains("(3, 4)"), "{err}");
}

#[test]
fn a_memory_limit_below_two_tasks_runs_one_task_at_a_time() {
    let x = Array::random(&[1000, 1000], &[250, 250], 7).unwrap();
    let job = Engine::new()
        .workers(2)
        .memory_limit(600_000)
        .compute_job(&x.sum().unwrap())
        .unwrap();
    assert_eq!(
        job.workers(),
        1,
        "a 500 kB block per task allows one at a time"
    );
    let job = Engine::new()
        .workers(2)
        .memory_limit(1 << 30)
        .compute_job(&x.sum().unwrap())
        .unwrap();
    assert_eq!(job.workers(), 2);
}

#[test]
fn top_k_and_sort_agree_with_a_direct_sort() {
    let x = Array::random(&[1000], &[97], 3).unwrap();
    let all = f64s(engine().compute(&x).unwrap())
        .into_raw_vec_and_offset()
        .0;
    let mut sorted = all.clone();
    sorted.sort_by(f64::total_cmp);
    let top = f64s(engine().compute(&x.topk(5, true).unwrap()).unwrap());
    let expected: Vec<f64> = sorted.iter().rev().take(5).copied().collect();
    assert_eq!(top.iter().copied().collect::<Vec<_>>(), expected);
    let got = f64s(engine().compute(&x.sort(false).unwrap()).unwrap());
    assert_eq!(got.iter().copied().collect::<Vec<_>>(), sorted);
    let got = f64s(engine().compute(&x.sort(true).unwrap()).unwrap());
    sorted.reverse();
    assert_eq!(got.iter().copied().collect::<Vec<_>>(), sorted);
}

#[test]
fn written_arrays_read_back_and_nothing_is_left_on_failure() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.zarr");
    let x = Array::arange(&[7, 5], &[3, 2], DType::Int64).unwrap();
    engine().write(&x, &path, &WriteOptions::default()).unwrap();
    let back = Array::open(&path).unwrap();
    assert_eq!(
        (back.shape(), back.chunks(), back.dtype()),
        (x.shape(), x.chunks(), x.dtype())
    );
    assert_eq!(
        engine().compute(&back).unwrap(),
        engine().compute(&x).unwrap()
    );
    let err = engine()
        .write(&x, &path, &WriteOptions::default())
        .unwrap_err();
    assert!(err.to_string().contains("exists"), "{err}");
    let entries: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert_eq!(entries.len(), 1, "no temporary directory is left behind");
}

fn small_array() -> impl Strategy<Value = (Vec<usize>, Vec<usize>, Vec<usize>)> {
    (1usize..=3).prop_flat_map(|ndim| {
        (
            prop::collection::vec(1usize..9, ndim),
            prop::collection::vec(1usize..5, ndim),
            prop::collection::vec(1usize..5, ndim),
        )
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn any_rechunking_leaves_values_unchanged((shape, chunks, other) in small_array(), seed in 0u64..1000) {
        let x = Array::random(&shape, &chunks, seed).unwrap();
        let direct = engine().compute(&x).unwrap();
        prop_assert_eq!(engine().compute(&x.rechunk(&other).unwrap()).unwrap(), direct);
    }

    #[test]
    fn rechunking_a_stored_array_reads_the_same_values_as_in_memory(
        (shape, chunks, other) in small_array(),
        seed in 0u64..1000,
        dtype in prop::sample::select(vec![DType::Float64, DType::Float32, DType::Int64, DType::Int32, DType::Bool]),
        compression in prop::sample::select(vec![Compression::None, Compression::default()]),
    ) {
        // Uncompressed chunks are read a piece at a time (`array.read_region`), others
        // whole; any dtype, ragged edge blocks, pieces of 1 element or whole blocks.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.zarr");
        let x = Array::random(&shape, &chunks, seed).unwrap().astype(dtype);
        let options = WriteOptions { compression, ..WriteOptions::default() };
        engine().write(&x, &path, &options).unwrap();
        let stored = Array::open(&path).unwrap();
        prop_assert_eq!(
            engine().compute(&stored.rechunk(&other).unwrap()).unwrap(),
            engine().compute(&x.rechunk(&other).unwrap()).unwrap()
        );
        // A middle range on every axis; then the first axis at one index instead.
        let middle: Vec<String> = shape.iter().map(|&n| format!("{}:{}", n / 3, n - n / 4)).collect();
        let mut at = middle.clone();
        at[0] = (shape[0] / 2).to_string();
        for index in [middle.join(","), at.join(",")] {
            prop_assert_eq!(
                engine().compute(&stored.index(&index).unwrap()).unwrap(),
                engine().compute(&x.index(&index).unwrap()).unwrap(),
                "{}", index
            );
        }
    }

    #[test]
    fn slicing_agrees_with_ndarray((shape, chunks, _) in small_array(), picks in prop::collection::vec((0usize..9, 0usize..9, 1usize..4, any::<bool>()), 3)) {
        let x = Array::arange(&shape, &chunks, DType::Int64).unwrap();
        let whole = i64s(engine().compute(&x).unwrap());
        let mut text = Vec::new();
        let mut view = whole.view();
        let mut axis = 0;
        for (k, &(a, b, step, single)) in picks.iter().take(shape.len()).enumerate() {
            let n = shape[k];
            if single {
                let i = a % n;
                text.push(i.to_string());
                view = view.index_axis_move(Axis(axis), i);
            } else {
                let (lo, hi) = (a.min(b).min(n), a.max(b).min(n));
                text.push(format!("{lo}:{hi}:{step}"));
                view.slice_axis_inplace(Axis(axis), ndarray::Slice::new(lo as isize, Some(hi as isize), step as isize));
                axis += 1;
            }
        }
        let got = i64s(engine().compute(&x.index(&text.join(",")).unwrap()).unwrap());
        prop_assert_eq!(got, view.to_owned());
    }

    #[test]
    fn matmul_by_blocks_equals_a_direct_product(n in 1usize..12, k in 1usize..12, m in 1usize..12, cn in 1usize..5, ck in 1usize..5, ck2 in 1usize..5, cm in 1usize..5) {
        let a = Array::random(&[n, k], &[cn, ck], 1).unwrap();
        let b = Array::random(&[k, m], &[ck2, cm], 2).unwrap();
        let got = f64s(engine().compute(&a.matmul(&b).unwrap()).unwrap());
        let a2 = f64s(engine().compute(&a).unwrap()).into_dimensionality::<ndarray::Ix2>().unwrap();
        let b2 = f64s(engine().compute(&b).unwrap()).into_dimensionality::<ndarray::Ix2>().unwrap();
        let direct = a2.dot(&b2).into_dyn();
        prop_assert!(close(&got, &direct), "{got} vs {direct}");
    }

    #[test]
    fn every_reduction_on_every_axis_agrees_with_ndarray((shape, chunks, _) in small_array(), seed in 0u64..1000, fan_in in 2usize..5) {
        let x = Array::random(&shape, &chunks, seed).unwrap();
        let whole = f64s(engine().compute(&x).unwrap());
        let engine = Engine::new().workers(2).fan_in(fan_in);
        for axis in (0..shape.len()).map(Some).chain([None]) {
            for op in [Reduction::Sum, Reduction::Mean, Reduction::Min, Reduction::Max, Reduction::Var] {
                let got = f64s(engine.compute(&x.reduce(op, axis).unwrap()).unwrap());
                let reference = |v: ndarray::ArrayViewD<f64>| -> f64 {
                    let n = v.len() as f64;
                    let mean = v.sum() / n;
                    match op {
                        Reduction::Sum => v.sum(),
                        Reduction::Mean => mean,
                        Reduction::Min => v.fold(f64::INFINITY, |a, &b| a.min(b)),
                        Reduction::Max => v.fold(f64::NEG_INFINITY, |a, &b| a.max(b)),
                        Reduction::Var => v.fold(0.0, |a, &b| a + (b - mean) * (b - mean)) / n,
                        _ => unreachable!(),
                    }
                };
                let expected = match axis {
                    None => ArrayD::from_elem(IxDyn(&[]), reference(whole.view())),
                    Some(k) => whole.map_axis(Axis(k), |lane| reference(lane.into_dyn())),
                };
                prop_assert!(close(&got, &expected), "{:?} axis {:?}: {} vs {}", op, axis, got, expected);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(32))]

    /// Blocked scans, positions and bool reductions give what the same array in one
    /// chunk gives (ties and NaN included), however it is chunked.
    #[test]
    fn scans_positions_and_masks_do_not_depend_on_the_chunking((shape, chunks, _) in small_array(), seed in 0u64..1000) {
        let u = Array::random(&shape, &chunks, seed).unwrap();
        // Ints 0..4 (ties in every lane), floats with NaN (the log of negatives), a mask;
        // each as chunked and in one chunk.
        let ints = u.scale(4.0.into(), 0.into()).unwrap().astype(DType::Int64);
        let floats = u.sub(0.3).unwrap().map(taskloom_array::UnaryOp::Log).unwrap();
        let mask = ints.gt(1i64).unwrap();
        let whole = |a: &Array| a.rechunk(&shape).unwrap();
        let inputs = [(ints.clone(), whole(&ints)), (floats.clone(), whole(&floats)), (mask.clone(), whole(&mask))];
        let engine = engine();
        let same = |chunked: Array, one: Array| -> Result<(), TestCaseError> {
            let (got, want) = (engine.compute(&chunked).unwrap(), engine.compute(&one).unwrap());
            match (&got, &want) {
                // A blocked scan adds the carry of the chunks before to each chunk's
                // prefix: the same additions in another order, equal but for the last bits.
                (Chunk::F64(g), Chunk::F64(w)) => prop_assert!(close(g, w), "{got:?} vs {want:?}"),
                _ => prop_assert_eq!(format!("{got:?}"), format!("{want:?}")),
            }
            Ok(())
        };
        for (x, one) in &inputs {
            for axis in 0..shape.len() {
                same(x.cumsum(axis).unwrap(), one.cumsum(axis).unwrap())?;
            }
            for axis in (0..shape.len()).map(Some).chain([None]) {
                for op in [Reduction::Argmin, Reduction::Argmax, Reduction::Any, Reduction::All] {
                    same(x.reduce(op, axis).unwrap(), one.reduce(op, axis).unwrap())?;
                }
            }
        }
        let (m, i, f) = (&inputs[2], &inputs[0], &inputs[1]);
        same(m.0.select(&i.0, &f.0).unwrap(), m.1.select(&i.1, &f.1).unwrap())?;
    }
}

#[test]
fn cumsum_of_an_arange_is_the_closed_form_and_floats_keep_float32() {
    let x = Array::arange(&[10, 3], &[3, 2], DType::Int32).unwrap();
    let got = i64s(engine().compute(&x.cumsum(0).unwrap()).unwrap());
    for i in 0..10i64 {
        for j in 0..3i64 {
            // Σ_{r<=i} (3r + j)
            let want = 3 * i * (i + 1) / 2 + (i + 1) * j;
            assert_eq!(got[[i as usize, j as usize]], want);
        }
    }
    let y = Array::ones(&[7], &[2], DType::Float32).unwrap();
    let Chunk::F32(sums) = engine().compute(&y.cumsum(0).unwrap()).unwrap() else {
        panic!("cumsum of float32 is float32, as in NumPy")
    };
    assert_eq!(
        sums.iter().copied().collect::<Vec<f32>>(),
        [1., 2., 3., 4., 5., 6., 7.]
    );
    let err = x.cumsum(2).unwrap_err().to_string();
    assert!(err.contains("cumsum") && err.contains("axis 2"), "{err}");
}

#[test]
fn reductions_stream_uncompressed_chunks_a_slab_at_a_time_with_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    // Rows of 300 int64 elements: a 512 KiB slab is 218 rows, so the 500-row chunks
    // are read in three slabs, and the ragged last block (row 1000 on) in one.
    let x = Array::arange(&[1203, 700], &[500, 300], DType::Int64).unwrap();
    let plain = dir.path().join("plain.zarr");
    let options = WriteOptions {
        compression: Compression::None,
        ..WriteOptions::default()
    };
    engine().write(&x, &plain, &options).unwrap();
    let stored = Array::open(&plain).unwrap();
    let job = engine().compute_job(&stored.sum().unwrap()).unwrap();
    assert!(job
        .plan()
        .graph()
        .op_names()
        .iter()
        .any(|op| op == "array.read_partial"));
    let n = 1203i64 * 700;
    assert_eq!(
        scalar_i64(engine().compute(&stored.sum().unwrap()).unwrap()),
        n * (n - 1) / 2
    );
    for op in [
        Reduction::Sum,
        Reduction::Mean,
        Reduction::Var,
        Reduction::Max,
    ] {
        for axis in [None, Some(0), Some(1)] {
            let streamed = engine().compute(&stored.reduce(op, axis).unwrap()).unwrap();
            let direct = engine().compute(&x.reduce(op, axis).unwrap()).unwrap();
            assert_eq!(streamed, direct, "{op:?} along {axis:?}");
        }
    }
    // A chunk file of the wrong length is corrupt, and the error names the chunk.
    std::fs::write(plain.join("c/1/1"), b"short").unwrap();
    let err = engine()
        .compute(&stored.sum().unwrap())
        .unwrap_err()
        .to_string();
    assert!(err.contains("[1, 1]") && err.contains("corrupt"), "{err}");
}

/// `values` as `dtype`, as NumPy's `astype` makes them (ints take 7 for what is not
/// finite).
fn sort_input(values: &[f64], dtype: DType) -> Chunk {
    let kept = values
        .iter()
        .map(|&x| {
            if dtype.is_float() || x.is_finite() {
                x
            } else {
                7.0
            }
        })
        .collect();
    let floats = Chunk::F64(ArrayD::from_shape_vec(IxDyn(&[values.len()]), kept).unwrap());
    let whole = Array::from_chunk(floats, &[values.len()]).unwrap();
    engine().compute(&whole.astype(dtype)).unwrap()
}

/// A sorted result's values as bit patterns of float64, so NaN equals NaN and -0.0
/// differs from 0.0.
fn sort_bits(chunk: &Chunk) -> Vec<u64> {
    taskloom_array::kernels::args::cast::<f64>(chunk)
        .iter()
        .map(|x| x.to_bits())
        .collect()
}

proptest! {
    // A sort through files of B blocks writes B x B files: few cases, not tiny chunks.
    #![proptest_config(ProptestConfig::with_cases(40))]

    /// A sort in memory and a sort through files give, for any chunking, what one
    /// chunk sorted in one task gives: numbers in order, -0.0 before 0.0, NaN last.
    #[test]
    fn any_chunking_sorts_as_one_chunk_in_memory_and_on_disk(
        values in prop::collection::vec(prop_oneof![
            8 => (-50i32..50).prop_map(f64::from),
            1 => Just(f64::NAN),
            1 => Just(-0.0),
            1 => Just(0.0),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
            1 => any::<f64>(),
        ], 1..400),
        chunk in 10usize..150,
        dtype in prop::sample::select(vec![DType::Float64, DType::Float32, DType::Int64, DType::Int32, DType::Bool]),
        descending in any::<bool>(),
    ) {
        let input = sort_input(&values, dtype);
        let whole = Array::from_chunk(input.clone(), &[values.len()]).unwrap();
        let want = engine().compute(&whole.sort(descending).unwrap()).unwrap();
        let got_bits = sort_bits(&want);
        let n = values.len();
        // The order itself: ascending (or descending) by total order, NaN last.
        let in_order = |a: f64, b: f64| match (a.is_nan(), b.is_nan()) {
            (_, true) => true,
            (true, false) => false,
            _ if descending => b.total_cmp(&a).is_le(),
            _ => a.total_cmp(&b).is_le(),
        };
        let got_values: Vec<f64> = got_bits.iter().map(|&b| f64::from_bits(b)).collect();
        prop_assert!(got_values.windows(2).all(|w| in_order(w[0], w[1])), "not in order: {:?}", got_values);
        let chunked = Array::from_chunk(input, &[chunk]).unwrap().sort(descending).unwrap();
        let bytes = (n * dtype.size()) as u64;
        for limit in [3 * bytes, 3 * bytes - 1] {
            let got = engine().memory_limit(limit).compute(&chunked).unwrap();
            prop_assert_eq!(got.dtype(), dtype);
            prop_assert_eq!(sort_bits(&got), got_bits.clone(), "memory limit {}", limit);
        }
    }
}

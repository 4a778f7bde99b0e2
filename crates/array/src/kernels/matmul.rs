//! `array.matmul`: one block product of a chunked matrix product, added to the sum of
//! the blocks before it, so each output block is a chain of tasks that each hold three
//! blocks at most.
//!
//! Floats go through OpenBLAS when the machine has it (`blas`, loaded at run time),
//! else through ndarray's own product (the matrixmultiply crate's blocked kernels,
//! already a dependency of ndarray); either on the calling thread only: the executor
//! already runs one task per core, and a task that spawned threads of its own would
//! oversubscribe them. Ints have no BLAS; a cache-blocked
//! loop serves them.

use std::sync::Arc;

use ndarray::linalg::general_mat_mul;
use ndarray::{Array2, ArrayView2, Ix2};
use taskloom_graph::{Chunk, DType, OpError};

use super::args::{self, cast, promote, Element};
use super::elementwise::element::astype;
use crate::grid::Dims;
use crate::wire::array_op;
use blas::Real;

mod blas;

array_op! {
    /// `array.matmul(a, b, acc, a_2, b_2, ...)`: `a @ b + a_2 @ b_2 + ...`, plus `acc`
    /// unless it is null: several steps along the shared axis summed in one buffer,
    /// with no copy between them. Operands promote as NumPy's do: int32 with int32
    /// stays int32, other ints give int64 (wrapping on overflow).
    pub(crate) struct Matmul<C = Arc<Chunk>> = "array.matmul" {
        a: C,
        b: C,
        acc: Option<C>;
        rest more: C, at least 0
    }
    fn run(self) -> OpResult {
        if !self.more.len().is_multiple_of(2) {
            return Err(OpError::new(format!(
                "the blocks after the accumulator come in (a, b) pairs, got {}",
                self.more.len()
            )));
        }
        let pairs: Vec<(&Chunk, &Chunk)> = std::iter::once((&*self.a, &*self.b))
            .chain(self.more.chunks_exact(2).map(|p| (&*p[0], &*p[1])))
            .collect();
        matmul(&pairs, self.acc.as_deref()).map(args::value)
    }
}

/// The sum of the products of `pairs`, plus `acc`, after checking the shapes fit.
fn matmul(pairs: &[(&Chunk, &Chunk)], acc: Option<&Chunk>) -> Result<Chunk, OpError> {
    let mut shape = None;
    let mut dtype = None;
    for (i, &(a, b)) in pairs.iter().enumerate() {
        // The first pair is arguments 1 and 2; the accumulator comes before the others.
        let arg = if i == 0 { 1 } else { 2 * i + 2 };
        let (m, k) = matrix_shape(a, arg)?;
        let (k2, n) = matrix_shape(b, arg + 1)?;
        if k != k2 {
            return Err(OpError::new(format!(
                "cannot multiply shapes {} and {}: {k} columns against {k2} rows",
                Dims(a.shape()),
                Dims(b.shape())
            )));
        }
        let first = *shape.get_or_insert((m, n));
        if (m, n) != first {
            return Err(OpError::new(format!(
                "product {} has shape {} but the first has shape {}",
                i + 1,
                Dims(&[m, n]),
                Dims(&[first.0, first.1])
            )));
        }
        let pair = promote(a.dtype(), b.dtype());
        dtype = Some(dtype.map_or(pair, |d| promote(d, pair)));
    }
    let ((m, n), mut dtype) = (shape.expect("one pair"), dtype.expect("one pair"));
    if let Some(acc) = acc {
        if acc.shape() != [m, n] {
            let (a, b) = pairs[0];
            return Err(OpError::new(format!(
                "the accumulator has shape {} but the product of {} and {} has shape {}",
                Dims(acc.shape()),
                Dims(a.shape()),
                Dims(b.shape()),
                Dims(&[m, n])
            )));
        }
        dtype = promote(dtype, acc.dtype());
    }
    Ok(match dtype {
        DType::Float64 => float::<f64>(pairs, acc, (m, n)),
        DType::Float32 => float::<f32>(pairs, acc, (m, n)),
        // Wrapping in int64 and truncating wraps as int32 arithmetic does.
        DType::Int64 => int(pairs, acc, (m, n)),
        DType::Int32 => astype(&int(pairs, acc, (m, n)), DType::Int32),
        DType::Bool => {
            return Err(OpError::new(
                "matmul is not defined for bool arrays (convert them with astype first)",
            ))
        }
    })
}

/// The running sum a product starts from: a C-order copy of `acc` (the shared chunk
/// cannot be written) or zeros.
fn start<T: Element>(acc: Option<&Chunk>, shape: (usize, usize)) -> Array2<T> {
    match acc {
        Some(acc) => cast::<T>(acc)
            .into_dimensionality::<Ix2>()
            .expect("checked 2-D")
            .as_standard_layout()
            .into_owned(),
        None => Array2::from_elem(shape, T::from_i64(0)),
    }
}

/// The rows and columns of argument `arg` (1-based), which must be 2-D.
fn matrix_shape(chunk: &Chunk, arg: usize) -> Result<(usize, usize), OpError> {
    match *chunk.shape() {
        [rows, cols] => Ok((rows, cols)),
        _ => Err(OpError::new(format!(
            "argument {arg} must be a 2-D chunk, got shape {}",
            Dims(chunk.shape())
        ))),
    }
}

/// A float product, reading the operands in place whatever their strides, each
/// pair's product added into one buffer.
fn float<T: Element + Real>(
    pairs: &[(&Chunk, &Chunk)],
    acc: Option<&Chunk>,
    shape: (usize, usize),
) -> Chunk {
    let mut out = start::<T>(acc, shape);
    for &(a, b) in pairs {
        let a = cast::<T>(a);
        let b = cast::<T>(b);
        let a = a.view().into_dimensionality::<Ix2>().expect("checked 2-D");
        let b = b.view().into_dimensionality::<Ix2>().expect("checked 2-D");
        multiply_add(a, b, &mut out);
    }
    T::chunk(out.into_dyn())
}

/// `out += a @ b` (`out` in C order): through BLAS when one is loaded and the sizes
/// fit its ints, else through ndarray's own product.
fn multiply_add<T: Real>(a: ArrayView2<'_, T>, b: ArrayView2<'_, T>, out: &mut Array2<T>) {
    if !blas::library().is_some_and(|blas| blas.multiply_add(a.view(), b.view(), out)) {
        general_mat_mul(T::one(), &a, &b, T::one(), out);
    }
}

/// Rows of `b` (and of the result) a block of the int product covers: what fits in L2
/// alongside the rows of `out` being updated.
const INT_BLOCK_K: usize = 128;
const INT_BLOCK_N: usize = 1024;

/// An int product in int64 with wrapping arithmetic, each pair's product added into
/// one buffer.
fn int(pairs: &[(&Chunk, &Chunk)], acc: Option<&Chunk>, shape: (usize, usize)) -> Chunk {
    let mut out = start::<i64>(acc, shape);
    for &(a, b) in pairs {
        int_multiply_add(a, b, &mut out);
    }
    Chunk::I64(out.into_dyn())
}

/// `out += a @ b` in int64: `out[i, j] += a[i, p] * b[p, j]` over blocks of `p` and
/// `j`, so the block of `b` stays in cache while every row of `a` passes over it and
/// the inner loop is a contiguous, vectorisable axpy.
fn int_multiply_add(a: &Chunk, b: &Chunk, out: &mut Array2<i64>) {
    let a = cast::<i64>(a)
        .into_dimensionality::<Ix2>()
        .expect("checked 2-D");
    let b = cast::<i64>(b)
        .into_dimensionality::<Ix2>()
        .expect("checked 2-D");
    let a = a.as_standard_layout();
    let b = b.as_standard_layout();
    let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
    let (a, b) = (
        a.as_slice().expect("standard layout"),
        b.as_slice().expect("standard layout"),
    );
    let c = out.as_slice_mut().expect("standard layout");
    for p0 in (0..k).step_by(INT_BLOCK_K) {
        let p1 = (p0 + INT_BLOCK_K).min(k);
        for j0 in (0..n).step_by(INT_BLOCK_N) {
            let j1 = (j0 + INT_BLOCK_N).min(n);
            for i in 0..m {
                let row = &mut c[i * n + j0..i * n + j1];
                for p in p0..p1 {
                    let x = a[i * k + p];
                    let brow = &b[p * n + j0..p * n + j1];
                    for (y, &z) in row.iter_mut().zip(brow) {
                        *y = y.wrapping_add(x.wrapping_mul(z));
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use proptest::prelude::*;

    use super::*;
    use crate::wire::ArrayOp;
    use taskloom_graph::{OpResult, Value};

    /// `array.matmul` as a graph calls it: decoded, then run.
    fn op(args: &[Value]) -> OpResult {
        Matmul::decode(args)?.run()
    }

    fn call(a: Chunk, b: Chunk, acc: Option<Chunk>) -> OpResult {
        let acc = acc.map_or(Value::Null, args::value);
        op(&[args::value(a), args::value(b), acc])
    }

    fn result(v: OpResult) -> Chunk {
        match &v.expect("matmul succeeds") {
            Value::Chunk(c) => Chunk::clone(c),
            other => panic!("expected a chunk, got {}", other.type_name()),
        }
    }

    /// The textbook triple loop in i128, the reference every path is checked against.
    fn naive(a: &[i64], b: &[i64], m: usize, k: usize, n: usize) -> Vec<i128> {
        let mut out = vec![0i128; m * n];
        for i in 0..m {
            for j in 0..n {
                for p in 0..k {
                    out[i * n + j] += i128::from(a[i * k + p]) * i128::from(b[p * n + j]);
                }
            }
        }
        out
    }

    fn f64s(shape: &[usize], v: &[i64]) -> Chunk {
        Chunk::F64(
            ArrayD::from_shape_vec(IxDyn(shape), v.iter().map(|&x| x as f64).collect()).unwrap(),
        )
    }

    /// Shapes `(m, k, n)`, then operands `a`, `b` and an accumulator of small ints.
    type Operands = ((usize, usize, usize), Vec<i64>, Vec<i64>, Vec<i64>);

    fn operands() -> impl Strategy<Value = Operands> {
        (0usize..40, 0usize..40, 0usize..40).prop_flat_map(|(m, k, n)| {
            let ints = |len| prop::collection::vec(-50i64..50, len);
            (Just((m, k, n)), ints(m * k), ints(k * n), ints(m * n))
        })
    }

    proptest! {
        /// Small ints are exact in every type, so each dtype path (and every
        /// combination of them, with and without an accumulator) must match the
        /// reference exactly, in the type NumPy would give.
        #[test]
        fn every_dtype_matches_the_reference(
            ((m, k, n), a, b, c) in operands(),
            types in (0usize..4, 0usize..4, 0usize..5),
        ) {
            let make = |t: usize, shape: &[usize], v: &[i64]| -> Chunk {
                let f = f64s(shape, v);
                match DType::NUMERIC[t] {
                    DType::Float32 => Chunk::F32(cast::<f32>(&f).into_owned()),
                    DType::Int64 => Chunk::I64(cast::<i64>(&f).into_owned()),
                    DType::Int32 => Chunk::I32(cast::<i32>(&f).into_owned()),
                    _ => f,
                }
            };
            let ca = make(types.0, &[m, k], &a);
            let cb = make(types.1, &[k, n], &b);
            let cc = (types.2 < 4).then(|| make(types.2, &[m, n], &c));
            let mut want_type = promote(ca.dtype(), cb.dtype());
            if let Some(cc) = &cc {
                want_type = promote(want_type, cc.dtype());
            }
            let got = result(call(ca, cb, cc.clone()));
            prop_assert_eq!(got.dtype(), want_type);
            prop_assert_eq!(got.shape(), &[m, n]);
            let mut want = naive(&a, &b, m, k, n);
            if cc.is_some() {
                for (w, &x) in want.iter_mut().zip(&c) {
                    *w += i128::from(x);
                }
            }
            let got: Vec<i128> = cast::<f64>(&got).iter().map(|&x| x as i128).collect();
            prop_assert_eq!(got, want);
        }

        /// Transposed and sliced operands are read through their strides.
        #[test]
        fn strided_operands(m in 1usize..30, k in 1usize..30, n in 1usize..30) {
            let a: Vec<i64> = (0..(m * k) as i64).map(|x| x % 7 - 3).collect();
            let b: Vec<i64> = (0..(k * n) as i64).map(|x| x % 5 - 2).collect();
            let at = f64s(&[k, m], &a);
            let Chunk::F64(at) = at else { unreachable!() };
            let a_view = at.t().to_owned(); // (m, k), column-major
            let wide = ArrayD::from_shape_fn(IxDyn(&[k, 2 * n]), |ix| b[ix[0] * n + ix[1] / 2] as f64);
            let b_view = wide.slice_each_axis(|ax| {
                if ax.axis.index() == 1 { ndarray::Slice::new(0, None, 2) } else { ndarray::Slice::from(..) }
            }).to_owned();
            let got = result(call(Chunk::F64(a_view.clone()), Chunk::F64(b_view), None));
            let a_c: Vec<i64> = a_view.iter().map(|&x| x as i64).collect();
            let want = naive(&a_c, &b, m, k, n);
            let got: Vec<i128> = cast::<f64>(&got).iter().map(|&x| x as i128).collect();
            prop_assert_eq!(got, want);
        }
    }

    /// The array an operand of shape `(rows, cols)` holding `values` (row by row) is
    /// viewed from in `layout`: 0 C order, 1 Fortran order (a transpose), 2 every
    /// other column of a wider array (no unit stride: BLAS reads a copy), 3 its first
    /// row broadcast (a zero stride).
    fn laid_out<T: Element + Default>(
        values: &[T],
        rows: usize,
        cols: usize,
        layout: usize,
    ) -> ndarray::Array2<T> {
        let c = ndarray::Array2::from_shape_vec((rows, cols), values.to_vec()).unwrap();
        match layout {
            1 => {
                let mut f =
                    ndarray::Array2::from_shape_vec((cols, rows), vec![T::default(); rows * cols])
                        .unwrap();
                f.assign(&c.t());
                f.reversed_axes()
            }
            2 => {
                let mut wide = ndarray::Array2::from_elem((rows, 2 * cols), T::default());
                wide.slice_mut(ndarray::s![.., ..;2]).assign(&c);
                wide
            }
            _ => c,
        }
    }

    /// `out + a @ b` through BLAS and through ndarray, from operands in the given
    /// layouts.
    fn both<T: Element + Real + Default>(
        blas: &blas::Blas,
        (m, k, n): (usize, usize, usize),
        (a, b, out): (&[T], &[T], &[T]),
        (layout_a, layout_b): (usize, usize),
    ) -> (ndarray::Array2<T>, ndarray::Array2<T>) {
        let (a, b) = (laid_out(a, m, k, layout_a), laid_out(b, k, n, layout_b));
        let (a_row, b_row) = (a.slice(ndarray::s![..1, ..]), b.slice(ndarray::s![..1, ..]));
        fn view<'a, T>(
            x: &'a ndarray::Array2<T>,
            row: &'a ArrayView2<'a, T>,
            layout: usize,
        ) -> ArrayView2<'a, T> {
            match layout {
                2 => x.slice(ndarray::s![.., ..;2]),
                3 => row.broadcast(x.dim()).unwrap(),
                _ => x.view(),
            }
        }
        let (a, b) = (view(&a, &a_row, layout_a), view(&b, &b_row, layout_b));
        let out = ndarray::Array2::from_shape_vec((m, n), out.to_vec()).unwrap();
        let (mut by_blas, mut by_ndarray) = (out.clone(), out);
        assert!(blas.multiply_add(a.view(), b.view(), &mut by_blas));
        general_mat_mul(T::one(), &a, &b, T::one(), &mut by_ndarray);
        (by_blas, by_ndarray)
    }

    /// Float operands of shapes `(m, k, n)`: `a`, `b` and an accumulator in [-1, 1).
    type Floats = ((usize, usize, usize), Vec<f64>, Vec<f64>, Vec<f64>);

    fn floats() -> impl Strategy<Value = Floats> {
        (1usize..40, 1usize..40, 1usize..40).prop_flat_map(|(m, k, n)| {
            let values = |len| prop::collection::vec(-1.0f64..1.0, len);
            (Just((m, k, n)), values(m * k), values(k * n), values(m * n))
        })
    }

    proptest! {
        /// OpenBLAS, where the machine has it (scripts/test.sh installs it), gives
        /// ndarray's values within rounding, in float64 and float32, whatever the layout
        /// of each operand (read in place, or copied when BLAS cannot read it).
        #[test]
        fn blas_gives_the_values_ndarray_gives(
            (shape, a, b, c) in floats(),
            layouts in (0usize..4, 0usize..4),
        ) {
            let Some(blas) = blas::library() else {
                eprintln!("no BLAS to load (libopenblas.so.0): only ndarray multiplies here");
                return Ok(());
            };
            // Each result sums k + 1 terms below 1 in size: two summation orders differ
            // by at most twice the textbook bound, (k + 1)^2 units of rounding.
            let bound = 2.0 * (shape.1 as f64 + 1.0).powi(2);
            let (x, y) = both::<f64>(blas, shape, (&a, &b, &c), layouts);
            for (x, y) in x.iter().zip(&y) {
                prop_assert!((x - y).abs() <= bound * f64::EPSILON, "{} against {}", x, y);
            }
            let single = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
            let (a, b, c) = (single(&a), single(&b), single(&c));
            let (x, y) = both::<f32>(blas, shape, (&a, &b, &c), layouts);
            for (x, y) in x.iter().zip(&y) {
                prop_assert!(f64::from((x - y).abs()) <= bound * f64::from(f32::EPSILON), "{} against {}", x, y);
            }
        }
    }

    proptest! {
        /// Several pairs in one call sum their products into one buffer: exactly the
        /// products added one by one, in floats (BLAS or ndarray) and in ints.
        #[test]
        fn several_pairs_sum_their_products(
            (m, ks, n) in (1usize..20, prop::collection::vec(1usize..20, 1..4), 1usize..20),
            seed in any::<u64>(),
            float in any::<bool>(),
        ) {
            let mut state = seed | 1;
            let mut ints = |len: usize| -> Vec<i64> {
                (0..len).map(|_| { state ^= state << 13; state ^= state >> 7; state ^= state << 17; (state % 21) as i64 - 10 }).collect()
            };
            let make = |shape: &[usize], v: &[i64]| -> Chunk {
                if float { f64s(shape, v) } else { Chunk::I32(cast::<i32>(&f64s(shape, v)).into_owned()) }
            };
            let acc = ints(m * n);
            let mut want: Vec<i128> = acc.iter().map(|&x| i128::from(x)).collect();
            let mut args = Vec::new();
            for (i, &k) in ks.iter().enumerate() {
                let (a, b) = (ints(m * k), ints(k * n));
                for (w, x) in want.iter_mut().zip(naive(&a, &b, m, k, n)) {
                    *w += x;
                }
                args.push(args::value(make(&[m, k], &a)));
                args.push(args::value(make(&[k, n], &b)));
                if i == 0 {
                    args.push(args::value(make(&[m, n], &acc)));
                }
            }
            let got = result(op(&args));
            prop_assert_eq!(got.dtype(), if float { DType::Float64 } else { DType::Int32 });
            let got: Vec<i128> = cast::<f64>(&got).iter().map(|&x| x as i128).collect();
            prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn pairs_must_be_whole_and_agree() {
        let block = |r, c| args::value(Chunk::F64(ArrayD::zeros(IxDyn(&[r, c]))));
        let err = op(&[block(2, 3), block(3, 4), Value::Null, block(2, 3)])
            .unwrap_err()
            .0;
        assert!(err.contains("pairs") && err.contains("got 1"), "{err}");
        let err = op(&[
            block(2, 3),
            block(3, 4),
            Value::Null,
            block(2, 5),
            block(5, 3),
        ])
        .unwrap_err()
        .0;
        assert!(
            err.contains("product 2") && err.contains("(2, 3)") && err.contains("(2, 4)"),
            "{err}"
        );
        let err = op(&[
            block(2, 3),
            block(3, 4),
            Value::Null,
            block(2, 5),
            block(6, 4),
        ])
        .unwrap_err()
        .0;
        assert!(err.contains("(2, 5)") && err.contains("(6, 4)"), "{err}");
        let err = op(&[
            block(2, 3),
            block(3, 4),
            Value::Null,
            block(2, 5),
            block(5, 4),
            Value::Int(1),
            block(1, 1),
        ])
        .unwrap_err()
        .0;
        assert!(err.contains("argument 6"), "{err}");
    }

    #[test]
    fn ints_wrap_on_overflow() {
        let a = Chunk::I64(ArrayD::from_elem(IxDyn(&[1, 2]), i64::MAX));
        let b = Chunk::I64(ArrayD::from_elem(IxDyn(&[2, 1]), 2));
        let got = result(call(a, b, None));
        let want = i64::MAX.wrapping_mul(2).wrapping_mul(2);
        assert_eq!(got, Chunk::I64(ArrayD::from_elem(IxDyn(&[1, 1]), want)));
    }

    #[test]
    fn mismatched_shapes_are_named() {
        let a = Chunk::F64(ArrayD::zeros(IxDyn(&[3, 4])));
        let b = Chunk::F64(ArrayD::zeros(IxDyn(&[5, 6])));
        let err = call(a.clone(), b, None).unwrap_err().0;
        assert!(err.contains("(3, 4)") && err.contains("(5, 6)"), "{err}");
        let b = Chunk::F64(ArrayD::zeros(IxDyn(&[4, 6])));
        let acc = Chunk::F64(ArrayD::zeros(IxDyn(&[3, 5])));
        let err = call(a.clone(), b, Some(acc)).unwrap_err().0;
        assert!(err.contains("(3, 5)") && err.contains("(3, 6)"), "{err}");
        let v = Chunk::F64(ArrayD::zeros(IxDyn(&[4])));
        let err = call(a, v, None).unwrap_err().0;
        assert!(err.contains("argument 2") && err.contains("(4,)"), "{err}");
    }

    #[test]
    fn bad_arguments_are_errors() {
        let a = args::value(Chunk::F64(ArrayD::zeros(IxDyn(&[2, 2]))));
        assert!(op(&[a.clone(), a.clone()]).is_err());
        let err = op(&[a.clone(), Value::Int(3), Value::Null]).unwrap_err().0;
        assert!(err.contains("argument 2"), "{err}");
        let err = op(&[a.clone(), a, Value::Int(0)]).unwrap_err().0;
        assert!(err.contains("argument 3"), "{err}");
    }
}

//! OpenBLAS for the float block products, when the machine has it: its kernels run a
//! block product faster than ndarray's own (matrixmultiply) on the same core (bench/ARRAY_RESULTS.md).
//!
//! - Found at run time (`dlopen`), so a build needs nothing installed and a machine
//!   without it still multiplies, through ndarray, to the same values within rounding.
//!   `TASKLOOM_BLAS` names another library with the CBLAS interface (LP64 ints), or
//!   `none` for ndarray's product alone.
//! - Loaded once per process. A library that fails to load or lacks a symbol is passed
//!   over for ndarray's: a missing optional speed-up is not an error.
//! - One thread per call (`openblas_set_num_threads(1)`): the executor already runs
//!   one task per core, and OpenBLAS's own threads would oversubscribe them.
//! - Operands are read in place when one of their strides is 1 (the other is then
//!   the leading dimension, transposed or not); others are copied to C order first.

use std::ffi::{c_int, OsString};
use std::sync::OnceLock;

use libloading::Library;
use ndarray::{Array2, ArrayView2, CowArray, Ix2};

/// The environment variable naming the library (`none`: ndarray's product alone).
const VARIABLE: &str = "TASKLOOM_BLAS";

/// The library tried when `TASKLOOM_BLAS` is unset: OpenBLAS's soname, which Debian's
/// `libopenblas0-pthread` (and other distributions' packages) install.
const DEFAULT_LIBRARY: &str = "libopenblas.so.0";

/// CBLAS's `CblasRowMajor`, `CblasNoTrans` and `CblasTrans`.
const ROW_MAJOR: c_int = 101;
const NO_TRANS: c_int = 111;
const TRANS: c_int = 112;

/// `cblas_?gemm(order, trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)`:
/// `c = alpha * op(a) @ op(b) + beta * c`.
type Gemm<T> = unsafe extern "C" fn(
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    c_int,
    T,
    *const T,
    c_int,
    *const T,
    c_int,
    T,
    *mut T,
    c_int,
);

/// A loaded BLAS: its two products.
pub(super) struct Blas {
    dgemm: Gemm<f64>,
    sgemm: Gemm<f32>,
    /// Keeps the functions above mapped for the life of the process.
    _library: Library,
}

/// The process's BLAS, loaded on first use; `None` when there is none to use.
pub(super) fn library() -> Option<&'static Blas> {
    static BLAS: OnceLock<Option<Blas>> = OnceLock::new();
    BLAS.get_or_init(|| {
        let name = std::env::var_os(VARIABLE).unwrap_or_else(|| OsString::from(DEFAULT_LIBRARY));
        if name == "none" {
            return None;
        }
        load(&name).ok()
    })
    .as_ref()
}

fn load(name: &OsString) -> Result<Blas, libloading::Error> {
    // SAFETY: loading runs the library's initialisers (OpenBLAS's detect the CPU and
    // start its thread pool, nothing else). The symbols are declared with CBLAS's
    // types, which every CBLAS library exports them with.
    unsafe {
        let library = Library::new(name)?;
        let dgemm = *library.get::<Gemm<f64>>(b"cblas_dgemm\0")?;
        let sgemm = *library.get::<Gemm<f32>>(b"cblas_sgemm\0")?;
        if let Ok(threads) =
            library.get::<unsafe extern "C" fn(c_int)>(b"openblas_set_num_threads\0")
        {
            threads(1);
        }
        Ok(Blas {
            dgemm,
            sgemm,
            _library: library,
        })
    }
}

/// A float type BLAS multiplies.
pub(super) trait Real: ndarray::LinalgScalar {
    /// The library's product for this type.
    fn gemm(blas: &Blas) -> Gemm<Self>;
}

impl Real for f64 {
    fn gemm(blas: &Blas) -> Gemm<f64> {
        blas.dgemm
    }
}

impl Real for f32 {
    fn gemm(blas: &Blas) -> Gemm<f32> {
        blas.sgemm
    }
}

impl Blas {
    /// `out += a @ b`, with `out` in C order and shapes checked by the caller. False
    /// (and `out` untouched) when a size is beyond BLAS's `int`.
    pub(super) fn multiply_add<T: Real>(
        &self,
        a: ArrayView2<'_, T>,
        b: ArrayView2<'_, T>,
        out: &mut Array2<T>,
    ) -> bool {
        let (m, k, n) = (a.nrows(), a.ncols(), b.ncols());
        if m == 0 || n == 0 || k == 0 {
            return true; // nothing to add
        }
        let (a, trans_a, lda) = operand(a);
        let (b, trans_b, ldb) = operand(b);
        let ints = [m, n, k, lda, ldb].map(c_int::try_from);
        let [Ok(m), Ok(n), Ok(k), Ok(lda), Ok(ldb)] = ints else {
            return false;
        };
        debug_assert!(out.is_standard_layout() && out.dim() == (a.nrows(), b.ncols()));
        // SAFETY: `a` and `b` are live arrays whose element (i, p) sits `i * ld + p`
        // (not transposed) or `p * ld + i` (transposed) elements from their first, as
        // `operand` checked; `out` is an owned C-order (m, n) array with rows `n`
        // apart, borrowed mutably here alone, so it overlaps neither.
        unsafe {
            T::gemm(self)(
                ROW_MAJOR,
                trans_a,
                trans_b,
                m,
                n,
                k,
                T::one(),
                a.as_ptr(),
                lda,
                b.as_ptr(),
                ldb,
                T::one(),
                out.as_mut_ptr(),
                n,
            );
        }
        true
    }
}

/// A non-empty operand as BLAS reads it: in place when it can, else a C-order copy;
/// with whether it is transposed and its leading dimension.
fn operand<T: Clone>(view: ArrayView2<'_, T>) -> (CowArray<'_, T, Ix2>, c_int, usize) {
    match layout(&view) {
        Some((trans, ld)) => (CowArray::from(view), trans, ld),
        None => {
            let ld = view.ncols();
            (
                CowArray::from(view.as_standard_layout().into_owned()),
                NO_TRANS,
                ld,
            )
        }
    }
}

/// How row-major CBLAS reads a (rows, cols) view: not transposed with rows `ld`
/// elements apart, or transposed with columns `ld` apart; `None` when neither stride
/// is 1 (or one is negative). A stride along an axis of length 1 is never followed,
/// so any such axis is taken as packed.
fn layout<T>(view: &ArrayView2<'_, T>) -> Option<(c_int, usize)> {
    let (rows, cols) = view.dim();
    let strides = view.strides();
    let packed = |len: usize, stride: isize| len <= 1 || stride == 1;
    let lead = |other_len: usize, stride: isize, min: usize| -> Option<usize> {
        let ld = if other_len <= 1 {
            min
        } else {
            usize::try_from(stride).ok()?
        };
        (ld >= min).then_some(ld)
    };
    if packed(cols, strides[1]) {
        lead(rows, strides[0], cols.max(1)).map(|ld| (NO_TRANS, ld))
    } else if packed(rows, strides[0]) {
        lead(cols, strides[1], rows.max(1)).map(|ld| (TRANS, ld))
    } else {
        None
    }
}

//! `taskloom._core.ArrayExpr` and `Values`: the array library (`taskloom_array`) for
//! the package's `taskloom.array`, which gives them NumPy's spelling.
//!
//! - An `ArrayExpr` is the library's lazy `Array`: building one checks shapes, axes
//!   and indices at once and computes nothing; `compute` and `write` run the engine
//!   with the GIL released, on threads (the array kernels are Rust, so they need no
//!   interpreter).
//! - NumPy values enter with one copy (`from_numpy`): the NumPy array's C-contiguous
//!   buffer, found through its `__array_interface__`, is copied into a chunk the tasks
//!   share.
//! - Results leave with none: `Values` owns the computed chunk and describes it
//!   through NumPy's `__array_interface__`, so `numpy.asarray` views the chunk's own
//!   buffer and keeps the `Values` alive as its base. The buffer protocol is not in
//!   the limited API the abi3-py39 wheel builds against (it is from 3.11), and the
//!   `numpy` crate would tie the build to NumPy's C API for this one hand-over.
//! - Errors: what the library refuses as input is a `ValueError` naming the
//!   operation; what a dtype refuses is a `TypeError`; the store's I/O failures are
//!   `OSError`; a failed run is a `RuntimeError`.

use std::path::PathBuf;

use ndarray::{ArrayD, IxDyn};
use pyo3::exceptions::{PyOSError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use taskloom_array::store::{Compression, StoreError};
use taskloom_array::{
    normalize_axis_index, Array, ArrayError, BinaryOp, Engine, Operand, Reduction, UnaryOp,
    WriteOptions,
};
use taskloom_exec::Observers;
use taskloom_graph::{Chunk, DType, Value};

use crate::wait::interruptible;

/// A lazy chunked array of the array library; see the module header.
#[pyclass(frozen, module = "taskloom._core")]
pub struct ArrayExpr {
    array: Array,
}

/// A computed array, handed to NumPy without a copy; see the module header.
#[pyclass(frozen, module = "taskloom._core")]
pub struct Values {
    /// In C order: what `__array_interface__` describes with no strides.
    chunk: Chunk,
}

#[pymethods]
impl ArrayExpr {
    /// The Zarr array (format 2 or 3) at `path`.
    #[staticmethod]
    fn open(path: PathBuf) -> PyResult<Self> {
        wrap("open", Array::open(&path))
    }

    /// A copy of the NumPy array `values` (C-contiguous, aligned, of one of the four
    /// dtypes, native byte order), cut into blocks of `chunks` when computed.
    #[staticmethod]
    fn from_numpy(values: &Bound<'_, PyAny>, chunks: Vec<usize>) -> PyResult<Self> {
        let chunk = copy_numpy(values)?;
        wrap("from_numpy", Array::from_chunk(chunk, &chunks))
    }

    /// Every element `value` (an int or a float).
    #[staticmethod]
    fn full(
        shape: Vec<usize>,
        chunks: Vec<usize>,
        dtype: &str,
        value: &Bound<'_, PyAny>,
    ) -> PyResult<Self> {
        let value = number(value)?.ok_or_else(|| {
            PyTypeError::new_err("full: the fill value must be an int or a float")
        })?;
        wrap(
            "full",
            Array::full(&shape, &chunks, parse_dtype(dtype)?, value),
        )
    }

    /// 0, 1, 2, ... in C order.
    #[staticmethod]
    fn arange(shape: Vec<usize>, chunks: Vec<usize>, dtype: &str) -> PyResult<Self> {
        wrap(
            "arange",
            Array::arange(&shape, &chunks, parse_dtype(dtype)?),
        )
    }

    /// Uniform values in [0, 1), the same for the same seed, shape and chunks.
    #[staticmethod]
    fn random(shape: Vec<usize>, chunks: Vec<usize>, seed: u64, dtype: &str) -> PyResult<Self> {
        wrap(
            "random",
            Array::random_of(&shape, &chunks, seed, parse_dtype(dtype)?),
        )
    }

    #[getter]
    fn shape<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.array.shape())
    }

    /// The block shape (the last block along an axis may be shorter).
    #[getter]
    fn chunks<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyTuple>> {
        PyTuple::new(py, self.array.chunks())
    }

    /// The dtype's NumPy name.
    #[getter]
    fn dtype(&self) -> &'static str {
        self.array.dtype().name()
    }

    #[getter]
    fn nbytes(&self) -> u64 {
        self.array.nbytes()
    }

    /// The Zarr format of the stored array this is, `None` for a computed one.
    #[getter]
    fn zarr_format(&self) -> Option<u8> {
        self.array.zarr_format()
    }

    /// An elementwise function by its name (`neg`, `abs`, `sqrt`, `exp`, `log`,
    /// `square`).
    fn map(&self, op: &str) -> PyResult<Self> {
        let op = UnaryOp::parse(op).map_err(|e| invalid("map", e))?;
        wrap(op.name(), self.array.map(op))
    }

    /// `self op other` (`add`, `sub`, `mul`, `div`), or `other op self` when
    /// `reflected`; `other` is an `ArrayExpr`, an int or a float.
    fn binary(&self, op: &str, other: &Bound<'_, PyAny>, reflected: bool) -> PyResult<Self> {
        let op = BinaryOp::parse(op).map_err(|e| invalid("binary", e))?;
        let other = match other.cast::<ArrayExpr>() {
            Ok(expr) => Operand::Array(expr.get().array.clone()),
            Err(_) => Operand::Scalar(number(other)?.ok_or_else(|| {
                PyTypeError::new_err(format!(
                    "{}: unsupported operand type {}",
                    op.name(),
                    type_name(other)
                ))
            })?),
        };
        let this = Operand::Array(self.array.clone());
        let (x, y) = if reflected {
            (other, this)
        } else {
            (this, other)
        };
        wrap(op.name(), x.binary(op, y))
    }

    /// A reduction by its name (`sum`, `prod`, `mean`, `min`, `max`, `std`, `var`)
    /// over all elements (`axis` `None`) or along one axis (negative counts from the
    /// last).
    #[pyo3(signature = (op, axis=None))]
    fn reduce(&self, op: &str, axis: Option<i64>) -> PyResult<Self> {
        let op = Reduction::parse(op).map_err(|e| invalid("reduce", e))?;
        let axis = axis
            .map(|a| normalize_axis_index(a, self.array.ndim()))
            .transpose()
            .map_err(|e| invalid(op.name(), e))?;
        wrap(op.name(), self.array.reduce(op, axis))
    }

    /// Axes permuted (output axis `k` is input axis `axes[k]`, negative counting from
    /// the last), or reversed when `axes` is `None`.
    #[pyo3(signature = (axes=None))]
    fn transpose(&self, axes: Option<Vec<i64>>) -> PyResult<Self> {
        let Some(axes) = axes else {
            return Ok(ArrayExpr {
                array: self.array.t(),
            });
        };
        let ndim = self.array.ndim();
        let axes = axes
            .into_iter()
            .map(|a| normalize_axis_index(a, ndim))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("transpose", e))?;
        wrap("transpose", self.array.transpose(&axes))
    }

    /// The matrix product of two 2-D arrays.
    fn matmul(&self, other: &ArrayExpr) -> PyResult<Self> {
        wrap("matmul", self.array.matmul(&other.array))
    }

    /// Basic indexing, written as NumPy prints it (`"1:5,::-1,3"`).
    fn index(&self, text: &str) -> PyResult<Self> {
        wrap("index", self.array.index(text))
    }

    /// The same values in blocks of `chunks`.
    fn rechunk(&self, chunks: Vec<usize>) -> PyResult<Self> {
        wrap("rechunk", self.array.rechunk(&chunks))
    }

    /// The same values as another dtype.
    fn astype(&self, dtype: &str) -> PyResult<Self> {
        Ok(ArrayExpr {
            array: self.array.astype(parse_dtype(dtype)?),
        })
    }

    /// A 1-D array sorted (out of core when it is larger than memory).
    fn sort(&self, descending: bool) -> PyResult<Self> {
        wrap("sort", self.array.sort(descending))
    }

    /// The `k` largest (or smallest) elements, in that order, as a 1-D array.
    fn topk(&self, k: usize, largest: bool) -> PyResult<Self> {
        wrap("topk", self.array.topk(k, largest))
    }

    /// The values, computed on `workers` threads within `memory_limit` bytes of chunks
    /// in flight.
    #[pyo3(signature = (workers=None, memory_limit=None))]
    fn compute(
        &self,
        py: Python<'_>,
        workers: Option<usize>,
        memory_limit: Option<u64>,
    ) -> PyResult<Values> {
        let job = engine(workers, memory_limit)
            .compute_job(&self.array)
            .map_err(|e| invalid("compute", e))?;
        let stop = job.stop();
        let chunk = interruptible(py, "taskloom-array", &stop, move || {
            job.run(Observers::default())
        })?
        .map_err(|e| invalid("compute", e))?
        .ok_or_else(|| PyRuntimeError::new_err("internal error: compute gave no chunk"))?;
        Ok(Values {
            chunk: standard_layout(chunk),
        })
    }

    /// Writes the array to a Zarr array at `path`, which appears only once complete.
    #[pyo3(signature = (path, overwrite, zarr_format, compression, workers=None, memory_limit=None))]
    #[allow(clippy::too_many_arguments)]
    fn write(
        &self,
        py: Python<'_>,
        path: PathBuf,
        overwrite: bool,
        zarr_format: u8,
        compression: &str,
        workers: Option<usize>,
        memory_limit: Option<u64>,
    ) -> PyResult<()> {
        if !matches!(zarr_format, 2 | 3) {
            return Err(PyValueError::new_err(format!(
                "to_zarr: zarr_format must be 2 or 3, not {zarr_format}"
            )));
        }
        let options = WriteOptions {
            overwrite,
            zarr_format,
            compression: Compression::parse(compression)
                .map_err(|e| PyValueError::new_err(format!("to_zarr: {e}")))?,
        };
        let job = engine(workers, memory_limit)
            .write_job(&self.array, &path, &options)
            .map_err(|e| invalid("to_zarr", e))?;
        let stop = job.stop();
        interruptible(py, "taskloom-array", &stop, move || {
            job.run(Observers::default())
        })?
        .map(drop)
        .map_err(|e| invalid("to_zarr", e))
    }
}

#[pymethods]
impl Values {
    /// NumPy's array interface (version 3) of the chunk's buffer: C order, so no
    /// strides; writable, as the array NumPy computes would be.
    #[getter]
    fn __array_interface__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let (typestr, address) = match &self.chunk {
            Chunk::F64(a) => ("<f8", a.as_ptr() as usize),
            Chunk::F32(a) => ("<f4", a.as_ptr() as usize),
            Chunk::I64(a) => ("<i8", a.as_ptr() as usize),
            Chunk::I32(a) => ("<i4", a.as_ptr() as usize),
            // A Rust bool is one byte, 0 or 1: NumPy's bool.
            Chunk::Bool(a) => ("|b1", a.as_ptr() as usize),
        };
        let interface = PyDict::new(py);
        interface.set_item("version", 3)?;
        interface.set_item("shape", PyTuple::new(py, self.chunk.shape())?)?;
        interface.set_item("typestr", typestr)?;
        // Writable: NumPy writes through the address while no Rust reference to the
        // elements exists (this module reads them nowhere after computing them).
        interface.set_item("data", (address, false))?;
        interface.set_item("strides", py.None())?;
        Ok(interface)
    }
}

/// An engine on `workers` threads (default: one per core) within `memory_limit`.
fn engine(workers: Option<usize>, memory_limit: Option<u64>) -> Engine {
    let mut engine = Engine::new();
    if let Some(workers) = workers {
        engine = engine.workers(workers);
    }
    if let Some(bytes) = memory_limit {
        engine = engine.memory_limit(bytes);
    }
    engine
}

fn wrap(op: &str, built: Result<Array, ArrayError>) -> PyResult<ArrayExpr> {
    built
        .map(|array| ArrayExpr { array })
        .map_err(|e| invalid(op, e))
}

/// The Python exception of an array error, its message naming `op`.
fn invalid(op: &str, error: ArrayError) -> PyErr {
    let message = error.to_string();
    let message = if message.starts_with(op) {
        message
    } else {
        format!("{op}: {message}")
    };
    match error {
        ArrayError::Invalid(_) => PyValueError::new_err(message),
        ArrayError::Store(StoreError::Io { .. }) => PyOSError::new_err(message),
        ArrayError::Store(_) => PyValueError::new_err(message),
        ArrayError::Run(_) => PyRuntimeError::new_err(message),
        ArrayError::Interrupted { .. } => pyo3::exceptions::PyKeyboardInterrupt::new_err(message),
    }
}

fn parse_dtype(name: &str) -> PyResult<DType> {
    DType::parse(name).map_err(PyTypeError::new_err)
}

/// An int or a float as a graph value; `None` for anything else (bools are ints, as
/// in NumPy).
fn number(value: &Bound<'_, PyAny>) -> PyResult<Option<Value>> {
    if let Ok(i) = value.extract::<i64>() {
        return Ok(Some(Value::Int(i)));
    }
    if value.is_instance_of::<pyo3::types::PyFloat>() {
        return Ok(Some(Value::Float(value.extract::<f64>()?)));
    }
    Ok(None)
}

fn type_name(value: &Bound<'_, PyAny>) -> String {
    value
        .get_type()
        .name()
        .map_or_else(|_| "?".to_string(), |n| n.to_string())
}

/// The chunk in C order: results are, but a copy is made when one is not.
fn standard_layout(chunk: Chunk) -> Chunk {
    fn c_order<T: Clone>(a: ArrayD<T>) -> ArrayD<T> {
        if a.is_standard_layout() {
            a
        } else {
            a.as_standard_layout().into_owned()
        }
    }
    match chunk {
        Chunk::F64(a) => Chunk::F64(c_order(a)),
        Chunk::F32(a) => Chunk::F32(c_order(a)),
        Chunk::I64(a) => Chunk::I64(c_order(a)),
        Chunk::I32(a) => Chunk::I32(c_order(a)),
        Chunk::Bool(a) => Chunk::Bool(c_order(a)),
    }
}

/// A copy of a NumPy array's elements as a chunk, read through its array interface.
fn copy_numpy(values: &Bound<'_, PyAny>) -> PyResult<Chunk> {
    let interface = values.getattr("__array_interface__")?;
    let interface = interface.cast::<PyDict>()?;
    let item = |key: &str| -> PyResult<Bound<'_, PyAny>> {
        interface.get_item(key)?.ok_or_else(|| {
            PyValueError::new_err(format!("from_numpy: no '{key}' in the array interface"))
        })
    };
    let shape: Vec<usize> = item("shape")?.extract()?;
    let typestr: String = item("typestr")?.extract()?;
    let (address, _readonly): (usize, bool) = item("data")?.extract()?;
    let c_order = interface.get_item("strides")?.is_none_or(|s| s.is_none());
    if !c_order {
        return Err(PyValueError::new_err(
            "from_numpy: the array must be C-contiguous",
        ));
    }
    let len: usize = shape.iter().product();
    Ok(match typestr.as_str() {
        "<f8" => Chunk::F64(copy_elements(address, &shape, len)?),
        "<f4" => Chunk::F32(copy_elements(address, &shape, len)?),
        "<i8" => Chunk::I64(copy_elements(address, &shape, len)?),
        "<i4" => Chunk::I32(copy_elements(address, &shape, len)?),
        // Read as bytes: a NumPy bool may hold any byte (a view of other data), which
        // no Rust bool may.
        "|b1" => Chunk::Bool(copy_elements::<u8>(address, &shape, len)?.mapv(|b| b != 0)),
        other => {
            return Err(PyTypeError::new_err(format!(
                "from_numpy: unsupported element type '{other}' (expected little-endian \
                 float64, float32, int64 or int32, or bool)"
            )))
        }
    })
}

/// `len` elements of `T` at `address`, in C order of `shape`.
fn copy_elements<T: Copy>(address: usize, shape: &[usize], len: usize) -> PyResult<ArrayD<T>> {
    let elements = if len == 0 {
        Vec::new()
    } else {
        if address == 0 || !address.is_multiple_of(std::mem::align_of::<T>()) {
            return Err(PyValueError::new_err(
                "from_numpy: the array's buffer is not aligned for its element type",
            ));
        }
        // SAFETY: the array interface says `address` holds the C-ordered `len`
        // elements of `T` of the object the caller holds (a reference the GIL, held
        // through this call, keeps alive), and the address is aligned and non-null.
        unsafe { std::slice::from_raw_parts(address as *const T, len) }.to_vec()
    };
    ArrayD::from_shape_vec(IxDyn(shape), elements)
        .map_err(|e| PyValueError::new_err(format!("from_numpy: {e}")))
}

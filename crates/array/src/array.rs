//! The lazy chunked array: a shape, a chunking, an element type, and the expression
//! that makes its blocks.
//!
//! Building an expression checks shapes, axes and indices at once (so errors come
//! before any work) and computes nothing; an `Engine` lowers the whole expression to
//! one task graph when a result is asked for.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, DType, Value};

use crate::error::ArrayError;
use crate::grid::{Dims, Grid};
use crate::index::{parse_index, AxisIndex};
use crate::kernels::elementwise::promote::Scalar;
use crate::kernels::elementwise::{Binary, Compare, Scale, Unary, Where};
use crate::kernels::matmul::Matmul;
use crate::operation::{BinaryOp, CompareOp, Reduction, UnaryOp};
use crate::wire::ArrayOp;

/// A chunked n-d array whose blocks are computed on demand. Cheap to clone: clones
/// share the expression, and an expression used twice is lowered once.
#[derive(Clone, Debug)]
pub struct Array {
    pub(crate) grid: Grid,
    pub(crate) dtype: DType,
    /// Which expression this is: clones share it, every other array has its own.
    pub(crate) id: NodeId,
    pub(crate) node: Arc<Node>,
}

/// An expression's identity, given when it is built and never reused in a process:
/// what lowering remembers a lowered expression by.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct NodeId(u64);

impl NodeId {
    fn next() -> NodeId {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        NodeId(NEXT.fetch_add(1, Ordering::Relaxed))
    }
}

/// How an array's blocks are made.
#[derive(Debug)]
pub(crate) enum Node {
    /// The chunks of a Zarr array on disk, of that Zarr format; `pieces` when they are
    /// stored uncompressed, so a piece of one is read without the rest.
    Read {
        path: PathBuf,
        zarr_format: u8,
        pieces: bool,
    },
    /// Every element `value`.
    Full {
        value: Scalar,
    },
    /// 0, 1, 2, ... in C order.
    Arange,
    /// Values already in memory (the whole array), each block a slice of them.
    Memory {
        values: Arc<Chunk>,
    },
    /// Uniform [0, 1), reproducible for a seed, shape and chunking.
    Random {
        seed: i64,
    },
    Unary {
        op: UnaryOp,
        x: Array,
    },
    Binary {
        op: BinaryOp,
        x: Operand,
        y: Operand,
    },
    Compare {
        op: CompareOp,
        x: Operand,
        y: Operand,
    },
    /// `x` where `cond`, else `y`.
    Where {
        cond: Array,
        x: Operand,
        y: Operand,
    },
    Scale {
        x: Array,
        by: Scalar,
        add: Scalar,
    },
    AsType {
        x: Array,
    },
    /// `axes[k]` is the input axis that becomes output axis `k`.
    Transpose {
        x: Array,
        axes: Vec<usize>,
    },
    /// Basic indexing, and rechunking (a window that keeps everything, re-cut).
    Window {
        x: Array,
        index: Vec<AxisIndex>,
    },
    Reduce {
        op: Reduction,
        axis: Option<usize>,
        x: Array,
    },
    /// The running sum along `axis`.
    Cumsum {
        x: Array,
        axis: usize,
    },
    Matmul {
        a: Array,
        b: Array,
    },
    TopK {
        x: Array,
        k: usize,
        largest: bool,
    },
    Sort {
        x: Array,
        descending: bool,
    },
}

/// One side of a binary operation.
#[derive(Clone, Debug)]
pub enum Operand {
    Array(Array),
    /// An int or float, as a Python scalar would be.
    Scalar(Value),
}

impl From<&Array> for Operand {
    fn from(a: &Array) -> Self {
        Operand::Array(a.clone())
    }
}
impl From<f64> for Operand {
    fn from(v: f64) -> Self {
        Operand::Scalar(Value::Float(v))
    }
}
impl From<i64> for Operand {
    fn from(v: i64) -> Self {
        Operand::Scalar(Value::Int(v))
    }
}

impl Array {
    fn new(grid: Grid, dtype: DType, node: Node) -> Array {
        Array {
            grid,
            dtype,
            id: NodeId::next(),
            node: Arc::new(node),
        }
    }

    /// An array of zeros.
    pub fn zeros(shape: &[usize], chunks: &[usize], dtype: DType) -> Result<Array, ArrayError> {
        Array::full(shape, chunks, dtype, Value::Int(0))
    }

    /// An array of ones.
    pub fn ones(shape: &[usize], chunks: &[usize], dtype: DType) -> Result<Array, ArrayError> {
        Array::full(shape, chunks, dtype, Value::Int(1))
    }

    /// An array with every element `value` (an int or a float, cast to `dtype`).
    pub fn full(
        shape: &[usize],
        chunks: &[usize],
        dtype: DType,
        value: Value,
    ) -> Result<Array, ArrayError> {
        let Some(number) = Scalar::of(&value) else {
            return Err(ArrayError::invalid(format!(
                "fill value must be a number, got {}",
                value.type_name()
            )));
        };
        let fits = match (number, dtype) {
            (Scalar::Int(_), DType::Float64 | DType::Float32 | DType::Int64) => true,
            (Scalar::Int(i), DType::Int32) => i32::try_from(i).is_ok(),
            (Scalar::Float(f), DType::Float64) => f.is_finite(),
            (Scalar::Float(f), DType::Float32) => f.abs() <= f32::MAX as f64,
            (Scalar::Float(_), DType::Int64 | DType::Int32) => false,
            (Scalar::Int(i), DType::Bool) => i == 0 || i == 1,
            (Scalar::Float(_), DType::Bool) => false,
        };
        if !fits {
            return Err(ArrayError::invalid(format!(
                "fill value {value} does not fit {dtype}"
            )));
        }
        Ok(Array::new(
            grid(shape, chunks)?,
            dtype,
            Node::Full { value: number },
        ))
    }

    /// 0, 1, 2, ... in C order.
    pub fn arange(shape: &[usize], chunks: &[usize], dtype: DType) -> Result<Array, ArrayError> {
        if dtype == DType::Bool {
            return Err(ArrayError::invalid(
                "arange counts 0, 1, 2, ...: use a number type, not bool",
            ));
        }
        Ok(Array::new(grid(shape, chunks)?, dtype, Node::Arange))
    }

    /// The values of an array in memory, cut into blocks of `chunks` when computed:
    /// the values are shared with the tasks, not copied until a block is cut.
    pub fn from_chunk(values: Chunk, chunks: &[usize]) -> Result<Array, ArrayError> {
        let grid = grid(values.shape(), chunks)?;
        let dtype = values.dtype();
        let node = Node::Memory {
            values: Arc::new(values),
        };
        Ok(Array::new(grid, dtype, node))
    }

    /// Uniform float64 values in [0, 1): the same for the same seed, shape and chunks.
    pub fn random(shape: &[usize], chunks: &[usize], seed: u64) -> Result<Array, ArrayError> {
        Array::random_of(shape, chunks, seed, DType::Float64)
    }

    /// Uniform values in [0, 1) of a float type (float32 keeps 24 random bits).
    pub fn random_of(
        shape: &[usize],
        chunks: &[usize],
        seed: u64,
        dtype: DType,
    ) -> Result<Array, ArrayError> {
        if !dtype.is_float() {
            return Err(ArrayError::invalid(format!(
                "random numbers are floats in [0, 1): use float64 or float32, not {dtype}"
            )));
        }
        let node = Node::Random { seed: seed as i64 };
        Ok(Array::new(grid(shape, chunks)?, dtype, node))
    }

    /// The Zarr array (format 2 or 3) at `path`, read a chunk at a time when computed.
    /// Opened once per process: the tasks that read its chunks find it open.
    pub fn open(path: &Path) -> Result<Array, ArrayError> {
        let stored = crate::store::open_shared(path).map_err(ArrayError::from)?;
        let meta = stored.meta();
        let node = Node::Read {
            path: path.to_path_buf(),
            zarr_format: meta.zarr_format,
            pieces: stored.reads_pieces(),
        };
        Ok(Array::new(meta.grid.clone(), meta.dtype, node))
    }

    /// The Zarr format of the stored array this is, if it is one (not computed).
    pub fn zarr_format(&self) -> Option<u8> {
        match &*self.node {
            Node::Read { zarr_format, .. } => Some(*zarr_format),
            _ => None,
        }
    }

    /// The one value every element has, when the array is made of one (`full`): what
    /// a written array needs no chunk for.
    pub(crate) fn constant(&self) -> Option<Scalar> {
        match &*self.node {
            Node::Full { value } => Some(*value),
            _ => None,
        }
    }

    /// The extent along each axis.
    pub fn shape(&self) -> &[usize] {
        self.grid.shape()
    }

    /// The block extent along each axis.
    pub fn chunks(&self) -> &[usize] {
        self.grid.chunks()
    }

    /// The element type.
    pub fn dtype(&self) -> DType {
        self.dtype
    }

    /// The chunk geometry.
    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.grid.ndim()
    }

    /// Bytes of the whole array.
    pub fn nbytes(&self) -> u64 {
        self.grid.len() as u64 * self.dtype.size() as u64
    }

    /// An elementwise function.
    pub fn map(&self, op: UnaryOp) -> Result<Array, ArrayError> {
        let dtype = probe(Unary {
            op,
            x: sample(self.dtype),
        })?;
        let node = Node::Unary {
            op,
            x: self.clone(),
        };
        Ok(Array::new(self.grid.clone(), dtype, node))
    }

    /// Elementwise arithmetic with another array or a scalar, broadcasting as NumPy
    /// does; the result is chunked like the operand that spans each axis.
    pub fn binary(&self, op: BinaryOp, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        Operand::Array(self.clone()).binary(op, other.into())
    }

    /// `self + other`.
    pub fn add(&self, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        self.binary(BinaryOp::Add, other)
    }

    /// `self - other`.
    pub fn sub(&self, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        self.binary(BinaryOp::Sub, other)
    }

    /// `self * other`.
    pub fn mul(&self, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        self.binary(BinaryOp::Mul, other)
    }

    /// `self / other` (true division: ints give floats).
    pub fn div(&self, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        self.binary(BinaryOp::Div, other)
    }

    /// Elementwise comparison with another array or a scalar, broadcasting as
    /// [`Array::binary`] does: a bool array.
    pub fn compare(&self, op: CompareOp, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        Operand::Array(self.clone()).compare(op, other.into())
    }

    /// `self > other`.
    pub fn gt(&self, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        self.compare(CompareOp::Gt, other)
    }

    /// `self < other`.
    pub fn lt(&self, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        self.compare(CompareOp::Lt, other)
    }

    /// `self == other`.
    pub fn eq(&self, other: impl Into<Operand>) -> Result<Array, ArrayError> {
        self.compare(CompareOp::Eq, other)
    }

    /// `x` where `self` is true (nonzero), else `y`, all three broadcast together, as
    /// `np.where(self, x, y)`: the result has the dtype of `x` and `y` combined.
    pub fn select(
        &self,
        x: impl Into<Operand>,
        y: impl Into<Operand>,
    ) -> Result<Array, ArrayError> {
        let (x, y) = (x.into(), y.into());
        let select: Where = decode(&[Value::Chunk(sample(self.dtype)), x.sample(), y.sample()])?;
        let dtype = probe(select)?;
        let mut grid = self.grid.clone();
        for side in [&x, &y] {
            if let Some(a) = side.array() {
                grid = broadcast(&grid, &a.grid)?;
            }
        }
        let node = Node::Where {
            cond: self.clone(),
            x,
            y,
        };
        Ok(Array::new(grid, dtype, node))
    }

    /// `self * by + add`, in one pass.
    pub fn scale(&self, by: Value, add: Value) -> Result<Array, ArrayError> {
        let scale: Scale = decode(&[Value::Chunk(sample(self.dtype)), by, add])?;
        let (by, add) = (scale.by, scale.add);
        let dtype = probe(scale)?;
        let node = Node::Scale {
            x: self.clone(),
            by,
            add,
        };
        Ok(Array::new(self.grid.clone(), dtype, node))
    }

    /// The same values as another element type.
    pub fn astype(&self, dtype: DType) -> Array {
        if dtype == self.dtype {
            return self.clone();
        }
        Array::new(self.grid.clone(), dtype, Node::AsType { x: self.clone() })
    }

    /// The transpose: axes reversed.
    pub fn t(&self) -> Array {
        let axes: Vec<usize> = (0..self.ndim()).rev().collect();
        self.permute(axes)
    }

    /// Axes permuted: output axis `k` is input axis `axes[k]`.
    pub fn transpose(&self, axes: &[usize]) -> Result<Array, ArrayError> {
        let mut seen = vec![false; self.ndim()];
        let valid = axes.len() == self.ndim()
            && axes
                .iter()
                .all(|&a| a < seen.len() && !std::mem::replace(&mut seen[a], true));
        if !valid {
            return Err(ArrayError::invalid(format!(
                "axes {axes:?} are not a permutation of the {} axes of an array of shape {}",
                self.ndim(),
                Dims(self.shape())
            )));
        }
        Ok(self.permute(axes.to_vec()))
    }

    fn permute(&self, axes: Vec<usize>) -> Array {
        let shape: Vec<usize> = axes.iter().map(|&a| self.shape()[a]).collect();
        let chunks: Vec<usize> = axes.iter().map(|&a| self.chunks()[a]).collect();
        let grid = Grid::new(&shape, &chunks).expect("a permutation of a valid grid is valid");
        let node = Node::Transpose {
            x: self.clone(),
            axes,
        };
        Array::new(grid, self.dtype, node)
    }

    /// Basic indexing as NumPy parses it (`"10:20,5"`); see [`parse_index`].
    pub fn index(&self, text: &str) -> Result<Array, ArrayError> {
        let index = parse_index(text, self.shape())?;
        Ok(self.window(index, None))
    }

    /// The same values cut into blocks of `chunks`.
    pub fn rechunk(&self, chunks: &[usize]) -> Result<Array, ArrayError> {
        if chunks == self.chunks() {
            return Ok(self.clone());
        }
        let regridded = grid(self.shape(), chunks)?;
        if let Some(value) = self.constant() {
            // One value in any chunking: nothing to gather.
            return Ok(Array::new(regridded, self.dtype, Node::Full { value }));
        }
        let index = self.shape().iter().map(|&n| AxisIndex::all(n)).collect();
        Ok(self.window(index, Some(chunks)))
    }

    /// The elements `index` selects, in blocks of `chunks` (default: the input's
    /// chunk sizes, clipped to the result).
    fn window(&self, index: Vec<AxisIndex>, chunks: Option<&[usize]>) -> Array {
        let shape: Vec<usize> = index
            .iter()
            .filter_map(|i| match i {
                AxisIndex::Range { len, .. } => Some(*len),
                AxisIndex::At(_) => None,
            })
            .collect();
        let chunks: Vec<usize> = match chunks {
            Some(c) => c.to_vec(),
            None => index
                .iter()
                .zip(self.chunks())
                .filter_map(|(i, &c)| match i {
                    AxisIndex::Range { len, .. } => Some(c.min(*len).max(1)),
                    AxisIndex::At(_) => None,
                })
                .collect(),
        };
        let grid = Grid::new(&shape, &chunks).expect("window chunks are checked or derived");
        let node = Node::Window {
            x: self.clone(),
            index,
        };
        Array::new(grid, self.dtype, node)
    }

    /// A reduction over all elements (`axis` `None`, a 0-d result) or along one axis.
    pub fn reduce(&self, op: Reduction, axis: Option<usize>) -> Result<Array, ArrayError> {
        let (shape, chunks) = match axis {
            None => (vec![], vec![]),
            Some(k) if k < self.ndim() => {
                let drop = |v: &[usize]| -> Vec<usize> {
                    v.iter()
                        .enumerate()
                        .filter(|&(a, _)| a != k)
                        .map(|(_, &n)| n)
                        .collect()
                };
                (drop(self.shape()), drop(self.chunks()))
            }
            Some(k) => return Err(out_of_range(op.name(), k, self.shape())),
        };
        let reduced = axis.map_or(self.grid.len(), |k| self.shape()[k]);
        if reduced == 0 && op.needs_elements() {
            return Err(ArrayError::invalid(format!(
                "zero-size array to reduction operation {} which has no identity (shape {})",
                op.name(),
                Dims(self.shape())
            )));
        }
        let dtype = op.result_dtype(self.dtype);
        let node = Node::Reduce {
            op,
            axis,
            x: self.clone(),
        };
        Ok(Array::new(grid(&shape, &chunks)?, dtype, node))
    }

    /// The sum of all elements.
    pub fn sum(&self) -> Result<Array, ArrayError> {
        self.reduce(Reduction::Sum, None)
    }

    /// The mean of all elements.
    pub fn mean(&self) -> Result<Array, ArrayError> {
        self.reduce(Reduction::Mean, None)
    }

    /// The running sum along `axis`, as `np.cumsum(x, axis)`: a blocked scan, each
    /// block's running sum plus the sum of the blocks before it along the axis. Ints
    /// and bools sum to int64, floats keep their type.
    pub fn cumsum(&self, axis: usize) -> Result<Array, ArrayError> {
        if axis >= self.ndim() {
            return Err(out_of_range("cumsum", axis, self.shape()));
        }
        let dtype = Reduction::Sum.result_dtype(self.dtype);
        let node = Node::Cumsum {
            x: self.clone(),
            axis,
        };
        Ok(Array::new(self.grid.clone(), dtype, node))
    }

    /// The matrix product of two 2-D arrays, block by block.
    pub fn matmul(&self, other: &Array) -> Result<Array, ArrayError> {
        let (a, b) = (self.shape(), other.shape());
        if a.len() != 2 || b.len() != 2 || a[1] != b[0] {
            return Err(ArrayError::invalid(format!(
                "matmul needs (n, k) @ (k, m) arrays; got shapes {} and {}",
                Dims(a),
                Dims(b)
            )));
        }
        let dtype = probe(Matmul {
            a: sample_2d(self.dtype),
            b: sample_2d(other.dtype),
            acc: None,
            more: Vec::new(),
        })?;
        // B is cut along its rows as A is along its columns, so blocks pair up.
        let b = other.rechunk(&[self.chunks()[1], other.chunks()[1]])?;
        let grid = grid(&[a[0], b.shape()[1]], &[self.chunks()[0], b.chunks()[1]])?;
        let node = Node::Matmul { a: self.clone(), b };
        Ok(Array::new(grid, dtype, node))
    }

    /// The `k` largest elements (or smallest), over all elements, as a 1-D array in
    /// descending (ascending) order.
    pub fn topk(&self, k: usize, largest: bool) -> Result<Array, ArrayError> {
        if k == 0 {
            return Err(ArrayError::invalid("k must be at least 1"));
        }
        let n = k.min(self.grid.len());
        let node = Node::TopK {
            x: self.clone(),
            k,
            largest,
        };
        Ok(Array::new(grid(&[n], &[n.max(1)])?, self.dtype, node))
    }

    /// A 1-D array sorted, chunked as the input: an out-of-core sample sort.
    pub fn sort(&self, descending: bool) -> Result<Array, ArrayError> {
        if self.ndim() != 1 {
            return Err(ArrayError::invalid(format!(
                "sort needs a 1-D array; got shape {}",
                Dims(self.shape())
            )));
        }
        let node = Node::Sort {
            x: self.clone(),
            descending,
        };
        Ok(Array::new(self.grid.clone(), self.dtype, node))
    }
}

impl Operand {
    /// Elementwise arithmetic of two operands, at least one an array: what
    /// [`Array::binary`] is with the array on the left, for a scalar on the left.
    pub fn binary(self, op: BinaryOp, other: Operand) -> Result<Array, ArrayError> {
        let binary: Binary = decode(&[Value::str(op.name()), self.sample(), other.sample()])?;
        let dtype = probe(binary)?;
        let grid = self.grid(&other)?;
        let node = Node::Binary {
            op,
            x: self,
            y: other,
        };
        Ok(Array::new(grid, dtype, node))
    }

    fn compare(self, op: CompareOp, other: Operand) -> Result<Array, ArrayError> {
        let compare: Compare = decode(&[Value::str(op.name()), self.sample(), other.sample()])?;
        let dtype = probe(compare)?;
        let grid = self.grid(&other)?;
        let node = Node::Compare {
            op,
            x: self,
            y: other,
        };
        Ok(Array::new(grid, dtype, node))
    }

    /// The grid of this operand broadcast with `other`.
    fn grid(&self, other: &Operand) -> Result<Grid, ArrayError> {
        match (self.array(), other.array()) {
            (Some(x), Some(y)) => broadcast(&x.grid, &y.grid),
            (Some(only), None) | (None, Some(only)) => Ok(only.grid.clone()),
            (None, None) => Err(ArrayError::invalid(
                "an elementwise op needs at least one array",
            )),
        }
    }

    fn array(&self) -> Option<&Array> {
        match self {
            Operand::Array(a) => Some(a),
            Operand::Scalar(_) => None,
        }
    }

    /// The operand as an argument of a probe: a one-element chunk for an array.
    fn sample(&self) -> Value {
        match self {
            Operand::Array(a) => Value::Chunk(sample(a.dtype)),
            Operand::Scalar(v) => v.clone(),
        }
    }
}

/// NumPy's broadcast of two shapes; each output axis is chunked like an operand that
/// spans it.
fn broadcast(x: &Grid, y: &Grid) -> Result<Grid, ArrayError> {
    let n = x.ndim().max(y.ndim());
    let axis = |g: &Grid, k: usize| -> Option<(usize, usize)> {
        (k + g.ndim())
            .checked_sub(n)
            .map(|a| (g.shape()[a], g.chunks()[a]))
    };
    let mut shape = Vec::with_capacity(n);
    let mut chunks = Vec::with_capacity(n);
    for k in 0..n {
        let (extent, chunk) = match (axis(x, k), axis(y, k)) {
            (Some(a), Some(b)) if a.0 == b.0 || b.0 == 1 => a,
            (Some(a), Some(b)) if a.0 == 1 => b,
            (Some(a), None) | (None, Some(a)) => a,
            _ => {
                return Err(ArrayError::invalid(format!(
                    "shapes {} and {} cannot be broadcast together",
                    Dims(x.shape()),
                    Dims(y.shape())
                )))
            }
        };
        shape.push(extent);
        chunks.push(chunk);
    }
    grid(&shape, &chunks)
}

/// The error for `axis` not being one of the array's, naming the op.
fn out_of_range(op: &str, axis: usize, shape: &[usize]) -> ArrayError {
    ArrayError::invalid(format!(
        "{op}: axis {axis} is out of range for an array of shape {} ({} dimensions)",
        Dims(shape),
        shape.len()
    ))
}

fn grid(shape: &[usize], chunks: &[usize]) -> Result<Grid, ArrayError> {
    Grid::new(shape, chunks).map_err(ArrayError::invalid)
}

/// Runs kernel `op` on one-element samples: the kernels are the one authority on
/// NumPy's promotion rules, so result types are worked out by asking them.
fn probe_value<Op: ArrayOp>(op: Op) -> Result<Value, ArrayError> {
    op.run().map_err(failed::<Op>)
}

fn probe<Op: ArrayOp>(op: Op) -> Result<DType, ArrayError> {
    match &probe_value(op)? {
        Value::Chunk(c) => Ok(c.dtype()),
        other => Err(ArrayError::invalid(format!(
            "{} gave {} where an array was expected",
            Op::NAME,
            other.type_name()
        ))),
    }
}

/// `Op` on arguments given as values, read as its tasks will read them: numbers the
/// caller passed as values fail here, with the message a task would give.
fn decode<Op: ArrayOp>(args: &[Value]) -> Result<Op, ArrayError> {
    Op::decode(args).map_err(failed::<Op>)
}

/// Why `Op` refused the operands, naming it.
fn failed<Op: ArrayOp>(e: taskloom_graph::OpError) -> ArrayError {
    ArrayError::invalid(format!("{}: {e}", Op::NAME))
}

/// A one-element chunk of `dtype`.
fn sample(dtype: DType) -> Arc<Chunk> {
    sample_shaped(dtype, &[1])
}

fn sample_2d(dtype: DType) -> Arc<Chunk> {
    sample_shaped(dtype, &[1, 1])
}

fn sample_shaped(dtype: DType, shape: &[usize]) -> Arc<Chunk> {
    let shape = IxDyn(shape);
    let chunk = match dtype {
        DType::Float64 => Chunk::F64(ArrayD::from_elem(shape, 1.0)),
        DType::Float32 => Chunk::F32(ArrayD::from_elem(shape, 1.0)),
        DType::Int64 => Chunk::I64(ArrayD::from_elem(shape, 1)),
        DType::Int32 => Chunk::I32(ArrayD::from_elem(shape, 1)),
        DType::Bool => Chunk::Bool(ArrayD::from_elem(shape, true)),
    };
    Arc::new(chunk)
}

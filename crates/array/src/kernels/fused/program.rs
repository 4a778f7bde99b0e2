//! A fused tree compiled for its leaves' dtypes and evaluated over a tile a batch at a
//! time (rows of the tile, or a segment of one), into buffers made once per block.
//!
//! - Compiling applies the chunk kernels' dtype rules once (`unary_dtype`,
//!   `binary_dtype`, `common`, `scale_dtypes`), so each step computes in one element
//!   type, its operands brought there by `Convert` steps (`astype`, as `cast` does),
//!   with the element functions the chunk kernels use (`unary_fn!`, ...): the same
//!   values, wrap-around and NaNs as chunk by chunk.
//! - Each step writes a batch (at most `BATCH` elements) into its own buffer, made
//!   once per block, so a tree's live values stay in L1 and no tile allocates. A batch
//!   holds as many whole rows of the tile as fit: the 128 x 128 tiles of a transpose
//!   then dispatch each step once per 8 rows, not per row (`(x + y.T).sum()` of one
//!   2896² chunk on one thread, `examples/fused_speed`: 28 ms a row per batch, 24 ms
//!   8 rows).
//! - A leaf read along its rows is not copied: steps read its row segments in place. A
//!   leaf read transposed is transposed once per tile into its tile buffer (a square
//!   block of the source, read a contiguous row at a time), then read in place there.
//!   Other reads (broadcast, strided) gather into the leaf's batch buffer.

use std::borrow::Cow;
use std::mem::MaybeUninit;
use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{with_chunk, Chunk, DType, OpError};

use super::{Side, Tree};
use crate::grid::c_strides;
use crate::kernels::args::Element;
use crate::kernels::elementwise::element::{astype, with_dtype, with_number, Arith};
use crate::kernels::elementwise::promote::Scalar;
use crate::kernels::elementwise::{
    binary_dtype, binary_fn, common, compare_fn, scale_dtypes, unary_dtype, unary_fn, Kind,
};
use crate::kernels::layout::transpose_into;
use crate::operation::{BinaryOp, CompareOp, UnaryOp};

/// Elements per step and batch: 1024 float64 are 8 KiB, so the buffers of a tree of a
/// few steps stay within L1 (48 KiB here), while a batch is long enough that a step's
/// dispatch costs little next to its loop.
const BATCH: usize = 1024;

/// A tree as steps in evaluation order (operands before their users), each with the
/// element type of its values.
pub(super) struct Program {
    steps: Vec<Step>,
    dtypes: Vec<DType>,
}

enum Step {
    /// Leaf chunk `slot` read through `axes` (as `Tree::Leaf`).
    Leaf {
        slot: usize,
        axes: Vec<Option<usize>>,
    },
    /// Step `x`'s values as this step's dtype.
    Convert {
        x: usize,
    },
    Unary {
        op: UnaryOp,
        x: usize,
    },
    Binary {
        op: BinaryOp,
        x: Input,
        y: Input,
    },
    /// Compared in `dtype`, both operands of it.
    Compare {
        op: CompareOp,
        dtype: DType,
        x: Input,
        y: Input,
    },
    /// `cond` is a bool step.
    Where {
        cond: usize,
        x: Input,
        y: Input,
    },
    Scale {
        x: usize,
        by: Scalar,
        add: Scalar,
    },
}

/// An operand: a step's values (of the computation's dtype) or a number.
#[derive(Clone, Copy)]
enum Input {
    Step(usize),
    Scalar(Scalar),
}

impl Program {
    /// `tree` as steps for `leaves` (checked by `Tree::check`), or the error the chunk
    /// kernels give for its dtypes.
    pub(super) fn compile(tree: &Tree, leaves: &[Arc<Chunk>]) -> Result<Program, OpError> {
        let mut program = Program {
            steps: Vec::new(),
            dtypes: Vec::new(),
        };
        program.node(tree, leaves)?;
        Ok(program)
    }

    /// The element type of the tree's values.
    pub(super) fn dtype(&self) -> DType {
        *self.dtypes.last().expect("a tree has a step")
    }

    /// What `tile` reads of the leaves: per leaf, its slot and the offset of the
    /// tile's first element there, sorted. Tiles whose reads are equal read the same
    /// leaf elements (`x + x.T`: tile (a, b) of block (i, j) and tile (b, a) of block
    /// (j, i)), so evaluated one after the other, the second finds them in cache.
    pub(super) fn reads(
        &self,
        leaves: &[Arc<Chunk>],
        tile: &[Range<usize>],
    ) -> Vec<(usize, usize)> {
        let mut reads: Vec<(usize, usize)> = self
            .steps
            .iter()
            .filter_map(|step| match step {
                Step::Leaf { slot, axes } => {
                    Some((*slot, leaf_place(leaves[*slot].shape(), axes, tile).base))
                }
                _ => None,
            })
            .collect();
        reads.sort_unstable();
        reads.dedup();
        reads
    }

    fn root(&self) -> usize {
        self.steps.len() - 1
    }

    fn push(&mut self, step: Step, dtype: DType) -> usize {
        self.steps.push(step);
        self.dtypes.push(dtype);
        self.steps.len() - 1
    }

    fn node(&mut self, tree: &Tree, leaves: &[Arc<Chunk>]) -> Result<usize, OpError> {
        Ok(match tree {
            Tree::Leaf { slot, axes } => {
                let step = Step::Leaf {
                    slot: *slot,
                    axes: axes.clone(),
                };
                self.push(step, leaves[*slot].dtype())
            }
            Tree::Unary { op, x } => {
                let x = self.node(x, leaves)?;
                let dtype = unary_dtype(*op, self.dtypes[x])?;
                let x = self.convert(x, dtype);
                self.push(Step::Unary { op: *op, x }, dtype)
            }
            Tree::Binary { op, x, y } => {
                let (x, y) = (self.side(x, leaves)?, self.side(y, leaves)?);
                self.binary(*op, x, y)?
            }
            Tree::Compare { op, x, y } => {
                let (x, y) = (self.side(x, leaves)?, self.side(y, leaves)?);
                let dtype = common(self.kind(x), self.kind(y))?;
                let (x, y) = (self.input(x, dtype), self.input(y, dtype));
                self.push(
                    Step::Compare {
                        op: *op,
                        dtype,
                        x,
                        y,
                    },
                    DType::Bool,
                )
            }
            Tree::Where { cond, x, y } => {
                let cond = self.node(cond, leaves)?;
                let cond = self.convert(cond, DType::Bool);
                let (x, y) = (self.side(x, leaves)?, self.side(y, leaves)?);
                let dtype = common(self.kind(x), self.kind(y))?;
                let (x, y) = (self.input(x, dtype), self.input(y, dtype));
                self.push(Step::Where { cond, x, y }, dtype)
            }
            Tree::Scale { x, by, add } => {
                let x = self.node(x, leaves)?;
                let (product, result) = scale_dtypes(self.dtypes[x], *by, *add)?;
                if product == result {
                    let x = self.convert(x, result);
                    self.push(
                        Step::Scale {
                            x,
                            by: *by,
                            add: *add,
                        },
                        result,
                    )
                } else {
                    // As the chunk kernel: multiply (and wrap) in the int type, then
                    // add in float64.
                    let p = self.binary(BinaryOp::Mul, Input::Step(x), Input::Scalar(*by))?;
                    self.binary(BinaryOp::Add, Input::Step(p), Input::Scalar(*add))?
                }
            }
            Tree::AsType { x, dtype } => {
                let x = self.node(x, leaves)?;
                self.convert(x, *dtype)
            }
        })
    }

    fn side(&mut self, side: &Side, leaves: &[Arc<Chunk>]) -> Result<Input, OpError> {
        Ok(match side {
            Side::Tree(t) => Input::Step(self.node(t, leaves)?),
            Side::Scalar(s) => Input::Scalar(*s),
        })
    }

    fn binary(&mut self, op: BinaryOp, x: Input, y: Input) -> Result<usize, OpError> {
        let dtype = binary_dtype(op, self.kind(x), self.kind(y))?;
        let (x, y) = (self.input(x, dtype), self.input(y, dtype));
        Ok(self.push(Step::Binary { op, x, y }, dtype))
    }

    fn kind(&self, input: Input) -> Kind {
        match input {
            Input::Step(x) => Kind::Array(self.dtypes[x]),
            Input::Scalar(s) => Kind::Scalar(s),
        }
    }

    /// Step `x`'s values as `dtype`: itself, or a conversion of it.
    fn convert(&mut self, x: usize, dtype: DType) -> usize {
        if self.dtypes[x] == dtype {
            x
        } else {
            self.push(Step::Convert { x }, dtype)
        }
    }

    fn input(&mut self, input: Input, dtype: DType) -> Input {
        match input {
            Input::Step(x) => Input::Step(self.convert(x, dtype)),
            scalar => scalar,
        }
    }
}

/// Where a tile's elements sit in a C-ordered buffer: element (r, c) of the tile
/// (its last two axes; the leading ones are single indices) at `base + r*row +
/// c*col`. A stride of 0 repeats an element (broadcasting).
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Place {
    base: usize,
    row: usize,
    col: usize,
}

impl Place {
    /// The place of `tile` in a buffer where block axis `k` has stride `strides[k]`.
    pub(super) fn of(strides: &[usize], tile: &[Range<usize>]) -> Place {
        let base = strides.iter().zip(tile).map(|(s, r)| s * r.start).sum();
        let n = strides.len();
        let stride = |k: Option<usize>| k.map_or(0, |k| strides[k]);
        Place {
            base,
            row: stride(n.checked_sub(2)),
            col: stride(n.checked_sub(1)),
        }
    }

    /// The place of a whole tile of `cols` columns packed in C order from 0.
    pub(super) fn packed(cols: usize) -> Place {
        Place {
            base: 0,
            row: cols,
            col: 1,
        }
    }

    fn at(&self, r: usize, c: usize) -> usize {
        self.base + r * self.row + c * self.col
    }
}

/// Where `tile` sits in a leaf of `shape` whose axis `axes[k]` block axis `k` reads.
fn leaf_place(shape: &[usize], axes: &[Option<usize>], tile: &[Range<usize>]) -> Place {
    let own = c_strides(shape);
    let strides: Vec<usize> = axes.iter().map(|a| a.map_or(0, |a| own[a])).collect();
    Place::of(&strides, tile)
}

/// The rows and columns of a tile (1 x n for a 1-d tile, 1 x 1 for a 0-d one).
pub(super) fn extent(tile: &[Range<usize>]) -> (usize, usize) {
    let n = tile.len();
    let len = |k: Option<usize>| k.map_or(1, |k: usize| tile[k].len());
    (len(n.checked_sub(2)), len(n.checked_sub(1)))
}

/// A program evaluating tiles of one block: its buffers, made once.
pub(super) struct Evaluation<'a> {
    program: &'a Program,
    /// The leaf chunks in C layout (copied only if one is not).
    leaves: Vec<Cow<'a, Chunk>>,
    /// Per step: its values for the current batch.
    values: Vec<Chunk>,
    /// Per leaf step: where the current tile reads it.
    reads: Vec<Read>,
}

impl<'a> Evaluation<'a> {
    /// Buffers for evaluating `program` on tiles of up to `tile_len` elements.
    pub(super) fn new(program: &'a Program, leaves: &'a [Arc<Chunk>], tile_len: usize) -> Self {
        let leaves = leaves
            .iter()
            .map(|c| match c.as_ref() {
                c if with_chunk!(c, a => a.is_standard_layout()) => Cow::Borrowed(c),
                c => Cow::Owned(astype(c, c.dtype())),
            })
            .collect();
        let values = program
            .steps
            .iter()
            .zip(&program.dtypes)
            .map(|(step, &dtype)| {
                let len = match step {
                    Step::Leaf { .. } => tile_len.max(BATCH),
                    _ => BATCH,
                };
                with_dtype!(dtype, T => T::chunk(ArrayD::from_elem(IxDyn(&[len]), T::from_i64(0))))
            })
            .collect();
        Evaluation {
            program,
            leaves,
            values,
            reads: vec![Read::Leaf(Place::default()); program.steps.len()],
        }
    }

    /// Writes the tree's values over `tile` into `out` (of the program's dtype) at
    /// `place`: the last step writes there directly, with no batch buffer between.
    pub(super) fn tile(&mut self, tile: &[Range<usize>], out: &mut Chunk, place: Place) {
        if tile.iter().any(|r| r.is_empty()) {
            return;
        }
        let (rows, cols) = extent(tile);
        self.start(tile);
        let root = self.program.root();
        // A leaf is read in place (or gathered into its buffer), so it is copied.
        let root_is_leaf = matches!(self.program.steps[root], Step::Leaf { .. });
        // Whole rows per batch when they fit: a 128-column tile runs each step once
        // per 8 rows, not per row.
        let per_batch = (BATCH / cols).clamp(1, rows);
        for r0 in (0..rows).step_by(per_batch) {
            for c0 in (0..cols).step_by(BATCH) {
                let span = Span {
                    r0,
                    rows: per_batch.min(rows - r0),
                    c0,
                    len: BATCH.min(cols - c0),
                };
                for step in 0..root {
                    self.step(step, span, None);
                }
                let at = place.at(r0, c0);
                if !root_is_leaf {
                    self.step(root, span, Some(Target::of(out, at, place.row)));
                    continue;
                }
                self.step(root, span, None);
                with_dtype!(self.program.dtype(), T => {
                    let values = self.batch(&self.values, span).of::<T>(root);
                    let mut target = Target::of(out, at, place.row);
                    for (k, row) in target.rows::<T>(span).enumerate() {
                        row.copy_from_slice(values.row(k));
                    }
                });
            }
        }
    }

    /// Finds where each leaf is read in `tile`, transposing those read transposed
    /// into their tile buffers.
    fn start(&mut self, tile: &[Range<usize>]) {
        let (rows, cols) = extent(tile);
        for (step, s) in self.program.steps.iter().enumerate() {
            let Step::Leaf { slot, axes } = s else {
                continue;
            };
            let leaf = &self.leaves[*slot];
            let place = leaf_place(leaf.shape(), axes, tile);
            self.reads[step] = if place.row == 1 && place.col > 1 && rows > 1 {
                with_dtype!(leaf.dtype(), T => {
                    let data = T::slice(leaf).expect("a leaf in C layout");
                    let buffer = &mut slice_mut::<T>(&mut self.values[step])[..rows * cols];
                    // SAFETY: `MaybeUninit<T>` has `T`'s layout, and `transpose_into`
                    // writes only initialised values, so the buffer stays initialised.
                    let buffer = unsafe { &mut *(buffer as *mut [T] as *mut [MaybeUninit<T>]) };
                    // Tile column c is the leaf's row segment from place.at(0, c).
                    transpose_into(cols, rows, |c| &data[place.at(0, c)..], buffer);
                });
                Read::Transposed { cols }
            } else {
                Read::Leaf(place)
            };
        }
    }

    fn batch<'s>(&'s self, values: &'s [Chunk], span: Span) -> Batch<'s> {
        Batch {
            program: self.program,
            leaves: &self.leaves,
            values,
            reads: &self.reads,
            span,
        }
    }

    /// Runs step `i` on the batch `span` of the tile, writing into `target`, or by
    /// default into the step's buffer.
    // One comparison body for every dtype: for bool, `<` is NumPy's order as written.
    #[allow(clippy::bool_comparison)]
    fn step(&mut self, i: usize, span: Span, target: Option<Target<'_>>) {
        let mut values = std::mem::take(&mut self.values);
        let (done, rest) = values.split_at_mut(i);
        let out = &mut target.unwrap_or_else(|| Target::of(&mut rest[0], 0, span.len));
        let batch = self.batch(done, span);
        let dtype = self.program.dtypes[i];
        match &self.program.steps[i] {
            Step::Leaf { slot, .. } => {
                if let Read::Leaf(place) = self.reads[i] {
                    if place.col != 1 {
                        with_dtype!(dtype, T => {
                            let data = T::slice(&self.leaves[*slot]).expect("a leaf in C layout");
                            for (k, out) in out.rows::<T>(span).enumerate() {
                                let from = &data[place.at(span.r0 + k, span.c0)..];
                                if place.col == 0 {
                                    out.fill(from[0]);
                                } else {
                                    for (o, &v) in out.iter_mut().zip(from.iter().step_by(place.col)) {
                                        *o = v;
                                    }
                                }
                            }
                        });
                    }
                }
            }
            Step::Convert { x } => {
                with_dtype!(dtype, T => with_dtype!(self.program.dtypes[*x], S => {
                    map(batch.of::<S>(*x), out, span, |v| v.convert::<T>())
                }))
            }
            Step::Unary { op, x } => {
                unary_fn!(*op, dtype, T, f => map(batch.of::<T>(*x), out, span, f))
            }
            Step::Binary { op, x, y } => binary_fn!(*op, dtype, T, f => {
                zip(batch.input::<T>(*x), batch.input::<T>(*y), out, span, f)
            }),
            Step::Compare { op, dtype, x, y } => compare_fn!(*op, *dtype, T, f => {
                zip(batch.input::<T>(*x), batch.input::<T>(*y), out, span, f)
            }),
            Step::Where { cond, x, y } => with_dtype!(dtype, T => {
                let cond = batch.of::<bool>(*cond);
                let (x, y) = (batch.input::<T>(*x), batch.input::<T>(*y));
                for (k, out) in out.rows::<T>(span).enumerate() {
                    for (j, (o, &c)) in out.iter_mut().zip(cond.row(k)).enumerate() {
                        *o = if c { x.get(k, j) } else { y.get(k, j) };
                    }
                }
            }),
            Step::Scale { x, by, add } => with_number!(dtype, T => {
                let (b, c) = (by.element::<T>(), add.element::<T>());
                map(batch.of::<T>(*x), out, span, |v| T::add(T::mul(v, b), c))
            }, bool => unreachable!("scale_dtypes gives no bool")),
        }
        self.values = values;
    }
}

/// Where a tile reads a leaf step: in the leaf at a place, or in the step's tile
/// buffer, transposed there in C order (`cols` a row).
#[derive(Clone, Copy, Debug)]
enum Read {
    Leaf(Place),
    Transposed { cols: usize },
}

/// A batch: rows `r0..r0 + rows` of a tile, columns `c0..c0 + len`, at most `BATCH`
/// elements. A step's buffer holds the batch's rows one after the other.
#[derive(Clone, Copy, Debug)]
struct Span {
    r0: usize,
    rows: usize,
    c0: usize,
    len: usize,
}

/// What a step reads in one batch, from the leaves and the buffers of the steps
/// before it.
struct Batch<'s> {
    program: &'s Program,
    leaves: &'s [Cow<'s, Chunk>],
    values: &'s [Chunk],
    reads: &'s [Read],
    span: Span,
}

impl<'s> Batch<'s> {
    /// Step `x`'s values: a leaf read along its rows in place (in the leaf, or its
    /// transposed tile), any other step from its buffer.
    fn of<T: Element>(&self, x: usize) -> Rows<'s, T> {
        let Span { r0, c0, len, .. } = self.span;
        let (data, start, stride) = match (&self.program.steps[x], self.reads[x]) {
            (Step::Leaf { slot, .. }, Read::Leaf(place)) if place.col == 1 => {
                (&*self.leaves[*slot], place.at(r0, c0), place.row)
            }
            (Step::Leaf { .. }, Read::Transposed { cols }) => {
                (&self.values[x], Place::packed(cols).at(r0, c0), cols)
            }
            // A batch buffer holds the batch's rows alone.
            _ => (&self.values[x], 0, len),
        };
        Rows {
            data: T::slice(data).expect("values of the step's type"),
            start,
            stride,
            len,
        }
    }

    fn input<T: Element>(&self, input: Input) -> Arg<'s, T> {
        match input {
            Input::Step(x) => Arg::Rows(self.of(x)),
            Input::Scalar(s) => Arg::Scalar(s.element()),
        }
    }
}

/// A batch's values of one step: row `k` is `data[start + k*stride..][..len]` (a
/// stride of 0 repeats one row: broadcasting).
#[derive(Clone, Copy)]
struct Rows<'s, T> {
    data: &'s [T],
    start: usize,
    stride: usize,
    len: usize,
}

impl<'s, T> Rows<'s, T> {
    fn row(&self, k: usize) -> &'s [T] {
        let at = self.start + k * self.stride;
        &self.data[at..at + self.len]
    }
}

/// An operand's values in a batch: a step's, or a number repeated.
#[derive(Clone, Copy)]
enum Arg<'s, T> {
    Rows(Rows<'s, T>),
    Scalar(T),
}

impl<T: Copy> Arg<'_, T> {
    /// The value in row `k`, column `j` of the batch.
    fn get(&self, k: usize, j: usize) -> T {
        match self {
            Arg::Rows(v) => v.row(k)[j],
            Arg::Scalar(s) => *s,
        }
    }
}

fn slice_mut<T: Element>(buffer: &mut Chunk) -> &mut [T] {
    T::slice_mut(buffer).expect("a buffer of the step's type")
}

/// Where a step writes a batch: row `k` at `start + k*stride` of a chunk (the step's
/// buffer, rows one after the other, or the tile's destination).
struct Target<'a> {
    chunk: &'a mut Chunk,
    start: usize,
    stride: usize,
}

impl<'a> Target<'a> {
    fn of(chunk: &'a mut Chunk, start: usize, stride: usize) -> Target<'a> {
        Target {
            chunk,
            start,
            stride,
        }
    }

    /// The batch's rows. (A batch of one row may have any stride: a 1-d tile's is 0.)
    fn rows<T: Element>(&mut self, span: Span) -> impl Iterator<Item = &mut [T]> {
        let stride = self.stride.max(span.len);
        slice_mut::<T>(self.chunk)[self.start..]
            .chunks_mut(stride)
            .take(span.rows)
            .map(move |row| &mut row[..span.len])
    }
}

/// `out[k] = f(x[k])` over the batch.
fn map<S: Copy, T: Element>(x: Rows<'_, S>, out: &mut Target, span: Span, f: impl Fn(S) -> T) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, just checked.
        return unsafe { map_avx2(x, out, span, f) };
    }
    map_loops(x, out, span, f)
}

/// `map` compiled for AVX2: its loops 4 float64 wide where the build's target (every
/// x86-64) gives SSE2's 2. Elementwise results are the same bits either way.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn map_avx2<S: Copy, T: Element>(
    x: Rows<'_, S>,
    out: &mut Target,
    span: Span,
    f: impl Fn(S) -> T,
) {
    map_loops(x, out, span, f)
}

#[inline(always)]
fn map_loops<S: Copy, T: Element>(
    x: Rows<'_, S>,
    out: &mut Target,
    span: Span,
    f: impl Fn(S) -> T,
) {
    for (k, out) in out.rows::<T>(span).enumerate() {
        for (o, &v) in out.iter_mut().zip(x.row(k)) {
            *o = f(v);
        }
    }
}

/// `out[k] = f(x[k], y[k])` over the batch, numbers repeated.
fn zip<T: Copy, R: Element>(
    x: Arg<'_, T>,
    y: Arg<'_, T>,
    out: &mut Target,
    span: Span,
    f: impl Fn(T, T) -> R,
) {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: the processor has AVX2, just checked.
        return unsafe { zip_avx2(x, y, out, span, f) };
    }
    zip_loops(x, y, out, span, f)
}

/// `zip` compiled for AVX2 (see `map_avx2`).
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn zip_avx2<T: Copy, R: Element>(
    x: Arg<'_, T>,
    y: Arg<'_, T>,
    out: &mut Target,
    span: Span,
    f: impl Fn(T, T) -> R,
) {
    zip_loops(x, y, out, span, f)
}

#[inline(always)]
fn zip_loops<T: Copy, R: Element>(
    x: Arg<'_, T>,
    y: Arg<'_, T>,
    out: &mut Target,
    span: Span,
    f: impl Fn(T, T) -> R,
) {
    for (k, out) in out.rows::<R>(span).enumerate() {
        match (x, y) {
            (Arg::Rows(a), Arg::Rows(b)) => {
                for ((o, &a), &b) in out.iter_mut().zip(a.row(k)).zip(b.row(k)) {
                    *o = f(a, b);
                }
            }
            (Arg::Rows(a), Arg::Scalar(s)) => {
                for (o, &a) in out.iter_mut().zip(a.row(k)) {
                    *o = f(a, s);
                }
            }
            (Arg::Scalar(s), Arg::Rows(b)) => {
                for (o, &b) in out.iter_mut().zip(b.row(k)) {
                    *o = f(s, b);
                }
            }
            (Arg::Scalar(s), Arg::Scalar(t)) => out.fill(f(s, t)),
        }
    }
}

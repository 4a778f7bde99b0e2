//! Moving elements without computing on them: transposing, slicing and assembling
//! chunks, which is how rechunking, indexing and transposes of chunked arrays lower.
//!
//! Ops: `array.transpose(x, axes)`, `array.slice(x, index)`, `array.concat(grid, parts)`.

use std::mem::MaybeUninit;
use std::sync::Arc;

use ndarray::{ArrayD, Axis, IxDyn};
use taskloom_graph::{with_chunk, Chunk, Expr, OpError, Value};

use super::args::{cast, promote, value, Element};
use super::elementwise::element::{tuple, with_dtype};
use crate::grid::c_strides;
use crate::wire::{array_op, Decode, Encode};

array_op! {
    /// `array.transpose(x, axes)`: `x` with its axes permuted (`null`: reversed).
    pub(crate) struct Transpose<C = Arc<Chunk>> = "array.transpose" {
        x: C,
        axes: Option<Vec<usize>>,
    }
    fn run(self) -> OpResult {
        transpose(&self.x, self.axes).map(value)
    }
}

array_op! {
    /// `array.slice(x, index)`: the elements an index entry per axis selects.
    pub(crate) struct Slice<C = Arc<Chunk>> = "array.slice" {
        x: C,
        index: Vec<Entry>,
    }
    fn run(self) -> OpResult {
        slice(&self.x, &self.index).map(value)
    }
}

array_op! {
    /// `array.concat(grid, parts)`: parts on a grid, put side by side.
    pub(crate) struct Concat<C = Arc<Chunk>> = "array.concat" {
        grid: Vec<usize>,
        parts: Vec<C>,
    }
    fn run(self) -> OpResult {
        let parts: Vec<&Chunk> = self.parts.iter().map(|p| &**p).collect();
        concat(&self.grid, &parts).map(value)
    }
}

/// The chunk with its axes permuted (`axes[k]` is the input axis that becomes axis
/// `k`; `None` reverses them), copied into C layout.
fn transpose(x: &Chunk, axes: Option<Vec<usize>>) -> Result<Chunk, OpError> {
    let n = x.shape().len();
    let axes = axes.unwrap_or_else(|| (0..n).rev().collect());
    let mut seen = vec![false; n];
    let valid = axes.len() == n
        && axes
            .iter()
            .all(|&a| a < n && !std::mem::replace(&mut seen[a], true));
    if !valid {
        return Err(OpError::new(format!(
            "axes {axes:?} are not a permutation of the {n} axes of an array of shape {}",
            tuple(x.shape())
        )));
    }
    Ok(with_chunk!(x, a => {
        let swapped = axes == [1, 0];
        match a.as_slice() {
            Some(elements) if swapped => {
                let (rows, cols) = (a.shape()[0], a.shape()[1]);
                let out = transpose_tiled(elements, rows, cols);
                Element::chunk(ArrayD::from_shape_vec(IxDyn(&[cols, rows]), out).expect("cols x rows elements"))
            }
            _ => Element::chunk(a.view().permuted_axes(IxDyn(&axes)).as_standard_layout().into_owned()),
        }
    }))
}

/// The transpose of a `rows` x `cols` matrix in C order.
fn transpose_tiled<T: Copy>(src: &[T], rows: usize, cols: usize) -> Vec<T> {
    let rows: Vec<&[T]> = src.chunks_exact(cols.max(1)).take(rows).collect();
    transpose_rows(&rows, cols)
}

/// The transpose of a matrix given as its rows (each `len` long, anywhere in memory),
/// in C order, tile by tile: a plain copy reads one of the two arrays a column at a
/// time, a cache miss per element, where a tile of both fits in L1. Each output row
/// of a tile is written contiguously, into memory not zeroed first (the output is as
/// large as the input).
pub(crate) fn transpose_rows<T: Copy>(rows: &[&[T]], len: usize) -> Vec<T> {
    let n = rows.len() * len;
    let mut out: Vec<T> = Vec::with_capacity(n);
    transpose_into(
        rows.len(),
        len,
        |i| rows[i],
        &mut out.spare_capacity_mut()[..n],
    );
    // SAFETY: `transpose_into` writes every element of its n = rows.len() * len long
    // output, so each of the first n elements was written.
    unsafe { out.set_len(n) };
    out
}

/// The transpose of a `width` x `len` matrix whose row `i` is `row(i)` (at least
/// `len` long), written in C order into `out` (`width * len` long), a 32 x 32 tile at
/// a time (see `transpose_rows`). Every element of `out` is written.
pub(crate) fn transpose_into<'a, T: Copy + 'a>(
    width: usize,
    len: usize,
    row: impl Fn(usize) -> &'a [T],
    out: &mut [MaybeUninit<T>],
) {
    const TILE: usize = 32;
    for i0 in (0..width).step_by(TILE) {
        let i1 = (i0 + TILE).min(width);
        let mut rows: [&[T]; TILE] = [&[]; TILE];
        for (r, i) in rows.iter_mut().zip(i0..i1) {
            *r = &row(i)[..len];
        }
        let rows = &rows[..i1 - i0];
        for j0 in (0..len).step_by(TILE) {
            for j in j0..(j0 + TILE).min(len) {
                let dst = &mut out[j * width + i0..j * width + i1];
                for (d, row) in dst.iter_mut().zip(rows) {
                    d.write(row[j]);
                }
            }
        }
    }
}

/// One axis of a slice: a range, or a single position (which drops the axis).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Entry {
    /// Positions in `start..stop`, every `step`-th: from `start` up when the step is
    /// positive, from `stop - 1` down when it is negative (as ndarray slices).
    Range {
        start: usize,
        stop: usize,
        step: isize,
    },
    Index(usize),
}

impl std::fmt::Display for Entry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Entry::Range { start, stop, step } => write!(f, "[{start}, {stop}, {step}]"),
            Entry::Index(i) => write!(f, "{i}"),
        }
    }
}

impl Entry {
    /// The entry as the wire carries it: `[start, stop, step]` or an int.
    fn value(self) -> Value {
        match self {
            Entry::Range { start, stop, step } => Value::list([
                Value::Int(start as i64),
                Value::Int(stop as i64),
                Value::Int(step as i64),
            ]),
            Entry::Index(i) => Value::Int(i as i64),
        }
    }

    /// Entry `k` of an index list: `[start, stop, step]` or an int.
    fn parse(k: usize, v: &Value) -> Result<Entry, OpError> {
        let bad = || {
            OpError::new(format!(
                "index entry for axis {k} must be [start, stop, step] (non-negative start \
                 and stop, a non-zero step) or a non-negative int, got {}",
                v.type_name()
            ))
        };
        let non_negative = |v: &Value| match v {
            Value::Int(i) => usize::try_from(*i).ok(),
            _ => None,
        };
        match v {
            Value::Int(_) => non_negative(v).map(Entry::Index).ok_or_else(bad),
            Value::List(items) => match &items[..] {
                [a, b, Value::Int(c)] => match (non_negative(a), non_negative(b), *c) {
                    (Some(start), Some(stop), step) if step != 0 => Ok(Entry::Range {
                        start,
                        stop,
                        step: step as isize,
                    }),
                    _ => Err(bad()),
                },
                _ => Err(bad()),
            },
            _ => Err(bad()),
        }
    }
}

impl Encode for Vec<Entry> {
    fn encode(self) -> Expr {
        Expr::Value(Value::list(self.into_iter().map(Entry::value)))
    }
}

impl Decode for Vec<Entry> {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        let Value::List(entries) = v else {
            return Err(OpError::new(format!(
                "argument {} must be a list of [start, stop, step] or index entries, got {}",
                i + 1,
                v.type_name()
            )));
        };
        entries
            .iter()
            .enumerate()
            .map(|(k, e)| Entry::parse(k, e))
            .collect()
    }
}

/// The elements `index` selects, NumPy style, in C layout.
pub(crate) fn slice(x: &Chunk, index: &[Entry]) -> Result<Chunk, OpError> {
    let shape = x.shape();
    if index.len() > shape.len() {
        return Err(OpError::new(format!(
            "{} index entries for an array of shape {}",
            index.len(),
            tuple(shape)
        )));
    }
    for (k, (entry, &extent)) in index.iter().zip(shape).enumerate() {
        let ok = match *entry {
            Entry::Range { start, stop, step } => start <= stop && stop <= extent && step != 0,
            Entry::Index(i) => i < extent,
        };
        if !ok {
            return Err(OpError::new(format!(
                "index {entry} is out of range for axis {k} with extent {extent}"
            )));
        }
    }
    Ok(with_chunk!(x, a => {
        let mut v = a.view();
        // Last axis first, so dropping an axis leaves earlier axis numbers valid.
        for (k, entry) in index.iter().enumerate().rev() {
            match *entry {
                Entry::Range { start, stop, step } => {
                    v.slice_axis_inplace(Axis(k), ndarray::Slice::new(start as isize, Some(stop as isize), step));
                }
                Entry::Index(i) => v = v.index_axis_move(Axis(k), i),
            }
        }
        Element::chunk(v.as_standard_layout().into_owned())
    }))
}

/// The chunk `parts` (in C order on a grid of `grid[k]` parts along axis `k`) make
/// when put side by side; mixed dtypes promote as in `array.binary`.
fn concat(grid: &[usize], parts: &[&Chunk]) -> Result<Chunk, OpError> {
    let n: usize = grid.iter().product();
    if parts.len() != n || n == 0 {
        return Err(OpError::new(format!(
            "a grid of {} parts needs as many parts (at least one), got {}",
            tuple(grid),
            parts.len()
        )));
    }
    let ndim = grid.len();
    // Extents along each axis, read off the parts on the grid's edges (the part at
    // position `i` along axis `k` and 0 along the others).
    let strides = c_strides(grid);
    let extents: Vec<Vec<usize>> = (0..ndim)
        .map(|k| {
            (0..grid[k])
                .map(|i| parts[i * strides[k]].shape().get(k).copied().unwrap_or(0))
                .collect()
        })
        .collect();
    let mut offsets = Vec::with_capacity(n);
    for (p, part) in parts.iter().enumerate() {
        let position: Vec<usize> = (0..ndim).map(|k| p / strides[k] % grid[k]).collect();
        let expected: Vec<usize> = (0..ndim).map(|k| extents[k][position[k]]).collect();
        if part.shape() != &expected[..] {
            return Err(OpError::new(format!(
                "part {p} at grid position {position:?} has shape {}, but its row and column \
                 of the grid need {}",
                tuple(part.shape()),
                tuple(&expected)
            )));
        }
        offsets.push(
            (0..ndim)
                .map(|k| extents[k][..position[k]].iter().sum::<usize>())
                .collect::<Vec<usize>>(),
        );
    }
    let shape: Vec<usize> = extents.iter().map(|e| e.iter().sum()).collect();
    let dtype = parts
        .iter()
        .map(|c| c.dtype())
        .reduce(promote)
        .unwrap_or(parts[0].dtype());
    Ok(with_dtype!(dtype, T => {
        let mut out = ArrayD::<T>::from_elem(IxDyn(&shape), T::from_i64(0));
        for (part, offset) in parts.iter().zip(&offsets) {
            let piece = cast::<T>(part);
            let mut view = out.view_mut();
            for (k, &o) in offset.iter().enumerate() {
                view.slice_axis_inplace(Axis(k), ndarray::Slice::from(o..o + piece.shape()[k]));
            }
            view.assign(&piece);
        }
        T::chunk(out)
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn tiled_transpose_is_the_transpose(rows in 0usize..80, cols in 0usize..80) {
            let src: Vec<i64> = (0..(rows * cols) as i64).collect();
            let out = transpose_tiled(&src, rows, cols);
            for i in 0..rows {
                for j in 0..cols {
                    prop_assert_eq!(out[j * rows + i], src[i * cols + j]);
                }
            }
        }
    }
}

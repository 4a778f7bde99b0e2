//! Elementwise trees evaluated tile by tile: `(x + x.T).sum()` without a transposed
//! copy or a summed chunk, and `x*2 + 1` written with no intermediate chunk.
//!
//! Ops: `array.fused_partial(op, axis, shape, blocks, leaf, ...)`: the reduction state
//! (along `axis`, or over everything; argmin and argmax too, positions in the array of
//! `shape`) of the blocks (`[tree, shape, start]` each) that their trees compute from
//! the leaf chunks. Blocks that read the same leaves and reduce into one
//! output block (`(x + x.T).sum()` at (i, j) and (j, i)) share one task, so each leaf
//! is made once. `array.fused_block(tree, shape, leaf, ...)`: the block itself, each
//! tile's values written straight into it.
//!
//! - A `Tree` is elementwise ops (unary, binary, scale, astype, compare, where) over
//!   leaves; each leaf is read through an axis map (which leaf axis each block axis
//!   reads, or none: broadcast), so transposes and broadcasting sit at the leaves.
//! - The block is walked tile after tile, `TILE`² elements each: square tiles of its
//!   last two axes (`TILE` x `TILE`) when a leaf is read transposed, so its tile is a
//!   square block of the source, read a contiguous row at a time and transposed in
//!   cache; otherwise whole rows (a 1-D block in runs), so leaves stream. The tree is
//!   compiled once per block (`program`: the chunk kernels' dtype rules and element
//!   functions) and evaluated a row segment at a time into buffers made once, leaves
//!   read in place: no chunk-sized intermediate, and nothing allocated per tile.
//! - Each tile reduces to a state (`partial`), and states merge pairwise across tiles
//!   (`Fold`); along an axis, those of the tiles covering one region of the block's
//!   state merge, and the regions' states are put side by side (`join`). Sums are then pairwise within and across tiles: not bit-identical to
//!   chunk-by-chunk evaluation, but within pairwise summation's bound, relative error
//!   O(ε log n) of Σ|x|. Min, max, any, all and integer sums are exact.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, DType, Expr, OpError, Value};

use super::args::{value, Element};
use super::elementwise::element::{tuple, with_dtype};
use super::elementwise::promote::Scalar;
use super::reduce::{arg, combine, join, kept_shape, partial};
use crate::operation::{BinaryOp, CompareOp, Reduction, UnaryOp};
use crate::wire::{array_op, Decode, Encode};

mod program;

use program::{extent, Evaluation, Place, Program};

use crate::grid::c_strides;

/// Tile edge along each of the last two axes: a 128 x 128 float64 tile is 128 KiB,
/// so a tile's values and its transposed leaves stay within a core's L2 (1 MiB here),
/// while the tile is large enough that a reduction's per-tile state costs little.
const TILE: usize = 128;

array_op! {
    /// `array.fused_partial(op, axis, shape, blocks, leaf, ...)`: the state of the
    /// blocks of an array of `shape` (reduced along `axis`, or over everything), each a
    /// `[tree, shape, start]` computed from the leaves, evaluated tile by tile.
    pub(crate) struct FusedPartial<C = Arc<Chunk>> = "array.fused_partial" {
        op: Reduction,
        axis: Option<usize>,
        shape: Vec<usize>,
        blocks: Vec<Block>;
        rest leaves: C, at least 0
    }
    fn run(self) -> OpResult {
        fused_partial(self.op, self.axis, &self.shape, &self.blocks, &self.leaves)
    }
}

array_op! {
    /// `array.fused_block(tree, shape, leaf, ...)`: the block of `shape` the tree
    /// computes from the leaves, evaluated tile by tile into it.
    pub(crate) struct FusedBlock<C = Arc<Chunk>> = "array.fused_block" {
        tree: Tree,
        shape: Vec<usize>;
        rest leaves: C, at least 0
    }
    fn run(self) -> OpResult {
        fused_block(&self.tree, &self.shape, &self.leaves).map(value)
    }
}

/// One block of a fused reduction: the tree computing it, its shape, and where it
/// starts in the array (argmin and argmax give positions in the array).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Block {
    pub(crate) tree: Tree,
    pub(crate) shape: Vec<usize>,
    pub(crate) start: Vec<usize>,
}

impl Encode for Vec<Block> {
    fn encode(self) -> Expr {
        let shape = |s: &[usize]| Value::list(s.iter().map(|&e| Value::Int(e as i64)));
        Expr::Value(Value::list(self.iter().map(|b| {
            Value::list([b.tree.value(), shape(&b.shape), shape(&b.start)])
        })))
    }
}

impl Encode for Tree {
    fn encode(self) -> Expr {
        Expr::Value(self.value())
    }
}

impl Decode for Tree {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        Tree::parse(v, i)
    }
}

impl Decode for Vec<Block> {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        let bad = || {
            OpError::new(format!(
                "argument {} must be a list of [tree, shape, start] blocks, got {}",
                i + 1,
                v.type_name()
            ))
        };
        let Value::List(blocks) = v else {
            return Err(bad());
        };
        blocks
            .iter()
            .map(|b| match b {
                Value::List(parts) if parts.len() == 3 => Ok(Block {
                    tree: Tree::parse(&parts[0], i)?,
                    shape: Vec::<usize>::decode(&parts[1], i)?,
                    start: Vec::<usize>::decode(&parts[2], i)?,
                }),
                _ => Err(bad()),
            })
            .collect()
    }
}

/// An elementwise expression over leaf chunks, as one block of it is computed.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Tree {
    /// Leaf chunk `slot`; block axis `k` reads leaf axis `axes[k]`, or broadcasts
    /// (`None`). Leaf axes no block axis reads have extent 1.
    Leaf {
        slot: usize,
        axes: Vec<Option<usize>>,
    },
    Unary {
        op: UnaryOp,
        x: Box<Tree>,
    },
    Binary {
        op: BinaryOp,
        x: Side,
        y: Side,
    },
    Compare {
        op: CompareOp,
        x: Side,
        y: Side,
    },
    Where {
        cond: Box<Tree>,
        x: Side,
        y: Side,
    },
    Scale {
        x: Box<Tree>,
        by: Scalar,
        add: Scalar,
    },
    AsType {
        x: Box<Tree>,
        dtype: DType,
    },
}

/// An operand of a binary op, comparison or selection.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Side {
    Tree(Box<Tree>),
    Scalar(Scalar),
}

impl Tree {
    /// The tree with leaf slot `s` renumbered `slots[s]`.
    pub(crate) fn renumbered(&self, slots: &[usize]) -> Tree {
        let side = |s: &Side| match s {
            Side::Tree(t) => Side::Tree(Box::new(t.renumbered(slots))),
            Side::Scalar(v) => Side::Scalar(*v),
        };
        let tree = |t: &Tree| Box::new(t.renumbered(slots));
        match self {
            Tree::Leaf { slot, axes } => Tree::Leaf {
                slot: slots[*slot],
                axes: axes.clone(),
            },
            Tree::Unary { op, x } => Tree::Unary {
                op: *op,
                x: tree(x),
            },
            Tree::Binary { op, x, y } => Tree::Binary {
                op: *op,
                x: side(x),
                y: side(y),
            },
            Tree::Compare { op, x, y } => Tree::Compare {
                op: *op,
                x: side(x),
                y: side(y),
            },
            Tree::Where { cond, x, y } => Tree::Where {
                cond: tree(cond),
                x: side(x),
                y: side(y),
            },
            Tree::Scale { x, by, add } => Tree::Scale {
                x: tree(x),
                by: *by,
                add: *add,
            },
            Tree::AsType { x, dtype } => Tree::AsType {
                x: tree(x),
                dtype: *dtype,
            },
        }
    }

    /// Whether a leaf is read with its axes reordered (a transpose).
    fn transposes(&self) -> bool {
        let side = |s: &Side| matches!(s, Side::Tree(t) if t.transposes());
        match self {
            Tree::Leaf { axes, .. } => {
                let read: Vec<usize> = axes.iter().flatten().copied().collect();
                read.windows(2).any(|w| w[0] > w[1])
            }
            Tree::Unary { x, .. } | Tree::Scale { x, .. } | Tree::AsType { x, .. } => {
                x.transposes()
            }
            Tree::Binary { x, y, .. } | Tree::Compare { x, y, .. } => side(x) || side(y),
            Tree::Where { cond, x, y } => cond.transposes() || side(x) || side(y),
        }
    }

    /// Fails unless every leaf names a given chunk and its axis map fits the chunk
    /// and a block of `shape`, so evaluation cannot index out of range.
    fn check(&self, leaves: &[Arc<Chunk>], shape: &[usize]) -> Result<(), OpError> {
        let side = |s: &Side| match s {
            Side::Tree(t) => t.check(leaves, shape),
            Side::Scalar(_) => Ok(()),
        };
        match self {
            Tree::Leaf { slot, axes } => check_leaf(leaves, *slot, axes, shape),
            Tree::Unary { x, .. } | Tree::Scale { x, .. } | Tree::AsType { x, .. } => {
                x.check(leaves, shape)
            }
            Tree::Binary { x, y, .. } | Tree::Compare { x, y, .. } => {
                side(x)?;
                side(y)
            }
            Tree::Where { cond, x, y } => {
                cond.check(leaves, shape)?;
                side(x)?;
                side(y)
            }
        }
    }

    /// The tree as the wire carries it: `[kind, ...]` lists, scalars as numbers.
    fn value(&self) -> Value {
        let side = |s: &Side| match s {
            Side::Tree(t) => t.value(),
            Side::Scalar(v) => scalar_value(*v),
        };
        let name = Value::str;
        match self {
            Tree::Leaf { slot, axes } => Value::list([
                name("leaf"),
                Value::Int(*slot as i64),
                Value::list(
                    axes.iter()
                        .map(|a| a.map_or(-1, |a| a as i64))
                        .map(Value::Int),
                ),
            ]),
            Tree::Unary { op, x } => Value::list([name("unary"), name(op.name()), x.value()]),
            Tree::Binary { op, x, y } => {
                Value::list([name("binary"), name(op.name()), side(x), side(y)])
            }
            Tree::Compare { op, x, y } => {
                Value::list([name("compare"), name(op.name()), side(x), side(y)])
            }
            Tree::Where { cond, x, y } => {
                Value::list([name("where"), cond.value(), side(x), side(y)])
            }
            Tree::Scale { x, by, add } => Value::list([
                name("scale"),
                x.value(),
                scalar_value(*by),
                scalar_value(*add),
            ]),
            Tree::AsType { x, dtype } => {
                Value::list([name("astype"), x.value(), name(dtype.name())])
            }
        }
    }

    /// The tree in `v` (argument `i` of the op), or an error naming what is wrong.
    fn parse(v: &Value, i: usize) -> Result<Tree, OpError> {
        let bad = |what: &str| {
            OpError::new(format!(
                "argument {} must be a fused expression tree: {what}",
                i + 1
            ))
        };
        let Value::List(items) = v else {
            return Err(bad(&format!(
                "a node must be a list, got {}",
                v.type_name()
            )));
        };
        let kind = match items.first() {
            Some(Value::Str(s)) => &**s,
            _ => return Err(bad("a node starts with its kind, a string")),
        };
        let tree = |v: &Value| Tree::parse(v, i).map(Box::new);
        let side = |v: &Value| match Scalar::of(v) {
            Some(s) => Ok(Side::Scalar(s)),
            None => tree(v).map(Side::Tree),
        };
        let arity = |n: usize| {
            if items.len() == n + 1 {
                Ok(())
            } else {
                Err(bad(&format!(
                    "a {kind} node has {n} fields, got {}",
                    items.len() - 1
                )))
            }
        };
        let scalar = |v: &Value| Scalar::decode(v, i);
        Ok(match kind {
            "leaf" => {
                arity(2)?;
                let slot = usize::decode(&items[1], i)?;
                let Value::List(axes) = &items[2] else {
                    return Err(bad("a leaf's axes must be a list of ints"));
                };
                let axes = axes
                    .iter()
                    .map(|a| match a {
                        Value::Int(-1) => Ok(None),
                        Value::Int(a) if *a >= 0 => Ok(Some(*a as usize)),
                        _ => Err(bad("a leaf axis must be a non-negative int or -1")),
                    })
                    .collect::<Result<_, _>>()?;
                Tree::Leaf { slot, axes }
            }
            "unary" => {
                arity(2)?;
                Tree::Unary {
                    op: UnaryOp::decode(&items[1], i)?,
                    x: tree(&items[2])?,
                }
            }
            "binary" => {
                arity(3)?;
                Tree::Binary {
                    op: BinaryOp::decode(&items[1], i)?,
                    x: side(&items[2])?,
                    y: side(&items[3])?,
                }
            }
            "compare" => {
                arity(3)?;
                Tree::Compare {
                    op: CompareOp::decode(&items[1], i)?,
                    x: side(&items[2])?,
                    y: side(&items[3])?,
                }
            }
            "where" => {
                arity(3)?;
                Tree::Where {
                    cond: tree(&items[1])?,
                    x: side(&items[2])?,
                    y: side(&items[3])?,
                }
            }
            "scale" => {
                arity(3)?;
                Tree::Scale {
                    x: tree(&items[1])?,
                    by: scalar(&items[2])?,
                    add: scalar(&items[3])?,
                }
            }
            "astype" => {
                arity(2)?;
                Tree::AsType {
                    x: tree(&items[1])?,
                    dtype: DType::decode(&items[2], i)?,
                }
            }
            other => return Err(bad(&format!("unknown node kind '{other}'"))),
        })
    }
}

fn scalar_value(s: Scalar) -> Value {
    match s {
        Scalar::Int(i) => Value::Int(i),
        Scalar::Float(f) => Value::Float(f),
    }
}

/// Fails unless leaf `slot` exists and `axes` maps a block of `shape` onto it: one
/// entry per block axis, each leaf axis read at most once with the block's extent,
/// the leaf axes not read of extent 1.
fn check_leaf(
    leaves: &[Arc<Chunk>],
    slot: usize,
    axes: &[Option<usize>],
    shape: &[usize],
) -> Result<(), OpError> {
    let leaf = leaves.get(slot).ok_or_else(|| {
        OpError::new(format!(
            "fused tree reads leaf {slot}, but {} leaves were given",
            leaves.len()
        ))
    })?;
    let extents = leaf.shape();
    let mut read = vec![false; extents.len()];
    let fits = axes.len() == shape.len()
        && axes.iter().zip(shape).all(|(a, &n)| match *a {
            None => true,
            Some(a) => {
                a < extents.len() && extents[a] == n && !std::mem::replace(&mut read[a], true)
            }
        })
        && read.iter().zip(extents).all(|(&r, &e)| r || e == 1);
    if fits {
        Ok(())
    } else {
        Err(OpError::new(format!(
            "fused tree reads leaf {slot} of shape {} through axes {axes:?}, which do not \
             map it onto a block of shape {}",
            tuple(extents),
            tuple(shape)
        )))
    }
}

/// The reduction state of `blocks` of an array of `whole` shape, each computed by its
/// tree from `leaves`: along `axis`, blocks that reduce into the same output block
/// (their states combine).
fn fused_partial(
    op: Reduction,
    axis: Option<usize>,
    whole: &[usize],
    blocks: &[Block],
    leaves: &[Arc<Chunk>],
) -> Result<Value, OpError> {
    let programs = blocks
        .iter()
        .map(|Block { tree, shape, .. }| {
            tree.check(leaves, shape)?;
            if let Some(k) = axis.filter(|&k| k >= shape.len()) {
                return Err(OpError::new(format!(
                    "axis {k} is out of bounds for an array of shape {}",
                    tuple(shape)
                )));
            }
            Program::compile(tree, leaves)
        })
        .collect::<Result<Vec<_>, _>>()?;
    let dtype = programs
        .first()
        .ok_or_else(|| OpError::new("array.fused_partial needs at least one block"))?
        .dtype();
    if let Some(other) = programs.iter().find(|p| p.dtype() != dtype) {
        return Err(OpError::new(format!(
            "array.fused_partial's blocks compute {} and {}: one reduction needs one dtype",
            dtype.name(),
            other.dtype().name()
        )));
    }
    let mut evaluations: Vec<Evaluation> = programs
        .iter()
        .map(|p| Evaluation::new(p, leaves, TILE * TILE))
        .collect();
    // Per region of a state that tiles reduce into, the states merged as they come.
    let mut folds: Vec<(StateRegion, Fold)> = Vec::new();
    let mut fold_of: HashMap<StateRegion, usize> = HashMap::new();
    with_dtype!(dtype, T => {
        // One buffer for every tile's values, lent to `partial` as a chunk.
        let mut buffer: Vec<T> = Vec::with_capacity(TILE * TILE);
        for (b, tile) in visits(blocks, &programs, leaves) {
            let extents: Vec<usize> = tile.iter().map(Range::len).collect();
            buffer.resize(extents.iter().product(), T::from_i64(0));
            let values = ArrayD::from_shape_vec(IxDyn(&extents), buffer)
                .expect("a buffer of the tile's size");
            let mut values = T::chunk(values);
            evaluations[b].tile(&tile, &mut values, Place::packed(extent(&tile).1));
            let state = if op.is_arg() {
                let start: Vec<usize> =
                    blocks[b].start.iter().zip(&tile).map(|(s, r)| s + r.start).collect();
                arg::partial(op, &values, axis, &start, whole)?
            } else {
                partial(op, &values, axis)?
            };
            buffer = T::array(values).expect("the chunk lent").into_raw_vec_and_offset().0;
            let region = StateRegion::of(b, &tile, axis);
            let f = *fold_of.entry(region.clone()).or_insert_with(|| {
                folds.push((region, Fold::new(op)));
                folds.len() - 1
            });
            folds[f].1.push(state)?;
        }
    });
    let Some(k) = axis else {
        let (_, fold) = folds.pop().expect("one region, and a block has a tile");
        return fold.finish();
    };
    // Each block's state put together from its regions', then the blocks' merged.
    let mut parts: Vec<Vec<(Vec<Range<usize>>, Value)>> = vec![Vec::new(); blocks.len()];
    for (StateRegion { block, region }, fold) in folds {
        parts[block].push((region, fold.finish()?));
    }
    let mut fold = Fold::new(op);
    for (block, parts) in blocks.iter().zip(&parts) {
        fold.push(join(op, &kept_shape(&block.shape, Some(k)), parts)?)?;
    }
    fold.finish()
}

/// Where a tile's state goes in a fused reduction: over everything, into one state;
/// along an axis, into the region of its block's state that the tile's elements
/// reduce to (the tile's ranges, the axis made `0..1`).
#[derive(Clone, PartialEq, Eq, Hash)]
struct StateRegion {
    block: usize,
    region: Vec<Range<usize>>,
}

impl StateRegion {
    fn of(block: usize, tile: &[Range<usize>], axis: Option<usize>) -> StateRegion {
        match axis {
            None => StateRegion {
                block: 0,
                region: Vec::new(),
            },
            Some(k) => {
                let mut region = tile.to_vec();
                region[k] = 0..1;
                StateRegion { block, region }
            }
        }
    }
}

/// Every tile of every block, as (block, tile), each block's in order, but a tile
/// that reads the same leaf elements as an earlier one (`Program::reads`) right after
/// it: `x + x.T` then reads each leaf tile from memory once, not twice.
fn visits(
    blocks: &[Block],
    programs: &[Program],
    leaves: &[Arc<Chunk>],
) -> Vec<(usize, Vec<Range<usize>>)> {
    let mut groups: Vec<Vec<(usize, Vec<Range<usize>>)>> = Vec::new();
    let mut group_of: HashMap<Vec<(usize, usize)>, usize> = HashMap::new();
    for (b, (block, program)) in blocks.iter().zip(programs).enumerate() {
        for tile in tiles(&block.shape, block.tree.transposes()) {
            let g = *group_of
                .entry(program.reads(leaves, &tile))
                .or_insert_with(|| {
                    groups.push(Vec::new());
                    groups.len() - 1
                });
            groups[g].push((b, tile));
        }
    }
    groups.into_iter().flatten().collect()
}

/// The block of `shape` that `tree` computes from `leaves`.
fn fused_block(tree: &Tree, shape: &[usize], leaves: &[Arc<Chunk>]) -> Result<Chunk, OpError> {
    tree.check(leaves, shape)?;
    let program = Program::compile(tree, leaves)?;
    let mut evaluation = Evaluation::new(&program, leaves, TILE * TILE);
    let strides = c_strides(shape);
    let mut out = with_dtype!(program.dtype(), T => {
        T::chunk(ArrayD::from_elem(IxDyn(shape), T::from_i64(0)))
    });
    for tile in tiles(shape, tree.transposes()) {
        evaluation.tile(&tile, &mut out, Place::of(&strides, &tile));
    }
    Ok(out)
}

/// The tiles of a block of `shape`, in order: `TILE` x `TILE` squares of the last two
/// axes (`square`) or runs of whole rows of about `TILE`² elements, at each index of
/// the leading axes; runs of `TILE`² along a single axis; the whole block when it is
/// 0-d or empty (so an empty block still yields its one, empty, tile).
fn tiles(shape: &[usize], square: bool) -> Vec<Vec<Range<usize>>> {
    let n = shape.len();
    if n == 0 || shape.contains(&0) {
        return vec![shape.iter().map(|&e| 0..e).collect()];
    }
    let steps = |extent: usize, step: usize| {
        (0..extent)
            .step_by(step)
            .map(move |s| s..(s + step).min(extent))
    };
    if n == 1 {
        return steps(shape[0], TILE * TILE).map(|r| vec![r]).collect();
    }
    let (row_step, col_step) = if square {
        (TILE, TILE)
    } else {
        let cols = shape[n - 1].min(TILE * TILE);
        ((TILE * TILE / cols).max(1), cols)
    };
    let mut out = Vec::new();
    let outer: Vec<usize> = shape[..n - 2].to_vec();
    let mut index = vec![0usize; n - 2];
    loop {
        for rows in steps(shape[n - 2], row_step) {
            for cols in steps(shape[n - 1], col_step) {
                let mut tile: Vec<Range<usize>> = index.iter().map(|&i| i..i + 1).collect();
                tile.push(rows.clone());
                tile.push(cols);
                out.push(tile);
            }
        }
        // The next index of the leading axes, last fastest (C order).
        let Some(k) = (0..n - 2).rev().find(|&k| index[k] + 1 < outer[k]) else {
            return out;
        };
        index[k] += 1;
        index[k + 1..].fill(0);
    }
}

/// States merged pairwise as they come: a stack of states, each covering 2^level
/// tiles, merged while the two on top cover as many (a binary counter), so a sum's
/// rounding error grows with log(tiles) rather than with tiles.
struct Fold {
    op: Reduction,
    stack: Vec<(u32, Value)>,
}

impl Fold {
    fn new(op: Reduction) -> Fold {
        Fold {
            op,
            stack: Vec::new(),
        }
    }

    fn push(&mut self, state: Value) -> Result<(), OpError> {
        let mut top = (0, state);
        while let Some((level, _)) = self.stack.last() {
            if *level != top.0 {
                break;
            }
            let (level, below) = self.stack.pop().expect("a state on the stack");
            top = (level + 1, combine(self.op, &[below, top.1])?);
        }
        self.stack.push(top);
        Ok(())
    }

    fn finish(mut self) -> Result<Value, OpError> {
        let (_, mut state) = self
            .stack
            .pop()
            .expect("a state per tile, and a block has at least one tile");
        while let Some((_, below)) = self.stack.pop() {
            state = combine(self.op, &[below, state])?;
        }
        Ok(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zeros(rows: usize, cols: usize) -> Arc<Chunk> {
        Arc::new(f64::chunk(ArrayD::zeros(IxDyn(&[rows, cols]))))
    }

    /// `leaf(a) + leaf(b).T`, a block of `shape`.
    fn plus_transpose(a: usize, b: usize, shape: [usize; 2]) -> Block {
        let leaf = |slot, axes: [usize; 2]| {
            Side::Tree(Box::new(Tree::Leaf {
                slot,
                axes: axes.map(Some).to_vec(),
            }))
        };
        Block {
            tree: Tree::Binary {
                op: BinaryOp::Add,
                x: leaf(a, [0, 1]),
                y: leaf(b, [1, 0]),
            },
            shape: shape.to_vec(),
            start: vec![0, 0],
        }
    }

    /// (block, first row, first column) of each visit.
    fn starts(blocks: &[Block], leaves: &[Arc<Chunk>]) -> Vec<(usize, usize, usize)> {
        let programs: Vec<Program> = blocks
            .iter()
            .map(|b| Program::compile(&b.tree, leaves).unwrap())
            .collect();
        visits(blocks, &programs, leaves)
            .into_iter()
            .map(|(b, tile)| (b, tile[0].start, tile[1].start))
            .collect()
    }

    #[test]
    fn mirrored_blocks_visit_mirrored_tiles_one_after_the_other() {
        // Blocks (i, j) and (j, i) of x + x.T: leaf 0 is x's block (i, j), leaf 1 (j, i).
        let leaves = [zeros(300, 200), zeros(200, 300)];
        let blocks = [
            plus_transpose(0, 1, [300, 200]),
            plus_transpose(1, 0, [200, 300]),
        ];
        let got = starts(&blocks, &leaves);
        let mut want = Vec::new();
        for r in [0, 128, 256] {
            for c in [0, 128] {
                want.extend([(0, r, c), (1, c, r)]);
            }
        }
        assert_eq!(got, want);
    }

    #[test]
    fn a_diagonal_block_visits_a_tile_and_its_mirror_one_after_the_other() {
        let leaves = [zeros(300, 300)];
        let got = starts(&[plus_transpose(0, 0, [300, 300])], &leaves);
        let t = |r: usize, c: usize| (0, r * TILE, c * TILE);
        let want = [
            t(0, 0),
            t(0, 1),
            t(1, 0),
            t(0, 2),
            t(2, 0),
            t(1, 1),
            t(1, 2),
            t(2, 1),
            t(2, 2),
        ];
        assert_eq!(got, want);
    }

    #[test]
    fn a_block_read_in_place_keeps_its_row_order() {
        let leaves = [zeros(300, 40_000)];
        let block = Block {
            tree: Tree::Scale {
                x: Box::new(Tree::Leaf {
                    slot: 0,
                    axes: vec![Some(0), Some(1)],
                }),
                by: Scalar::Float(2.0),
                add: Scalar::Float(1.0),
            },
            shape: vec![300, 40_000],
            start: vec![0, 0],
        };
        let got = starts(&[block], &leaves);
        let want: Vec<_> = (0..300)
            .flat_map(|r| [(0, r, 0), (0, r, TILE * TILE), (0, r, 2 * TILE * TILE)])
            .collect();
        assert_eq!(got, want);
    }
}

//! Lowering: an array expression becomes one task graph of chunk-sized tasks.
//!
//! Each array yields one expression per block. Elementwise work, transposes, windows
//! and rechunks stay expressions — nested calls evaluated inside whichever task
//! consumes them — so a chunk exists only inside the task that needs it (fusion).
//! Reductions, products, top-k and sorts are where blocks meet: they define keys,
//! and tree-shaped ones merge `fan_in` results at a time, which keeps the working set
//! near (workers x fan-in) small results.
//!
//! Every call is built from its op's typed declaration (`wire`), never from a name
//! and a list of loose arguments. Lowering does no I/O: a sort's scratch directory is
//! only named here, and made by the tasks that write into it. An expression shared by
//! several consumers is lowered once, remembered by its `NodeId`.
//! - Before an expression's blocks are lowered, what they will cost (calls and keys,
//!   counted as tasks) is charged against a budget, so an expression too large to
//!   track is an error naming its size before anything is allocated per block.
//! - A sort whose working set fits within the memory limit sorts in memory; a larger
//!   one goes through files (`IN_MEMORY_SORT_FACTOR`).

use std::collections::HashMap;
use std::sync::Arc;

use taskloom_graph::{DType, Expr, GraphBuilder, KeyId, Value};

use crate::array::{Array, Node, NodeId, Operand};
use crate::error::ArrayError;
use crate::grid::{Dims, Grid};
use crate::index::AxisIndex;
use crate::kernels::elementwise::promote::Scalar;
use crate::kernels::elementwise::{AsType, Binary, Compare, Scale, Unary, Where};
use crate::kernels::fill::{Arange, Full, Random};
use crate::kernels::fused::{Block, FusedBlock, FusedPartial, Side, Tree};
use crate::kernels::layout::{Concat, Entry, Slice, Transpose};
use crate::kernels::matmul::Matmul;
use crate::kernels::reduce::arg::ArgPartial;
use crate::kernels::reduce::{Combine, Finish, Partial};
use crate::kernels::scan::Cumsum;
use crate::kernels::sort::{memory, Gather, Partition, ReadSorted, Samples, Sort, Splitters};
use crate::kernels::topk::TopK;
use crate::operation::Reduction;
use crate::ops::After;
use crate::scratch::{Scratch, ScratchRoot};
use crate::store::ops::{Read, ReadPartial, ReadRegion};
use crate::wire::Encode;

/// Per block, the expression that makes it and the bytes of chunks its evaluation
/// holds at once (about: inputs plus result).
#[derive(Clone)]
struct Blocks {
    exprs: Vec<Expr>,
    bytes: Vec<u64>,
}

/// A graph being built from array expressions.
pub(crate) struct Lowering {
    builder: GraphBuilder,
    /// Expressions already lowered whose blocks are keys, to be shared.
    lowered: HashMap<NodeId, Blocks>,
    next_id: usize,
    fan_in: usize,
    /// Where out-of-core sorts keep their buckets, named by the first sort lowered.
    scratch: Option<ScratchRoot>,
    /// The most bytes of chunks one task holds: what bounds memory per worker.
    task_bytes: u64,
    /// The largest chunk a task makes, in bytes: what must fit in memory at all.
    chunk_bytes: u64,
    /// Tasks (and fused calls) that may still be lowered.
    budget: u128,
    /// The engine's bound on the bytes of chunks held at once: what decides whether a
    /// sort may hold its whole input in memory.
    memory_limit: u64,
}

impl Lowering {
    /// A lowering that makes at most `max_tasks` tasks and fused calls, for an engine
    /// that holds at most `memory_limit` bytes of chunks at once.
    pub(crate) fn new(fan_in: usize, max_tasks: u64, memory_limit: u64) -> Lowering {
        Lowering {
            builder: GraphBuilder::new(),
            lowered: HashMap::new(),
            next_id: 0,
            fan_in: fan_in.max(2),
            scratch: None,
            task_bytes: 0,
            chunk_bytes: 0,
            budget: max_tasks.into(),
            memory_limit,
        }
    }

    /// Defines one key per block of `array` (a block already a key is reused) and
    /// returns them in C order.
    pub(crate) fn block_keys(&mut self, array: &Array) -> Result<Vec<KeyId>, ArrayError> {
        let blocks = self.blocks(array)?;
        let label = self.label("block");
        let grid = array.grid.clone();
        blocks
            .exprs
            .into_iter()
            .zip(blocks.bytes)
            .zip(grid.block_indices())
            .map(|((expr, bytes), index)| match expr {
                Expr::Ref(key) => Ok(key),
                expr => Ok(self.define(&label, &index, expr, bytes)),
            })
            .collect()
    }

    /// Defines one key per block: `f(index, block expression)`, e.g. a write.
    pub(crate) fn sink(
        &mut self,
        array: &Array,
        label: &str,
        f: impl Fn(&mut GraphBuilder, &[usize], Expr) -> Expr,
    ) -> Result<Vec<KeyId>, ArrayError> {
        let blocks = self.blocks(array)?;
        let label = self.label(label);
        let mut keys = Vec::with_capacity(blocks.exprs.len());
        for ((expr, bytes), index) in blocks
            .exprs
            .into_iter()
            .zip(blocks.bytes)
            .zip(array.grid.block_indices())
        {
            let expr = f(&mut self.builder, &index, expr);
            keys.push(self.define(&label, &index, expr, bytes));
        }
        Ok(keys)
    }

    /// Defines a key named `name` bound to `expr`.
    pub(crate) fn define_named(&mut self, name: &str, expr: Expr) -> KeyId {
        self.builder
            .define(name, &expr)
            .expect("lowering names keys uniquely")
    }

    /// What calls are built with.
    pub(crate) fn builder(&mut self) -> &mut GraphBuilder {
        &mut self.builder
    }

    /// The finished graph, the scratch directory its sorts use (if any), and the
    /// most bytes of chunks one of its tasks holds.
    pub(crate) fn finish(self) -> (taskloom_graph::Graph, Option<ScratchRoot>, u64) {
        let graph = self
            .builder
            .finish()
            .expect("lowering defines every key it refers to");
        (graph, self.scratch, self.task_bytes)
    }

    /// The largest chunk, in bytes, of any expression lowered so far.
    pub(crate) fn chunk_bytes(&self) -> u64 {
        self.chunk_bytes
    }

    /// Takes what lowering `array`'s blocks costs out of the budget, or says why it
    /// does not fit.
    fn charge(&mut self, array: &Array) -> Result<(), ArrayError> {
        let cost = cost(array);
        if cost > self.budget {
            return Err(ArrayError::invalid(format!(
                "computing an array of shape {} in chunks of {} takes about {cost} tasks, \
                 more than the {} left of what one run can track in memory; use larger chunks",
                Dims(array.shape()),
                Dims(array.chunks()),
                self.budget
            )));
        }
        self.budget -= cost;
        let chunk: u128 = array.chunks().iter().map(|&c| c as u128).product();
        // At most `MAX_ELEMENTS` (checked by the grid) times 8 bytes: fits.
        let chunk = (chunk * array.dtype.size() as u128) as u64;
        self.chunk_bytes = self.chunk_bytes.max(chunk);
        Ok(())
    }

    fn label(&mut self, what: &str) -> String {
        self.next_id += 1;
        format!("{what}-{}", self.next_id)
    }

    fn define(&mut self, label: &str, index: &[usize], expr: Expr, bytes: u64) -> KeyId {
        self.task_bytes = self.task_bytes.max(bytes);
        let index: Vec<String> = index.iter().map(usize::to_string).collect();
        let name = format!("{label}[{}]", index.join(","));
        self.define_named(&name, expr)
    }

    fn blocks(&mut self, array: &Array) -> Result<Blocks, ArrayError> {
        if let Some(blocks) = self.lowered.get(&array.id) {
            return Ok(blocks.clone());
        }
        let blocks = self.lower(array)?;
        // Only blocks that are keys are worth sharing; fused expressions are
        // re-evaluated by each consumer rather than held in memory between them.
        if blocks.exprs.iter().all(|e| matches!(e, Expr::Ref(_))) {
            self.lowered.insert(array.id, blocks.clone());
        }
        Ok(blocks)
    }

    fn lower(&mut self, array: &Array) -> Result<Blocks, ArrayError> {
        self.charge(array)?;
        if is_nested_elementwise(&array.node) {
            return self.fused_blocks(array);
        }
        let grid = &array.grid;
        let dtype = array.dtype;
        let each = |this: &mut Lowering, f: &mut dyn FnMut(&mut Lowering, &[usize]) -> Expr| {
            let mut exprs = Vec::new();
            let mut bytes = Vec::new();
            for index in grid.block_indices() {
                exprs.push(f(this, &index));
                bytes.push(block_bytes(array, &index));
            }
            Blocks { exprs, bytes }
        };
        Ok(match &*array.node {
            Node::Read { path, .. } => each(self, &mut |this, index| {
                Read {
                    path: path.clone(),
                    index: index.to_vec(),
                }
                .encode(&mut this.builder)
            }),
            Node::Full { value } => each(self, &mut |this, index| {
                Full {
                    dtype,
                    shape: grid.block_shape(index),
                    value: *value,
                }
                .encode(&mut this.builder)
            }),
            Node::Arange => each(self, &mut |this, index| {
                Arange {
                    dtype,
                    array: grid.shape().to_vec(),
                    start: grid.block_start(index),
                    block: grid.block_shape(index),
                }
                .encode(&mut this.builder)
            }),
            Node::Memory { values } => each(self, &mut |this, index| {
                let start = grid.block_start(index);
                let entries = start
                    .iter()
                    .zip(grid.block_shape(index))
                    .map(|(&start, len)| Entry::Range {
                        start,
                        stop: start + len,
                        step: 1,
                    })
                    .collect();
                Slice {
                    x: Expr::Value(Value::Chunk(Arc::clone(values))),
                    index: entries,
                }
                .encode(&mut this.builder)
            }),
            Node::Random { seed } => each(self, &mut |this, index| {
                Random {
                    seed: *seed,
                    block: grid.linear(index),
                    shape: grid.block_shape(index),
                    dtype,
                }
                .encode(&mut this.builder)
            }),
            Node::Unary { op, x } => self.map_blocks(array, x, |this, x| {
                Unary { op: *op, x }.encode(&mut this.builder)
            })?,
            Node::Scale { x, by, add } => self.map_blocks(array, x, |this, x| {
                Scale {
                    x,
                    by: *by,
                    add: *add,
                }
                .encode(&mut this.builder)
            })?,
            Node::AsType { x } => self.map_blocks(array, x, |this, x| {
                AsType { x, dtype }.encode(&mut this.builder)
            })?,
            Node::Binary { op, x, y } => self.elementwise(array, &[x, y], |b, mut e| {
                let (y, x) = (
                    e.pop().expect("two operands"),
                    e.pop().expect("two operands"),
                );
                Binary { op: *op, x, y }.encode(b)
            })?,
            Node::Compare { op, x, y } => self.elementwise(array, &[x, y], |b, mut e| {
                let (y, x) = (
                    e.pop().expect("two operands"),
                    e.pop().expect("two operands"),
                );
                Compare { op: *op, x, y }.encode(b)
            })?,
            Node::Where { cond, x, y } => {
                let cond = Operand::Array(cond.clone());
                self.elementwise(array, &[&cond, x, y], |b, mut e| {
                    let y = e.pop().expect("three operands");
                    let x = e.pop().expect("three operands");
                    let cond = e.pop().expect("three operands");
                    Where { cond, x, y }.encode(b)
                })?
            }
            Node::Cumsum { x, axis } => self.cumsum(array, x, *axis)?,
            Node::Transpose { x, axes } => self.transpose(array, x, axes)?,
            Node::Window { x, index } => self.window(array, x, index)?,
            Node::Reduce { op, axis, x } => self.reduce(array, *op, *axis, x)?,
            Node::Matmul { a, b } => self.matmul(array, a, b)?,
            Node::TopK { x, k, largest } => self.topk(x, *k, *largest)?,
            Node::Sort { x, descending } => self.sort(array, x, *descending)?,
        })
    }

    /// Blocks of `out` made from the same-numbered blocks of `x`, one call each.
    fn map_blocks(
        &mut self,
        out: &Array,
        x: &Array,
        mut f: impl FnMut(&mut Lowering, Expr) -> Expr,
    ) -> Result<Blocks, ArrayError> {
        let input = self.blocks(x)?;
        let exprs = input.exprs.into_iter().map(|e| f(self, e)).collect();
        let bytes = input
            .bytes
            .iter()
            .zip(out.grid.block_indices())
            .map(|(b, index)| b + block_bytes(out, &index))
            .collect();
        Ok(Blocks { exprs, bytes })
    }

    /// Blocks of `out` made by `call` from the operands' expressions for each block,
    /// in order, each operand broadcast to `out`.
    fn elementwise(
        &mut self,
        out: &Array,
        operands: &[&Operand],
        call: impl Fn(&mut GraphBuilder, Vec<Expr>) -> Expr,
    ) -> Result<Blocks, ArrayError> {
        let aligned = operands
            .iter()
            .map(|o| self.aligned(o, &out.grid))
            .collect::<Result<Vec<_>, _>>()?;
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for (n, index) in out.grid.block_indices().enumerate() {
            let mut held = block_bytes(out, &index);
            let args = aligned
                .iter()
                .map(|operand| {
                    let (expr, b) = operand(n, &index);
                    held += b;
                    expr
                })
                .collect();
            exprs.push(call(&mut self.builder, args));
            bytes.push(held);
        }
        Ok(Blocks { exprs, bytes })
    }

    /// For each output block (numbered and indexed), the operand's expression for it:
    /// a scalar as itself; an array re-cut, if need be, to the output's chunks along
    /// the axes it spans, and its one block along axes it stretches.
    #[allow(clippy::type_complexity)]
    fn aligned(
        &mut self,
        operand: &Operand,
        out: &Grid,
    ) -> Result<Box<dyn Fn(usize, &[usize]) -> (Expr, u64)>, ArrayError> {
        let a = match operand {
            Operand::Scalar(v) => {
                let v = v.clone();
                return Ok(Box::new(move |_, _| (Expr::Value(v.clone()), 0)));
            }
            Operand::Array(a) => a,
        };
        let offset = out.ndim() - a.ndim();
        let spans = |axis: usize| a.shape()[axis] == out.shape()[axis + offset];
        let chunks: Vec<usize> = (0..a.ndim())
            .map(|axis| {
                if spans(axis) {
                    out.chunks()[axis + offset]
                } else {
                    a.chunks()[axis]
                }
            })
            .collect();
        let a = a.rechunk(&chunks)?;
        let blocks = self.blocks(&a)?;
        let spanned: Vec<bool> = (0..a.ndim()).map(spans).collect();
        let grid = a.grid.clone();
        Ok(Box::new(move |_, out_index| {
            let index: Vec<usize> = (0..grid.ndim())
                .map(|axis| {
                    if spanned[axis] {
                        out_index[axis + offset]
                    } else {
                        0
                    }
                })
                .collect();
            let n = grid.linear(&index);
            (blocks.exprs[n].clone(), blocks.bytes[n])
        }))
    }

    fn transpose(&mut self, out: &Array, x: &Array, axes: &[usize]) -> Result<Blocks, ArrayError> {
        let input = self.blocks(x)?;
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for index in out.grid.block_indices() {
            let mut source = vec![0; axes.len()];
            for (k, &a) in axes.iter().enumerate() {
                source[a] = index[k];
            }
            let n = x.grid.linear(&source);
            let transpose = Transpose {
                x: input.exprs[n].clone(),
                axes: Some(axes.to_vec()),
            };
            exprs.push(transpose.encode(&mut self.builder));
            bytes.push(input.bytes[n] + block_bytes(out, &index));
        }
        Ok(Blocks { exprs, bytes })
    }

    /// Each output block gathers the pieces of the input blocks it overlaps: a slice
    /// of each, concatenated.
    fn window(
        &mut self,
        out: &Array,
        x: &Array,
        index: &[AxisIndex],
    ) -> Result<Blocks, ArrayError> {
        let input = self.blocks(x)?;
        let kept: Vec<usize> = (0..index.len())
            .filter(|&a| matches!(index[a], AxisIndex::Range { .. }))
            .collect();
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for out_index in out.grid.block_indices() {
            let start = out.grid.block_start(&out_index);
            let shape = out.grid.block_shape(&out_index);
            // Per input axis: the (input block, local slice) pieces it needs.
            let per_axis: Vec<Vec<(usize, Entry)>> = (0..index.len())
                .map(|axis| {
                    let chunk = x.chunks()[axis];
                    match index[axis] {
                        AxisIndex::At(i) => vec![(i / chunk, Entry::Index(i % chunk))],
                        AxisIndex::Range { start: s, step, .. } => {
                            let k = kept.iter().position(|&a| a == axis).expect("kept axis");
                            let (o0, o1) = (start[k], start[k] + shape[k]);
                            pieces_along(s, step, o0, o1, chunk, x.shape()[axis])
                        }
                    }
                })
                .collect();
            let counts: Vec<usize> = kept.iter().map(|&a| per_axis[a].len()).collect();
            let mut parts = Vec::new();
            let mut part_bytes = 0;
            for choice in cartesian(&per_axis.iter().map(Vec::len).collect::<Vec<_>>()) {
                let source: Vec<usize> = choice
                    .iter()
                    .enumerate()
                    .map(|(axis, &c)| per_axis[axis][c].0)
                    .collect();
                let n = x.grid.linear(&source);
                let whole = choice.iter().enumerate().all(|(axis, &c)| {
                    is_whole(per_axis[axis][c].1, x.grid.block_shape(&source)[axis])
                });
                // A piece read on its own holds its elements; any other, its block.
                let entries = choice
                    .iter()
                    .enumerate()
                    .map(|(axis, &c)| per_axis[axis][c].1);
                part_bytes += match (&*x.node, piece_len(entries)) {
                    (Node::Read { pieces: true, .. }, Some(len)) if !whole => {
                        len * x.dtype.size() as u64
                    }
                    _ => input.bytes[n],
                };
                let block = input.exprs[n].clone();
                let region = || {
                    choice
                        .iter()
                        .enumerate()
                        .map(|(axis, &c)| per_axis[axis][c].1)
                        .collect()
                };
                parts.push(match &*x.node {
                    _ if whole => block,
                    // Straight from storage: only the piece's bytes are read.
                    Node::Read { path, .. } => ReadRegion {
                        path: path.clone(),
                        index: source,
                        region: region(),
                    }
                    .encode(&mut self.builder),
                    _ => Slice {
                        x: block,
                        index: region(),
                    }
                    .encode(&mut self.builder),
                });
            }
            exprs.push(if parts.len() == 1 {
                parts.pop().expect("one part")
            } else {
                Concat {
                    grid: counts,
                    parts,
                }
                .encode(&mut self.builder)
            });
            bytes.push(part_bytes + 2 * block_bytes(out, &out_index));
        }
        Ok(Blocks { exprs, bytes })
    }

    fn reduce(
        &mut self,
        out: &Array,
        op: Reduction,
        axis: Option<usize>,
        x: &Array,
    ) -> Result<Blocks, ArrayError> {
        let label = self.label(&format!("{}-partial", op.name()));
        // Elementwise work: tile by tile, with no chunk-sized intermediates (a plain
        // reduction of a leaf keeps its own, streaming, path).
        let partials = if is_fusable(&x.node) {
            self.fused_partials(op, axis, x)?
        } else {
            self.partials(op, axis, x)?
        };
        let mut groups: Vec<Vec<Expr>> = vec![Vec::new(); out.grid.num_blocks()];
        for (index, partial, bytes) in partials {
            let key = self.define(&label, &index, partial, bytes);
            let out_index: Vec<usize> = match axis {
                None => vec![],
                Some(k) => index
                    .iter()
                    .enumerate()
                    .filter(|&(a, _)| a != k)
                    .map(|(_, &i)| i)
                    .collect(),
            };
            groups[out.grid.linear(&out_index)].push(Expr::Ref(key));
        }
        let mut exprs = Vec::new();
        for (mut group, index) in groups.into_iter().zip(out.grid.block_indices()) {
            if group.is_empty() {
                // Nothing to reduce (a zero extent): the partial of an empty block.
                let mut shape = out.grid.block_shape(&index);
                shape.insert(axis.unwrap_or(0).min(shape.len()), 0);
                let empty = self.zeros(x.dtype, shape);
                let partial = Partial { op, x: empty, axis };
                group.push(partial.encode(&mut self.builder));
            }
            let root = self.tree(&format!("{}-combine", op.name()), group, |b, states| {
                Combine { op, states }.encode(b)
            });
            let finish = Finish {
                op,
                state: root,
                axis,
                dtype: x.dtype,
            };
            exprs.push(finish.encode(&mut self.builder));
        }
        let bytes = out
            .grid
            .block_indices()
            .map(|i| block_bytes(out, &i))
            .collect();
        Ok(Blocks { exprs, bytes })
    }

    /// Per block of `x`, in C order, its index, the call making its reduction state and
    /// the bytes it holds: straight from storage a slab at a time where it can, else
    /// from the block's expression.
    fn partials(
        &mut self,
        op: Reduction,
        axis: Option<usize>,
        x: &Array,
    ) -> Result<Vec<(Vec<usize>, Expr, u64)>, ArrayError> {
        let input = self.blocks(x)?;
        // Straight from storage, along rows: read and reduce a slab at a time (but a
        // position needs the whole block's place).
        let streamed = match &*x.node {
            Node::Read { path, .. } if matches!(axis, None | Some(0)) && !op.is_arg() => Some(path),
            _ => None,
        };
        let mut partials = Vec::new();
        for ((expr, bytes), index) in input
            .exprs
            .into_iter()
            .zip(input.bytes)
            .zip(x.grid.block_indices())
        {
            let (call, bytes) = match streamed {
                Some(path) => {
                    let read = ReadPartial {
                        path: path.clone(),
                        index: index.clone(),
                        op,
                        axis,
                    };
                    (read.encode(&mut self.builder), STREAMED_BYTES)
                }
                None if op.is_arg() => {
                    let partial = ArgPartial {
                        op,
                        x: expr,
                        axis,
                        start: x.grid.block_start(&index),
                        shape: x.shape().to_vec(),
                    };
                    (partial.encode(&mut self.builder), bytes)
                }
                None => {
                    let partial = Partial { op, x: expr, axis };
                    (partial.encode(&mut self.builder), bytes)
                }
            };
            partials.push((index, call, bytes));
        }
        Ok(partials)
    }

    /// The calls reducing `x` (an elementwise tree) along `axis` (or over everything)
    /// tile by tile from its leaves' blocks, each named by the first block it reduces,
    /// and the bytes of those blocks. Blocks that read the same leaf blocks and reduce
    /// into the same output block (over everything, `x + x.T` at (i, j) and (j, i))
    /// are reduced by one call, which makes each leaf block once.
    fn fused_partials(
        &mut self,
        op: Reduction,
        axis: Option<usize>,
        x: &Array,
    ) -> Result<Vec<(Vec<usize>, Expr, u64)>, ArrayError> {
        let (tree, leaves) = self.fused_leaves(x)?;
        // Per set of leaf blocks read and output block, the blocks, in C order.
        type Group = (Vec<LeafBlock>, Vec<usize>);
        let mut groups: Vec<(Group, Vec<Vec<usize>>)> = Vec::new();
        let mut group_of: HashMap<Group, usize> = HashMap::new();
        for index in x.grid.block_indices() {
            let mut out = index.clone();
            match axis {
                None => out.clear(),
                Some(k) => out[k] = 0,
            }
            let group = (read_blocks(&leaves, &index), out);
            let g = *group_of.entry(group.clone()).or_insert_with(|| {
                groups.push((group, Vec::new()));
                groups.len() - 1
            });
            groups[g].1.push(index);
        }
        let mut partials = Vec::new();
        for ((read, _), indices) in groups {
            let (args, bytes) = leaf_args(&leaves, &read);
            let blocks = indices
                .iter()
                .map(|index| Block {
                    tree: tree.renumbered(&slots(&leaves, &read, index)),
                    shape: x.grid.block_shape(index),
                    start: x.grid.block_start(index),
                })
                .collect();
            let call = FusedPartial {
                op,
                axis,
                shape: x.shape().to_vec(),
                blocks,
                leaves: args,
            };
            partials.push((indices[0].clone(), call.encode(&mut self.builder), bytes));
        }
        Ok(partials)
    }

    /// The blocks of `array` (elementwise work), each one `array.fused_block` call
    /// from the leaf blocks it reads, so no chunk-sized intermediate is made.
    fn fused_blocks(&mut self, array: &Array) -> Result<Blocks, ArrayError> {
        let (tree, leaves) = self.fused_leaves(array)?;
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for index in array.grid.block_indices() {
            let read = read_blocks(&leaves, &index);
            let (args, held) = leaf_args(&leaves, &read);
            let call = FusedBlock {
                tree: tree.renumbered(&slots(&leaves, &read, &index)),
                shape: array.grid.block_shape(&index),
                leaves: args,
            };
            exprs.push(call.encode(&mut self.builder));
            bytes.push(held + block_bytes(array, &index));
        }
        Ok(Blocks { exprs, bytes })
    }

    /// The fused tree computing `x` and its leaves, each cut into `x`'s blocks along
    /// the axes it is read by, with its blocks.
    fn fused_leaves(&mut self, x: &Array) -> Result<(Tree, Vec<LoweredLeaf>), ArrayError> {
        let mut leaves = Vec::new();
        let tree = fused_tree(x, (0..x.ndim()).map(Some).collect(), &mut leaves)?;
        let mut lowered = Vec::new();
        for leaf in leaves {
            let mut chunks = leaf.array.chunks().to_vec();
            for (r, axis) in leaf.axes.iter().enumerate() {
                if let Some(s) = *axis {
                    chunks[s] = x.chunks()[r];
                }
            }
            let array = leaf.array.rechunk(&chunks)?;
            let blocks = self.blocks(&array)?;
            lowered.push(LoweredLeaf {
                array,
                axes: leaf.axes,
                blocks,
            });
        }
        Ok((tree, lowered))
    }

    /// Each block's running sum along `axis` plus its carry: the sum of the blocks
    /// before it along the axis, a chain of small tasks (a sum state per block, added
    /// to the carry before it), so blocks scan in parallel once their carry is known.
    /// Blocks are read twice (for their sums and for their scan) rather than held.
    fn cumsum(&mut self, out: &Array, x: &Array, axis: usize) -> Result<Blocks, ArrayError> {
        let input = self.blocks(x)?;
        let label = self.label("cumsum");
        let streamed = match &*x.node {
            Node::Read { path, .. } if axis == 0 => Some(path),
            _ => None,
        };
        // Per block, in C order: the carry key of the blocks before it along the axis.
        let mut carries: Vec<Option<Expr>> = vec![None; input.exprs.len()];
        for index in x.grid.block_indices() {
            if index[axis] + 1 == x.grid.blocks()[axis] {
                continue;
            }
            let n = x.grid.linear(&index);
            let (total, held) = match streamed {
                Some(path) => {
                    let read = ReadPartial {
                        path: path.clone(),
                        index: index.clone(),
                        op: Reduction::Sum,
                        axis: Some(axis),
                    };
                    (read.encode(&mut self.builder), STREAMED_BYTES)
                }
                None => {
                    let partial = Partial {
                        op: Reduction::Sum,
                        x: input.exprs[n].clone(),
                        axis: Some(axis),
                    };
                    (partial.encode(&mut self.builder), input.bytes[n])
                }
            };
            let carry = match &carries[n] {
                Some(before) => Combine {
                    op: Reduction::Sum,
                    states: vec![before.clone(), total],
                }
                .encode(&mut self.builder),
                None => total,
            };
            let key = self.define(&label, &index, carry, held);
            let mut next = index.clone();
            next[axis] += 1;
            carries[x.grid.linear(&next)] = Some(Expr::Ref(key));
        }
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for ((expr, carry), index) in input
            .exprs
            .into_iter()
            .zip(carries)
            .zip(out.grid.block_indices())
        {
            bytes.push(input.bytes[exprs.len()] + block_bytes(out, &index));
            exprs.push(
                Cumsum {
                    x: expr,
                    axis,
                    carry,
                }
                .encode(&mut self.builder),
            );
        }
        Ok(Blocks { exprs, bytes })
    }

    /// Merges `inputs` with `merge` calls of at most `fan_in` inputs each, level by
    /// level, until one remains.
    fn tree(
        &mut self,
        what: &str,
        mut inputs: Vec<Expr>,
        merge: impl Fn(&mut GraphBuilder, Vec<Expr>) -> Expr,
    ) -> Expr {
        if inputs.len() == 1 {
            return inputs.pop().expect("one input");
        }
        let label = self.label(what);
        let mut level = 0;
        while inputs.len() > 1 {
            let mut next = Vec::new();
            for (i, group) in inputs.chunks(self.fan_in).enumerate() {
                let expr = merge(&mut self.builder, group.to_vec());
                next.push(Expr::Ref(self.define(&label, &[level, i], expr, 0)));
            }
            inputs = next;
            level += 1;
        }
        inputs.pop().expect("one root")
    }

    /// A call making a chunk of zeros: the value of an empty block, or of a sum of no
    /// products.
    fn zeros(&mut self, dtype: DType, shape: Vec<usize>) -> Expr {
        let full = Full {
            dtype,
            shape,
            value: Scalar::Int(0),
        };
        full.encode(&mut self.builder)
    }

    /// C[i, j] accumulates A[i, k] @ B[k, j] over k in a chain of tasks, each summing
    /// the products of as many block pairs as `MATMUL_STEP_SHARE` lets it hold.
    fn matmul(&mut self, out: &Array, a: &Array, b: &Array) -> Result<Blocks, ArrayError> {
        let ab = self.blocks(a)?;
        let bb = self.blocks(b)?;
        let label = self.label("matmul");
        let depth = a.grid.blocks()[1];
        let budget = self.memory_limit / MATMUL_STEP_SHARE;
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for index in out.grid.block_indices() {
            let (i, j) = (index[0], index[1]);
            let mut acc = None;
            let mut k = 0;
            while k < depth {
                let first = k;
                let mut operands = Vec::new();
                let mut held = 2 * block_bytes(out, &index);
                // At least one pair; more while their blocks stay within the budget.
                while k < depth {
                    let (na, nb) = (a.grid.linear(&[i, k]), b.grid.linear(&[k, j]));
                    let pair = ab.bytes[na] + bb.bytes[nb];
                    if k > first && held + pair > budget {
                        break;
                    }
                    held += pair;
                    operands.push(ab.exprs[na].clone());
                    operands.push(bb.exprs[nb].clone());
                    k += 1;
                }
                let mut operands = operands.into_iter();
                let product = Matmul {
                    a: operands.next().expect("one pair"),
                    b: operands.next().expect("one pair"),
                    acc,
                    more: operands.collect(),
                };
                let expr = product.encode(&mut self.builder);
                acc = Some(Expr::Ref(self.define(&label, &[i, j, first], expr, held)));
            }
            exprs.push(match acc {
                Some(acc) => acc,
                // (n, 0) @ (0, m): a sum of no products.
                None => self.zeros(out.dtype, out.grid.block_shape(&index)),
            });
            bytes.push(block_bytes(out, &index));
        }
        Ok(Blocks { exprs, bytes })
    }

    fn topk(&mut self, x: &Array, k: usize, largest: bool) -> Result<Blocks, ArrayError> {
        let input = self.blocks(x)?;
        let label = self.label("topk");
        let mut partials = Vec::new();
        for ((expr, bytes), index) in input
            .exprs
            .into_iter()
            .zip(input.bytes)
            .zip(x.grid.block_indices())
        {
            let top = TopK {
                k,
                largest,
                parts: vec![expr],
            };
            let call = top.encode(&mut self.builder);
            partials.push(Expr::Ref(self.define(&label, &index, call, bytes)));
        }
        if partials.is_empty() {
            partials.push(self.zeros(x.dtype, vec![0]));
        }
        let root = self.tree("topk-merge", partials, |b, parts| {
            TopK { k, largest, parts }.encode(b)
        });
        Ok(Blocks {
            exprs: vec![root],
            bytes: vec![(k * x.dtype.size()) as u64],
        })
    }

    /// A sort of one block in one task; of more, a sample sort in memory when its
    /// working set fits within the memory limit, through files otherwise.
    fn sort(&mut self, out: &Array, x: &Array, descending: bool) -> Result<Blocks, ArrayError> {
        let input = self.blocks(x)?;
        if input.exprs.len() <= 1 {
            let exprs = input
                .exprs
                .into_iter()
                .map(|x| Sort { x, descending }.encode(&mut self.builder))
                .collect();
            let bytes = input.bytes.iter().map(|b| 2 * b).collect();
            return Ok(Blocks { exprs, bytes });
        }
        if x.nbytes().saturating_mul(IN_MEMORY_SORT_FACTOR) <= self.memory_limit {
            Ok(self.sort_in_memory(out, x, input, descending))
        } else {
            Ok(self.sort_on_disk(out, x, input, descending))
        }
    }

    /// A sample sort in memory: pick splitters from a sample of every block, group
    /// each block's values by bucket, sort each bucket, and slice each output block
    /// out of the sorted buckets.
    fn sort_in_memory(
        &mut self,
        out: &Array,
        x: &Array,
        input: Blocks,
        descending: bool,
    ) -> Blocks {
        let label = self.label("sort");
        // The splitters and the partition both read a block: computed once, held.
        let mut blocks = Vec::new();
        for (b, (expr, bytes)) in input.exprs.into_iter().zip(input.bytes).enumerate() {
            blocks.push(match expr {
                Expr::Ref(_) => expr,
                expr => Expr::Ref(self.define(&format!("{label}-block"), &[b], expr, bytes)),
            });
        }
        let buckets = sort_buckets(blocks.len(), x.nbytes());
        let call = memory::Splitters {
            buckets,
            descending,
            blocks: blocks.clone(),
        }
        .encode(&mut self.builder);
        let splitters = Expr::Ref(self.define(&format!("{label}-splitters"), &[], call, 0));
        let mut parts = Vec::new();
        for (b, block) in blocks.into_iter().enumerate() {
            let call = memory::Partition {
                x: block,
                splitters: splitters.clone(),
                descending,
            }
            .encode(&mut self.builder);
            let held = 2 * block_bytes(x, &[b]);
            parts.push(Expr::Ref(self.define(
                &format!("{label}-partition"),
                &[b],
                call,
                held,
            )));
        }
        // A bucket's keys and their radix copy; the sorted values take one of the two.
        let held = 2 * x.nbytes().div_ceil(buckets as u64);
        let mut sorted = Vec::new();
        for bucket in 0..buckets {
            let call = memory::Gather {
                bucket,
                descending,
                parts: parts.clone(),
            }
            .encode(&mut self.builder);
            sorted.push(Expr::Ref(self.define(
                &format!("{label}-gather"),
                &[bucket],
                call,
                held,
            )));
        }
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for index in out.grid.block_indices() {
            let read = memory::Read {
                start: out.grid.block_start(&index)[0],
                len: out.grid.block_shape(&index)[0],
                buckets: sorted.clone(),
            };
            exprs.push(read.encode(&mut self.builder));
            bytes.push(block_bytes(out, &index));
        }
        Blocks { exprs, bytes }
    }

    /// A sample sort through files: sample each block, pick splitters, partition
    /// every block into buckets on disk, sort each bucket, and read each output block
    /// back from the sorted buckets.
    fn sort_on_disk(&mut self, out: &Array, x: &Array, input: Blocks, descending: bool) -> Blocks {
        let dtype = x.dtype;
        let n = input.exprs.len();
        let label = self.label("sort");
        let dir = self
            .scratch
            .get_or_insert_with(ScratchRoot::new)
            .path()
            .join(&label);
        let mut samples = Vec::new();
        for (b, expr) in input.exprs.iter().enumerate() {
            let len = x.grid.block_shape(&[b])[0];
            let call = Samples {
                x: expr.clone(),
                n: len.min(256),
            }
            .encode(&mut self.builder);
            samples.push(Expr::Ref(self.define(
                &format!("{label}-samples"),
                &[b],
                call,
                input.bytes[b],
            )));
        }
        let call = Splitters {
            buckets: n,
            samples,
        }
        .encode(&mut self.builder);
        let splitters = Expr::Ref(self.define(&format!("{label}-splitters"), &[], call, 0));
        let mut parts = Vec::new();
        for (block, x) in input.exprs.into_iter().enumerate() {
            // Each partition makes the directory it writes to (a no-op once made).
            let made = Scratch { dir: dir.clone() }.encode(&mut self.builder);
            let call = Partition {
                x,
                splitters: splitters.clone(),
                dir: made,
                block,
            }
            .encode(&mut self.builder);
            parts.push(Expr::Ref(self.define(
                &format!("{label}-partition"),
                &[block],
                call,
                2 * input.bytes[block],
            )));
        }
        let after_partitions = After {
            first: Encode::encode(dir.clone()),
            others: parts,
        }
        .encode(&mut self.builder);
        let mut sizes = Vec::new();
        for bucket in 0..n {
            let call = Gather {
                dir: after_partitions.clone(),
                bucket,
                blocks: n,
                dtype,
                descending,
            }
            .encode(&mut self.builder);
            // A bucket holds about a block; skewed data can make it larger.
            let held = 2 * block_bytes(out, &[0]);
            sizes.push(Expr::Ref(self.define(
                &format!("{label}-gather"),
                &[bucket],
                call,
                held,
            )));
        }
        let mut exprs = Vec::new();
        let mut bytes = Vec::new();
        for index in out.grid.block_indices() {
            let read = ReadSorted {
                dir: dir.clone(),
                start: out.grid.block_start(&index)[0],
                len: out.grid.block_shape(&index)[0],
                dtype,
                descending,
                sizes: sizes.clone(),
            };
            exprs.push(read.encode(&mut self.builder));
            bytes.push(block_bytes(out, &index));
        }
        Blocks { exprs, bytes }
    }
}

/// The share of the memory limit one matmul task's blocks may take: the block pairs
/// it multiplies (at least one) and its running sum. More pairs per task mean fewer
/// tasks and no copy of the running sum between them (each task starts from a copy
/// of the one before: the shared result cannot be written); an eighth leaves the
/// other workers' tasks and the blocks waiting for their consumers the rest.
const MATMUL_STEP_SHARE: u64 = 8;

/// How many times its input's bytes a sort in memory may hold at its peak: the
/// partitioned blocks and the sorted buckets (twice the input) while the last buckets
/// sort, plus each worker's bucket keys and their radix copy, with room for buckets a
/// skewed sample makes larger. A sort is done in memory when this much fits within the
/// memory limit, through files otherwise.
const IN_MEMORY_SORT_FACTOR: u64 = 3;

/// Bytes of values per bucket of a sort in memory: a bucket's keys and their radix
/// copy (8 MiB) per worker stay within the L3 cache two cores share (32 MiB here), so
/// the radix passes run from cache. Smaller buckets would make more tasks and more
/// references from each output block to them for no gain.
const BUCKET_BYTES: u64 = 4 << 20;

/// The buckets of a sort in memory of `bytes` in `blocks` blocks: one per
/// `BUCKET_BYTES`, at least one per block (so small arrays still sort in parallel),
/// and at most what a bucket table indexes.
fn sort_buckets(blocks: usize, bytes: u64) -> usize {
    let by_size = usize::try_from(bytes.div_ceil(BUCKET_BYTES)).unwrap_or(usize::MAX);
    by_size.max(blocks).min(1 << 16)
}

/// About how many tasks and calls lowering `array`'s own blocks makes (its inputs are
/// charged as they are lowered), counted without overflow.
fn cost(array: &Array) -> u128 {
    let blocks = |a: &Array| a.grid.num_blocks() as u128;
    let per_axis =
        |a: &Array| -> Vec<u128> { a.grid.blocks().iter().map(|&b| b as u128).collect() };
    let product = |v: Vec<u128>| v.into_iter().fold(1u128, u128::saturating_mul);
    let out = blocks(array);
    let own = match &*array.node {
        // A partial per input block, then merge trees (fewer than the partials).
        Node::Reduce { x, .. } | Node::TopK { x, .. } => blocks(x).saturating_mul(2),
        // A product per block pair along the shared axis.
        Node::Matmul { a, .. } => out.saturating_mul(a.grid.blocks()[1] as u128),
        // Each output block gathers the input pieces it overlaps: per axis, at most
        // the blocks of both sides.
        Node::Window { x, index } => {
            let mut pieces: Vec<u128> = Vec::new();
            let (input, output) = (per_axis(x), per_axis(array));
            let mut kept = output.into_iter();
            for (axis, i) in index.iter().enumerate() {
                pieces.push(match i {
                    AxisIndex::At(_) => 1,
                    AxisIndex::Range { .. } => input[axis].saturating_add(kept.next().unwrap_or(0)),
                });
            }
            product(pieces)
        }
        // A carry per block, and the block's scan.
        Node::Cumsum { x, .. } => blocks(x).saturating_mul(2),
        // Every output block names every bucket (its size, on disk), and every bucket
        // every block's part (in memory).
        Node::Sort { x, .. } => {
            let n = blocks(x);
            let buckets = sort_buckets(x.grid.num_blocks(), x.nbytes()) as u128;
            n.saturating_mul(n.max(buckets))
                .saturating_mul(2)
                .saturating_add(4 * n + buckets)
        }
        _ => out,
    };
    own.max(out)
}

/// The block of a leaf read through `axes` that block `index` of a fused tree's root
/// reads: the root's index along the axes read, 0 along the leaf's others (extent 1).
fn source_index(axes: &[Option<usize>], index: &[usize], ndim: usize) -> Vec<usize> {
    let mut source = vec![0; ndim];
    for (r, axis) in axes.iter().enumerate() {
        if let Some(s) = *axis {
            source[s] = index[r];
        }
    }
    source
}

/// A fused tree's leaf cut into the tree's blocks along the axes it is read by, with
/// the axes map and its blocks' expressions.
struct LoweredLeaf {
    array: Array,
    axes: Vec<Option<usize>>,
    blocks: Blocks,
}

/// The leaf blocks that block `index` of a fused tree reads, sorted, each once.
fn read_blocks(leaves: &[LoweredLeaf], index: &[usize]) -> Vec<LeafBlock> {
    let mut read: Vec<LeafBlock> = leaves.iter().map(|l| leaf_block(l, index)).collect();
    read.sort_unstable();
    read.dedup();
    read
}

fn leaf_block(leaf: &LoweredLeaf, index: &[usize]) -> LeafBlock {
    let source = source_index(&leaf.axes, index, leaf.array.ndim());
    (leaf.array.id, leaf.array.grid.linear(&source))
}

/// The expressions of the leaf blocks `read`, in order, and their bytes.
fn leaf_args(leaves: &[LoweredLeaf], read: &[LeafBlock]) -> (Vec<Expr>, u64) {
    let mut args = Vec::new();
    let mut bytes = 0;
    for &(id, n) in read {
        let leaf = leaves
            .iter()
            .find(|l| l.array.id == id)
            .expect("a leaf read");
        args.push(leaf.blocks.exprs[n].clone());
        bytes += leaf.blocks.bytes[n];
    }
    (args, bytes)
}

/// For block `index`, the argument slot (a place in `read`) of each leaf of the tree.
fn slots(leaves: &[LoweredLeaf], read: &[LeafBlock], index: &[usize]) -> Vec<usize> {
    leaves
        .iter()
        .map(|l| {
            let block = leaf_block(l, index);
            read.iter().position(|&r| r == block).expect("a leaf read")
        })
        .collect()
}

/// Whether `node` is elementwise work on other elementwise work or on a transpose:
/// a block better computed fused (`array.fused_block`) than as nested chunk kernels,
/// each of which makes a chunk-sized intermediate. (One op on leaves, broadcasting
/// included, is one chunk kernel already.)
fn is_nested_elementwise(node: &Node) -> bool {
    let fusable = |a: &Array| is_fusable(&a.node);
    let operand = |o: &Operand| matches!(o, Operand::Array(a) if fusable(a));
    match node {
        Node::Unary { x, .. } | Node::Scale { x, .. } | Node::AsType { x } => fusable(x),
        Node::Binary { x, y, .. } | Node::Compare { x, y, .. } => operand(x) || operand(y),
        Node::Where { cond, x, y } => fusable(cond) || operand(x) || operand(y),
        _ => false,
    }
}

/// Whether `node` is elementwise work or a transpose: what a fused tree is made of.
fn is_fusable(node: &Node) -> bool {
    matches!(
        node,
        Node::Unary { .. }
            | Node::Binary { .. }
            | Node::Compare { .. }
            | Node::Where { .. }
            | Node::Scale { .. }
            | Node::AsType { .. }
            | Node::Transpose { .. }
    )
}

/// A block of a fused tree's leaf: the leaf array and the block's number in it.
type LeafBlock = (NodeId, usize);

/// A leaf of a fused tree: the array it reads and, per axis of the tree's root, the
/// leaf axis read there (`None`: broadcast).
struct FusedLeaf {
    array: Array,
    axes: Vec<Option<usize>>,
}

/// The fused tree computing `a`, whose axis `k` the root reads at its axis `r` where
/// `axes[r] == Some(k)`; arrays that are not elementwise work become leaves, in order.
/// Transposes permute the map; broadcasting drops the axes an operand stretches.
fn fused_tree(
    a: &Array,
    axes: Vec<Option<usize>>,
    leaves: &mut Vec<FusedLeaf>,
) -> Result<Tree, ArrayError> {
    let mut sub = |x: &Array| fused_tree(x, axes.clone(), leaves).map(Box::new);
    Ok(match &*a.node {
        Node::Unary { op, x } => Tree::Unary {
            op: *op,
            x: sub(x)?,
        },
        Node::Scale { x, by, add } => Tree::Scale {
            x: sub(x)?,
            by: *by,
            add: *add,
        },
        Node::AsType { x } => Tree::AsType {
            x: sub(x)?,
            dtype: a.dtype,
        },
        Node::Binary { op, x, y } => Tree::Binary {
            op: *op,
            x: fused_side(a, x, &axes, leaves)?,
            y: fused_side(a, y, &axes, leaves)?,
        },
        Node::Compare { op, x, y } => Tree::Compare {
            op: *op,
            x: fused_side(a, x, &axes, leaves)?,
            y: fused_side(a, y, &axes, leaves)?,
        },
        Node::Where { cond, x, y } => {
            let cond = Operand::Array(cond.clone());
            let Side::Tree(cond) = fused_side(a, &cond, &axes, leaves)? else {
                unreachable!("an array operand is a tree")
            };
            Tree::Where {
                cond,
                x: fused_side(a, x, &axes, leaves)?,
                y: fused_side(a, y, &axes, leaves)?,
            }
        }
        Node::Transpose { x, axes: order } => {
            let axes = axes.iter().map(|r| r.map(|k| order[k])).collect();
            fused_tree(x, axes, leaves)?
        }
        _ => {
            leaves.push(FusedLeaf {
                array: a.clone(),
                axes: axes.clone(),
            });
            Tree::Leaf {
                slot: leaves.len() - 1,
                axes,
            }
        }
    })
}

/// An operand of `parent` as a fused tree's side: a scalar, or the operand's tree
/// read through `axes` with the axes it is broadcast along (right-aligned, extent 1
/// where `parent`'s is not) dropped.
fn fused_side(
    parent: &Array,
    operand: &Operand,
    axes: &[Option<usize>],
    leaves: &mut Vec<FusedLeaf>,
) -> Result<Side, ArrayError> {
    match operand {
        Operand::Scalar(v) => Scalar::of(v).map(Side::Scalar).ok_or_else(|| {
            ArrayError::invalid(format!(
                "an elementwise operand must be a number, got {}",
                v.type_name()
            ))
        }),
        Operand::Array(b) => {
            let offset = parent.ndim() - b.ndim();
            let read = |k: usize| k >= offset && b.shape()[k - offset] == parent.shape()[k];
            let axes = axes
                .iter()
                .map(|r| r.filter(|&k| read(k)).map(|k| k - offset))
                .collect();
            Ok(Side::Tree(Box::new(fused_tree(b, axes, leaves)?)))
        }
    }
}

/// What a task reducing a stored chunk a slab at a time holds, at most (a slab and
/// the states of a few dozen slabs).
const STREAMED_BYTES: u64 = 4 << 20;

fn block_bytes(array: &Array, index: &[usize]) -> u64 {
    array.grid.block_shape(index).iter().product::<usize>() as u64 * array.dtype.size() as u64
}

/// Elements in a piece of indices and ranges of step 1 (what `array.read_region`
/// reads alone); `None` for other steps, which read the whole block.
fn piece_len(entries: impl Iterator<Item = Entry>) -> Option<u64> {
    entries
        .map(|entry| match entry {
            Entry::Range {
                start,
                stop,
                step: 1,
            } => Some((stop - start) as u64),
            Entry::Range { .. } => None,
            Entry::Index(_) => Some(1),
        })
        .product()
}

/// Along one axis: the input blocks that output positions `o0..o1` of the range
/// `start, start + step, ...` touch, each with its local slice (a negative step walks
/// the local range from its end, as the slice kernel does).
fn pieces_along(
    start: usize,
    step: isize,
    o0: usize,
    o1: usize,
    chunk: usize,
    extent: usize,
) -> Vec<(usize, Entry)> {
    let stride = step.unsigned_abs();
    let mut pieces = Vec::new();
    let mut o = o0;
    while o < o1 {
        let p = (start as isize + o as isize * step) as usize;
        let block = p / chunk;
        let (lo, hi) = (block * chunk, ((block + 1) * chunk).min(extent));
        // How many more positions stay inside this block, in the walking direction.
        let room = if step > 0 {
            (hi - 1 - p) / stride
        } else {
            (p - lo) / stride
        };
        let last = (o1 - 1).min(o + room);
        let q = (start as isize + last as isize * step) as usize;
        let (first, end) = (p.min(q), p.max(q));
        let slice = Entry::Range {
            start: first - lo,
            stop: end + 1 - lo,
            step,
        };
        pieces.push((block, slice));
        o = last + 1;
    }
    pieces
}

/// Whether a local slice takes all `extent` elements of a block's axis.
fn is_whole(entry: Entry, extent: usize) -> bool {
    entry
        == Entry::Range {
            start: 0,
            stop: extent,
            step: 1,
        }
}

/// Every choice of one index per axis, in C order.
fn cartesian(counts: &[usize]) -> Vec<Vec<usize>> {
    let mut all = vec![vec![]];
    for &n in counts {
        all = all
            .into_iter()
            .flat_map(|prefix: Vec<usize>| {
                (0..n).map(move |i| {
                    let mut next = prefix.clone();
                    next.push(i);
                    next
                })
            })
            .collect();
    }
    all
}

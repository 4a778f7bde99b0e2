//! The store as graph ops. They take paths, not open arrays, so the same graph runs
//! on threads or in worker processes: each process opens an array once (`cache`).

use std::ops::Range;
use std::path::PathBuf;
use std::sync::Arc;

use ndarray::IxDyn;
use taskloom_graph::{with_chunk, Chunk, OpError, Value};

use super::write::PENDING_SUFFIX;
use super::{cache, StoreError};
use crate::kernels::args::{self, Element};
use crate::kernels::layout::{slice, Entry};
use crate::kernels::reduce::{combine, partial};
use crate::operation::Reduction;
use crate::wire::array_op;

array_op! {
    /// `array.read(path, index)`: the chunk at block `index`.
    pub(crate) struct Read = "array.read" {
        path: PathBuf,
        index: Vec<usize>,
    }
    fn run(self) -> OpResult {
        let chunk = cache::get(&self.path).and_then(|array| array.read_chunk(&self.index))?;
        Ok(args::value(chunk))
    }
}

array_op! {
    /// `array.read_region(path, index, region)`: `array.slice(array.read(path, index),
    /// region)`, reading only the region's bytes where the chunk is stored
    /// uncompressed and the region is ranges of step 1 (a rechunk's pieces).
    pub(crate) struct ReadRegion = "array.read_region" {
        path: PathBuf,
        index: Vec<usize>,
        region: Vec<Entry>,
    }
    fn run(self) -> OpResult {
        let array = cache::get(&self.path)?;
        // An index is a range of one, its axis dropped after.
        let ranges: Option<Vec<Range<usize>>> = self
            .region
            .iter()
            .map(|entry| match *entry {
                Entry::Range { start, stop, step: 1 } => Some(start..stop),
                Entry::Index(i) => Some(i..i + 1),
                Entry::Range { .. } => None,
            })
            .collect();
        if let Some(ranges) = ranges {
            if let Some(chunk) = array.read_region(&self.index, &ranges)? {
                let kept: Vec<usize> = self
                    .region
                    .iter()
                    .zip(chunk.shape())
                    .filter(|(entry, _)| matches!(entry, Entry::Range { .. }))
                    .map(|(_, &n)| n)
                    .collect();
                let chunk = with_chunk!(chunk, a => Element::chunk(
                    a.into_shape_with_order(IxDyn(&kept)).expect("the same elements, in C order")
                ));
                return Ok(args::value(chunk));
            }
        }
        let chunk = array.read_chunk(&self.index)?;
        slice(&chunk, &self.region).map(args::value)
    }
}

array_op! {
    /// `array.read_partial(path, index, op, axis)`: `array.partial(op,
    /// array.read(path, index), axis)`, computed a slab of rows at a time where the
    /// chunk is stored uncompressed, so the chunk never sits in memory whole. Slabs are
    /// whole rows, so the axis must be null or 0 (where slab states combine).
    pub(crate) struct ReadPartial = "array.read_partial" {
        path: PathBuf,
        index: Vec<usize>,
        op: Reduction,
        axis: Option<usize>,
    }
    fn run(self) -> OpResult {
        let ReadPartial { path, index, op, axis } = self;
        if !matches!(axis, None | Some(0)) {
            return Err(OpError::new(
                "argument 4 must be null or 0 (slabs are whole rows)",
            ));
        }
        let array = cache::get(&path)?;
        let mut states = Vec::new();
        let streamed = array.for_each_slab(&index, SLAB_BYTES, &mut |slab| {
            states.push(partial(op, &slab, axis)?);
            if states.len() >= MERGE_EVERY {
                let merged = combine(op, &states)?;
                states.clear();
                states.push(merged);
            }
            Ok::<_, OpError>(())
        })?;
        if !streamed || states.is_empty() {
            let chunk = array.read_chunk(&index)?;
            return partial(op, &chunk, axis);
        }
        combine(op, &states)
    }
}

array_op! {
    /// `array.write(temp_path, index, chunk)`: bytes written (the chunk's size in
    /// memory).
    pub(crate) struct Write<C = Arc<Chunk>> = "array.write" {
        path: PathBuf,
        index: Vec<usize>,
        chunk: C,
    }
    fn run(self) -> OpResult {
        let path = self.path.to_string_lossy();
        if !path.ends_with(PENDING_SUFFIX) {
            return Err(OpError::new(format!(
                "{path} is not an array being created (array.write writes only to the \
                 temporary directory of a pending array)"
            )));
        }
        cache::get(&self.path).and_then(|array| array.write_chunk(&self.index, &self.chunk))?;
        Ok(Value::Int(self.chunk.nbytes() as i64))
    }
}

/// Rows read per slab: well inside a core's L2 cache.
const SLAB_BYTES: usize = 512 << 10;

/// Slab states merged into one once there are this many.
const MERGE_EVERY: usize = 64;

impl From<StoreError> for OpError {
    fn from(e: StoreError) -> Self {
        OpError::new(e.to_string())
    }
}

//! Reading part of an uncompressed chunk: the piece of a stored block that a rechunk or
//! a slice needs, without the rest of the block.
//!
//! A misaligned rechunk gathers each output block from pieces of the input blocks it
//! overlaps (up to 8 in 2-D). Reading each whole block to keep a piece reads the array
//! several times over; in the profile of a 4 GiB rechunk, copying whole chunks out of
//! the page cache was 30% of the time. Here only the piece's bytes are read: one
//! `pread` per contiguous run, a run being as much of the file as the piece takes in
//! one stretch (whole rows when the piece spans the trailing axes).

use std::fs::File;
use std::ops::Range;
use std::os::unix::fs::FileExt;

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, DType};

use super::element::Elem;
use super::fast::Fast;
use super::{StoreError, StoredArray};
use crate::grid::c_strides;

impl StoredArray {
    /// Whether `read_region` reads a piece of a block without the rest (the chunks are
    /// stored uncompressed).
    pub(crate) fn reads_pieces(&self) -> bool {
        self.fast() == Some(Fast::Raw)
    }

    /// The elements `region` (one range per axis, within the block) of block `index`;
    /// `None`, having read nothing, when the chunk is not an uncompressed file (or has
    /// none: the fill value): the caller then reads it whole.
    pub(crate) fn read_region(
        &self,
        index: &[usize],
        region: &[Range<usize>],
    ) -> Result<Option<Chunk>, StoreError> {
        self.check_index(index)?;
        let block = self.meta().grid.block_shape(index);
        let within = region.len() == block.len()
            && region
                .iter()
                .zip(&block)
                .all(|(r, &n)| r.start <= r.end && r.end <= n);
        if !self.reads_pieces() || !within || block.is_empty() {
            return Ok(None);
        }
        let Some((f, file)) = self.raw_chunk(index)? else {
            return Ok(None);
        };
        let full = self.meta().grid.chunks().to_vec();
        let read =
            |e: std::io::Error| StoreError::io(file.clone(), format!("reading chunk {index:?}"), e);
        Ok(Some(match self.meta().dtype {
            DType::Float64 => region_of::<f64>(&f, &full, region).map_err(read)?,
            DType::Float32 => region_of::<f32>(&f, &full, region).map_err(read)?,
            DType::Int64 => region_of::<i64>(&f, &full, region).map_err(read)?,
            DType::Int32 => region_of::<i32>(&f, &full, region).map_err(read)?,
            DType::Bool => region_of::<bool>(&f, &full, region).map_err(read)?,
        }))
    }
}

/// Reads `region` of the C-order array of shape `full` in `f`.
fn region_of<T: Elem>(f: &File, full: &[usize], region: &[Range<usize>]) -> std::io::Result<Chunk> {
    let shape: Vec<usize> = region.iter().map(|r| r.end - r.start).collect();
    let mut elements =
        vec![<T::Stored as bytemuck::Zeroable>::zeroed(); shape.iter().product::<usize>()];
    if !elements.is_empty() {
        let size = std::mem::size_of::<T::Stored>();
        let (offsets, len) = runs(full, region);
        for (run, out) in offsets.zip(elements.chunks_mut(len)) {
            f.read_exact_at(bytemuck::cast_slice_mut(out), (run * size) as u64)?;
        }
    }
    let array =
        ArrayD::from_shape_vec(IxDyn(&shape), T::load(elements)).expect("the shape's elements");
    Ok(T::wrap(array))
}

/// The element offsets in the file of the region's runs, in C order, and the elements
/// of each. A run covers the region along the last axis that is not whole and every
/// (whole) axis after it, so it lies in one stretch of the file.
fn runs(full: &[usize], region: &[Range<usize>]) -> (impl Iterator<Item = usize>, usize) {
    let strides = c_strides(full);
    let mut axis = full.len().saturating_sub(1);
    while axis > 0 && region[axis] == (0..full[axis]) {
        axis -= 1;
    }
    let outer = region[..axis].to_vec();
    let (first, len) = (
        region[axis].start * strides[axis],
        region[axis].len() * strides[axis],
    );
    let offsets = (0..outer.iter().map(Range::len).product()).map(move |mut n: usize| {
        // Run `n`'s position along the outer axes, the last fastest.
        let mut offset = first;
        for k in (0..axis).rev() {
            offset += (outer[k].start + n % outer[k].len()) * strides[k];
            n /= outer[k].len();
        }
        offset
    });
    (offsets, len)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets of the runs, and each run's length.
    fn runs(full: &[usize], region: &[Range<usize>]) -> (Vec<usize>, usize) {
        let (offsets, len) = super::runs(full, region);
        (offsets.collect(), len)
    }

    #[test]
    fn runs_cover_the_region_row_by_row_or_in_one_stretch() {
        // Columns 2..5 of rows 1..3 of a 4 x 10 chunk: one run per row.
        assert_eq!(runs(&[4, 10], &[1..3, 2..5]), (vec![12, 22], 3));
        // Whole rows: one run.
        assert_eq!(runs(&[4, 10], &[1..3, 0..10]), (vec![10], 20));
        // 3-D, the last axis whole: one run per position along axis 0.
        assert_eq!(runs(&[2, 3, 4], &[0..2, 1..3, 0..4]), (vec![4, 16], 8));
        // 1-D.
        let line = vec![Range { start: 3, end: 7 }];
        assert_eq!(runs(&[10], &line), (vec![3], 4));
        // An empty range along an outer axis: no run.
        assert_eq!(runs(&[4, 10], &[2..2, 1..3]).0, Vec::<usize>::new());
    }
}

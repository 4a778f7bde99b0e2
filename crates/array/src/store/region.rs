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
        let runs = Runs::new(full, region);
        for (run, out) in runs.zip(elements.chunks_mut(runs_len(full, region))) {
            f.read_exact_at(bytemuck::cast_slice_mut(out), (run * size) as u64)?;
        }
    }
    let array =
        ArrayD::from_shape_vec(IxDyn(&shape), T::load(elements)).expect("the shape's elements");
    Ok(T::wrap(array))
}

/// The axis from which on the region is contiguous in the file: every later axis is
/// whole. A run covers the region along it and everything after.
fn run_axis(full: &[usize], region: &[Range<usize>]) -> usize {
    let mut k = full.len().saturating_sub(1);
    while k > 0 && region[k] == (0..full[k]) {
        k -= 1;
    }
    k
}

/// Elements in one run.
fn runs_len(full: &[usize], region: &[Range<usize>]) -> usize {
    let k = run_axis(full, region);
    region[k].len() * full[k + 1..].iter().product::<usize>()
}

/// The element offsets in the file of the region's runs, in C order.
struct Runs {
    strides: Vec<usize>,
    region: Vec<Range<usize>>,
    /// The position along each axis before the run axis; `None` once done.
    at: Option<Vec<usize>>,
    axis: usize,
}

impl Runs {
    fn new(full: &[usize], region: &[Range<usize>]) -> Runs {
        let mut strides = vec![1; full.len()];
        for k in (0..full.len().saturating_sub(1)).rev() {
            strides[k] = strides[k + 1] * full[k + 1];
        }
        let axis = run_axis(full, region);
        Runs {
            strides,
            region: region.to_vec(),
            at: (!region[..axis].iter().any(Range::is_empty))
                .then(|| region[..axis].iter().map(|r| r.start).collect()),
            axis,
        }
    }
}

impl Iterator for Runs {
    type Item = usize;

    fn next(&mut self) -> Option<usize> {
        let at = self.at.as_mut()?;
        let offset = at
            .iter()
            .zip(&self.strides)
            .map(|(i, s)| i * s)
            .sum::<usize>()
            + self.region[self.axis].start * self.strides[self.axis];
        // The next position, the last axis fastest; done after the last one.
        let mut k = at.len();
        loop {
            if k == 0 {
                self.at = None;
                break;
            }
            k -= 1;
            at[k] += 1;
            if at[k] < self.region[k].end {
                break;
            }
            at[k] = self.region[k].start;
        }
        Some(offset)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Offsets of the runs, and each run's length.
    fn runs(full: &[usize], region: &[Range<usize>]) -> (Vec<usize>, usize) {
        (Runs::new(full, region).collect(), runs_len(full, region))
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
        assert_eq!(Runs::new(&[4, 10], &[2..2, 1..3]).count(), 0);
    }
}

//! The geometry of a chunked shape: which blocks there are and what each covers.
//!
//! Blocks are numbered per axis (`[i, j]`) and, for naming and seeding, linearly in C
//! order. The last block along an axis is ragged when the chunk size does not divide
//! the extent.
//! - Element counts are checked when a grid is made, so that every count and byte size
//!   derived from it fits: a grid too large to count is an error naming its size, never
//!   an overflow.

use std::fmt;

/// The most elements an array, or one of its chunks, may have: so many that the bytes
/// of any element type (at most 8 each) still fit in a `u64`, as `nbytes` and Zarr's
/// own sizes need.
pub const MAX_ELEMENTS: u64 = u64::MAX / 8;

/// A shape cut into blocks of (at most) `chunks` elements per axis.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Grid {
    shape: Vec<usize>,
    chunks: Vec<usize>,
}

impl Grid {
    /// The grid of `shape` in blocks of `chunks`: one chunk size per axis, none zero,
    /// and neither the array nor a chunk with more than [`MAX_ELEMENTS`] elements.
    pub fn new(shape: &[usize], chunks: &[usize]) -> Result<Grid, String> {
        if chunks.len() != shape.len() {
            return Err(format!(
                "chunk shape {} has {} dimensions but the array shape {} has {}",
                Dims(chunks),
                chunks.len(),
                Dims(shape),
                shape.len()
            ));
        }
        if chunks.contains(&0) {
            return Err(format!("chunk shape {} has a zero extent", Dims(chunks)));
        }
        for (what, dims) in [("shape", shape), ("chunk shape", chunks)] {
            let count = elements(dims);
            if count.is_none_or(|n| n > u128::from(MAX_ELEMENTS)) {
                let count = count.map_or_else(|| "more than 2^128".to_string(), |n| n.to_string());
                return Err(format!(
                    "{what} {} has {count} elements, more than the {MAX_ELEMENTS} an array or \
                     chunk can have",
                    Dims(dims)
                ));
            }
        }
        Ok(Grid {
            shape: shape.to_vec(),
            chunks: chunks.to_vec(),
        })
    }

    /// The array's extent along each axis.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }

    /// The (full) block extent along each axis.
    pub fn chunks(&self) -> &[usize] {
        &self.chunks
    }

    /// Number of axes.
    pub fn ndim(&self) -> usize {
        self.shape.len()
    }

    /// Number of elements.
    pub fn len(&self) -> usize {
        let n = elements(&self.shape).expect("counted when the grid was made");
        n as usize
    }

    /// Whether the array has no elements.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Blocks along each axis.
    pub fn blocks(&self) -> Vec<usize> {
        self.shape
            .iter()
            .zip(&self.chunks)
            .map(|(&n, &c)| n.div_ceil(c))
            .collect()
    }

    /// Total number of blocks (none when an extent is zero, whatever the others).
    pub fn num_blocks(&self) -> usize {
        let blocks = self.blocks();
        if blocks.contains(&0) {
            return 0;
        }
        // At most the number of elements, which `new` checked.
        blocks.iter().product()
    }

    /// Where block `index` starts, per axis.
    pub fn block_start(&self, index: &[usize]) -> Vec<usize> {
        index
            .iter()
            .zip(&self.chunks)
            .map(|(&i, &c)| i * c)
            .collect()
    }

    /// The extent of block `index` per axis: the chunk size, or less at a ragged edge.
    pub fn block_shape(&self, index: &[usize]) -> Vec<usize> {
        index
            .iter()
            .zip(self.shape.iter().zip(&self.chunks))
            .map(|(&i, (&n, &c))| c.min(n - i * c))
            .collect()
    }

    /// The C-order number of block `index`.
    pub fn linear(&self, index: &[usize]) -> usize {
        index
            .iter()
            .zip(self.blocks())
            .fold(0, |acc, (&i, n)| acc * n + i)
    }

    /// Every block index, in C order.
    pub fn block_indices(&self) -> impl Iterator<Item = Vec<usize>> {
        let blocks = self.blocks();
        let total = self.num_blocks();
        (0..total).map(move |mut linear| {
            let mut index = vec![0; blocks.len()];
            for axis in (0..blocks.len()).rev() {
                index[axis] = linear % blocks[axis];
                linear /= blocks[axis];
            }
            index
        })
    }
}

/// The C-order strides of `shape`, in elements: how far apart consecutive positions
/// along each axis lie.
pub(crate) fn c_strides(shape: &[usize]) -> Vec<usize> {
    let mut strides = vec![1; shape.len()];
    for k in (0..shape.len().saturating_sub(1)).rev() {
        strides[k] = strides[k + 1] * shape[k + 1];
    }
    strides
}

/// The number of elements of `dims`, if it fits in a `u128` (zero when any extent is).
fn elements(dims: &[usize]) -> Option<u128> {
    if dims.contains(&0) {
        return Some(0);
    }
    dims.iter()
        .try_fold(1u128, |n, &d| n.checked_mul(d as u128))
}

/// A shape written as `(3, 4)` in messages, as NumPy prints it.
pub struct Dims<'a>(pub &'a [usize]);

impl fmt::Display for Dims<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(usize::to_string).collect();
        if parts.len() == 1 {
            write!(f, "({},)", parts[0])
        } else {
            write!(f, "({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ragged_edges_are_smaller_blocks() {
        let g = Grid::new(&[10, 7], &[4, 7]).unwrap();
        assert_eq!(g.blocks(), vec![3, 1]);
        assert_eq!(g.block_shape(&[2, 0]), vec![2, 7]);
        assert_eq!(g.block_start(&[2, 0]), vec![8, 0]);
        let all: Vec<_> = g.block_indices().collect();
        assert_eq!(all, vec![vec![0, 0], vec![1, 0], vec![2, 0]]);
        assert_eq!(g.linear(&[2, 0]), 2);
    }

    #[test]
    fn bad_chunks_are_named() {
        let err = Grid::new(&[10, 7], &[4, 0]).unwrap_err();
        assert!(err.contains("(4, 0)"), "{err}");
        let err = Grid::new(&[10], &[4, 4]).unwrap_err();
        assert!(
            err.contains("2 dimensions") && err.contains("(10,)"),
            "{err}"
        );
    }

    #[test]
    fn grids_too_large_to_count_are_named() {
        let huge = 100_000_000_000;
        let err = Grid::new(&[huge, huge], &[1000, 1000]).unwrap_err();
        assert!(
            err.contains("(100000000000, 100000000000)")
                && err.contains("10000000000000000000000 elements"),
            "{err}"
        );
        let err = Grid::new(&[usize::MAX; 5], &[1; 5]).unwrap_err();
        assert!(err.contains("more than 2^128 elements"), "{err}");
        let err = Grid::new(&[4], &[usize::MAX]).unwrap_err();
        assert!(err.starts_with("chunk shape"), "{err}");
        // A zero extent makes the others irrelevant, however large.
        let empty = Grid::new(&[0, usize::MAX, usize::MAX], &[1, 1, 1]).unwrap();
        assert_eq!((empty.len(), empty.num_blocks()), (0, 0));
        assert_eq!(empty.block_indices().count(), 0);
    }
}

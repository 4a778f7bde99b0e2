//! Chunks made from nothing but their position: constants, `arange` blocks and random
//! blocks. Each depends only on its arguments, so any block can be (re)computed alone,
//! on any worker, in any order, and comes out the same.
//!
//! Ops: `array.full(dtype, shape, value)`, `array.arange(dtype, array_shape,
//! block_start, block_shape)`, `array.random(seed, block, block_shape, dtype)`.

mod stream;

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, DType, OpError};

use super::args::{value, Element};
use super::elementwise::element::{tuple, with_dtype};
use super::elementwise::promote::Scalar;
use crate::grid::c_strides;
use crate::wire::array_op;

array_op! {
    /// `array.full(dtype, shape, value)`: a chunk of one value.
    pub(crate) struct Full = "array.full" {
        dtype: DType,
        shape: Vec<usize>,
        value: Scalar,
    }
    fn run(self) -> OpResult {
        elements(&self.shape)?;
        let shape = IxDyn(&self.shape);
        Ok(value(with_dtype!(self.dtype, T => {
            T::chunk(ArrayD::from_elem(shape, self.value.element::<T>()))
        })))
    }
}

array_op! {
    /// `array.arange(dtype, array_shape, block_start, block_shape)`: the block's
    /// elements numbered in the C order of the whole array.
    pub(crate) struct Arange = "array.arange" {
        dtype: DType,
        array: Vec<usize>,
        start: Vec<usize>,
        block: Vec<usize>,
    }
    fn run(self) -> OpResult {
        let linear = arange(&self.array, &self.start, &self.block)?;
        Ok(value(with_dtype!(self.dtype, T => T::chunk(
            ArrayD::from_shape_vec(IxDyn(&self.block), linear.into_iter().map(T::from_i64).collect())
                .map_err(|e| OpError::new(e.to_string()))?
        ))))
    }
}

array_op! {
    /// `array.random(seed, block, block_shape, dtype)`: block number `block` of the
    /// uniform [0, 1) array of `seed`; float64 when `dtype` is left out.
    pub(crate) struct Random = "array.random" {
        seed: i64,
        block: usize,
        shape: Vec<usize>;
        optional dtype: DType = DType::Float64
    }
    fn run(self) -> OpResult {
        let n = elements(&self.shape)?;
        let data = random(self.seed, self.block as u64, n);
        let shape = IxDyn(&self.shape);
        let bad_shape = |e: ndarray::ShapeError| OpError::new(e.to_string());
        Ok(value(match self.dtype {
            DType::Float64 => Chunk::F64(ArrayD::from_shape_vec(shape, data).map_err(bad_shape)?),
            // The top 24 of the 53 bits: rounding to nearest instead could give 1.0.
            DType::Float32 => {
                let data = data
                    .into_iter()
                    .map(|u| ((u * 16_777_216.0).floor() / 16_777_216.0) as f32);
                Chunk::F32(ArrayD::from_shape_vec(shape, data.collect()).map_err(bad_shape)?)
            }
            other => {
                return Err(OpError::new(format!(
                    "random numbers are floats in [0, 1); {other} cannot hold them"
                )))
            }
        }))
    }
}

/// The number of elements of `shape`, or an error when that does not fit in memory's
/// address space (so a bad shape fails cleanly rather than aborting the worker).
fn elements(shape: &[usize]) -> Result<usize, OpError> {
    shape
        .iter()
        .try_fold(1usize, |n, &k| n.checked_mul(k))
        .filter(|&n| n <= isize::MAX as usize / 8)
        .ok_or_else(|| OpError::new(format!("shape {} is too large", tuple(shape))))
}

/// The C-order linear indices within `array` of the elements of the block at `start`
/// with extents `block`, in the block's C order.
fn arange(array: &[usize], start: &[usize], block: &[usize]) -> Result<Vec<i64>, OpError> {
    if start.len() != array.len() || block.len() != array.len() {
        return Err(OpError::new(format!(
            "array shape {}, block start {} and block shape {} must have the same length",
            tuple(array),
            tuple(start),
            tuple(block)
        )));
    }
    for (k, ((&a, &s), &b)) in array.iter().zip(start).zip(block).enumerate() {
        if s.checked_add(b).is_none_or(|end| end > a) {
            return Err(OpError::new(format!(
                "block from {s} with extent {b} along axis {k} leaves the array's extent {a}"
            )));
        }
    }
    let total = elements(array)?;
    let n = elements(block)?;
    if total > i64::MAX as usize {
        return Err(OpError::new("array too large for int64 indices"));
    }
    // Strides of the whole array, and the linear index of the block's first element.
    let strides = c_strides(array);
    let mut out = Vec::with_capacity(n);
    if n == 0 {
        return Ok(out);
    }
    let Some((&row, outer)) = block.split_last() else {
        out.push(0);
        return Ok(out);
    };
    // Walk the block's rows (all axes but the last) in C order; each row is a run of
    // consecutive indices.
    let mut index = vec![0usize; outer.len()];
    loop {
        let base: usize = index
            .iter()
            .zip(start)
            .zip(&strides)
            .map(|((&i, &s), &st)| (i + s) * st)
            .sum::<usize>()
            + start[outer.len()];
        out.extend((base..base + row).map(|i| i as i64));
        let Some(k) = (0..outer.len()).rev().find(|&k| index[k] + 1 < outer[k]) else {
            return Ok(out);
        };
        index[k] += 1;
        index[k + 1..].iter_mut().for_each(|i| *i = 0);
    }
}

/// `n` float64s uniform in [0, 1) from the stream of block `block` of seed `seed`.
///
/// The stream's key mixes seed and block number (a SplitMix64 finalizer), so every
/// block of every seed has its own well-spread xoshiro256++ states; the buffer is
/// filled in place, 53 random bits per element.
fn random(seed: i64, block: u64, n: usize) -> Vec<f64> {
    let key = mix(seed as u64) ^ block.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    let mut out = Vec::with_capacity(n);
    stream::Stream::new(key).fill_unit(&mut out.spare_capacity_mut()[..n]);
    // SAFETY: `fill_unit` wrote every one of the `n` elements.
    unsafe { out.set_len(n) };
    out
}

/// SplitMix64's output function: a bijection of u64 that spreads every input bit.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

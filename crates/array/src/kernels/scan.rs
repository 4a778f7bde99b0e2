//! cumsum as a blocked scan: each block's running sum along the axis, started from the
//! carry of the blocks before it.
//!
//! - The carry of block `j` along the axis is the sum of blocks `0..j` along it: a
//!   chain of `array.combine(sum, ...)` over the blocks' `array.partial(sum, x, axis)`
//!   states, so it is a small chunk (the axis at extent 1) and blocks are scanned in
//!   parallel once their carry is known.
//! - Sums run in the sum state's type (float64 for floats, int64 for ints and bools,
//!   wrapping as NumPy's ints do) and the result takes NumPy's dtype, sum's: float32
//!   stays float32, ints and bools give int64.
//!
//! Op: `array.cumsum(x, axis, carry)`, `carry` null for the first block.

use std::sync::Arc;

use ndarray::ArrayD;
use taskloom_graph::{Chunk, OpError, Value};

use super::args::{cast, value};
use super::elementwise::element::{astype, standard, tuple, Arith};
use super::reduce::kept_shape;
use crate::operation::Reduction;
use crate::wire::array_op;

array_op! {
    /// `array.cumsum(x, axis, carry)`: the running sum of `x` along `axis` plus
    /// `carry` (the sum state of the blocks before).
    pub(crate) struct Cumsum<C = Arc<Chunk>, S = Value> = "array.cumsum" {
        x: C,
        axis: usize,
        carry: Option<S>,
    }
    fn run(self) -> OpResult {
        cumsum(&self.x, self.axis, self.carry.as_ref()).map(value)
    }
}

fn cumsum(x: &Chunk, axis: usize, carry: Option<&Value>) -> Result<Chunk, OpError> {
    let shape = x.shape();
    if axis >= shape.len() {
        return Err(OpError::new(format!(
            "axis {axis} is out of bounds for a chunk of shape {}",
            tuple(shape)
        )));
    }
    let kept = kept_shape(shape, Some(axis));
    let carry = match carry {
        None => None,
        Some(Value::Chunk(c)) if c.shape() == kept => Some(&**c),
        Some(other) => {
            return Err(OpError::new(format!(
                "the carry must be a chunk of shape {} (the sums of the blocks before), got {}",
                tuple(&kept),
                match other {
                    Value::Chunk(c) => tuple(c.shape()),
                    v => v.type_name().to_string(),
                }
            )))
        }
    };
    let sums = if x.dtype().is_float() {
        Chunk::F64(scan::<f64>(x, axis, carry))
    } else {
        Chunk::I64(scan::<i64>(x, axis, carry))
    };
    let want = Reduction::Sum.result_dtype(x.dtype());
    Ok(if sums.dtype() == want {
        sums
    } else {
        astype(&sums, want)
    })
}

/// The running sums along `axis` in `A`, in C order: `outer` blocks of `n` rows of
/// `inner` elements, each row adding the one before (or the carry, for the first).
fn scan<A: Arith>(x: &Chunk, axis: usize, carry: Option<&Chunk>) -> ArrayD<A> {
    let mut out = standard(cast::<A>(x).into_owned());
    let shape = out.shape().to_vec();
    let n = shape[axis];
    let inner: usize = shape[axis + 1..].iter().product();
    if n == 0 || inner == 0 {
        return out;
    }
    let carry = carry.map(|c| standard(cast::<A>(c).into_owned()));
    let data = out
        .as_slice_mut()
        .expect("a standard-layout array is contiguous");
    for (o, block) in data.chunks_exact_mut(n * inner).enumerate() {
        if let Some(carry) = &carry {
            let start = &carry.as_slice().expect("standard layout")[o * inner..(o + 1) * inner];
            for (v, &c) in block[..inner].iter_mut().zip(start) {
                *v = A::add(*v, c);
            }
        }
        for i in 1..n {
            let (before, rest) = block.split_at_mut(i * inner);
            let previous = &before[(i - 1) * inner..];
            for (v, &p) in rest[..inner].iter_mut().zip(previous) {
                *v = A::add(*v, p);
            }
        }
    }
    out
}

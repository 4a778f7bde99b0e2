//! argmin and argmax as tree reductions: a state is the best value and where it is.
//!
//! - `array.arg_partial(op, x, axis, start, shape)`: the state of block `x`, which
//!   starts at `start` in an array of `shape`. Positions are global: along `axis`, or
//!   for `axis` null the flat C-order index into the whole array (C order within a
//!   block is increasing global order, so a block's first best is its best).
//! - A state is `[values, positions]`: a chunk of the input's dtype (compared exactly,
//!   never through a wider type) and an int64 chunk, both of the state shape (`axis`
//!   kept with extent 1, or 0-d).
//! - Merging keeps the better value and, between equals, the smaller position, so the
//!   first occurrence wins as in NumPy whatever the tree's shape. NaN is better than
//!   any number for both ops (NumPy returns the first NaN).

use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, Axis, IxDyn, Zip};
use taskloom_graph::{Chunk, OpError, Value};

use super::{bad_state, kept_shape, put};
use crate::kernels::args::{cast, value, Element};
use crate::kernels::elementwise::element::{tuple, with_dtype};
use crate::operation::Reduction;
use crate::wire::array_op;

array_op! {
    /// `array.arg_partial(op, x, axis, start, shape)`: the argmin/argmax state of block
    /// `x`, which starts at `start` in an array of `shape`.
    pub(crate) struct ArgPartial<C = Arc<Chunk>> = "array.arg_partial" {
        op: Reduction,
        x: C,
        axis: Option<usize>,
        start: Vec<usize>,
        shape: Vec<usize>,
    }
    fn run(self) -> OpResult {
        partial(self.op, &self.x, self.axis, &self.start, &self.shape)
    }
}

/// Whether `a` (at `i`) beats `b` (at `j`) for `op`: NaN first, then the smaller
/// (argmin) or larger (argmax) value, then the smaller position.
#[inline(always)]
fn beats<T: PartialOrd>(op: Reduction, a: T, i: i64, b: T, j: i64) -> bool {
    #[allow(clippy::eq_op)] // NaN is the one value unequal to itself
    let (a_nan, b_nan) = (a != a, b != b);
    if a_nan || b_nan {
        return a_nan && (!b_nan || i < j);
    }
    let better = match op {
        Reduction::Argmin => a < b,
        _ => a > b,
    };
    better || (a == b && i < j)
}

pub(crate) fn partial(
    op: Reduction,
    x: &Chunk,
    axis: Option<usize>,
    start: &[usize],
    shape: &[usize],
) -> Result<Value, OpError> {
    let local = x.shape();
    let fits = start.len() == local.len()
        && shape.len() == local.len()
        && (0..local.len()).all(|k| start[k] + local[k] <= shape[k]);
    if !fits {
        return Err(OpError::new(format!(
            "a block of shape {} at {start:?} does not fit in an array of shape {}",
            tuple(local),
            tuple(shape)
        )));
    }
    if axis.is_some_and(|k| k >= local.len()) || x.is_empty() {
        return Err(OpError::new(format!(
            "{} of a block of shape {} along axis {axis:?}: no axis or no elements",
            op.name(),
            tuple(local)
        )));
    }
    let out = kept_shape(local, axis);
    with_dtype!(x.dtype(), T => {
        let a = cast::<T>(x);
        let (values, positions): (Vec<T>, Vec<i64>) = match axis {
            Some(k) => a
                .lanes(Axis(k))
                .into_iter()
                .map(|lane| {
                    let best = best_of(op, lane.iter().copied());
                    (lane[best], (start[k] + best) as i64)
                })
                .unzip(),
            None => {
                let a = a.as_standard_layout();
                let best = best_of(op, a.iter().copied());
                let mut rest = best;
                let mut flat = 0usize;
                for k in 0..local.len() {
                    let inner: usize = local[k + 1..].iter().product();
                    let outer: usize = shape[k + 1..].iter().product();
                    flat += (start[k] + rest / inner) * outer;
                    rest %= inner;
                }
                let first = *a.iter().nth(best).expect("the best is an element");
                (vec![first], vec![flat as i64])
            }
        };
        state(T::chunk(array(&out, values)?), array(&out, positions)?)
    })
}

/// The position of the first best element of a non-empty sequence.
fn best_of<T: PartialOrd + Copy>(op: Reduction, items: impl Iterator<Item = T>) -> usize {
    let mut best: Option<(usize, T)> = None;
    for (i, v) in items.enumerate() {
        match best {
            Some((j, b)) if !beats(op, v, i as i64, b, j as i64) => {}
            _ => best = Some((i, v)),
        }
    }
    best.map_or(0, |(i, _)| i)
}

fn array<T>(shape: &[usize], data: Vec<T>) -> Result<ArrayD<T>, OpError> {
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| OpError::new(e.to_string()))
}

fn state(values: Chunk, positions: ArrayD<i64>) -> Result<Value, OpError> {
    Ok(Value::list([value(values), value(Chunk::I64(positions))]))
}

/// Argument `i` as a state: its values and positions.
fn parse(op: Reduction, state: &Value, i: usize) -> Result<(&Chunk, &ArrayD<i64>), OpError> {
    let bad = || {
        bad_state(
            op,
            i,
            "[values, positions] (a chunk and an int64 chunk of one shape)",
            state,
        )
    };
    let Value::List(items) = state else {
        return Err(bad());
    };
    match &items[..] {
        [Value::Chunk(values), Value::Chunk(positions)] => match &**positions {
            Chunk::I64(p) if p.shape() == values.shape() => Ok((values, p)),
            _ => Err(bad()),
        },
        _ => Err(bad()),
    }
}

/// The states merged, element by element.
pub(crate) fn combine(op: Reduction, states: &[Value]) -> Result<Value, OpError> {
    let (first, first_positions) = parse(op, &states[0], 0)?;
    with_dtype!(first.dtype(), T => {
        let mut values = cast::<T>(first).into_owned();
        let mut positions = first_positions.clone();
        for (i, s) in states.iter().enumerate().skip(1) {
            let (v, p) = parse(op, s, i)?;
            let other = T::view(v).filter(|v| v.shape() == values.shape()).ok_or_else(|| {
                OpError::new(format!(
                    "state {} holds {} values of shape {}, but state 1 holds {} values of shape {}",
                    i + 1,
                    v.dtype(),
                    tuple(v.shape()),
                    first.dtype(),
                    tuple(first.shape())
                ))
            })?;
            Zip::from(&mut values)
                .and(&mut positions)
                .and(&other)
                .and(p)
                .for_each(|a, i, &b, &j| {
                    if beats(op, b, j, *a, *i) {
                        (*a, *i) = (b, j);
                    }
                });
        }
        state(T::chunk(values), positions)
    })
}

/// The state of a block from the states of its regions (as `reduce::join`).
pub(crate) fn join(
    op: Reduction,
    shape: &[usize],
    parts: &[(Vec<Range<usize>>, Value)],
) -> Result<Value, OpError> {
    let Some((_, first)) = parts.first() else {
        return Err(OpError::new(format!(
            "{} joins at least one state",
            op.name()
        )));
    };
    let (first, _) = parse(op, first, 0)?;
    with_dtype!(first.dtype(), T => {
        let mut values = ArrayD::from_elem(IxDyn(shape), T::from_i64(0));
        let mut positions = ArrayD::zeros(IxDyn(shape));
        for (i, (region, s)) in parts.iter().enumerate() {
            let (v, p) = parse(op, s, i)?;
            let v = T::view(v).ok_or_else(|| {
                OpError::new(format!(
                    "state {} holds {} values, but state 1 holds {} values",
                    i + 1,
                    v.dtype(),
                    first.dtype()
                ))
            })?;
            put(&mut values, region, v)?;
            put(&mut positions, region, p.view())?;
        }
        state(T::chunk(values), positions)
    })
}

/// The positions of a state, as an int64 chunk.
pub(crate) fn positions(op: Reduction, state: &Value, i: usize) -> Result<Chunk, OpError> {
    parse(op, state, i).map(|(_, p)| Chunk::I64(p.clone()))
}

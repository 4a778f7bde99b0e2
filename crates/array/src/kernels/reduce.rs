//! Tree reductions: each chunk reduces to a small state (`partial`), states merge in
//! any grouping (`combine`), and the root turns its state into the result (`finish`).
//! States merge associatively, so the reduction tree can have any shape and the
//! result does not depend on how the array was chunked (up to rounding).
//!
//! Ops: `array.partial(op, x, axis)`, `array.combine(op, state, ...)`,
//! `array.finish(op, state, axis, dtype)`, for op in sum, prod, min, max, mean, var,
//! std, any, all; argmin and argmax start from `array.arg_partial` (`arg`), which
//! knows where its block lies.
//!
//! States: sum/prod/min/max keep a chunk in the accumulation dtype (int64 for ints
//! and bools, float64 for floats); any/all keep int64 0s and 1s (the max and min of
//! `x != 0`); mean/var/std keep `[count, mean, m2]` (count of elements per output
//! element, float64 chunks of means and of squared deviations from them), merged with
//! Chan et al.'s parallel formulas. A `mean` state does not compute m2 (it would cost
//! a second pass over the chunk) and holds NaN there. With an axis the state keeps it
//! with extent 1; without, a state is 0-d.
//!
//! Results have NumPy 2's dtype for the input's (`finish` is told it): sum and prod
//! keep floats and give int64 for ints and bools; min and max keep the input's dtype;
//! mean, var and std keep float32 and give float64 otherwise; any and all give bool;
//! argmin and argmax int64. Accumulating float32 in float64 rounds once, at the end.
//!
//! Empty reductions: sum gives 0 and prod 1; any gives false and all true; min, max,
//! argmin and argmax fail ("zero-size array"); mean, var and std give NaN (NumPy's
//! answer, without its warning).

pub(crate) mod arg;
mod lanes;
mod pairwise;

use std::ops::Range;
use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, IxDyn, Slice, Zip};
use taskloom_graph::{with_chunk, Chunk, DType, OpError, Value};

use super::args::{cast, value, Element};
use super::elementwise::element::{astype, tuple, with_number, Arith};
use crate::operation::Reduction;
use crate::wire::array_op;
use lanes::Lanes;

array_op! {
    /// `array.partial(op, x, axis)`: the state of one chunk.
    pub(crate) struct Partial<C = Arc<Chunk>> = "array.partial" {
        op: Reduction,
        x: C,
        axis: Option<usize>,
    }
    fn run(self) -> OpResult {
        partial(self.op, &self.x, self.axis)
    }
}

array_op! {
    /// `array.combine(op, state, ...)`: states merged into one.
    pub(crate) struct Combine<S = Value> = "array.combine" {
        op: Reduction;
        rest states: S, at least 1
    }
    fn run(self) -> OpResult {
        combine(self.op, &self.states)
    }
}

array_op! {
    /// `array.finish(op, state, axis, dtype)`: the result a state stands for, for an
    /// input of `dtype`.
    pub(crate) struct Finish<S = Value> = "array.finish" {
        op: Reduction,
        state: S,
        axis: Option<usize>,
        dtype: DType,
    }
    fn run(self) -> OpResult {
        finish(self.op, &self.state, self.axis, self.dtype)
    }
}

impl Reduction {
    /// Whether the state is `[count, mean, m2]` rather than a chunk.
    fn is_moment(self) -> bool {
        matches!(self, Reduction::Mean | Reduction::Var | Reduction::Std)
    }

    /// Whether the result is a position (argmin, argmax): its partials need the
    /// block's place in the array.
    pub(crate) fn is_arg(self) -> bool {
        matches!(self, Reduction::Argmin | Reduction::Argmax)
    }

    /// Whether an empty reduction has no answer (no identity, no position).
    pub(crate) fn needs_elements(self) -> bool {
        matches!(
            self,
            Reduction::Min | Reduction::Max | Reduction::Argmin | Reduction::Argmax
        )
    }

    /// The dtype NumPy 2 gives this reduction of an array of `input`.
    pub(crate) fn result_dtype(self, input: DType) -> DType {
        match self {
            Reduction::Sum | Reduction::Prod if input.is_float() => input,
            Reduction::Sum | Reduction::Prod => DType::Int64,
            Reduction::Min | Reduction::Max => input,
            Reduction::Mean | Reduction::Var | Reduction::Std if input == DType::Float32 => input,
            Reduction::Mean | Reduction::Var | Reduction::Std => DType::Float64,
            Reduction::Any | Reduction::All => DType::Bool,
            Reduction::Argmin | Reduction::Argmax => DType::Int64,
        }
    }
}

/// The state of one chunk: `x` reduced along `axis` (kept with extent 1), or over all
/// its elements.
pub(crate) fn partial(op: Reduction, x: &Chunk, axis: Option<usize>) -> Result<Value, OpError> {
    let shape = x.shape();
    if let Some(k) = axis {
        if k >= shape.len() {
            return Err(OpError::new(format!(
                "axis {k} is out of bounds for an array of shape {}",
                tuple(shape)
            )));
        }
    }
    if op.is_arg() {
        return Err(OpError::new(format!(
            "{} needs the block's place in the array: use array.arg_partial",
            op.name()
        )));
    }
    let out_shape = kept_shape(shape, axis);
    // Bools count as 0 and 1; any and all reduce whether each element is nonzero.
    let ints;
    let x = if matches!(op, Reduction::Any | Reduction::All) {
        ints = astype(&astype(x, DType::Bool), DType::Int64);
        &ints
    } else if x.dtype() == DType::Bool {
        ints = astype(x, DType::Int64);
        &ints
    } else {
        x
    };
    with_number!(x.dtype(), T => {
        let a = cast::<T>(x);
        let a = a.as_standard_layout();
        let data = a
            .as_slice()
            .ok_or_else(|| OpError::new("internal error: a standard-layout chunk is not contiguous"))?;
        let lanes = Lanes::new(data, shape, axis);
        if op.is_moment() {
            moments(op, &lanes, &out_shape)
        } else {
            simple(op, &lanes, &out_shape).map(value)
        }
    }, bool => Err(OpError::new("internal error: bools reduce as ints")))
}

/// The error of a partial state `i` that is not what `op` combines: `expected` says
/// what it must be.
fn bad_state(op: Reduction, i: usize, expected: &str, state: &Value) -> OpError {
    OpError::new(format!(
        "state {} of {} must be {expected}, got {}",
        i + 1,
        op.name(),
        state.type_name()
    ))
}

/// The shape of a state: `shape` with `axis` kept at extent 1, or 0-d for `None`.
pub(crate) fn kept_shape(shape: &[usize], axis: Option<usize>) -> Vec<usize> {
    match axis {
        None => Vec::new(),
        Some(k) => shape
            .iter()
            .enumerate()
            .map(|(j, &e)| if j == k { 1 } else { e })
            .collect(),
    }
}

/// A sum/prod/min/max state.
fn simple<T: Arith>(
    op: Reduction,
    lanes: &Lanes<'_, T>,
    shape: &[usize],
) -> Result<Chunk, OpError> {
    if lanes.n == 0 && lanes.outputs() > 0 {
        match op {
            Reduction::Min | Reduction::Max => {
                return Err(OpError::new(format!(
                    "zero-size array to reduction operation {} which has no identity",
                    op.name()
                )))
            }
            Reduction::Prod if T::DTYPE.is_float() => {
                return f64_chunk(shape, vec![1.0; lanes.outputs()])
            }
            Reduction::Prod => return i64_chunk(shape, vec![1; lanes.outputs()]),
            _ => {}
        }
    }
    if T::DTYPE.is_float() {
        let data = match op {
            Reduction::Sum => lanes.sum(None),
            Reduction::Prod => lanes.fold(T::to_f64, |a, x| a * T::to_f64(x)),
            Reduction::Min => lanes.fold(T::to_f64, |a, x| min(a, T::to_f64(x))),
            _ => lanes.fold(T::to_f64, |a, x| max(a, T::to_f64(x))),
        };
        f64_chunk(shape, data)
    } else {
        let data = match op {
            Reduction::Sum if lanes.n == 0 => vec![0; lanes.outputs()],
            // The identities: any of nothing is false, all of nothing true.
            Reduction::Any | Reduction::All if lanes.n == 0 => {
                vec![i64::from(op == Reduction::All); lanes.outputs()]
            }
            Reduction::Sum => lanes.fold(T::to_i64, |a, x| a.wrapping_add(T::to_i64(x))),
            Reduction::Prod => lanes.fold(T::to_i64, |a, x| a.wrapping_mul(T::to_i64(x))),
            Reduction::Min | Reduction::All => lanes.fold(T::to_i64, |a, x| a.min(T::to_i64(x))),
            _ => lanes.fold(T::to_i64, |a, x| a.max(T::to_i64(x))),
        };
        i64_chunk(shape, data)
    }
}

/// The smaller of two floats, NaN if either is (as NumPy's `minimum`).
#[inline(always)]
fn min(a: f64, x: f64) -> f64 {
    if x < a || x.is_nan() {
        x
    } else {
        a
    }
}

/// The larger of two floats, NaN if either is (as NumPy's `maximum`).
#[inline(always)]
fn max(a: f64, x: f64) -> f64 {
    if x > a || x.is_nan() {
        x
    } else {
        a
    }
}

/// A mean/var/std state: `[count, mean, m2]`.
fn moments<T: Arith>(
    op: Reduction,
    lanes: &Lanes<'_, T>,
    shape: &[usize],
) -> Result<Value, OpError> {
    let n = lanes.n;
    let mut mean = lanes.sum(None);
    mean.iter_mut().for_each(|m| *m /= n as f64);
    let m2 = if op == Reduction::Mean || n == 0 {
        vec![f64::NAN; mean.len()]
    } else {
        lanes.sum(Some(&mean))
    };
    state(n, f64_array(shape, mean)?, f64_array(shape, m2)?)
}

fn state(count: usize, mean: ArrayD<f64>, m2: ArrayD<f64>) -> Result<Value, OpError> {
    let count = i64::try_from(count).map_err(|_| OpError::new("count overflows int64"))?;
    Ok(Value::list([
        Value::Int(count),
        value(Chunk::F64(mean)),
        value(Chunk::F64(m2)),
    ]))
}

fn f64_array(shape: &[usize], data: Vec<f64>) -> Result<ArrayD<f64>, OpError> {
    ArrayD::from_shape_vec(IxDyn(shape), data).map_err(|e| OpError::new(e.to_string()))
}

fn f64_chunk(shape: &[usize], data: Vec<f64>) -> Result<Chunk, OpError> {
    f64_array(shape, data).map(Chunk::F64)
}

fn i64_chunk(shape: &[usize], data: Vec<i64>) -> Result<Chunk, OpError> {
    ArrayD::from_shape_vec(IxDyn(shape), data)
        .map(Chunk::I64)
        .map_err(|e| OpError::new(e.to_string()))
}

/// The states merged into one.
pub(crate) fn combine(op: Reduction, states: &[Value]) -> Result<Value, OpError> {
    if op.is_arg() {
        return arg::combine(op, states);
    }
    if op.is_moment() {
        let mut merged = Moments::parse(op, &states[0], 0)?;
        for (i, s) in states.iter().enumerate().skip(1) {
            merged.merge(&Moments::parse(op, s, i)?)?;
        }
        return merged.into_value();
    }
    let first = simple_state(op, &states[0], 0)?;
    let mut acc = first.clone();
    for (i, s) in states.iter().enumerate().skip(1) {
        let next = simple_state(op, s, i)?;
        let mismatch = || {
            OpError::new(format!(
                "state {} is a {} chunk of shape {}, but state 1 is a {} chunk of shape {}",
                i + 1,
                next.dtype(),
                tuple(next.shape()),
                first.dtype(),
                tuple(first.shape())
            ))
        };
        if next.shape() != first.shape() {
            return Err(mismatch());
        }
        match (&mut acc, next) {
            (Chunk::F64(a), Chunk::F64(b)) => merge(
                a,
                b,
                match op {
                    Reduction::Sum => |a, b| a + b,
                    Reduction::Prod => |a, b| a * b,
                    Reduction::Min | Reduction::All => min,
                    _ => max,
                },
            ),
            (Chunk::I64(a), Chunk::I64(b)) => merge(
                a,
                b,
                match op {
                    Reduction::Sum => i64::wrapping_add,
                    Reduction::Prod => i64::wrapping_mul,
                    Reduction::Min | Reduction::All => i64::min,
                    _ => i64::max,
                },
            ),
            _ => return Err(mismatch()),
        }
    }
    Ok(value(acc))
}

/// The state of a block from the states of the regions of it (`parts`: a region of
/// the block's state, of `shape`, and the state of the elements reducing there),
/// which cover it once: a reduction along an axis evaluated a tile at a time.
pub(crate) fn join(
    op: Reduction,
    shape: &[usize],
    parts: &[(Vec<Range<usize>>, Value)],
) -> Result<Value, OpError> {
    if op.is_arg() {
        return arg::join(op, shape, parts);
    }
    if op.is_moment() {
        let mut count = None;
        let mut mean = ArrayD::zeros(IxDyn(shape));
        let mut m2 = ArrayD::zeros(IxDyn(shape));
        for (i, (region, state)) in parts.iter().enumerate() {
            let m = Moments::parse(op, state, i)?;
            if *count.get_or_insert(m.count) != m.count {
                return Err(OpError::new(format!(
                    "state {} of {} counts {} elements, but state 1 counts {}",
                    i + 1,
                    op.name(),
                    m.count,
                    count.unwrap_or_default()
                )));
            }
            put(&mut mean, region, m.mean.view())?;
            put(&mut m2, region, m.m2.view())?;
        }
        return state(count.unwrap_or(0) as usize, mean, m2);
    }
    let float = match parts.first() {
        Some((_, s)) => matches!(simple_state(op, s, 0)?, Chunk::F64(_)),
        None => true,
    };
    let mut out = if float {
        Chunk::F64(ArrayD::zeros(IxDyn(shape)))
    } else {
        Chunk::I64(ArrayD::zeros(IxDyn(shape)))
    };
    for (i, (region, state)) in parts.iter().enumerate() {
        match (&mut out, simple_state(op, state, i)?) {
            (Chunk::F64(out), Chunk::F64(part)) => put(out, region, part.view())?,
            (Chunk::I64(out), Chunk::I64(part)) => put(out, region, part.view())?,
            (out, part) => {
                return Err(OpError::new(format!(
                    "state {} of {} is a {} chunk, but state 1 is a {} chunk",
                    i + 1,
                    op.name(),
                    part.dtype(),
                    out.dtype()
                )))
            }
        }
    }
    Ok(value(out))
}

/// `part` written over `region` of `out`.
pub(super) fn put<T: Copy>(
    out: &mut ArrayD<T>,
    region: &[Range<usize>],
    part: ArrayViewD<'_, T>,
) -> Result<(), OpError> {
    let fits = region.len() == out.ndim()
        && region.iter().zip(out.shape()).all(|(r, &e)| r.end <= e)
        && region
            .iter()
            .map(Range::len)
            .eq(part.shape().iter().copied());
    if !fits {
        return Err(OpError::new(format!(
            "a state of shape {} does not fit region {region:?} of a state of shape {}",
            tuple(part.shape()),
            tuple(out.shape())
        )));
    }
    out.slice_each_axis_mut(|a| Slice::from(region[a.axis.index()].clone()))
        .assign(&part);
    Ok(())
}

fn merge<T: Copy>(acc: &mut ArrayD<T>, other: &ArrayD<T>, f: fn(T, T) -> T) {
    Zip::from(acc).and(other).for_each(|a, &b| *a = f(*a, b));
}

/// Argument `state` as a sum/prod/min/max state: a float64 or int64 chunk.
fn simple_state(op: Reduction, state: &Value, i: usize) -> Result<&Chunk, OpError> {
    match state {
        Value::Chunk(c) if matches!(**c, Chunk::F64(_) | Chunk::I64(_)) => Ok(c),
        other => Err(OpError::new(format!(
            "state {} of {} must be a float64 or int64 array chunk, got {}",
            i + 1,
            op.name(),
            match other {
                Value::Chunk(c) => c.dtype().name(),
                v => v.type_name(),
            }
        ))),
    }
}

/// A mean/var/std state, unpacked.
struct Moments {
    count: i64,
    mean: ArrayD<f64>,
    m2: ArrayD<f64>,
}

impl Moments {
    fn parse(op: Reduction, state: &Value, i: usize) -> Result<Moments, OpError> {
        let bad = || {
            bad_state(
                op,
                i,
                "[count, mean, m2] (an int and two float64 chunks of one shape)",
                state,
            )
        };
        let Value::List(items) = state else {
            return Err(bad());
        };
        match &items[..] {
            [Value::Int(count), Value::Chunk(mean), Value::Chunk(m2)] if *count >= 0 => {
                match (&**mean, &**m2) {
                    (Chunk::F64(mean), Chunk::F64(m2)) if mean.shape() == m2.shape() => {
                        Ok(Moments {
                            count: *count,
                            mean: mean.clone(),
                            m2: m2.clone(),
                        })
                    }
                    _ => Err(bad()),
                }
            }
            _ => Err(bad()),
        }
    }

    /// Chan, Golub and LeVeque's update: the moments of both groups of elements.
    fn merge(&mut self, other: &Moments) -> Result<(), OpError> {
        if self.mean.shape() != other.mean.shape() {
            return Err(OpError::new(format!(
                "states of shapes {} and {} cannot be combined",
                tuple(self.mean.shape()),
                tuple(other.mean.shape())
            )));
        }
        if other.count == 0 {
            return Ok(());
        }
        if self.count == 0 {
            self.count = other.count;
            self.mean = other.mean.clone();
            self.m2 = other.m2.clone();
            return Ok(());
        }
        let (na, nb) = (self.count as f64, other.count as f64);
        let n = na + nb;
        let (wb, wab) = (nb / n, na * nb / n);
        let wa = na / n;
        Zip::from(&mut self.mean)
            .and(&mut self.m2)
            .and(&other.mean)
            .and(&other.m2)
            .for_each(|ma, m2a, &mb, &m2b| {
                if ma.is_finite() && mb.is_finite() {
                    let delta = mb - *ma;
                    *ma += delta * wb;
                    *m2a += m2b + delta * delta * wab;
                } else {
                    // An infinity or NaN: the update's difference would be NaN where
                    // NumPy's mean of [inf, 1] is inf; its variance is NaN.
                    *ma = *ma * wa + mb * wb;
                    *m2a = f64::NAN;
                }
            });
        self.count = self
            .count
            .checked_add(other.count)
            .ok_or_else(|| OpError::new("count overflows int64"))?;
        Ok(())
    }

    fn into_value(self) -> Result<Value, OpError> {
        state(self.count as usize, self.mean, self.m2)
    }
}

/// The result at the root: the state as the reduction's value, of the dtype NumPy
/// gives for an input of `dtype`, the reduced axis removed (or 0-d for a reduction
/// over everything).
fn finish(
    op: Reduction,
    state: &Value,
    axis: Option<usize>,
    dtype: DType,
) -> Result<Value, OpError> {
    let result = if op.is_arg() {
        arg::positions(op, state, 0)?
    } else if op.is_moment() {
        let m = Moments::parse(op, state, 0)?;
        let count = m.count as f64;
        Chunk::F64(match op {
            Reduction::Mean => m.mean,
            Reduction::Var => m.m2.mapv(|s| s / count),
            _ => m.m2.mapv(|s| (s / count).sqrt()),
        })
    } else {
        simple_state(op, state, 0)?.clone()
    };
    let shape = result.shape().to_vec();
    let squeezed = match axis {
        Some(k) if shape.get(k) == Some(&1) => {
            let mut s = shape.clone();
            s.remove(k);
            s
        }
        None if shape.iter().all(|&e| e == 1) => Vec::new(),
        _ => {
            return Err(OpError::new(format!(
                "a state of shape {} has no single-element {} to remove",
                tuple(&shape),
                match axis {
                    Some(k) => format!("axis {k}"),
                    None => "shape".to_string(),
                }
            )))
        }
    };
    let result = with_chunk!(result, a => Element::chunk(reshape(a, &squeezed)?));
    let want = op.result_dtype(dtype);
    Ok(value(if result.dtype() == want {
        result
    } else {
        astype(&result, want)
    }))
}

fn reshape<T>(a: ArrayD<T>, shape: &[usize]) -> Result<ArrayD<T>, OpError> {
    a.into_shape_with_order(IxDyn(shape))
        .map_err(|e| OpError::new(e.to_string()))
}

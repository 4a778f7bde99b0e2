//! Elementwise arithmetic on chunks: what fused array expressions compute inside one
//! task. Dtypes, broadcasting and integer wrap-around follow NumPy 2, so a lazy array
//! gives the numbers NumPy would.
//!
//! Ops: `array.unary(op, x)`, `array.binary(op, x, y)`, `array.scale(x, by, add)`,
//! `array.astype(x, dtype)`.

pub(crate) mod element;
pub(crate) mod promote;

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn, Zip};
use taskloom_graph::{with_chunk, Chunk, DType, OpError, Value};

use super::args::{cast, promote, value, Element};
use crate::operation::{BinaryOp, UnaryOp};
use crate::wire::{array_op, Decode};
use element::{astype, map_c, standard, tuple, with_dtype, Arith, Float};
use promote::{true_division, with_scalar, Scalar};

array_op! {
    /// `array.unary(op, x)`: `op` of each element.
    pub(crate) struct Unary<C = Arc<Chunk>> = "array.unary" {
        op: UnaryOp,
        x: C,
    }
    fn run(self) -> OpResult {
        Ok(value(unary(self.op, &self.x)))
    }
}

array_op! {
    /// `array.binary(op, x, y)`: `x op y`, either side a chunk or a number.
    pub(crate) struct Binary<O = Operand> = "array.binary" {
        op: BinaryOp,
        x: O,
        y: O,
    }
    fn run(self) -> OpResult {
        binary(self.op, &self.x, &self.y).map(value)
    }
}

array_op! {
    /// `array.scale(x, by, add)`: `x * by + add` in one pass.
    pub(crate) struct Scale<C = Arc<Chunk>> = "array.scale" {
        x: C,
        by: Scalar,
        add: Scalar,
    }
    fn run(self) -> OpResult {
        scale(&self.x, self.by, self.add).map(value)
    }
}

array_op! {
    /// `array.astype(x, dtype)`: the values as another element type.
    pub(crate) struct AsType<C = Arc<Chunk>> = "array.astype" {
        x: C,
        dtype: DType,
    }
    fn run(self) -> OpResult {
        Ok(value(astype(&self.x, self.dtype)))
    }
}

/// One side of a binary op: a chunk, or a Python number.
#[derive(Clone, Debug)]
pub(crate) enum Operand {
    Array(Arc<Chunk>),
    Scalar(Scalar),
}

impl Decode for Operand {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        match v {
            Value::Chunk(c) => Ok(Operand::Array(Arc::clone(c))),
            other => Scalar::of(other).map(Operand::Scalar).ok_or_else(|| {
                OpError::new(format!(
                    "argument {} must be an array chunk or a number, got {}",
                    i + 1,
                    other.type_name()
                ))
            }),
        }
    }
}

/// `op` applied to each element; see the module doc for the result dtype.
fn unary(op: UnaryOp, x: &Chunk) -> Chunk {
    match op {
        UnaryOp::Neg => with_chunk!(x, a => Element::chunk(map_c(&a.view(), |&v| Arith::neg(v)))),
        UnaryOp::Abs => with_chunk!(x, a => Element::chunk(map_c(&a.view(), |&v| Arith::abs(v)))),
        UnaryOp::Square => {
            with_chunk!(x, a => Element::chunk(map_c(&a.view(), |&v| Arith::mul(v, v))))
        }
        UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Log => {
            if x.dtype() == DType::Float32 {
                Chunk::F32(transcendental::<f32>(op, &cast(x).view()))
            } else {
                Chunk::F64(transcendental::<f64>(op, &cast(x).view()))
            }
        }
    }
}

fn transcendental<T: Float>(op: UnaryOp, a: &ArrayViewD<'_, T>) -> ArrayD<T> {
    match op {
        UnaryOp::Sqrt => map_c(a, |&v| T::sqrt(v)),
        UnaryOp::Exp => map_c(a, |&v| T::exp(v)),
        _ => map_c(a, |&v| T::ln(v)),
    }
}

/// `x op y` with NumPy broadcasting and promotion.
fn binary(op: BinaryOp, x: &Operand, y: &Operand) -> Result<Chunk, OpError> {
    let common = match (x, y) {
        (Operand::Array(a), Operand::Array(b)) => promote(a.dtype(), b.dtype()),
        (Operand::Array(a), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Array(a)) => {
            with_scalar(a.dtype(), *s)?
        }
        (Operand::Scalar(s), Operand::Scalar(t)) => with_scalar(s.default_dtype(), *t)?,
    };
    if op == BinaryOp::Div {
        return Ok(match true_division(common) {
            DType::Float32 => Chunk::F32(apply(side(x), side(y), f32::div)?),
            _ => Chunk::F64(apply(side(x), side(y), f64::div)?),
        });
    }
    with_dtype!(common, T => {
        let (x, y) = (side::<T>(x), side::<T>(y));
        Ok(T::chunk(match op {
            BinaryOp::Add => apply(x, y, T::add)?,
            BinaryOp::Sub => apply(x, y, T::sub)?,
            _ => apply(x, y, T::mul)?,
        }))
    })
}

/// `x * by + add`, rounding as NumPy would evaluate the two steps.
fn scale(x: &Arc<Chunk>, by: Scalar, add: Scalar) -> Result<Chunk, OpError> {
    let product = with_scalar(x.dtype(), by)?;
    let result = with_scalar(product, add)?;
    if product != result {
        // An int product with a float offset: NumPy multiplies (and wraps) in the int
        // type before adding in float64.
        let x = Operand::Array(Arc::clone(x));
        let p = binary(BinaryOp::Mul, &x, &Operand::Scalar(by))?;
        return binary(
            BinaryOp::Add,
            &Operand::Array(Arc::new(p)),
            &Operand::Scalar(add),
        );
    }
    with_dtype!(result, T => {
        let (b, c) = (by.element::<T>(), add.element::<T>());
        Ok(T::chunk(map_c(&cast::<T>(x).view(), |&v| T::add(T::mul(v, b), c))))
    })
}

/// An operand brought to the computation's element type.
enum Side<'a, T> {
    Array(CowArray<'a, T, IxDyn>),
    Scalar(T),
}

fn side<T: Arith>(o: &Operand) -> Side<'_, T> {
    match o {
        Operand::Array(c) => Side::Array(cast(c)),
        Operand::Scalar(s) => Side::Scalar(s.element()),
    }
}

fn apply<T: Arith>(
    x: Side<'_, T>,
    y: Side<'_, T>,
    f: impl Fn(T, T) -> T,
) -> Result<ArrayD<T>, OpError> {
    Ok(match (x, y) {
        (Side::Array(a), Side::Array(b)) => return zip(&a.view(), &b.view(), f),
        (Side::Array(a), Side::Scalar(s)) => map_c(&a.view(), |&v| f(v, s)),
        (Side::Scalar(s), Side::Array(b)) => map_c(&b.view(), |&v| f(s, v)),
        (Side::Scalar(s), Side::Scalar(t)) => ArrayD::from_elem(IxDyn(&[]), f(s, t)),
    })
}

/// `f` of corresponding elements, the shapes broadcast against each other.
fn zip<T: Arith>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
    f: impl Fn(T, T) -> T,
) -> Result<ArrayD<T>, OpError> {
    if a.shape() == b.shape() {
        return Ok(standard(Zip::from(a).and(b).map_collect(|&x, &y| f(x, y))));
    }
    let shape = broadcast_shape(a.shape(), b.shape())?;
    let mismatch = || OpError::new("internal error: broadcasting a checked shape failed");
    let a = a.broadcast(IxDyn(&shape)).ok_or_else(mismatch)?;
    let b = b.broadcast(IxDyn(&shape)).ok_or_else(mismatch)?;
    Ok(standard(
        Zip::from(&a).and(&b).map_collect(|&x, &y| f(x, y)),
    ))
}

/// The shape two shapes broadcast to (right-aligned; an extent 1 stretches), or an
/// error naming both.
fn broadcast_shape(a: &[usize], b: &[usize]) -> Result<Vec<usize>, OpError> {
    let n = a.len().max(b.len());
    let extent = |s: &[usize], k: usize| {
        if k + s.len() < n {
            1
        } else {
            s[k + s.len() - n]
        }
    };
    (0..n)
        .map(|k| match (extent(a, k), extent(b, k)) {
            (p, q) if p == q || q == 1 => Ok(p),
            (1, q) => Ok(q),
            _ => Err(OpError::new(format!(
                "operands could not be broadcast together with shapes {} and {}",
                tuple(a),
                tuple(b)
            ))),
        })
        .collect()
}

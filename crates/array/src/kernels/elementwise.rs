//! Elementwise arithmetic, comparisons and selection on chunks: what fused array
//! expressions compute inside one task. Dtypes, broadcasting and integer wrap-around
//! follow NumPy 2, so a lazy array gives the numbers NumPy would.
//!
//! Ops: `array.unary(op, x)`, `array.binary(op, x, y)`, `array.scale(x, by, add)`,
//! `array.astype(x, dtype)`, `array.compare(op, x, y)` (bool results),
//! `array.where(cond, x, y)`. Arithmetic on bool arrays is refused (NumPy defines it
//! only in part); comparisons and selection take them.

pub(crate) mod element;
pub(crate) mod promote;

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn, Zip};
use taskloom_graph::{Chunk, DType, OpError, Value};

use super::args::{cast, promote, value, Element};
use crate::operation::{BinaryOp, CompareOp, UnaryOp};
use crate::wire::{array_op, Decode};
use element::{astype, map_c, standard, tuple, with_dtype, with_number, Arith, Float};
use promote::{true_division, with_scalar, Scalar};

array_op! {
    /// `array.unary(op, x)`: `op` of each element.
    pub(crate) struct Unary<C = Arc<Chunk>> = "array.unary" {
        op: UnaryOp,
        x: C,
    }
    fn run(self) -> OpResult {
        unary(self.op, &self.x).map(value)
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

array_op! {
    /// `array.compare(op, x, y)`: `x op y` as bools, either side a chunk or a number.
    pub(crate) struct Compare<O = Operand> = "array.compare" {
        op: CompareOp,
        x: O,
        y: O,
    }
    fn run(self) -> OpResult {
        compare(self.op, &self.x, &self.y).map(value)
    }
}

array_op! {
    /// `array.where(cond, x, y)`: `x` where `cond` is true (nonzero), else `y`.
    pub(crate) struct Where<C = Arc<Chunk>, O = Operand> = "array.where" {
        cond: C,
        x: O,
        y: O,
    }
    fn run(self) -> OpResult {
        select(&self.cond, &self.x, &self.y).map(value)
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
pub(crate) fn unary(op: UnaryOp, x: &Chunk) -> Result<Chunk, OpError> {
    Ok(match op {
        UnaryOp::Neg | UnaryOp::Abs | UnaryOp::Square => with_number!(x.dtype(), T => {
            let a = cast::<T>(x);
            T::chunk(match op {
                UnaryOp::Neg => map_c(&a.view(), |&v| <T as Arith>::neg(v)),
                UnaryOp::Abs => map_c(&a.view(), |&v| <T as Arith>::abs(v)),
                _ => map_c(&a.view(), |&v| <T as Arith>::mul(v, v)),
            })
        }, bool => return Err(no_bool(op.name()))),
        UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Log => match x.dtype() {
            DType::Float32 => Chunk::F32(transcendental::<f32>(op, &cast(x).view())),
            DType::Bool => return Err(no_bool(op.name())),
            _ => Chunk::F64(transcendental::<f64>(op, &cast(x).view())),
        },
    })
}

/// The error for arithmetic `op` on bool arrays, which NumPy defines only in part:
/// convert them to a number type first.
fn no_bool(op: &str) -> OpError {
    OpError::new(format!(
        "{op} is not defined for bool arrays (convert them with astype first)"
    ))
}

fn transcendental<T: Float>(op: UnaryOp, a: &ArrayViewD<'_, T>) -> ArrayD<T> {
    match op {
        UnaryOp::Sqrt => map_c(a, |&v| T::sqrt(v)),
        UnaryOp::Exp => map_c(a, |&v| T::exp(v)),
        _ => map_c(a, |&v| T::ln(v)),
    }
}

/// The dtype two operands compute in: NumPy 2's promotion, NEP 50 for scalars.
fn common(x: &Operand, y: &Operand) -> Result<DType, OpError> {
    match (x, y) {
        (Operand::Array(a), Operand::Array(b)) => Ok(promote(a.dtype(), b.dtype())),
        (Operand::Array(a), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Array(a)) => {
            with_scalar(a.dtype(), *s)
        }
        (Operand::Scalar(s), Operand::Scalar(t)) => with_scalar(s.default_dtype(), *t),
    }
}

/// `x op y` with NumPy broadcasting and promotion.
pub(crate) fn binary(op: BinaryOp, x: &Operand, y: &Operand) -> Result<Chunk, OpError> {
    let common = common(x, y)?;
    if op == BinaryOp::Div {
        return Ok(match true_division(common) {
            DType::Float32 => Chunk::F32(apply(side(x), side(y), f32::div)?),
            _ => Chunk::F64(apply(side(x), side(y), f64::div)?),
        });
    }
    with_number!(common, T => {
        let (x, y) = (side::<T>(x), side::<T>(y));
        Ok(T::chunk(match op {
            BinaryOp::Add => apply(x, y, T::add)?,
            BinaryOp::Sub => apply(x, y, T::sub)?,
            _ => apply(x, y, T::mul)?,
        }))
    }, bool => Err(no_bool(op.name())))
}

/// `x op y` as bools, compared in the operands' common dtype (NaN compares unequal
/// to everything, itself included).
// One body for every dtype: for bool, `<` is NumPy's order (false < true) as written.
#[allow(clippy::bool_comparison)]
pub(crate) fn compare(op: CompareOp, x: &Operand, y: &Operand) -> Result<Chunk, OpError> {
    with_dtype!(common(x, y)?, T => {
        let (x, y) = (side::<T>(x), side::<T>(y));
        Ok(Chunk::Bool(match op {
            CompareOp::Gt => apply(x, y, |a, b| a > b)?,
            CompareOp::Lt => apply(x, y, |a, b| a < b)?,
            CompareOp::Ge => apply(x, y, |a, b| a >= b)?,
            CompareOp::Le => apply(x, y, |a, b| a <= b)?,
            CompareOp::Eq => apply(x, y, |a, b| a == b)?,
            CompareOp::Ne => apply(x, y, |a, b| a != b)?,
        }))
    })
}

/// `x` where `cond` holds, else `y`, all three broadcast together; the result has
/// the dtype of `x` and `y` combined (`cond` only chooses).
pub(crate) fn select(cond: &Chunk, x: &Operand, y: &Operand) -> Result<Chunk, OpError> {
    let cond = cast::<bool>(cond);
    with_dtype!(common(x, y)?, T => {
        let (x, y) = (side::<T>(x), side::<T>(y));
        let shape = broadcast_shape(&broadcast_shape(cond.shape(), x.shape())?, y.shape())?;
        let (x, y) = (x.into_array(), y.into_array());
        let mismatch = || OpError::new("internal error: broadcasting a checked shape failed");
        let cond = cond.broadcast(IxDyn(&shape)).ok_or_else(mismatch)?;
        let xs = x.broadcast(IxDyn(&shape)).ok_or_else(mismatch)?;
        let ys = y.broadcast(IxDyn(&shape)).ok_or_else(mismatch)?;
        Ok(T::chunk(standard(
            Zip::from(&cond).and(&xs).and(&ys).map_collect(|&c, &a, &b| if c { a } else { b }),
        )))
    })
}

/// `x * by + add`, rounding as NumPy would evaluate the two steps.
pub(crate) fn scale(x: &Arc<Chunk>, by: Scalar, add: Scalar) -> Result<Chunk, OpError> {
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
    with_number!(result, T => {
        let (b, c) = (by.element::<T>(), add.element::<T>());
        Ok(T::chunk(map_c(&cast::<T>(x).view(), |&v| T::add(T::mul(v, b), c))))
    }, bool => Err(no_bool("scale")))
}

/// An operand brought to the computation's element type.
enum Side<'a, T> {
    Array(CowArray<'a, T, IxDyn>),
    Scalar(T),
}

impl<'a, T: Clone> Side<'a, T> {
    /// The operand's shape: a scalar's is `()`.
    fn shape(&self) -> &[usize] {
        match self {
            Side::Array(a) => a.shape(),
            Side::Scalar(_) => &[],
        }
    }

    /// The operand as an array: a scalar is 0-d.
    fn into_array(self) -> CowArray<'a, T, IxDyn> {
        match self {
            Side::Array(a) => a,
            Side::Scalar(s) => ArrayD::from_elem(IxDyn(&[]), s).into(),
        }
    }
}

fn side<T: Element>(o: &Operand) -> Side<'_, T> {
    match o {
        Operand::Array(c) => Side::Array(cast(c)),
        Operand::Scalar(s) => Side::Scalar(s.element()),
    }
}

fn apply<T: Element, R: Clone>(
    x: Side<'_, T>,
    y: Side<'_, T>,
    f: impl Fn(T, T) -> R,
) -> Result<ArrayD<R>, OpError> {
    Ok(match (x, y) {
        (Side::Array(a), Side::Array(b)) => return zip(&a.view(), &b.view(), f),
        (Side::Array(a), Side::Scalar(s)) => map_c(&a.view(), |&v| f(v, s)),
        (Side::Scalar(s), Side::Array(b)) => map_c(&b.view(), |&v| f(s, v)),
        (Side::Scalar(s), Side::Scalar(t)) => ArrayD::from_elem(IxDyn(&[]), f(s, t)),
    })
}

/// `f` of corresponding elements, the shapes broadcast against each other.
fn zip<T: Element, R: Clone>(
    a: &ArrayViewD<'_, T>,
    b: &ArrayViewD<'_, T>,
    f: impl Fn(T, T) -> R,
) -> Result<ArrayD<R>, OpError> {
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

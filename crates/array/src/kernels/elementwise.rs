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
use element::{astype, map_c, standard, tuple, with_dtype, with_number, Arith};
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

/// What the dtype rules see of an operand: an array's dtype, or a Python number
/// (which has a kind but no width).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Kind {
    Array(DType),
    Scalar(Scalar),
}

impl Operand {
    fn kind(&self) -> Kind {
        match self {
            Operand::Array(c) => Kind::Array(c.dtype()),
            Operand::Scalar(s) => Kind::Scalar(*s),
        }
    }
}

/// The dtype `op` computes in and returns for an array of `x`: numbers keep their
/// type, transcendental functions make ints float64, bools are refused.
pub(crate) fn unary_dtype(op: UnaryOp, x: DType) -> Result<DType, OpError> {
    match x {
        DType::Bool => Err(no_bool(op.name())),
        DType::Float32 => Ok(x),
        _ if is_transcendental(op) => Ok(DType::Float64),
        _ => Ok(x),
    }
}

fn is_transcendental(op: UnaryOp) -> bool {
    matches!(op, UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Log)
}

/// The dtype `x op y` computes in and returns: the common dtype, or for true
/// division its float type; bools are refused.
pub(crate) fn binary_dtype(op: BinaryOp, x: Kind, y: Kind) -> Result<DType, OpError> {
    let common = common(x, y)?;
    if op == BinaryOp::Div {
        Ok(true_division(common))
    } else if common == DType::Bool {
        Err(no_bool(op.name()))
    } else {
        Ok(common)
    }
}

/// The dtypes of `x * by` and of `x * by + add` for an array of `x`, as NumPy
/// evaluates the two steps.
pub(crate) fn scale_dtypes(x: DType, by: Scalar, add: Scalar) -> Result<(DType, DType), OpError> {
    let product = with_scalar(x, by)?;
    Ok((product, with_scalar(product, add)?))
}

/// Runs `$body` with `$f` the element function of unary op `$op` on `$t`, the
/// element type of `$dtype` (from `unary_dtype`): one place says what each op
/// computes, for chunk kernels and fused tiles alike.
macro_rules! unary_fn {
    ($op:expr, $dtype:expr, $t:ident, $f:ident => $body:expr) => {{
        use $crate::kernels::elementwise::element::{with_number, Arith, Float};
        use $crate::operation::UnaryOp;
        match $op {
            UnaryOp::Sqrt | UnaryOp::Exp | UnaryOp::Log => {
                $crate::kernels::elementwise::with_float!($dtype, $t => match $op {
                    UnaryOp::Sqrt => { let $f = <$t as Float>::sqrt; $body }
                    UnaryOp::Exp => { let $f = <$t as Float>::exp; $body }
                    _ => { let $f = <$t as Float>::ln; $body }
                })
            }
            _ => with_number!($dtype, $t => match $op {
                UnaryOp::Neg => { let $f = <$t as Arith>::neg; $body }
                UnaryOp::Abs => { let $f = <$t as Arith>::abs; $body }
                _ => { let $f = |v: $t| <$t as Arith>::mul(v, v); $body }
            }, bool => unreachable!("unary_dtype refuses bools")),
        }
    }};
}
pub(crate) use unary_fn;

/// Runs `$body` with `$f` the element function of binary op `$op` on `$t`, the
/// element type of `$dtype` (from `binary_dtype`).
macro_rules! binary_fn {
    ($op:expr, $dtype:expr, $t:ident, $f:ident => $body:expr) => {{
        use $crate::kernels::elementwise::element::{with_number, Arith, Float};
        use $crate::operation::BinaryOp;
        match $op {
            BinaryOp::Div => $crate::kernels::elementwise::with_float!($dtype, $t => {
                let $f = <$t as Float>::div;
                $body
            }),
            _ => with_number!($dtype, $t => match $op {
                BinaryOp::Add => { let $f = <$t as Arith>::add; $body }
                BinaryOp::Sub => { let $f = <$t as Arith>::sub; $body }
                _ => { let $f = <$t as Arith>::mul; $body }
            }, bool => unreachable!("binary_dtype refuses bools")),
        }
    }};
}
pub(crate) use binary_fn;

/// Runs `$body` with `$f` comparison `$op` on `$t`, the element type of `$dtype`
/// (the operands' common dtype). NaN compares unequal to everything, itself
/// included; for bool, `<` is NumPy's order (false < true) as written.
macro_rules! compare_fn {
    ($op:expr, $dtype:expr, $t:ident, $f:ident => $body:expr) => {{
        use $crate::kernels::elementwise::element::with_dtype;
        use $crate::operation::CompareOp;
        with_dtype!($dtype, $t => match $op {
            CompareOp::Gt => { let $f = |a: $t, b: $t| a > b; $body }
            CompareOp::Lt => { let $f = |a: $t, b: $t| a < b; $body }
            CompareOp::Ge => { let $f = |a: $t, b: $t| a >= b; $body }
            CompareOp::Le => { let $f = |a: $t, b: $t| a <= b; $body }
            CompareOp::Eq => { let $f = |a: $t, b: $t| a == b; $body }
            _ => { let $f = |a: $t, b: $t| a != b; $body }
        })
    }};
}
pub(crate) use compare_fn;

/// Runs `$body` with `$t` bound to `f32` for float32 and `f64` otherwise (the float
/// types a result dtype rule gives).
macro_rules! with_float {
    ($dtype:expr, $t:ident => $body:expr) => {
        match $dtype {
            taskloom_graph::DType::Float32 => {
                type $t = f32;
                $body
            }
            _ => {
                type $t = f64;
                $body
            }
        }
    };
}
pub(crate) use with_float;

/// `op` applied to each element; see the module doc for the result dtype.
pub(crate) fn unary(op: UnaryOp, x: &Chunk) -> Result<Chunk, OpError> {
    let dtype = unary_dtype(op, x.dtype())?;
    Ok(unary_fn!(op, dtype, T, f => T::chunk(map_c(&cast::<T>(x).view(), |&v| f(v)))))
}

/// The error for arithmetic `op` on bool arrays, which NumPy defines only in part:
/// convert them to a number type first.
fn no_bool(op: &str) -> OpError {
    OpError::new(format!(
        "{op} is not defined for bool arrays (convert them with astype first)"
    ))
}

/// The dtype two operands compute in: NumPy 2's promotion, NEP 50 for scalars.
pub(crate) fn common(x: Kind, y: Kind) -> Result<DType, OpError> {
    match (x, y) {
        (Kind::Array(a), Kind::Array(b)) => Ok(promote(a, b)),
        (Kind::Array(a), Kind::Scalar(s)) | (Kind::Scalar(s), Kind::Array(a)) => with_scalar(a, s),
        (Kind::Scalar(s), Kind::Scalar(t)) => with_scalar(s.default_dtype(), t),
    }
}

/// `x op y` with NumPy broadcasting and promotion.
pub(crate) fn binary(op: BinaryOp, x: &Operand, y: &Operand) -> Result<Chunk, OpError> {
    let dtype = binary_dtype(op, x.kind(), y.kind())?;
    binary_fn!(op, dtype, T, f => Ok(T::chunk(apply(side::<T>(x), side::<T>(y), f)?)))
}

/// `x op y` as bools, compared in the operands' common dtype.
// One body for every dtype: for bool, `<` is NumPy's order (false < true) as written.
#[allow(clippy::bool_comparison)]
pub(crate) fn compare(op: CompareOp, x: &Operand, y: &Operand) -> Result<Chunk, OpError> {
    let dtype = common(x.kind(), y.kind())?;
    compare_fn!(op, dtype, T, f => Ok(Chunk::Bool(apply(side::<T>(x), side::<T>(y), f)?)))
}

/// `x` where `cond` holds, else `y`, all three broadcast together; the result has
/// the dtype of `x` and `y` combined (`cond` only chooses).
pub(crate) fn select(cond: &Chunk, x: &Operand, y: &Operand) -> Result<Chunk, OpError> {
    let cond = cast::<bool>(cond);
    with_dtype!(common(x.kind(), y.kind())?, T => {
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
    let (product, result) = scale_dtypes(x.dtype(), by, add)?;
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

//! Elementwise arithmetic on chunks: what fused array expressions compute inside one
//! task. Dtypes, broadcasting and integer wrap-around follow NumPy 2, so a lazy array
//! gives the numbers NumPy would.
//!
//! Ops: `array.unary(op, x)`, `array.binary(op, x, y)`, `array.scale(x, by, add)`,
//! `array.astype(x, dtype)`.

pub(crate) mod element;
pub(crate) mod promote;

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn, Zip};
use taskloom_graph::{with_chunk, Chunk, DType, OpError, Registry, Value};

use super::args::{arity, cast, chunk, dtype, promote, string, value, Element};
use element::{astype, map_c, standard, tuple, with_dtype, Arith, Float};
use promote::{true_division, with_scalar, Scalar};

pub(super) fn register(registry: &mut Registry) {
    registry.register("array.unary", |args| {
        arity(args, 2)?;
        let op = UnaryOp::parse(string(args, 0)?)?;
        Ok(value(unary(op, chunk(args, 1)?)))
    });
    registry.register("array.binary", |args| {
        arity(args, 3)?;
        let op = BinaryOp::parse(string(args, 0)?)?;
        Ok(value(binary(op, operand(args, 1)?, operand(args, 2)?)?))
    });
    registry.register("array.scale", |args| {
        arity(args, 3)?;
        Ok(value(scale(
            chunk(args, 0)?,
            number(args, 1)?,
            number(args, 2)?,
        )?))
    });
    registry.register("array.astype", |args| {
        arity(args, 2)?;
        Ok(value(astype(chunk(args, 0)?, dtype(args, 1)?)))
    });
}

/// A function of one element.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum UnaryOp {
    Neg,
    Abs,
    Sqrt,
    Exp,
    Log,
    Square,
}

impl UnaryOp {
    const ALL: [(&'static str, UnaryOp); 6] = [
        ("neg", UnaryOp::Neg),
        ("abs", UnaryOp::Abs),
        ("sqrt", UnaryOp::Sqrt),
        ("exp", UnaryOp::Exp),
        ("log", UnaryOp::Log),
        ("square", UnaryOp::Square),
    ];

    fn parse(name: &str) -> Result<UnaryOp, OpError> {
        lookup(&UnaryOp::ALL, name, "unary")
    }
}

/// An arithmetic operator of two operands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BinaryOp {
    Add,
    Sub,
    Mul,
    /// True division: ints divide to float64.
    Div,
}

impl BinaryOp {
    const ALL: [(&'static str, BinaryOp); 4] = [
        ("add", BinaryOp::Add),
        ("sub", BinaryOp::Sub),
        ("mul", BinaryOp::Mul),
        ("div", BinaryOp::Div),
    ];

    fn parse(name: &str) -> Result<BinaryOp, OpError> {
        lookup(&BinaryOp::ALL, name, "binary")
    }
}

/// The entry of `table` called `name`; the error lists the names there are.
pub(crate) fn lookup<T: Copy>(table: &[(&str, T)], name: &str, kind: &str) -> Result<T, OpError> {
    match table.iter().find(|(n, _)| *n == name) {
        Some((_, op)) => Ok(*op),
        None => {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            Err(OpError::new(format!(
                "unknown {kind} op '{name}' (expected one of {})",
                names.join(", ")
            )))
        }
    }
}

/// One side of a binary op: a chunk, or a Python number.
#[derive(Clone, Copy, Debug)]
enum Operand<'a> {
    Array(&'a Chunk),
    Scalar(Scalar),
}

/// Argument `i` as a chunk or a number.
fn operand(args: &[Value], i: usize) -> Result<Operand<'_>, OpError> {
    match &args[i] {
        Value::Chunk(c) => Ok(Operand::Array(c)),
        other => Scalar::of(other).map(Operand::Scalar).ok_or_else(|| {
            OpError::new(format!(
                "argument {} must be an array chunk or a number, got {}",
                i + 1,
                other.type_name()
            ))
        }),
    }
}

/// Argument `i` as a number.
fn number(args: &[Value], i: usize) -> Result<Scalar, OpError> {
    Scalar::of(&args[i]).ok_or_else(|| {
        OpError::new(format!(
            "argument {} must be a number, got {}",
            i + 1,
            args[i].type_name()
        ))
    })
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
fn binary(op: BinaryOp, x: Operand<'_>, y: Operand<'_>) -> Result<Chunk, OpError> {
    let common = match (x, y) {
        (Operand::Array(a), Operand::Array(b)) => promote(a.dtype(), b.dtype()),
        (Operand::Array(a), Operand::Scalar(s)) | (Operand::Scalar(s), Operand::Array(a)) => {
            with_scalar(a.dtype(), s)?
        }
        (Operand::Scalar(s), Operand::Scalar(t)) => with_scalar(s.default_dtype(), t)?,
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
fn scale(x: &Chunk, by: Scalar, add: Scalar) -> Result<Chunk, OpError> {
    let product = with_scalar(x.dtype(), by)?;
    let result = with_scalar(product, add)?;
    if product != result {
        // An int product with a float offset: NumPy multiplies (and wraps) in the int
        // type before adding in float64.
        let p = binary(BinaryOp::Mul, Operand::Array(x), Operand::Scalar(by))?;
        return binary(BinaryOp::Add, Operand::Array(&p), Operand::Scalar(add));
    }
    with_dtype!(result, T => {
        let (b, c) = (scalar::<T>(by), scalar::<T>(add));
        Ok(T::chunk(map_c(&cast::<T>(x).view(), |&v| T::add(T::mul(v, b), c))))
    })
}

/// An operand brought to the computation's element type.
enum Side<'a, T> {
    Array(CowArray<'a, T, IxDyn>),
    Scalar(T),
}

fn side<T: Arith>(o: Operand<'_>) -> Side<'_, T> {
    match o {
        Operand::Array(c) => Side::Array(cast(c)),
        Operand::Scalar(s) => Side::Scalar(scalar(s)),
    }
}

fn scalar<T: Element>(s: Scalar) -> T {
    match s {
        Scalar::Int(i) => T::from_i64(i),
        Scalar::Float(f) => T::from_f64(f),
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

//! Reading an op's arguments: chunks, shapes, names and flags out of `Value`s, with
//! errors that say which argument was wrong.

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};
use taskloom_graph::{Chunk, DType, OpError, Value};

/// Fails unless there are exactly `n` arguments.
pub fn arity(args: &[Value], n: usize) -> Result<(), OpError> {
    taskloom_graph::ops::expect_arity(args, n, n)
}

/// Argument `i` as a chunk.
pub fn chunk(args: &[Value], i: usize) -> Result<&Chunk, OpError> {
    match &args[i] {
        Value::Chunk(c) => Ok(c),
        other => Err(wrong(i, "an array chunk", other)),
    }
}

/// Argument `i` as a string.
pub fn string(args: &[Value], i: usize) -> Result<&str, OpError> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        other => Err(wrong(i, "a string", other)),
    }
}

/// Argument `i` as an int.
pub fn int(args: &[Value], i: usize) -> Result<i64, OpError> {
    match &args[i] {
        Value::Int(n) => Ok(*n),
        other => Err(wrong(i, "an int", other)),
    }
}

/// Argument `i` as a non-negative int (a count, an index, a size).
pub fn count(args: &[Value], i: usize) -> Result<usize, OpError> {
    let n = int(args, i)?;
    usize::try_from(n)
        .map_err(|_| OpError::new(format!("argument {} must not be negative, got {n}", i + 1)))
}

/// Argument `i` as a bool.
pub fn flag(args: &[Value], i: usize) -> Result<bool, OpError> {
    match &args[i] {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong(i, "a bool", other)),
    }
}

/// Argument `i` as a list of non-negative ints: a shape, a block index, a start.
pub fn dims(args: &[Value], i: usize) -> Result<Vec<usize>, OpError> {
    let Value::List(items) = &args[i] else {
        return Err(wrong(i, "a list of ints", &args[i]));
    };
    items
        .iter()
        .map(|v| match v {
            Value::Int(n) if *n >= 0 => Ok(*n as usize),
            other => Err(wrong(i, "a list of non-negative ints", other)),
        })
        .collect()
}

/// Argument `i` as an optional axis (`null` for all axes).
pub fn axis(args: &[Value], i: usize) -> Result<Option<usize>, OpError> {
    match &args[i] {
        Value::Null => Ok(None),
        _ => count(args, i).map(Some),
    }
}

/// Argument `i` as an element type name.
pub fn dtype(args: &[Value], i: usize) -> Result<DType, OpError> {
    DType::parse(string(args, i)?).map_err(OpError::new)
}

/// A chunk as an op's result.
pub fn value(chunk: Chunk) -> Value {
    Value::Chunk(Arc::new(chunk))
}

/// The element type NumPy gives a result of operands of types `a` and `b`: the wider of
/// two ints or two floats, and float64 once ints meet floats (no float32 holds every
/// int32), so mixed operands compute as array libraries users compare against do.
pub fn promote(a: DType, b: DType) -> DType {
    match (a, b) {
        _ if a == b => a,
        (DType::Int32 | DType::Int64, DType::Int32 | DType::Int64) => DType::Int64,
        _ => DType::Float64,
    }
}

/// An element type a chunk can be read as, converting from its own type with NumPy's
/// `astype` semantics, so kernels are written once over a promoted type.
pub trait Element: Copy + Send + Sync + 'static {
    /// This type's `DType`.
    const DTYPE: DType;
    /// The chunk's elements, if they are of this type.
    fn view(chunk: &Chunk) -> Option<ArrayViewD<'_, Self>>;
    /// Wraps elements of this type as a chunk.
    fn chunk(array: ArrayD<Self>) -> Chunk;
    /// Converts a float (truncating toward zero for ints, as `astype` does).
    fn from_f64(x: f64) -> Self;
    /// Converts an int.
    fn from_i64(x: i64) -> Self;
}

macro_rules! element {
    ($t:ty, $dtype:ident, $variant:ident) => {
        impl Element for $t {
            const DTYPE: DType = DType::$dtype;
            fn view(chunk: &Chunk) -> Option<ArrayViewD<'_, Self>> {
                match chunk {
                    Chunk::$variant(a) => Some(a.view()),
                    _ => None,
                }
            }
            fn chunk(array: ArrayD<Self>) -> Chunk {
                Chunk::$variant(array)
            }
            fn from_f64(x: f64) -> Self {
                x as $t
            }
            fn from_i64(x: i64) -> Self {
                x as $t
            }
        }
    };
}

element!(f64, Float64, F64);
element!(f32, Float32, F32);
element!(i64, Int64, I64);
element!(i32, Int32, I32);

/// `chunk` as elements of type `T`: borrowed when it already is, converted otherwise.
pub fn cast<T: Element>(chunk: &Chunk) -> CowArray<'_, T, IxDyn> {
    if let Some(view) = T::view(chunk) {
        return view.into();
    }
    match chunk {
        Chunk::F64(a) => a.mapv(T::from_f64).into(),
        Chunk::F32(a) => a.mapv(|x| T::from_f64(f64::from(x))).into(),
        Chunk::I64(a) => a.mapv(T::from_i64).into(),
        Chunk::I32(a) => a.mapv(|x| T::from_i64(i64::from(x))).into(),
    }
}

fn wrong(i: usize, want: &str, got: &Value) -> OpError {
    OpError::new(format!(
        "argument {} must be {want}, got {}",
        i + 1,
        got.type_name()
    ))
}

//! What kernels share about their operands: chunks as op results, element types a
//! chunk can be read as, and NumPy's promotion of two dtypes. (How arguments cross the
//! graph is `wire`.)

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};
use taskloom_graph::{Chunk, DType, Value};

/// A chunk as an op's result.
pub fn value(chunk: Chunk) -> Value {
    Value::Chunk(Arc::new(chunk))
}

/// The element type NumPy gives a result of operands of types `a` and `b`: the wider of
/// two ints or two floats, and float64 once ints meet floats (no float32 holds every
/// int32), so mixed operands compute as array libraries users compare against do;
/// `bool` gives way to any number.
pub fn promote(a: DType, b: DType) -> DType {
    match (a, b) {
        _ if a == b => a,
        (DType::Bool, other) | (other, DType::Bool) => other,
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
    /// Converts a float (truncating toward zero for ints, nonzero for bool, as `astype`
    /// does).
    fn from_f64(x: f64) -> Self;
    /// Converts an int.
    fn from_i64(x: i64) -> Self;
}

/// What element `$t` of `$variant` is as an `Element`, with its conversions.
macro_rules! element {
    ($t:ty, $dtype:ident, $variant:ident, $f:ident => $from_f64:expr, $i:ident => $from_i64:expr) => {
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
            fn from_f64($f: f64) -> Self {
                $from_f64
            }
            fn from_i64($i: i64) -> Self {
                $from_i64
            }
        }
    };
}

element!(f64, Float64, F64, f => f, i => i as f64);
element!(f32, Float32, F32, f => f as f32, i => i as f32);
element!(i64, Int64, I64, f => f as i64, i => i);
element!(i32, Int32, I32, f => f as i32, i => i as i32);
// NaN is true, as in NumPy.
element!(bool, Bool, Bool, f => f != 0.0, i => i != 0);

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
        Chunk::Bool(a) => a.mapv(|x| T::from_i64(i64::from(x))).into(),
    }
}

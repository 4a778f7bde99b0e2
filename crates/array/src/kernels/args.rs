//! What kernels share about their operands: chunks as op results, element types a
//! chunk can be read as, and NumPy's promotion of two dtypes. (How arguments cross the
//! graph is `wire`.)

use std::sync::Arc;

use ndarray::{ArrayD, ArrayViewD, CowArray, IxDyn};
use taskloom_graph::{with_chunk, Chunk, DType, Value};

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
    /// The chunk's array, if its elements are of this type: a buffer lent as a chunk
    /// comes back.
    fn array(chunk: Chunk) -> Option<ArrayD<Self>>;
    /// The chunk's elements in C order, if they are of this type and in C layout:
    /// what a tile evaluation reads rows of without making views.
    fn slice(chunk: &Chunk) -> Option<&[Self]>;
    /// The chunk's elements in C order, writable, if they are of this type and in C layout.
    fn slice_mut(chunk: &mut Chunk) -> Option<&mut [Self]>;
    /// Converts a float (truncating toward zero for ints, nonzero for bool, as `astype`
    /// does).
    fn from_f64(x: f64) -> Self;
    /// Converts an int.
    fn from_i64(x: i64) -> Self;
    /// This element as type `T`, as `astype` converts it.
    fn convert<T: Element>(self) -> T;
}

/// What element `$t` of `$variant` is as an `Element`, with its conversions.
macro_rules! element {
    ($t:ty, $dtype:ident, $variant:ident, $f:ident => $from_f64:expr, $i:ident => $from_i64:expr,
        $v:ident => $convert:expr) => {
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
            fn array(chunk: Chunk) -> Option<ArrayD<Self>> {
                match chunk {
                    Chunk::$variant(a) => Some(a),
                    _ => None,
                }
            }
            fn slice(chunk: &Chunk) -> Option<&[Self]> {
                match chunk {
                    Chunk::$variant(a) => a.as_slice(),
                    _ => None,
                }
            }
            fn slice_mut(chunk: &mut Chunk) -> Option<&mut [Self]> {
                match chunk {
                    Chunk::$variant(a) => a.as_slice_mut(),
                    _ => None,
                }
            }
            fn from_f64($f: f64) -> Self {
                $from_f64
            }
            fn from_i64($i: i64) -> Self {
                $from_i64
            }
            fn convert<T: Element>(self) -> T {
                let $v = self;
                $convert
            }
        }
    };
}

element!(f64, Float64, F64, f => f, i => i as f64, v => T::from_f64(v));
element!(f32, Float32, F32, f => f as f32, i => i as f32, v => T::from_f64(f64::from(v)));
element!(i64, Int64, I64, f => f as i64, i => i, v => T::from_i64(v));
element!(i32, Int32, I32, f => f as i32, i => i as i32, v => T::from_i64(i64::from(v)));
// NaN is true, as in NumPy.
element!(bool, Bool, Bool, f => f != 0.0, i => i != 0, v => T::from_i64(i64::from(v)));

/// `chunk` as elements of type `T`: borrowed when it already is, converted otherwise.
pub fn cast<T: Element>(chunk: &Chunk) -> CowArray<'_, T, IxDyn> {
    if let Some(view) = T::view(chunk) {
        return view.into();
    }
    with_chunk!(chunk, a => a.mapv(Element::convert).into())
}

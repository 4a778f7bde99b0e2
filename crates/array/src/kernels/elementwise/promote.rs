//! Which dtype an operation's result has: NumPy 2 promotion between arrays, and NEP 50
//! for Python scalars (a scalar adapts to the array's kind instead of widening it).

use taskloom_graph::{DType, Expr, OpError, Value};

use crate::kernels::args::Element;
use crate::wire::{Decode, Encode};

/// A Python number given to an array op: it has a kind (int or float) but no width.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Scalar {
    Int(i64),
    Float(f64),
}

impl Scalar {
    /// The number in `v`, if it is one.
    pub(crate) fn of(v: &Value) -> Option<Scalar> {
        match *v {
            Value::Int(i) => Some(Scalar::Int(i)),
            Value::Float(f) => Some(Scalar::Float(f)),
            _ => None,
        }
    }

    /// The number as an element of type `T` (`astype` semantics).
    pub(crate) fn element<T: Element>(self) -> T {
        match self {
            Scalar::Int(i) => T::from_i64(i),
            Scalar::Float(f) => T::from_f64(f),
        }
    }

    /// The dtype NumPy gives the scalar on its own (`np.asarray(2)` is int64).
    pub(crate) fn default_dtype(self) -> DType {
        match self {
            Scalar::Int(_) => DType::Int64,
            Scalar::Float(_) => DType::Float64,
        }
    }
}

impl Encode for Scalar {
    fn encode(self) -> Expr {
        Expr::Value(match self {
            Scalar::Int(i) => Value::Int(i),
            Scalar::Float(f) => Value::Float(f),
        })
    }
}

impl Decode for Scalar {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        Scalar::of(v).ok_or_else(|| {
            OpError::new(format!(
                "argument {} must be a number, got {}",
                i + 1,
                v.type_name()
            ))
        })
    }
}

/// The dtype true division computes in, given the operands' common dtype: ints divide
/// to float64, floats keep their width.
pub(crate) fn true_division(common: DType) -> DType {
    if common.is_float() {
        common
    } else {
        DType::Float64
    }
}

/// The dtype of an array of `dtype` combined with `scalar` (NEP 50): an int scalar
/// keeps the array's dtype (and must fit in it); a float scalar keeps a float array's
/// dtype and makes an int array float64; a bool array takes the scalar's own dtype.
pub(crate) fn with_scalar(dtype: DType, scalar: Scalar) -> Result<DType, OpError> {
    match scalar {
        _ if dtype == DType::Bool => Ok(scalar.default_dtype()),
        Scalar::Int(i) if dtype == DType::Int32 && i32::try_from(i).is_err() => Err(OpError::new(
            format!("Python integer {i} out of bounds for int32"),
        )),
        Scalar::Int(_) => Ok(dtype),
        Scalar::Float(_) if dtype.is_float() => Ok(dtype),
        Scalar::Float(_) => Ok(DType::Float64),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::args::promote;
    use DType::*;

    #[test]
    fn array_promotion_is_symmetric_and_follows_numpy_2() {
        // (a, b, a+b, a/b) as NumPy 2 computes them.
        let table = [
            (Float64, Float64, Float64, Float64),
            (Float32, Float32, Float32, Float32),
            (Int64, Int64, Int64, Float64),
            (Int32, Int32, Int32, Float64),
            (Float64, Float32, Float64, Float64),
            (Float64, Int64, Float64, Float64),
            (Float64, Int32, Float64, Float64),
            (Float32, Int64, Float64, Float64),
            (Float32, Int32, Float64, Float64),
            (Int64, Int32, Int64, Float64),
        ];
        for (a, b, sum, quotient) in table {
            assert_eq!(promote(a, b), sum, "{a} with {b}");
            assert_eq!(promote(b, a), sum, "{b} with {a}");
            assert_eq!(true_division(promote(a, b)), quotient, "{a} / {b}");
        }
    }

    #[test]
    fn scalars_adapt_to_the_array_kind() {
        let (int, float) = (Scalar::Int(2), Scalar::Float(0.5));
        assert_eq!(with_scalar(Int32, int), Ok(Int32));
        assert_eq!(with_scalar(Int64, int), Ok(Int64));
        assert_eq!(with_scalar(Float32, int), Ok(Float32));
        assert_eq!(with_scalar(Float32, float), Ok(Float32));
        assert_eq!(with_scalar(Float64, float), Ok(Float64));
        assert_eq!(with_scalar(Int32, float), Ok(Float64));
        assert_eq!(with_scalar(Int64, float), Ok(Float64));
        let err = with_scalar(Int32, Scalar::Int(1 << 40)).unwrap_err();
        assert!(
            err.0.contains("1099511627776") && err.0.contains("int32"),
            "{err}"
        );
    }
}

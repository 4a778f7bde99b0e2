//! Arithmetic on the four numeric element types as NumPy does it (integers wrap), so
//! each kernel is written once and instantiated per dtype; plus what every kernel's
//! result passes through (C layout) and how messages print shapes.

use std::fmt::Debug;

use ndarray::{ArrayD, ArrayViewD};
use taskloom_graph::{Chunk, DType};

use crate::kernels::args::{cast, Element};

/// An element type with arithmetic as NumPy does it for that type, so each kernel is
/// written once over the computation's promoted type.
pub(crate) trait Arith: Element + PartialOrd + Debug {
    /// `a + b` (wrapping for ints).
    fn add(a: Self, b: Self) -> Self;
    /// `a - b` (wrapping for ints).
    fn sub(a: Self, b: Self) -> Self;
    /// `a * b` (wrapping for ints).
    fn mul(a: Self, b: Self) -> Self;
    /// `-a` (wrapping for ints: `-MIN == MIN`).
    fn neg(a: Self) -> Self;
    /// `|a|` (wrapping for ints: `abs(MIN) == MIN`).
    fn abs(a: Self) -> Self;
    /// The value as a float64 (rounding ints beyond 2^53).
    fn to_f64(a: Self) -> f64;
    /// The value as an int64 (truncating floats).
    fn to_i64(a: Self) -> i64;
}

/// A floating-point element type: what true division and transcendental functions
/// compute in.
pub(crate) trait Float: Arith {
    /// `a / b` (IEEE: division by zero gives inf or NaN).
    fn div(a: Self, b: Self) -> Self;
    /// Square root.
    fn sqrt(a: Self) -> Self;
    /// `e^a`.
    fn exp(a: Self) -> Self;
    /// Natural logarithm.
    fn ln(a: Self) -> Self;
}

macro_rules! arith {
    ($t:ty, float) => {
        arith!(@common $t, |a: $t, b: $t| a + b, |a: $t, b: $t| a - b,
            |a: $t, b: $t| a * b, |a: $t| -a, |a: $t| a.abs());
        impl Float for $t {
            #[inline(always)]
            fn div(a: Self, b: Self) -> Self { a / b }
            #[inline(always)]
            fn sqrt(a: Self) -> Self { a.sqrt() }
            #[inline(always)]
            fn exp(a: Self) -> Self { a.exp() }
            #[inline(always)]
            fn ln(a: Self) -> Self { a.ln() }
        }
    };
    ($t:ty, int) => {
        arith!(@common $t, <$t>::wrapping_add, <$t>::wrapping_sub,
            <$t>::wrapping_mul, <$t>::wrapping_neg, <$t>::wrapping_abs);
    };
    (@common $t:ty, $add:expr, $sub:expr, $mul:expr,
        $neg:expr, $abs:expr) => {
        impl Arith for $t {
            #[inline(always)]
            fn add(a: Self, b: Self) -> Self { $add(a, b) }
            #[inline(always)]
            fn sub(a: Self, b: Self) -> Self { $sub(a, b) }
            #[inline(always)]
            fn mul(a: Self, b: Self) -> Self { $mul(a, b) }
            #[inline(always)]
            fn neg(a: Self) -> Self { $neg(a) }
            #[inline(always)]
            fn abs(a: Self) -> Self { $abs(a) }
            #[inline(always)]
            fn to_f64(a: Self) -> f64 { a as f64 }
            #[inline(always)]
            fn to_i64(a: Self) -> i64 { a as i64 }
        }
    };
}
arith!(f64, float);
arith!(f32, float);
arith!(i64, int);
arith!(i32, int);

/// Runs `$body` with the type alias `$t` bound to the element type of dtype `$dtype`
/// (any of the five: `$body` needs only `Element`).
macro_rules! with_dtype {
    ($dtype:expr, $t:ident => $body:expr) => {
        $crate::kernels::elementwise::element::with_number!($dtype, $t => $body, bool => {
            type $t = bool;
            $body
        })
    };
}
pub(crate) use with_dtype;

/// Runs `$body` with the type alias `$t` bound to the numeric element type of dtype
/// `$dtype` (so `$body` may use `Arith`), or `$boolean` for `bool`.
macro_rules! with_number {
    ($dtype:expr, $t:ident => $body:expr, bool => $boolean:expr) => {
        match $dtype {
            taskloom_graph::DType::Float64 => {
                type $t = f64;
                $body
            }
            taskloom_graph::DType::Float32 => {
                type $t = f32;
                $body
            }
            taskloom_graph::DType::Int64 => {
                type $t = i64;
                $body
            }
            taskloom_graph::DType::Int32 => {
                type $t = i32;
                $body
            }
            taskloom_graph::DType::Bool => $boolean,
        }
    };
}
pub(crate) use with_number;

/// `a` in standard C layout: itself when it already is, else a C-ordered copy. Every
/// kernel result passes through here, so consumers may rely on contiguous rows.
pub(crate) fn standard<T: Clone>(a: ArrayD<T>) -> ArrayD<T> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

/// `f` applied to every element, in C layout.
pub(crate) fn map_c<A, B>(a: &ArrayViewD<'_, A>, f: impl FnMut(&A) -> B) -> ArrayD<B>
where
    B: Clone,
{
    standard(a.map(f))
}

/// The chunk converted to `dtype`, in C layout.
pub(crate) fn astype(chunk: &Chunk, dtype: DType) -> Chunk {
    with_dtype!(dtype, T => T::chunk(standard(cast::<T>(chunk).into_owned())))
}

/// A shape as Python prints a tuple (`()`, `(5,)`, `(3, 4)`), so messages read like
/// NumPy's.
pub(crate) fn tuple(shape: &[usize]) -> String {
    match shape {
        [n] => format!("({n},)"),
        _ => {
            let parts: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
            format!("({})", parts.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::IxDyn;

    #[test]
    fn astype_wraps_ints_and_truncates_floats() {
        let a = Chunk::F64(ArrayD::from_shape_vec(IxDyn(&[3]), vec![-2.7, 2.7, 1e10]).unwrap());
        let Chunk::I32(b) = astype(&a, DType::Int32) else {
            panic!("astype to int32 gave another dtype")
        };
        // 1e10 saturates in Rust; NumPy leaves it undefined, so only in-range values
        // are compared.
        assert_eq!(&b.as_slice().unwrap()[..2], &[-2, 2]);
        let big = Chunk::I64(ArrayD::from_elem(IxDyn(&[1]), (1i64 << 32) | 7));
        assert_eq!(
            astype(&big, DType::Int32),
            Chunk::I32(ArrayD::from_elem(IxDyn(&[1]), 7))
        );
    }

    #[test]
    fn int_arithmetic_wraps() {
        assert_eq!(<i32 as Arith>::add(i32::MAX, 1), i32::MIN);
        assert_eq!(<i64 as Arith>::mul(i64::MAX, 2), -2);
        assert_eq!(<i32 as Arith>::neg(i32::MIN), i32::MIN);
        assert_eq!(<i32 as Arith>::abs(i32::MIN), i32::MIN);
    }

    #[test]
    fn tuples_print_like_python() {
        assert_eq!(tuple(&[]), "()");
        assert_eq!(tuple(&[5]), "(5,)");
        assert_eq!(tuple(&[3, 4]), "(3, 4)");
    }

    #[test]
    fn results_come_back_in_c_layout() {
        let a = ArrayD::from_shape_vec(IxDyn(&[2, 3]), (0..6).collect::<Vec<i64>>()).unwrap();
        let t = a.t();
        let mapped = map_c(&t, |&x| x * 10);
        assert!(mapped.is_standard_layout());
        assert_eq!(mapped.as_slice().unwrap(), &[0, 30, 10, 40, 20, 50]);
    }
}

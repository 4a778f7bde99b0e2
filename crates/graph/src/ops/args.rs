//! Helpers shared by the op files: arity checks, finite float results, Python-style
//! numeric promotion, and the equality and ordering used by comparisons and `min`/`max`.

use std::cmp::Ordering;

use super::OpError;
use crate::value::Value;

/// Fails unless `args` has between `min` and `max` elements.
pub fn expect_arity(args: &[Value], min: usize, max: usize) -> Result<(), OpError> {
    let n = args.len();
    if (min..=max).contains(&n) {
        return Ok(());
    }
    let want = match (min, max) {
        (a, b) if a == b => format!("{a}"),
        (a, usize::MAX) => format!("at least {a}"),
        (a, b) => format!("{a} to {b}"),
    };
    let plural = if min == 1 && max == 1 { "" } else { "s" };
    Err(OpError(format!("takes {want} argument{plural}, got {n}")))
}

/// A float result, or an error if it is not finite (the graph format has no NaN or inf).
pub fn float_result(f: f64) -> Result<Value, OpError> {
    if f.is_finite() {
        Ok(Value::Float(f))
    } else {
        Err(OpError::new(if f.is_nan() {
            "result is not a number (NaN)"
        } else {
            "float overflow: result is infinite"
        }))
    }
}

/// The error for an int result that does not fit in 64 bits.
pub(super) fn overflow() -> OpError {
    OpError::new("integer overflow")
}

/// An int result that is an error when the checked computation overflowed.
pub(super) fn int_result(i: Option<i64>) -> Result<Value, OpError> {
    i.map(Value::Int).ok_or_else(overflow)
}

/// A numeric value. Booleans are not numbers.
#[derive(Clone, Copy, Debug)]
pub(super) enum Num {
    Int(i64),
    Float(f64),
}

impl Num {
    /// The number in `v`, if it is one.
    pub(super) fn of(v: &Value) -> Option<Num> {
        match *v {
            Value::Int(i) => Some(Num::Int(i)),
            Value::Float(f) => Some(Num::Float(f)),
            _ => None,
        }
    }

    /// The number in `v`, or an error naming its type.
    pub(super) fn arg(v: &Value) -> Result<Num, OpError> {
        Num::of(v).ok_or_else(|| OpError(format!("unsupported operand type: {}", v.type_name())))
    }

    /// The value as a float (rounding ints beyond 2^53, as Python's `float()` does).
    pub(super) fn to_f64(self) -> f64 {
        match self {
            Num::Int(i) => i as f64,
            Num::Float(f) => f,
        }
    }
}

/// Two operands brought to a common type, as Python does: int with int stays int,
/// anything else with a float becomes float.
pub(super) enum Pair {
    Ints(i64, i64),
    Floats(f64, f64),
}

/// Promotes two numeric operands, or fails naming both types.
pub(super) fn promote(a: &Value, b: &Value) -> Result<Pair, OpError> {
    match (Num::of(a), Num::of(b)) {
        (Some(Num::Int(x)), Some(Num::Int(y))) => Ok(Pair::Ints(x, y)),
        (Some(x), Some(y)) => Ok(Pair::Floats(x.to_f64(), y.to_f64())),
        _ => Err(OpError(format!(
            "unsupported operand types: {} and {}",
            a.type_name(),
            b.type_name()
        ))),
    }
}

/// 2^63 as a float: the smallest float above every i64.
const TWO_POW_63: f64 = 9_223_372_036_854_775_808.0;

/// Compares an int with a float by exact value (no lossy cast); `None` for NaN.
fn cmp_int_float(i: i64, f: f64) -> Option<Ordering> {
    if f.is_nan() {
        return None;
    }
    if f >= TWO_POW_63 {
        return Some(Ordering::Less);
    }
    if f < -TWO_POW_63 {
        return Some(Ordering::Greater);
    }
    // Here -2^63 <= trunc(f) < 2^63, so the cast is exact.
    let whole = f.trunc();
    let by_fraction = if f > whole {
        Ordering::Less
    } else if f < whole {
        Ordering::Greater
    } else {
        Ordering::Equal
    };
    Some(i.cmp(&(whole as i64)).then(by_fraction))
}

/// Compares two numbers by exact value; `None` when a NaN is involved.
fn cmp_num(a: Num, b: Num) -> Option<Ordering> {
    match (a, b) {
        (Num::Int(x), Num::Int(y)) => Some(x.cmp(&y)),
        (Num::Float(x), Num::Float(y)) => x.partial_cmp(&y),
        (Num::Int(x), Num::Float(y)) => cmp_int_float(x, y),
        (Num::Float(x), Num::Int(y)) => cmp_int_float(y, x).map(Ordering::reverse),
    }
}

/// Equality as the `eq` op defines it: never fails; values of different kinds are
/// unequal, ints and floats compare by value, lists elementwise.
pub(super) fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::List(x), Value::List(y)) => {
            x.len() == y.len() && x.iter().zip(y.iter()).all(|(p, q)| values_equal(p, q))
        }
        _ => match (Num::of(a), Num::of(b)) {
            (Some(x), Some(y)) => cmp_num(x, y) == Some(Ordering::Equal),
            _ => a == b,
        },
    }
}

/// Ordering as `lt` and friends (and `min`/`max`) define it: numbers by value, strings
/// lexicographically, bools (false < true), lists lexicographically by element as
/// Python does; any other pair is an error.
pub(super) fn order(a: &Value, b: &Value) -> Result<Ordering, OpError> {
    if let (Some(x), Some(y)) = (Num::of(a), Num::of(b)) {
        return cmp_num(x, y).ok_or_else(|| OpError::new("cannot compare NaN"));
    }
    match (a, b) {
        (Value::Str(x), Value::Str(y)) => Ok(x.cmp(y)),
        (Value::Bool(x), Value::Bool(y)) => Ok(x.cmp(y)),
        (Value::List(x), Value::List(y)) => {
            // Like Python: the first unequal pair decides, else the shorter list is less.
            match x.iter().zip(y.iter()).find(|(p, q)| !values_equal(p, q)) {
                Some((p, q)) => order(p, q),
                None => Ok(x.len().cmp(&y.len())),
            }
        }
        _ => Err(OpError(format!(
            "cannot compare {} and {}",
            a.type_name(),
            b.type_name()
        ))),
    }
}

/// The items of a list argument, or an error naming the actual type.
pub(super) fn list_arg(v: &Value) -> Result<&[Value], OpError> {
    match v {
        Value::List(items) => Ok(items),
        other => Err(OpError(format!(
            "expected a list, got {}",
            other.type_name()
        ))),
    }
}

/// An int argument (booleans and floats are refused), named `what` in the error.
pub(super) fn int_arg(v: &Value, what: &str) -> Result<i64, OpError> {
    match v {
        Value::Int(i) => Ok(*i),
        other => Err(OpError(format!(
            "{what} must be an int, got {}",
            other.type_name()
        ))),
    }
}

/// Test helper: calls the builtin op `name` on `args`.
#[cfg(test)]
pub(super) fn call(name: &str, args: &[Value]) -> super::OpResult {
    let registry = super::Registry::builtins();
    let op = registry
        .get(name)
        .unwrap_or_else(|| panic!("no builtin op {name}"));
    op(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn int_float_comparison_is_exact_beyond_2_pow_53() {
        let big = (1i64 << 53) + 1;
        // (2^53 + 1) as f64 rounds to 2^53; a lossy cast would call these equal.
        assert_eq!(
            cmp_int_float(big, (1i64 << 53) as f64),
            Some(Ordering::Greater)
        );
        assert_eq!(cmp_int_float(i64::MAX, TWO_POW_63), Some(Ordering::Less));
        assert_eq!(cmp_int_float(i64::MIN, -TWO_POW_63), Some(Ordering::Equal));
        assert_eq!(cmp_int_float(2, 2.5), Some(Ordering::Less));
        assert_eq!(cmp_int_float(-2, -2.5), Some(Ordering::Greater));
        assert_eq!(cmp_int_float(0, f64::NAN), None);
    }

    #[test]
    fn arity_messages_name_the_expected_count() {
        let two = [Value::Int(1), Value::Int(2)];
        assert_eq!(expect_arity(&two, 2, 2), Ok(()));
        assert_eq!(
            expect_arity(&two, 1, 1).unwrap_err().0,
            "takes 1 argument, got 2"
        );
        assert_eq!(
            expect_arity(&two, 3, usize::MAX).unwrap_err().0,
            "takes at least 3 arguments, got 2"
        );
    }
}

//! Arithmetic ops with Python's number semantics: int op int stays int (overflow is an
//! error, never a wrap), any float makes the result float, `div` is true division, and
//! `floordiv`/`mod` round toward negative infinity.

use super::args::{expect_arity, float_result, int_result, overflow, promote, Num, Pair};
use super::{OpError, OpResult, Registry};
use crate::value::Value;

/// Registers `add sub mul div floordiv mod pow` and `neg abs inc dec`.
pub(super) fn register(registry: &mut Registry) {
    binary(registry, "add", add);
    binary(registry, "sub", sub);
    binary(registry, "mul", mul);
    binary(registry, "div", div);
    binary(registry, "floordiv", floordiv);
    binary(registry, "mod", modulo);
    binary(registry, "pow", pow);
    unary(registry, "neg", i64::checked_neg, |x| -x);
    unary(registry, "abs", i64::checked_abs, f64::abs);
    unary(registry, "inc", |x| x.checked_add(1), |x| x + 1.0);
    unary(registry, "dec", |x| x.checked_sub(1), |x| x - 1.0);
}

/// Registers an op of two numbers, promoted to a common type.
fn binary(registry: &mut Registry, name: &str, op: fn(Pair) -> OpResult) {
    registry.register(name, move |args| {
        expect_arity(args, 2, 2)?;
        op(promote(&args[0], &args[1])?)
    });
}

/// Registers an op of one number, with a checked int form and a float form.
fn unary(
    registry: &mut Registry,
    name: &str,
    on_int: fn(i64) -> Option<i64>,
    on_float: fn(f64) -> f64,
) {
    registry.register(name, move |args| {
        expect_arity(args, 1, 1)?;
        match Num::arg(&args[0])? {
            Num::Int(i) => int_result(on_int(i)),
            Num::Float(f) => float_result(on_float(f)),
        }
    });
}

fn add(p: Pair) -> OpResult {
    match p {
        Pair::Ints(a, b) => int_result(a.checked_add(b)),
        Pair::Floats(a, b) => float_result(a + b),
    }
}

fn sub(p: Pair) -> OpResult {
    match p {
        Pair::Ints(a, b) => int_result(a.checked_sub(b)),
        Pair::Floats(a, b) => float_result(a - b),
    }
}

fn mul(p: Pair) -> OpResult {
    match p {
        Pair::Ints(a, b) => int_result(a.checked_mul(b)),
        Pair::Floats(a, b) => float_result(a * b),
    }
}

fn division_by_zero() -> OpError {
    OpError::new("division by zero")
}

/// Whether the divisor is zero (either sign of float zero too, as in Python).
fn divisor_is_zero(p: &Pair) -> bool {
    match *p {
        Pair::Ints(_, b) => b == 0,
        Pair::Floats(_, b) => b == 0.0,
    }
}

/// True division: the result is always a float.
fn div(p: Pair) -> OpResult {
    if divisor_is_zero(&p) {
        return Err(division_by_zero());
    }
    match p {
        Pair::Ints(a, b) => float_result(a as f64 / b as f64),
        Pair::Floats(a, b) => float_result(a / b),
    }
}

fn floordiv(p: Pair) -> OpResult {
    if divisor_is_zero(&p) {
        return Err(division_by_zero());
    }
    match p {
        Pair::Ints(a, b) => {
            // i64::MIN / -1 is the one quotient that overflows.
            let q = a.checked_div(b).ok_or_else(overflow)?;
            let inexact = a.wrapping_rem(b) != 0;
            int_result(if inexact && (a < 0) != (b < 0) {
                q.checked_sub(1)
            } else {
                Some(q)
            })
        }
        Pair::Floats(a, b) => float_result(float_divmod(a, b).0),
    }
}

fn modulo(p: Pair) -> OpResult {
    if divisor_is_zero(&p) {
        return Err(OpError::new("modulo by zero"));
    }
    match p {
        Pair::Ints(a, b) => {
            // wrapping_rem only wraps for i64::MIN % -1, whose true remainder is 0.
            let r = a.wrapping_rem(b);
            // The result takes the divisor's sign; |r| < |b| so this cannot overflow.
            Ok(Value::Int(if r != 0 && (r < 0) != (b < 0) {
                r + b
            } else {
                r
            }))
        }
        Pair::Floats(a, b) => float_result(float_divmod(a, b).1),
    }
}

/// Python's float `divmod` (CPython's `float_divmod`), for a non-zero `b`.
fn float_divmod(a: f64, b: f64) -> (f64, f64) {
    let mut m = a % b;
    let mut d = (a - m) / b;
    if m != 0.0 {
        if (b < 0.0) != (m < 0.0) {
            m += b;
            d -= 1.0;
        }
    } else {
        m = 0.0f64.copysign(b);
    }
    let q = if d != 0.0 {
        let floor = d.floor();
        if d - floor > 0.5 {
            floor + 1.0
        } else {
            floor
        }
    } else {
        0.0f64.copysign(a / b)
    };
    (q, m)
}

fn pow(p: Pair) -> OpResult {
    match p {
        Pair::Ints(base, exp) if exp >= 0 => match base {
            0 => Ok(Value::Int(i64::from(exp == 0))),
            1 => Ok(Value::Int(1)),
            -1 => Ok(Value::Int(if exp % 2 == 0 { 1 } else { -1 })),
            _ => {
                let exp = u32::try_from(exp).map_err(|_| overflow())?;
                int_result(base.checked_pow(exp))
            }
        },
        // A negative int exponent gives a float, as in Python.
        Pair::Ints(base, exp) => float_pow(base as f64, exp as f64),
        Pair::Floats(base, exp) => float_pow(base, exp),
    }
}

fn float_pow(base: f64, exp: f64) -> OpResult {
    if base == 0.0 && exp < 0.0 {
        return Err(OpError::new("zero cannot be raised to a negative power"));
    }
    if base < 0.0 && exp.fract() != 0.0 {
        return Err(OpError::new(
            "negative number cannot be raised to a fractional power",
        ));
    }
    float_result(base.powf(exp))
}

#[cfg(test)]
mod tests {
    use super::super::args::call;
    use crate::value::Value;

    fn ok(name: &str, a: impl Into<Value>, b: impl Into<Value>) -> Value {
        call(name, &[a.into(), b.into()]).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    fn err(name: &str, args: &[Value]) -> String {
        match call(name, args) {
            Ok(v) => panic!("{name} should fail, gave {v}"),
            Err(e) => e.0,
        }
    }

    #[test]
    fn ints_stay_ints_and_floats_are_contagious() {
        assert_eq!(ok("add", 2, 3), Value::Int(5));
        assert_eq!(ok("sub", 2, 3), Value::Int(-1));
        assert_eq!(ok("mul", 4, 3), Value::Int(12));
        assert_eq!(ok("add", 2, 0.5), Value::Float(2.5));
        assert_eq!(ok("mul", 2.0, 3), Value::Float(6.0));
    }

    #[test]
    fn div_is_true_division() {
        assert_eq!(ok("div", 7, 2), Value::Float(3.5));
        assert_eq!(ok("div", 6, 3), Value::Float(2.0));
    }

    #[test]
    fn division_and_modulo_by_zero_fail_for_ints_and_floats() {
        for op in ["div", "floordiv", "mod"] {
            err(op, &[1.into(), 0.into()]);
            err(op, &[1.into(), 0.0.into()]);
            err(op, &[1.5.into(), (-0.0).into()]);
        }
        assert_eq!(err("div", &[1.into(), 0.0.into()]), "division by zero");
    }

    #[test]
    fn floordiv_and_mod_follow_python_for_ints() {
        // (a, b, a // b, a % b) as computed by Python.
        let cases = [
            (7, 2, 3, 1),
            (-7, 2, -4, 1),
            (7, -2, -4, -1),
            (-7, -2, 3, -1),
            (6, -3, -2, 0),
            (i64::MIN, -1, 0, 0),
        ];
        for (a, b, q, r) in cases {
            if a != i64::MIN {
                assert_eq!(ok("floordiv", a, b), Value::Int(q), "{a} // {b}");
            }
            assert_eq!(ok("mod", a, b), Value::Int(r), "{a} % {b}");
        }
        assert_eq!(
            err("floordiv", &[i64::MIN.into(), (-1).into()]),
            "integer overflow"
        );
    }

    #[test]
    fn floordiv_and_mod_follow_python_for_floats() {
        assert_eq!(ok("floordiv", 7.5, 2), Value::Float(3.0));
        assert_eq!(ok("mod", -7.5, 2), Value::Float(0.5));
        assert_eq!(ok("floordiv", -7.5, 2), Value::Float(-4.0));
        assert_eq!(ok("mod", 7.5, -2), Value::Float(-0.5));
        assert_eq!(ok("floordiv", 7, 2.0), Value::Float(3.0));
        // The sign of a zero remainder follows the divisor, as in Python.
        let Value::Float(r) = ok("mod", 4.0, -2.0) else {
            panic!()
        };
        assert!(r == 0.0 && r.is_sign_negative());
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        assert_eq!(err("add", &[i64::MAX.into(), 1.into()]), "integer overflow");
        err("sub", &[i64::MIN.into(), 1.into()]);
        err("mul", &[i64::MAX.into(), 2.into()]);
        err("neg", &[i64::MIN.into()]);
        err("abs", &[i64::MIN.into()]);
        err("inc", &[i64::MAX.into()]);
        err("dec", &[i64::MIN.into()]);
        err("pow", &[2.into(), 63.into()]);
        err("pow", &[2.into(), (1i64 << 40).into()]);
        // Float overflow to inf is refused too.
        err("mul", &[1e308.into(), 10.into()]);
    }

    #[test]
    fn pow_follows_python() {
        assert_eq!(ok("pow", 2, 10), Value::Int(1024));
        assert_eq!(ok("pow", 2, 62), Value::Int(1 << 62));
        assert_eq!(ok("pow", 0, 0), Value::Int(1));
        assert_eq!(ok("pow", 2, -1), Value::Float(0.5));
        assert_eq!(ok("pow", 2.0, 3), Value::Float(8.0));
        assert_eq!(ok("pow", -2.0, 3.0), Value::Float(-8.0));
        assert_eq!(ok("pow", 4, 0.5), Value::Float(2.0));
        // Huge exponents are fine for the bases whose powers stay small.
        assert_eq!(ok("pow", -1, i64::MAX), Value::Int(-1));
        assert_eq!(ok("pow", 1, i64::MAX), Value::Int(1));
        assert_eq!(ok("pow", 0, i64::MAX), Value::Int(0));
        err("pow", &[0.into(), (-1).into()]);
        err("pow", &[0.0.into(), (-2.5).into()]);
        err("pow", &[(-8.0).into(), (1.0 / 3.0).into()]);
    }

    #[test]
    fn unary_ops() {
        let one = |name: &str, a: Value| call(name, &[a]).unwrap();
        assert_eq!(one("neg", 3.into()), Value::Int(-3));
        assert_eq!(one("neg", 2.5.into()), Value::Float(-2.5));
        assert_eq!(one("abs", (-3).into()), Value::Int(3));
        assert_eq!(one("abs", (-2.5).into()), Value::Float(2.5));
        assert_eq!(one("inc", 41.into()), Value::Int(42));
        assert_eq!(one("dec", 0.5.into()), Value::Float(-0.5));
    }

    #[test]
    fn type_and_arity_errors_name_the_problem() {
        assert_eq!(
            err("add", &[1.into(), "a".into()]),
            "unsupported operand types: int and string"
        );
        // Booleans are not numbers.
        assert_eq!(
            err("add", &[true.into(), 1.into()]),
            "unsupported operand types: bool and int"
        );
        assert_eq!(
            err("neg", &["x".into()]),
            "unsupported operand type: string"
        );
        assert_eq!(err("add", &[1.into()]), "takes 2 arguments, got 1");
        assert_eq!(err("inc", &[]), "takes 1 argument, got 0");
    }
}

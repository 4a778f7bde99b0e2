//! Checks shared by every op: arity and finite float results.

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
        Err(OpError(format!("result is not a finite number ({f})")))
    }
}

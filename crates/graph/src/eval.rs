//! Evaluating one key's expression, given the results of the keys it refers to.

use std::panic::{catch_unwind, AssertUnwindSafe};

use smallvec::SmallVec;

use crate::expr::{Expr, OpId};
use crate::key::KeyId;
use crate::ops::{OpError, OpFn};
use crate::value::Value;

/// An op that failed while evaluating an expression: which op, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalError {
    pub op: OpId,
    pub cause: OpError,
}

/// Evaluates `expr`: literals are themselves, references are looked up, lists and op
/// calls evaluate their elements first (nested calls run here, inside this task).
pub fn evaluate(
    expr: &Expr,
    ops: &[OpFn],
    lookup: &impl Fn(KeyId) -> Value,
) -> Result<Value, EvalError> {
    match expr {
        Expr::Value(v) => Ok(v.clone()),
        Expr::Ref(key) => Ok(lookup(*key)),
        Expr::List(items) => {
            let values: Result<Vec<Value>, EvalError> =
                items.iter().map(|e| nested(e, ops, lookup)).collect();
            Ok(Value::List(values?.into()))
        }
        Expr::Call { op, args } => {
            let values: SmallVec<[Value; 4]> = args
                .iter()
                .map(|e| nested(e, ops, lookup))
                .collect::<Result<_, _>>()?;
            let f = &ops[op.index()];
            // A user op that panics fails its task instead of the whole run.
            match catch_unwind(AssertUnwindSafe(|| f(&values))) {
                Ok(result) => result,
                Err(panic) => Err(OpError::new(format!("op panicked: {}", panic_text(&panic)))),
            }
            .map_err(|cause| EvalError { op: *op, cause })
        }
    }
}

fn nested(expr: &Expr, ops: &[OpFn], lookup: &impl Fn(KeyId) -> Value) -> Result<Value, EvalError> {
    match expr {
        // The common leaves need no stack check.
        Expr::Value(v) => Ok(v.clone()),
        Expr::Ref(key) => Ok(lookup(*key)),
        _ => stacker::maybe_grow(64 * 1024, 1024 * 1024, || evaluate(expr, ops, lookup)),
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Registry;
    use crate::parse::parse;
    use crate::validate::validate;

    fn eval_key(src: &str, key: &str, lookup: impl Fn(KeyId) -> Value) -> Result<Value, EvalError> {
        let mut registry = Registry::builtins();
        registry.register("boom", |_| panic!("kaboom"));
        let g = parse(src).unwrap();
        let ops = validate(&g, &registry).unwrap();
        evaluate(g.expr(g.key(key).unwrap()), &ops, &lookup)
    }

    #[test]
    fn references_lists_and_nested_calls() {
        let v = eval_key("x = 1\ny = [x, \"s\", list(x, 2)]\n", "y", |_| {
            Value::Int(41)
        })
        .unwrap();
        assert_eq!(v.to_json(), r#"[41,"s",[41,2]]"#);
    }

    #[test]
    fn a_panicking_op_becomes_an_error_naming_it() {
        let err = eval_key("x = boom()\n", "x", |_| Value::Null).unwrap_err();
        assert!(err.cause.0.contains("kaboom"), "{err:?}");
    }
}

//! Comparison ops. `eq`/`ne` never fail (different kinds are simply unequal); the
//! orderings accept numbers, strings, bools and lists, and refuse any other pair.

use std::cmp::Ordering;

use super::args::{expect_arity, order, values_equal};
use super::Registry;
use crate::value::Value;

/// Registers `eq ne lt le gt ge`.
pub(super) fn register(registry: &mut Registry) {
    registry.register("eq", |args| {
        expect_arity(args, 2, 2)?;
        Ok(Value::Bool(values_equal(&args[0], &args[1])))
    });
    registry.register("ne", |args| {
        expect_arity(args, 2, 2)?;
        Ok(Value::Bool(!values_equal(&args[0], &args[1])))
    });

    ordering(registry, "lt", Ordering::is_lt);
    ordering(registry, "le", Ordering::is_le);
    ordering(registry, "gt", Ordering::is_gt);
    ordering(registry, "ge", Ordering::is_ge);
}

/// Registers an op that is true when the ordering of its two arguments `holds`.
fn ordering(registry: &mut Registry, name: &str, holds: fn(Ordering) -> bool) {
    registry.register(name, move |args| {
        expect_arity(args, 2, 2)?;
        Ok(Value::Bool(holds(order(&args[0], &args[1])?)))
    });
}

#[cfg(test)]
mod tests {
    use super::super::args::call;
    use crate::value::Value;

    fn check(name: &str, a: impl Into<Value>, b: impl Into<Value>) -> bool {
        match call(name, &[a.into(), b.into()]) {
            Ok(Value::Bool(b)) => b,
            other => panic!("{name} gave {other:?}"),
        }
    }

    #[test]
    fn eq_compares_numbers_by_value_and_kinds_strictly() {
        assert!(check("eq", 1, 1.0));
        assert!(check(
            "eq",
            vec![1, 2],
            vec![Value::Float(1.0), Value::Int(2)]
        ));
        assert!(check("eq", Value::Null, Value::Null));
        assert!(check("eq", "a", "a"));
        assert!(!check("eq", true, 1));
        assert!(!check("eq", "1", 1));
        assert!(!check("eq", vec![1], vec![1, 2]));
        assert!(check("ne", true, 1));
        assert!(!check("ne", 2, 2.0));
        // 2^53 + 1 is not equal to the float 2^53, though a lossy cast says so.
        assert!(!check("eq", (1i64 << 53) + 1, (1i64 << 53) as f64));
    }

    #[test]
    fn orderings_follow_python() {
        assert!(check("lt", 1, 2));
        assert!(check("lt", 1, 1.5));
        assert!(check("le", 2.0, 2));
        assert!(check("gt", "b", "abc"));
        assert!(check("ge", true, false));
        assert!(check("lt", vec![1, 2], vec![1, 3]));
        assert!(check("lt", vec![1, 2], vec![1, 2, 0]));
        assert!(!check("gt", vec![1, 2], vec![1.0, 2.0]));
        // Equal leading elements are skipped by equality, so null in a list is fine.
        let with_null = |n: i64| Value::list([Value::Null, Value::Int(n)]);
        assert!(check("lt", with_null(1), with_null(2)));
        assert!(check("gt", i64::MAX, 9.2e18));
        assert!(check("lt", i64::MAX, 9_223_372_036_854_775_808.0));
    }

    #[test]
    fn ordering_mismatched_kinds_is_an_error() {
        let err = call("lt", &[1.into(), "a".into()]).unwrap_err();
        assert_eq!(err.0, "cannot compare int and string");
        assert!(call("lt", &[Value::Null, Value::Null]).is_err());
        assert!(call("ge", &[true.into(), 1.into()]).is_err());
        assert!(call("lt", &[vec![1].into(), vec!["a"].into()]).is_err());
        assert!(call("eq", &[1.into()]).is_err());
    }
}

//! Aggregates over a list: `sum prod min max mean len`. Int totals stay exact ints
//! (overflow is an error); any float makes the total a compensated float sum.

use std::cmp::Ordering;

use super::args::{expect_arity, float_result, int_result, list_arg, order, overflow, Num};
use super::{OpError, OpResult, Registry};
use crate::value::Value;

/// Registers `sum prod min max mean len`.
pub(super) fn register(registry: &mut Registry) {
    on_list(registry, "sum", sum);
    on_list(registry, "prod", prod);
    on_list(registry, "min", |items| extreme(items, Ordering::Less));
    on_list(registry, "max", |items| extreme(items, Ordering::Greater));
    on_list(registry, "mean", mean);
    registry.register("len", |args| {
        expect_arity(args, 1, 1)?;
        match &args[0] {
            Value::List(items) => len_result(items.len()),
            Value::Str(s) => len_result(s.chars().count()),
            Value::Bytes(b) => len_result(b.len()),
            other => Err(OpError(format!(
                "expected a list, string or bytes, got {}",
                other.type_name()
            ))),
        }
    });
}

/// A length as an int value.
fn len_result(n: usize) -> OpResult {
    int_result(i64::try_from(n).ok())
}

/// Registers an op whose one argument must be a list.
fn on_list(registry: &mut Registry, name: &str, op: fn(&[Value]) -> OpResult) {
    registry.register(name, move |args| {
        expect_arity(args, 1, 1)?;
        op(list_arg(&args[0])?)
    });
}

/// The list's items as numbers, or an error naming the first non-number.
fn numbers(items: &[Value]) -> Result<Vec<Num>, OpError> {
    items
        .iter()
        .enumerate()
        .map(|(i, v)| {
            Num::of(v).ok_or_else(|| {
                OpError(format!(
                    "expected a list of numbers, found {} at index {i}",
                    v.type_name()
                ))
            })
        })
        .collect()
}

/// The exact sum of the ints and the compensated sum of the floats in a list.
struct Totals {
    ints: i128,
    floats: Neumaier,
    any_float: bool,
}

fn totals(nums: &[Num]) -> Result<Totals, OpError> {
    let mut t = Totals {
        ints: 0,
        floats: Neumaier::default(),
        any_float: false,
    };
    for n in nums {
        match *n {
            Num::Int(i) => t.ints = t.ints.checked_add(i.into()).ok_or_else(overflow)?,
            Num::Float(f) => {
                t.floats.add(f);
                t.any_float = true;
            }
        }
    }
    Ok(t)
}

impl Totals {
    /// Everything as one float.
    fn float_total(&self) -> f64 {
        let mut all = self.floats;
        all.add(self.ints as f64);
        all.total()
    }
}

/// Neumaier's compensated summation: far more accurate than a naive float sum.
#[derive(Clone, Copy, Default)]
struct Neumaier {
    sum: f64,
    compensation: f64,
}

impl Neumaier {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        self.compensation += if self.sum.abs() >= x.abs() {
            (self.sum - t) + x
        } else {
            (x - t) + self.sum
        };
        self.sum = t;
    }

    /// The sum; an overflowed sum stays infinite (compensating it would give NaN).
    fn total(&self) -> f64 {
        if self.sum.is_finite() {
            self.sum + self.compensation
        } else {
            self.sum
        }
    }
}

/// `sum([])` is 0; ints give an int (an error if the total overflows), else a float.
fn sum(items: &[Value]) -> OpResult {
    let t = totals(&numbers(items)?)?;
    if t.any_float {
        float_result(t.float_total())
    } else {
        i64::try_from(t.ints)
            .map(Value::Int)
            .map_err(|_| overflow())
    }
}

/// `prod([])` is 1; ints give an int (checked), any float makes it a float product.
fn prod(items: &[Value]) -> OpResult {
    let nums = numbers(items)?;
    if nums.iter().any(|n| matches!(n, Num::Float(_))) {
        return float_result(nums.iter().map(|n| n.to_f64()).product());
    }
    let mut product = 1i64;
    for n in &nums {
        if let Num::Int(i) = *n {
            product = product.checked_mul(i).ok_or_else(overflow)?;
        }
    }
    Ok(Value::Int(product))
}

/// Always a float; an empty list is an error.
fn mean(items: &[Value]) -> OpResult {
    let nums = numbers(items)?;
    if nums.is_empty() {
        return Err(OpError::new("empty list"));
    }
    let n = nums.len() as f64;
    let t = totals(&nums)?;
    let mean = t.float_total() / n;
    if mean.is_finite() {
        return float_result(mean);
    }
    // The total overflowed though the mean may not: sum the scaled-down values instead.
    let mut scaled = Neumaier::default();
    nums.iter().for_each(|x| scaled.add(x.to_f64() / n));
    float_result(scaled.total())
}

/// The first element that orders `want` against every other (`Less` for `min`):
/// the element itself, so `min([1, 2.5])` is the int 1.
fn extreme(items: &[Value], want: Ordering) -> OpResult {
    let (first, rest) = items
        .split_first()
        .ok_or_else(|| OpError::new("empty list"))?;
    let mut best = first;
    for item in rest {
        if order(item, best)? == want {
            best = item;
        }
    }
    Ok(best.clone())
}

#[cfg(test)]
mod tests {
    use super::super::args::call;
    use crate::value::Value;

    fn agg(name: &str, list: Value) -> Result<Value, String> {
        call(name, &[list]).map_err(|e| e.0)
    }

    fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::list(items)
    }

    #[test]
    fn sum_and_prod_of_ints_stay_ints() {
        assert_eq!(agg("sum", vec![1, 2, 3].into()), Ok(Value::Int(6)));
        assert_eq!(agg("prod", vec![2, 3, 4].into()), Ok(Value::Int(24)));
        assert_eq!(agg("sum", list([])), Ok(Value::Int(0)));
        assert_eq!(agg("prod", list([])), Ok(Value::Int(1)));
        // An intermediate overflow that comes back in range is fine: the sum is exact.
        let back = list([i64::MAX.into(), 1.into(), (-2).into()]);
        assert_eq!(agg("sum", back), Ok(Value::Int(i64::MAX - 1)));
    }

    #[test]
    fn int_overflow_is_an_error() {
        let too_big = list([i64::MAX.into(), 1.into()]);
        assert_eq!(agg("sum", too_big), Err("integer overflow".into()));
        let too_big = list([i64::MAX.into(), 2.into()]);
        assert_eq!(agg("prod", too_big), Err("integer overflow".into()));
    }

    #[test]
    fn mixed_lists_give_floats_and_float_sums_are_accurate() {
        assert_eq!(
            agg("sum", list([1.into(), 2.5.into()])),
            Ok(Value::Float(3.5))
        );
        assert_eq!(
            agg("prod", list([2.into(), 2.5.into()])),
            Ok(Value::Float(5.0))
        );
        // A naive left-to-right sum gives 0.0 here.
        let cancelling = list([1e100.into(), 1.0.into(), (-1e100).into()]);
        assert_eq!(agg("sum", cancelling), Ok(Value::Float(1.0)));
        let tenths = list(std::iter::repeat_n(Value::Float(0.1), 10));
        assert_eq!(agg("sum", tenths), Ok(Value::Float(1.0)));
    }

    #[test]
    fn mean_is_always_a_float() {
        assert_eq!(agg("mean", vec![1, 2].into()), Ok(Value::Float(1.5)));
        assert_eq!(agg("mean", vec![2, 4].into()), Ok(Value::Float(3.0)));
        // Exact int totals: no overflow for huge ints.
        let huge = list([i64::MAX.into(), i64::MAX.into()]);
        assert_eq!(agg("mean", huge), Ok(Value::Float(i64::MAX as f64)));
        // A float total that overflows does not make the mean overflow.
        let big = list([1e308.into(), 1e308.into()]);
        assert_eq!(agg("mean", big), Ok(Value::Float(1e308)));
    }

    #[test]
    fn min_and_max_return_the_element_itself() {
        assert_eq!(agg("min", list([1.into(), 2.5.into()])), Ok(Value::Int(1)));
        assert_eq!(
            agg("max", list([1.into(), 2.5.into()])),
            Ok(Value::Float(2.5))
        );
        // Ties keep the first, as Python does.
        assert_eq!(agg("max", list([1.into(), 1.0.into()])), Ok(Value::Int(1)));
        assert_eq!(agg("min", vec!["b", "a", "c"].into()), Ok(Value::str("a")));
        assert_eq!(agg("max", list([Value::Null])), Ok(Value::Null));
        assert_eq!(
            agg("min", list([1.into(), "a".into()])),
            Err("cannot compare string and int".into())
        );
    }

    #[test]
    fn empty_lists_fail_where_there_is_no_answer() {
        for op in ["min", "max", "mean"] {
            assert_eq!(agg(op, list([])), Err("empty list".into()));
        }
    }

    #[test]
    fn non_numbers_and_non_lists_are_refused() {
        assert_eq!(
            agg("sum", list([1.into(), true.into()])),
            Err("expected a list of numbers, found bool at index 1".into())
        );
        assert_eq!(
            agg("mean", 3.into()),
            Err("expected a list, got int".into())
        );
        assert!(call("sum", &[]).is_err());
    }

    #[test]
    fn len_counts_items_chars_and_bytes() {
        assert_eq!(agg("len", vec![1, 2, 3].into()), Ok(Value::Int(3)));
        assert_eq!(agg("len", "héllo".into()), Ok(Value::Int(5)));
        let bytes = Value::Bytes(vec![1u8, 2].into());
        assert_eq!(agg("len", bytes), Ok(Value::Int(2)));
        assert_eq!(agg("len", list([])), Ok(Value::Int(0)));
        assert!(agg("len", 5.into()).is_err());
    }
}

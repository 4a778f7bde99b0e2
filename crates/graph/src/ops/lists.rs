//! Building and taking apart lists: `list range concat getitem identity`.

use super::args::{expect_arity, int_arg, list_arg};
use super::{OpError, OpResult, Registry};
use crate::value::Value;

/// The longest list `range` will build: 2^28 values already take 6 GiB.
const MAX_RANGE_LEN: i128 = 1 << 28;

/// Registers `list range concat getitem identity`.
pub(super) fn register(registry: &mut Registry) {
    registry.register("list", |args| Ok(Value::list(args.iter().cloned())));
    registry.register("range", range);
    registry.register("concat", |args| {
        expect_arity(args, 1, 1)?;
        concat(list_arg(&args[0])?)
    });
    registry.register("getitem", getitem);
    registry.register("identity", |args| {
        expect_arity(args, 1, 1)?;
        Ok(args[0].clone())
    });
}

/// `range(n)`, `range(start, stop)` or `range(start, stop, step)`, as in Python.
fn range(args: &[Value]) -> OpResult {
    expect_arity(args, 1, 3)?;
    let ints = args
        .iter()
        .map(|v| int_arg(v, "each argument"))
        .collect::<Result<Vec<i64>, _>>()?;
    let (start, stop, step) = match ints[..] {
        [stop] => (0, stop, 1),
        [start, stop] => (start, stop, 1),
        [start, stop, step] => (start, stop, step),
        _ => unreachable!("arity checked above"),
    };
    if step == 0 {
        return Err(OpError::new("step must not be zero"));
    }
    // In i128 nothing here can overflow.
    let (start, stop, step) = (i128::from(start), i128::from(stop), i128::from(step));
    let len = if step > 0 {
        (stop - start + step - 1) / step
    } else {
        (start - stop - step - 1) / -step
    }
    .max(0);
    if len > MAX_RANGE_LEN {
        return Err(OpError(format!(
            "range of {len} elements is too long (the limit is {MAX_RANGE_LEN})"
        )));
    }
    // Every element lies between start and stop, so it fits in an i64.
    Ok(Value::list(
        (0..len).map(|i| Value::Int((start + i * step) as i64)),
    ))
}

/// Joins a list of lists into one list, or a list of strings into one string.
fn concat(items: &[Value]) -> OpResult {
    let wrong = |i: usize, v: &Value| {
        OpError(format!(
            "expected a list of lists or a list of strings, found {} at index {i}",
            v.type_name()
        ))
    };
    match items.first() {
        None => Ok(Value::list([])),
        Some(Value::Str(_)) => {
            let mut out = String::new();
            for (i, v) in items.iter().enumerate() {
                match v {
                    Value::Str(s) => out.push_str(s),
                    other => return Err(wrong(i, other)),
                }
            }
            Ok(Value::from(out))
        }
        Some(_) => {
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                match v {
                    Value::List(inner) => out.extend_from_slice(inner),
                    other => return Err(wrong(i, other)),
                }
            }
            Ok(Value::list(out))
        }
    }
}

/// Element `i` of a list (or character `i` of a string); negative counts from the end.
fn getitem(args: &[Value]) -> OpResult {
    expect_arity(args, 2, 2)?;
    let i = int_arg(&args[1], "index")?;
    let out_of_range = |len: usize| OpError(format!("index {i} out of range for length {len}"));
    match &args[0] {
        Value::List(items) => resolve(i, items.len())
            .and_then(|at| items.get(at))
            .cloned()
            .ok_or_else(|| out_of_range(items.len())),
        Value::Str(s) => {
            let len = s.chars().count();
            resolve(i, len)
                .and_then(|at| s.chars().nth(at))
                .map(|c| Value::from(c.to_string()))
                .ok_or_else(|| out_of_range(len))
        }
        other => Err(OpError(format!(
            "expected a list or a string, got {}",
            other.type_name()
        ))),
    }
}

/// The position of index `i` in a sequence of `len` items, if in range.
fn resolve(i: i64, len: usize) -> Option<usize> {
    let len = i128::try_from(len).ok()?;
    let at = if i < 0 {
        i128::from(i) + len
    } else {
        i128::from(i)
    };
    if (0..len).contains(&at) {
        usize::try_from(at).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::super::args::call;
    use crate::value::Value;

    fn ints(v: &[i64]) -> Value {
        Value::from(v.to_vec())
    }

    fn range(args: &[i64]) -> Result<Value, String> {
        let args: Vec<Value> = args.iter().map(|&i| Value::Int(i)).collect();
        call("range", &args).map_err(|e| e.0)
    }

    #[test]
    fn list_gathers_any_number_of_args() {
        assert_eq!(call("list", &[]), Ok(Value::list([])));
        assert_eq!(
            call("list", &[1.into(), "a".into()]),
            Ok(Value::list([1.into(), "a".into()]))
        );
    }

    #[test]
    fn range_follows_python() {
        assert_eq!(range(&[4]), Ok(ints(&[0, 1, 2, 3])));
        assert_eq!(range(&[2, 5]), Ok(ints(&[2, 3, 4])));
        assert_eq!(range(&[0, 10, 3]), Ok(ints(&[0, 3, 6, 9])));
        assert_eq!(range(&[5, 0, -2]), Ok(ints(&[5, 3, 1])));
        assert_eq!(range(&[-3]), Ok(ints(&[])));
        assert_eq!(range(&[5, 2]), Ok(ints(&[])));
        assert_eq!(range(&[i64::MAX - 1, i64::MAX]), Ok(ints(&[i64::MAX - 1])));
        assert_eq!(
            range(&[i64::MIN, i64::MAX, i64::MAX]),
            Ok(ints(&[i64::MIN, -1, i64::MAX - 1]))
        );
    }

    #[test]
    fn range_refuses_zero_steps_huge_lengths_and_non_ints() {
        assert_eq!(range(&[0, 5, 0]), Err("step must not be zero".into()));
        let err = range(&[i64::MIN, i64::MAX]).unwrap_err();
        assert!(err.contains("too long"), "{err}");
        // Just over the limit (2^28 elements) is refused before allocating anything.
        assert!(range(&[(1 << 28) + 1]).is_err());
        assert!(range(&[0, 3 << 28, -3]).is_ok());
        assert!(range(&[0, (3 << 28) + 1, 3]).is_err());
        assert!(call("range", &[2.5.into()]).is_err());
        assert!(call("range", &[true.into()]).is_err());
        assert!(range(&[]).is_err());
    }

    #[test]
    fn concat_joins_lists_or_strings() {
        let lists = Value::list([ints(&[1, 2]), ints(&[]), ints(&[3])]);
        assert_eq!(call("concat", &[lists]), Ok(ints(&[1, 2, 3])));
        let strs = Value::from(vec!["ab", "", "c"]);
        assert_eq!(call("concat", &[strs]), Ok(Value::str("abc")));
        assert_eq!(call("concat", &[Value::list([])]), Ok(Value::list([])));
        let mixed = Value::list([ints(&[1]), "a".into()]);
        assert_eq!(
            call("concat", &[mixed]).unwrap_err().0,
            "expected a list of lists or a list of strings, found string at index 1"
        );
        assert!(call("concat", &[ints(&[1, 2])]).is_err());
    }

    #[test]
    fn getitem_indexes_from_either_end() {
        let l = ints(&[10, 20, 30]);
        let get = |v: &Value, i: i64| call("getitem", &[v.clone(), i.into()]).map_err(|e| e.0);
        assert_eq!(get(&l, 0), Ok(Value::Int(10)));
        assert_eq!(get(&l, -1), Ok(Value::Int(30)));
        assert_eq!(get(&l, 3), Err("index 3 out of range for length 3".into()));
        assert!(get(&l, -4).is_err());
        assert!(get(&l, i64::MIN).is_err());
        let s = Value::str("héllo");
        assert_eq!(get(&s, 1), Ok(Value::str("é")));
        assert_eq!(get(&s, -1), Ok(Value::str("o")));
        assert!(get(&s, 5).is_err());
        assert!(call("getitem", &[l.clone(), 1.0.into()]).is_err());
        assert!(get(&Value::Int(5), 0).is_err());
    }

    #[test]
    fn identity_returns_its_argument() {
        let v = Value::list([Value::Null, 2.5.into()]);
        assert_eq!(call("identity", std::slice::from_ref(&v)), Ok(v));
        assert!(call("identity", &[]).is_err());
    }
}

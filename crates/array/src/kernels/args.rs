//! Reading an op's arguments: chunks, shapes, names and flags out of `Value`s, with
//! errors that say which argument was wrong.

use std::sync::Arc;

use taskloom_graph::{Chunk, DType, OpError, Value};

/// Fails unless there are exactly `n` arguments.
pub fn arity(args: &[Value], n: usize) -> Result<(), OpError> {
    taskloom_graph::ops::expect_arity(args, n, n)
}

/// Argument `i` as a chunk.
pub fn chunk(args: &[Value], i: usize) -> Result<&Chunk, OpError> {
    match &args[i] {
        Value::Chunk(c) => Ok(c),
        other => Err(wrong(i, "an array chunk", other)),
    }
}

/// Argument `i` as a string.
pub fn string(args: &[Value], i: usize) -> Result<&str, OpError> {
    match &args[i] {
        Value::Str(s) => Ok(s),
        other => Err(wrong(i, "a string", other)),
    }
}

/// Argument `i` as an int.
pub fn int(args: &[Value], i: usize) -> Result<i64, OpError> {
    match &args[i] {
        Value::Int(n) => Ok(*n),
        other => Err(wrong(i, "an int", other)),
    }
}

/// Argument `i` as a non-negative int (a count, an index, a size).
pub fn count(args: &[Value], i: usize) -> Result<usize, OpError> {
    let n = int(args, i)?;
    usize::try_from(n)
        .map_err(|_| OpError::new(format!("argument {} must not be negative, got {n}", i + 1)))
}

/// Argument `i` as a bool.
pub fn flag(args: &[Value], i: usize) -> Result<bool, OpError> {
    match &args[i] {
        Value::Bool(b) => Ok(*b),
        other => Err(wrong(i, "a bool", other)),
    }
}

/// Argument `i` as a list of non-negative ints: a shape, a block index, a start.
pub fn dims(args: &[Value], i: usize) -> Result<Vec<usize>, OpError> {
    let Value::List(items) = &args[i] else {
        return Err(wrong(i, "a list of ints", &args[i]));
    };
    items
        .iter()
        .map(|v| match v {
            Value::Int(n) if *n >= 0 => Ok(*n as usize),
            other => Err(wrong(i, "a list of non-negative ints", other)),
        })
        .collect()
}

/// Argument `i` as an optional axis (`null` for all axes).
pub fn axis(args: &[Value], i: usize) -> Result<Option<usize>, OpError> {
    match &args[i] {
        Value::Null => Ok(None),
        _ => count(args, i).map(Some),
    }
}

/// Argument `i` as an element type name.
pub fn dtype(args: &[Value], i: usize) -> Result<DType, OpError> {
    DType::parse(string(args, i)?).map_err(OpError::new)
}

/// A chunk as an op's result.
pub fn value(chunk: Chunk) -> Value {
    Value::Chunk(Arc::new(chunk))
}

fn wrong(i: usize, want: &str, got: &Value) -> OpError {
    OpError::new(format!(
        "argument {} must be {want}, got {}",
        i + 1,
        got.type_name()
    ))
}

//! The one dynamic value type that flows between tasks.
//!
//! Graphs are data, so every result is a `Value`: cheap to clone (scalars are copied,
//! strings and lists share an `Arc`), comparable, and serializable so that the same
//! task can later run in another process or on another machine.

use std::fmt;
use std::sync::Arc;

use serde::ser::{SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

use crate::chunk::{Chunk, ChunkJson};

/// A task's argument or result.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub enum Value {
    #[default]
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Arc<str>),
    List(Arc<[Value]>),
    Bytes(#[serde(with = "block")] Arc<[u8]>),
    /// A block of an n-d array (see `chunk.rs`).
    Chunk(Arc<Chunk>),
}

impl Value {
    /// The type name used in error messages (`int`, `float`, `string`, ...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Int(_) => "int",
            Value::Float(_) => "float",
            Value::Str(_) => "string",
            Value::List(_) => "list",
            Value::Bytes(_) => "bytes",
            Value::Chunk(_) => "array",
        }
    }

    /// The bytes this value holds beyond the `Value` itself (text, bytes, a chunk's
    /// elements, a list's items and what they hold): what keeping it costs memory,
    /// and about what moving it costs. A stack, not recursion: values may be nested a
    /// million deep.
    pub fn heap_bytes(&self) -> u64 {
        const ITEM: u64 = std::mem::size_of::<Value>() as u64;
        let mut total = 0;
        let mut todo = vec![self];
        while let Some(value) = todo.pop() {
            match value {
                Value::Str(s) => total += s.len() as u64,
                Value::Bytes(b) => total += b.len() as u64,
                Value::Chunk(c) => total += c.nbytes() as u64,
                Value::List(items) => {
                    total += ITEM * items.len() as u64;
                    todo.extend(items.iter());
                }
                Value::Null | Value::Bool(_) | Value::Int(_) | Value::Float(_) => {}
            }
        }
        total
    }

    /// Builds a list value from anything that yields values.
    pub fn list(items: impl IntoIterator<Item = Value>) -> Value {
        Value::List(items.into_iter().collect())
    }

    /// Builds a string value.
    pub fn str(s: &str) -> Value {
        Value::Str(Arc::from(s))
    }

    /// Serializes as the graph format's JSON: compact, floats that round-trip and keep
    /// a `.0` when whole. Callers have already rejected non-finite floats.
    pub fn to_json(&self) -> String {
        serde_json::to_string(&Json(self)).expect("serializing a Value to a String cannot fail")
    }

    /// Writes the JSON form to `out` without building an intermediate string.
    pub fn write_json<W: std::io::Write>(&self, out: W) -> serde_json::Result<()> {
        serde_json::to_writer(out, &Json(self))
    }
}

/// Dropping a list frees its nested lists from a heap-allocated stack rather than by
/// recursion, so a value nested a million deep is freed without overflowing the stack.
impl Drop for Value {
    fn drop(&mut self) {
        let mut nested = Vec::new();
        detach_nested(self, &mut nested);
        while let Some(mut v) = nested.pop() {
            detach_nested(&mut v, &mut nested);
        }
    }
}

/// Moves the non-empty lists inside `v` (when `v` is the only owner) onto `out`.
fn detach_nested(v: &mut Value, out: &mut Vec<Value>) {
    if let Value::List(items) = v {
        if let Some(items) = Arc::get_mut(items) {
            for item in items.iter_mut() {
                if matches!(item, Value::List(inner) if !inner.is_empty()) {
                    out.push(std::mem::take(item));
                }
            }
        }
    }
}

/// The JSON view of a value (untagged), as `taskloom run` prints it.
pub struct Json<'a>(pub &'a Value);

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Null => s.serialize_unit(),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Int(i) => s.serialize_i64(*i),
            Value::Float(f) => s.serialize_f64(*f),
            Value::Str(text) => s.serialize_str(text),
            Value::List(items) => stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                // Deeply nested lists must not overflow the stack: grow it on demand.
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items.iter() {
                    seq.serialize_element(&Json(item))?;
                }
                seq.end()
            }),
            Value::Bytes(bytes) => {
                let mut seq = s.serialize_seq(Some(bytes.len()))?;
                for b in bytes.iter() {
                    seq.serialize_element(b)?;
                }
                seq.end()
            }
            Value::Chunk(chunk) => ChunkJson(chunk).serialize(s),
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json())
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}
impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Int(v.into())
    }
}
impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Value::Float(v)
    }
}
impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}
impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::str(v)
    }
}
impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Str(Arc::from(v))
    }
}
impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(v: Vec<T>) -> Self {
        Value::list(v.into_iter().map(Into::into))
    }
}

/// Converts a computed value back into a Rust type, for the typed `Delayed<T>` API.
pub trait FromValue: Sized {
    /// Fails with the expected and the actual type when the value does not fit.
    fn from_value(v: Value) -> Result<Self, String>;
}

fn mismatch<T>(want: &str, got: &Value) -> Result<T, String> {
    Err(format!("expected {want}, got {} {got}", got.type_name()))
}

impl FromValue for Value {
    fn from_value(v: Value) -> Result<Self, String> {
        Ok(v)
    }
}
impl FromValue for i64 {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Int(i) => Ok(i),
            other => mismatch("int", &other),
        }
    }
}
impl FromValue for f64 {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Float(f) => Ok(f),
            Value::Int(i) => Ok(i as f64),
            other => mismatch("float", &other),
        }
    }
}
impl FromValue for bool {
    fn from_value(v: Value) -> Result<Self, String> {
        match v {
            Value::Bool(b) => Ok(b),
            other => mismatch("bool", &other),
        }
    }
}
impl FromValue for String {
    fn from_value(v: Value) -> Result<Self, String> {
        match &v {
            Value::Str(s) => Ok(s.to_string()),
            other => mismatch("string", other),
        }
    }
}
impl<T: FromValue> FromValue for Vec<T> {
    fn from_value(v: Value) -> Result<Self, String> {
        match &v {
            Value::List(items) => items.iter().cloned().map(T::from_value).collect(),
            other => mismatch("list", other),
        }
    }
}

/// `Value::Bytes` as one block of bytes rather than a sequence of numbers: postcard
/// writes the same bytes either way (a length, then each byte as it is), so stored
/// checkpoints and their digests are unchanged, but in one copy instead of one call
/// per byte, which made megabytes of pickled Python data the costliest part of a pool
/// map. JSON still writes an array of numbers, which it also reads back.
mod block {
    use std::fmt;
    use std::sync::Arc;

    use serde::de::{SeqAccess, Visitor};
    use serde::{Deserializer, Serializer};

    /// The most bytes reserved up front from a sequence's own length hint: the hint
    /// of garbage input must not allocate gigabytes.
    const MAX_RESERVE: usize = 1 << 20;

    pub fn serialize<S: Serializer>(bytes: &Arc<[u8]>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<[u8]>, D::Error> {
        d.deserialize_bytes(Block)
    }

    struct Block;

    impl<'de> Visitor<'de> for Block {
        type Value = Arc<[u8]>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("bytes")
        }

        fn visit_bytes<E>(self, bytes: &[u8]) -> Result<Arc<[u8]>, E> {
            Ok(Arc::from(bytes))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Arc<[u8]>, A::Error> {
            let mut bytes = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(MAX_RESERVE));
            while let Some(byte) = seq.next_element()? {
                bytes.push(byte);
            }
            Ok(bytes.into())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn heap_bytes_count_what_a_value_holds_however_deep() {
        let item = std::mem::size_of::<Value>() as u64;
        assert_eq!(Value::Int(5).heap_bytes(), 0);
        assert_eq!(Value::Bytes(Arc::from(vec![0u8; 10])).heap_bytes(), 10);
        assert_eq!(Value::str("abc").heap_bytes(), 3);
        let list = Value::list([Value::str("ab"), Value::Int(1)]);
        assert_eq!(list.heap_bytes(), 2 * item + 2);
        let chunk = Chunk::I32(ndarray::ArrayD::zeros(ndarray::IxDyn(&[2, 3])));
        assert_eq!(Value::Chunk(Arc::new(chunk)).heap_bytes(), 24);
        let mut deep = Value::Null;
        for _ in 0..1_000_000 {
            deep = Value::list([deep]);
        }
        assert_eq!(deep.heap_bytes(), 1_000_000 * item);
    }

    #[test]
    fn bytes_still_read_and_write_as_a_json_array_of_numbers() {
        let bytes = Value::Bytes(Arc::from(&[0u8, 255, 7][..]));
        let json = serde_json::to_string(&bytes).unwrap();
        assert_eq!(json, r#"{"Bytes":[0,255,7]}"#);
        assert_eq!(serde_json::from_str::<Value>(&json).unwrap(), bytes);
    }

    #[test]
    fn floats_print_round_trip_and_keep_a_point_when_whole() {
        assert_eq!(Value::Float(5.0).to_json(), "5.0");
        assert_eq!(Value::Float(2.5).to_json(), "2.5");
        assert_eq!(Value::Float(0.1).to_json(), "0.1");
        assert_eq!(Value::Int(5).to_json(), "5");
    }

    #[test]
    fn nested_values_print_as_compact_json() {
        let v = Value::list([
            Value::Int(1),
            Value::str("a\"b"),
            Value::Null,
            Value::Bool(true),
        ]);
        assert_eq!(v.to_json(), r#"[1,"a\"b",null,true]"#);
    }

    #[test]
    fn a_list_nested_a_million_deep_is_freed_without_recursion() {
        let mut v = Value::Int(0);
        for _ in 0..1_000_000 {
            v = Value::list([v]);
        }
        drop(v);
    }

    #[test]
    fn typed_conversions_report_mismatches() {
        assert_eq!(i64::from_value(Value::Int(3)), Ok(3));
        assert_eq!(f64::from_value(Value::Int(3)), Ok(3.0));
        let err = i64::from_value(Value::str("x")).unwrap_err();
        assert!(err.contains("expected int"), "{err}");
        assert_eq!(
            Vec::<i64>::from_value(Value::from(vec![1, 2])),
            Ok(vec![1, 2])
        );
    }
}

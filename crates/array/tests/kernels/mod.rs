//! The chunk kernels, called by name as task graphs call them: a module per kind of
//! op, and the helpers they share to build arguments and read chunks.

mod elementwise;
mod fill;
mod layout;
mod reduce;
mod sort;

use std::sync::{Arc, OnceLock};

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, OpError, Registry, Value};

/// Runs the op `name` of the array registry on `args`.
pub fn call(name: &str, args: &[Value]) -> Result<Value, OpError> {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    let registry = REGISTRY.get_or_init(|| {
        let mut r = Registry::empty();
        taskloom_array::ops::register(&mut r);
        r
    });
    let op = registry.get(name).unwrap_or_else(|| panic!("no op {name}"));
    op(args)
}

/// Runs `name` and expects a chunk.
pub fn call_chunk(name: &str, args: &[Value]) -> Chunk {
    match &call(name, args) {
        Ok(Value::Chunk(c)) => (**c).clone(),
        other => panic!("{name} gave {other:?}"),
    }
}

/// The error message of `name` on `args`.
pub fn call_err(name: &str, args: &[Value]) -> String {
    match call(name, args) {
        Err(e) => e.0,
        Ok(v) => panic!("{name} succeeded with {v:?}"),
    }
}

/// An element type chunks can be built from in tests.
pub trait Elem: Copy + 'static {
    fn chunk(a: ArrayD<Self>) -> Chunk;
}
impl Elem for f64 {
    fn chunk(a: ArrayD<f64>) -> Chunk {
        Chunk::F64(a)
    }
}
impl Elem for f32 {
    fn chunk(a: ArrayD<f32>) -> Chunk {
        Chunk::F32(a)
    }
}
impl Elem for i64 {
    fn chunk(a: ArrayD<i64>) -> Chunk {
        Chunk::I64(a)
    }
}
impl Elem for i32 {
    fn chunk(a: ArrayD<i32>) -> Chunk {
        Chunk::I32(a)
    }
}
impl Elem for bool {
    fn chunk(a: ArrayD<bool>) -> Chunk {
        Chunk::Bool(a)
    }
}

/// A chunk of `shape` holding `data` in C order.
pub fn chunk<T: Elem>(shape: &[usize], data: Vec<T>) -> Chunk {
    T::chunk(ArrayD::from_shape_vec(IxDyn(shape), data).expect("data fits shape"))
}

/// A chunk as an op argument.
pub fn val(c: Chunk) -> Value {
    Value::Chunk(Arc::new(c))
}

/// A list of ints (a shape, an index) as an op argument.
pub fn ints(xs: &[i64]) -> Value {
    Value::list(xs.iter().map(|&x| Value::Int(x)))
}

/// A string argument.
pub fn s(x: &str) -> Value {
    Value::str(x)
}

/// The elements in C order, as float64.
pub fn f64s(c: &Chunk) -> Vec<f64> {
    match c {
        Chunk::F64(a) => a.iter().copied().collect(),
        Chunk::F32(a) => a.iter().map(|&x| x as f64).collect(),
        Chunk::I64(a) => a.iter().map(|&x| x as f64).collect(),
        Chunk::I32(a) => a.iter().map(|&x| x as f64).collect(),
        Chunk::Bool(a) => a.iter().map(|&x| f64::from(u8::from(x))).collect(),
    }
}

/// Whether every result chunk is in C layout, as the kernels promise.
pub fn is_c(c: &Chunk) -> bool {
    match c {
        Chunk::F64(a) => a.is_standard_layout(),
        Chunk::F32(a) => a.is_standard_layout(),
        Chunk::I64(a) => a.is_standard_layout(),
        Chunk::I32(a) => a.is_standard_layout(),
        Chunk::Bool(a) => a.is_standard_layout(),
    }
}

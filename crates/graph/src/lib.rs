//! Task graphs as data: values, expressions, the op registry, and the pure functions
//! that turn a file into a graph ready to run (parse, validate, cull, order).

pub mod ops;
pub mod value;

pub use ops::{OpError, OpFn, OpResult, Registry};
pub use value::{FromValue, Value};

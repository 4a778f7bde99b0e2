//! Task graphs as data: values, expressions, the op registry, and the pure functions
//! that turn a file into a graph ready to run.
//!
//! The pipeline is `parse` -> `validate` -> `cull` -> `priority_order`; each step is a
//! small function over a `Graph`, with no threads or I/O, in a file of its own. `parse`
//! reads the text and JSON forms, and the binary form (`binary`) that programs write.

pub mod binary;
pub mod chunk;
pub mod cull;
pub mod dot;
pub mod error;
pub mod eval;
pub mod expr;
pub mod graph;
pub mod key;
pub mod node;
pub mod ops;
pub mod order;
pub mod parse;
pub mod validate;
pub mod value;

pub use chunk::{Chunk, ChunkJson, DType};
pub use cull::cull;
pub use error::GraphError;
pub use eval::{evaluate, evaluate_span, EvalError};
pub use expr::{Expr, OpId};
pub use graph::{Graph, GraphBuilder};
pub use key::KeyId;
pub use node::{ExprArena, Node, Span};
pub use ops::{OpError, OpFn, OpResult, Registry};
pub use order::priority_order;
pub use parse::{parse, parse_bytes, parse_bytes_in_parts, parse_bytes_releasing, Passed};
pub use validate::validate;
pub use value::{FromValue, Value};

//! Chunked n-d arrays larger than memory, as task graphs.
//!
//! An [`Array`] is lazy: operations build up an expression, and computing it lowers
//! the whole expression to one task graph of chunk-sized tasks. Elementwise work is
//! fused into the tasks that consume it (a task's expression is a nested call), so a
//! chunk lives only inside the task that made it; reductions, products and sorts are
//! where chunks meet. The pieces:
//! - `grid`: the geometry of a chunked shape (blocks, ragged edges).
//! - `array`: the lazy expression type and its operations; `lower`: expression to
//!   graph; `engine`: running it within a memory limit.
//! - `kernels`: what one task does to its chunks, pure functions on `Chunk`s.
//! - `store`: Zarr arrays on disk, read and written a chunk at a time.
//! - `wire`: an op as a graph carries it, declared once beside its kernel;
//!   `ops`: every op in one registry, so graphs can call them anywhere.
//! - `scratch`: the directory out-of-core sorts keep their files in during a run;
//!   `owned`: directories named and locked by the run that owns them, and removing
//!   those a killed run left.
//! - `stop`: stopping a run at a signal, as a failed run stops.

mod array;
mod assemble;
mod axis;
mod engine;
mod error;
pub mod grid;
mod index;
pub mod kernels;
mod lower;
mod operation;
pub mod ops;
mod scratch;
mod stop;
pub mod store;
mod wire;

pub use array::{Array, Operand};
pub use axis::normalize_axis_index;
pub use engine::{Engine, Job, WriteOptions};
pub use error::ArrayError;
pub use grid::Grid;
pub use index::{parse_index, AxisIndex};
pub use operation::{BinaryOp, CompareOp, Reduction, UnaryOp};

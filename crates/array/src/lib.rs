//! Chunked n-d arrays larger than memory, as task graphs.
//!
//! An [`Array`] is lazy: operations build up an expression, and computing it lowers
//! the whole expression to one task graph of chunk-sized tasks. Elementwise work is
//! fused into the tasks that consume it (a task's expression is a nested call), so a
//! chunk lives only inside the task that made it; reductions, products and sorts are
//! where chunks meet. The pieces:
//! - `grid`: the geometry of a chunked shape (blocks, ragged edges).
//! - `kernels`: what one task does to its chunks, pure functions on `Chunk`s.
//! - `store`: Zarr arrays on disk, read and written a chunk at a time.
//! - `ops`: the kernels and the store as named ops, so graphs can call them anywhere.

pub mod grid;
pub mod kernels;
pub mod ops;
pub mod store;

pub use grid::Grid;

//! What one task does to its chunks: pure functions from chunks to chunks, each file
//! declaring its ops (`array_op!`) beside the kernels they call.

pub mod args;
pub(crate) mod elementwise;
pub(crate) mod fill;
pub(crate) mod fused;
pub(crate) mod layout;
pub(crate) mod matmul;
pub(crate) mod reduce;
pub(crate) mod scan;
pub(crate) mod sort;
pub(crate) mod topk;

//! What one task does to its chunks: pure functions from chunks to chunks, each file
//! registering its ops under `array.*` names.

pub mod args;
mod elementwise;
mod fill;
mod layout;
mod matmul;
mod reduce;
mod sort;
mod topk;

use taskloom_graph::Registry;

/// Adds every chunk kernel to `registry`.
pub fn register(registry: &mut Registry) {
    fill::register(registry);
    elementwise::register(registry);
    layout::register(registry);
    reduce::register(registry);
    matmul::register(registry);
    topk::register(registry);
    sort::register(registry);
}

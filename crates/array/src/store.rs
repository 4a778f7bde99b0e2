//! Zarr arrays on disk.

use taskloom_graph::Registry;

/// Adds `array.read` and `array.write`.
pub fn register(_registry: &mut Registry) {}

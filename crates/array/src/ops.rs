//! The kernels and the store as named ops: what array graphs call, on any executor.

use taskloom_graph::Registry;

/// Adds every `array.*` op to `registry`.
pub fn register(registry: &mut Registry) {
    crate::kernels::register(registry);
    crate::store::register(registry);
}

//! The kernels and the store as named ops: what array graphs call, on any executor.

use std::sync::OnceLock;

use taskloom_graph::{OpError, Registry};

/// Adds every `array.*` op to `registry`.
pub fn register(registry: &mut Registry) {
    crate::kernels::register(registry);
    crate::store::register(registry);
    // Its first argument, once every other argument is computed: how a task waits
    // for others whose results it does not use (files they wrote, say).
    registry.register("array.after", |args| {
        args.first()
            .cloned()
            .ok_or_else(|| OpError::new("takes at least 1 argument, got 0"))
    });
}

/// A registry of just the `array.*` ops, built once.
pub fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(|| {
        let mut registry = Registry::empty();
        register(&mut registry);
        registry
    })
}

//! Kernels and storage as named ops.

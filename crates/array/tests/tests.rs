//! Every integration test of taskloom-array, in one test binary: each binary costs a
//! link, so areas are modules here (a directory with a `mod.rs` each), not files of
//! their own in `tests/`.

mod fused;
mod kernels;
mod lazy_arrays;
mod limits;
mod python_env;
mod zarr;

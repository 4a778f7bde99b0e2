//! Zarr storage: the store's own rules, and interoperability with zarr-python.

mod interop;
mod store;

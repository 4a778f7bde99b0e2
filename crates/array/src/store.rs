//! Zarr arrays on disk.

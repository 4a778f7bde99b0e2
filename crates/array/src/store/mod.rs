//! Zarr arrays on disk (format 2 and 3, the filesystem store), read and written a chunk
//! at a time.
//!
//! Reading decodes any codec chain zarrs understands (zstd, blosc, gzip, crc32c,
//! sharding, uncompressed); the two chains zarr-python writes by default (plain bytes,
//! or bytes + zstd) are decoded straight into the chunk's own buffer, because reading
//! is what large reductions spend their time on. Writing goes to a temporary sibling
//! directory that replaces the destination only when every chunk is in (`commit`), so
//! a failed or interrupted run never leaves a half-written array behind.
//!
//! The pieces:
//! - `meta`: what an array is (grid, dtype, format) and the metadata files we write.
//! - `read`: opening an array and decoding one chunk.
//! - `write`: creating an array atomically and encoding one chunk.
//! - `slabs`: an uncompressed chunk read a few rows at a time, for reductions.
//! - `cache`: opened arrays shared by every task of a process.
//! - `ops`: `array.read` and `array.write`, the store as graph ops.

mod cache;
mod element;
mod error;
mod fast;
mod meta;
pub(crate) mod ops;
mod read;
mod region;
mod slabs;
mod write;

pub use error::StoreError;
pub use meta::{ArrayMeta, Compression};
pub use read::{open, StoredArray};
pub(crate) use write::create_filled;
pub use write::{create, create_with, PendingArray};

/// The array at `path`, opened once per process and shared (what the ops read through).
pub fn open_shared(path: &std::path::Path) -> Result<std::sync::Arc<StoredArray>, StoreError> {
    cache::get(path)
}

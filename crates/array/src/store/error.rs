//! Why a store operation failed: every message names the array's path, and chunk
//! errors name the chunk (block index and file) so a bad file can be found and fixed.

use std::path::PathBuf;

use thiserror::Error;

use crate::grid::Dims;

/// A store error. `NotAnArray`, `Unsupported`, `Exists`, `NotReplaceable`, `OutOfRange`
/// and `Mismatch` are the caller's input; `Corrupt` and `Io` happen while reading or
/// writing data.
#[derive(Debug, Error)]
pub enum StoreError {
    /// Nothing at the path is a Zarr array (no metadata, or metadata that is not valid).
    #[error("{} is not a Zarr array: {reason}", path.display())]
    NotAnArray { path: PathBuf, reason: String },
    /// A Zarr array this store cannot hold (a dtype other than the four, an irregular
    /// chunk grid, a format other than 2 or 3).
    #[error("{}: unsupported {what}", path.display())]
    Unsupported { path: PathBuf, what: String },
    /// The destination of `create` exists and overwriting was not asked for.
    #[error("{} already exists", path.display())]
    Exists { path: PathBuf },
    /// The destination of `create` is a directory but not a Zarr array, so
    /// overwriting it could destroy files that are not ours to remove.
    #[error("{} exists and is not a Zarr array ({reason}); it is left as it is", path.display())]
    NotReplaceable { path: PathBuf, reason: String },
    /// A block index outside the array's grid.
    #[error("chunk index {index:?} is out of range for {} (its grid has {} blocks)", path.display(), Dims(blocks))]
    OutOfRange {
        path: PathBuf,
        index: Vec<usize>,
        blocks: Vec<usize>,
    },
    /// A chunk to write whose shape or dtype is not the block's.
    #[error("chunk {index:?} for {} is {got} but the block is {want}", path.display())]
    Mismatch {
        path: PathBuf,
        index: Vec<usize>,
        got: String,
        want: String,
    },
    /// A chunk file that cannot be decoded.
    #[error("chunk {index:?} of {} is corrupt (file {}): {reason}", path.display(), file.display())]
    Corrupt {
        path: PathBuf,
        index: Vec<usize>,
        file: PathBuf,
        reason: String,
    },
    /// The filesystem failed; `what` says what was being done.
    #[error("{}: {what}: {source}", path.display())]
    Io {
        path: PathBuf,
        what: String,
        source: std::io::Error,
    },
}

impl StoreError {
    /// An `Io` error while doing `what` at `path`.
    pub(crate) fn io(
        path: impl Into<PathBuf>,
        what: impl Into<String>,
        source: std::io::Error,
    ) -> Self {
        StoreError::Io {
            path: path.into(),
            what: what.into(),
            source,
        }
    }
}

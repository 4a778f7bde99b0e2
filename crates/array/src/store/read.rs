//! Opening a Zarr array and reading one chunk of it.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn, Slice};
use taskloom_graph::{Chunk, DType};
use zarrs::array::{Array, ArrayCreateError, ArrayError, ArraySubset, CodecOptions};
use zarrs::filesystem::FilesystemStore;

use super::element::Elem;
use super::fast::{Failure, Fast};
use super::{ArrayMeta, StoreError};
use crate::grid::Dims;

/// An open Zarr array: its metadata, parsed once, and the codecs to decode its chunks.
/// Shared by every task that reads it (`&self` methods only).
pub struct StoredArray {
    path: PathBuf,
    meta: ArrayMeta,
    array: Array<FilesystemStore>,
    fast: Option<Fast>,
    options: CodecOptions,
}

/// Opens the Zarr array (format 2 or 3) at `path`.
pub fn open(path: &Path) -> Result<StoredArray, StoreError> {
    let not_an_array = |reason: String| StoreError::NotAnArray {
        path: path.to_path_buf(),
        reason,
    };
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(not_an_array("it is not a directory".to_string())),
        Err(e) => return Err(not_an_array(e.to_string())),
    }
    let store = FilesystemStore::new(path).map_err(|e| not_an_array(e.to_string()))?;
    let array = Array::open(Arc::new(store), "/").map_err(|e| match e {
        ArrayCreateError::MissingMetadata => {
            not_an_array("it has no zarr.json or .zarray".to_string())
        }
        other => not_an_array(other.to_string()),
    })?;
    let meta = ArrayMeta::of(path, &array)?;
    Ok(StoredArray {
        path: path.to_path_buf(),
        meta,
        fast: Fast::of(&array),
        array,
        // Chunks are the unit of parallelism: the engine runs one per worker, so codecs
        // (blosc, sharding) must not start threads of their own.
        options: CodecOptions::default().with_concurrent_target(1),
    })
}

impl StoredArray {
    /// The array's grid, dtype and format.
    pub fn meta(&self) -> &ArrayMeta {
        &self.meta
    }

    /// Block `index` of the grid: its in-bounds part (smaller than the chunk shape at
    /// a ragged edge), the fill value where the chunk file is missing.
    pub fn read_chunk(&self, index: &[usize]) -> Result<Chunk, StoreError> {
        self.check_index(index)?;
        Ok(match self.meta.dtype {
            DType::Float64 => f64::wrap(self.read_typed(index)?),
            DType::Float32 => f32::wrap(self.read_typed(index)?),
            DType::Int64 => i64::wrap(self.read_typed(index)?),
            DType::Int32 => i32::wrap(self.read_typed(index)?),
            DType::Bool => bool::wrap(self.read_typed(index)?),
        })
    }

    fn read_typed<T: Elem>(&self, index: &[usize]) -> Result<ArrayD<T>, StoreError> {
        let indices = zarr_indices(index);
        let block = self.meta.grid.block_shape(index);
        let full = self.meta.grid.chunks();
        let Some(fast) = self.fast else {
            let decoded = if block == full {
                self.array
                    .retrieve_chunk_opt::<ArrayD<T>>(&indices, &self.options)
            } else {
                let subset = ArraySubset::new_with_shape(zarr_indices(&block));
                self.array
                    .retrieve_chunk_subset_opt::<ArrayD<T>>(&indices, &subset, &self.options)
            };
            return decoded.map_err(|e| self.chunk_error(index, e));
        };
        let file = self.chunk_file(&indices);
        let elements = match fast.read::<T::Stored>(&file, full.iter().product()) {
            Ok(Some(elements)) => T::load(elements),
            Ok(None) => return Ok(ArrayD::from_elem(IxDyn(&block), self.fill())),
            Err(Failure::Corrupt(reason)) => return Err(self.corrupt(index, reason)),
            Err(Failure::Io(e)) => {
                return Err(StoreError::io(file, format!("reading chunk {index:?}"), e))
            }
        };
        let chunk = ArrayD::from_shape_vec(IxDyn(full), elements)
            .map_err(|e| self.corrupt(index, e.to_string()))?;
        Ok(if block == full {
            chunk
        } else {
            chunk
                .slice_each_axis(|ax| Slice::from(0..block[ax.axis.index()]))
                .to_owned()
        })
    }

    /// The decoder of the two default codec chains this array uses, if either.
    pub(crate) fn fast(&self) -> Option<Fast> {
        self.fast
    }

    /// Where the array is.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Fails unless `index` names a block of the grid.
    pub(crate) fn check_index(&self, index: &[usize]) -> Result<(), StoreError> {
        let blocks = self.meta.grid.blocks();
        if index.len() != blocks.len() || index.iter().zip(&blocks).any(|(&i, &n)| i >= n) {
            return Err(StoreError::OutOfRange {
                path: self.path.clone(),
                index: index.to_vec(),
                blocks,
            });
        }
        Ok(())
    }

    /// The file chunk `indices` is stored in.
    pub(crate) fn chunk_file(&self, indices: &[u64]) -> PathBuf {
        self.path.join(self.array.chunk_key(indices).as_str())
    }

    /// The array's fill value as a `T` (the dtype was checked on open).
    pub(crate) fn fill<T: Elem>(&self) -> T {
        let stored = bytemuck::try_pod_read_unaligned(self.array.fill_value().as_ne_bytes())
            .unwrap_or_else(|_| <T::Stored as bytemuck::Zeroable>::zeroed());
        T::load(vec![stored])[0]
    }

    /// The zarrs array, for encoding.
    pub(crate) fn zarrs(&self) -> &Array<FilesystemStore> {
        &self.array
    }

    /// Codec options for every encode and decode.
    pub(crate) fn options(&self) -> &CodecOptions {
        &self.options
    }

    pub(crate) fn corrupt(&self, index: &[usize], reason: String) -> StoreError {
        StoreError::Corrupt {
            path: self.path.clone(),
            index: index.to_vec(),
            file: self.chunk_file(&zarr_indices(index)),
            reason,
        }
    }

    fn chunk_error(&self, index: &[usize], e: ArrayError) -> StoreError {
        match e {
            ArrayError::StorageError(e) => StoreError::io(
                self.chunk_file(&zarr_indices(index)),
                format!("reading chunk {index:?}"),
                std::io::Error::other(e),
            ),
            other => self.corrupt(index, other.to_string()),
        }
    }
}

impl std::fmt::Debug for StoredArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "StoredArray({}, shape {}, chunks {}, {}, format {})",
            self.path.display(),
            Dims(self.meta.grid.shape()),
            Dims(self.meta.grid.chunks()),
            self.meta.dtype,
            self.meta.zarr_format
        )
    }
}

/// A block index (or shape) as zarrs takes it.
pub(crate) fn zarr_indices(index: &[usize]) -> Vec<u64> {
    index.iter().map(|&i| i as u64).collect()
}

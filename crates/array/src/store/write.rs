//! Creating a Zarr array atomically and writing one chunk of it.
//!
//! `create` writes the metadata into a temporary directory beside the destination
//! (`.NAME.PID-XXXX.partial`, owned and locked by this process: see
//! `taskloom_exec::owned`); chunks are written there, from any thread or process;
//! `commit` renames it onto the destination in one step. Until then nothing at the destination changes, and
//! dropping the `PendingArray` removes the temporary directory, so a failed run leaves
//! no trace; what a killed run left is removed by the next `create` beside it.
//! - An existing destination is replaced only when asked, and only when it is a Zarr
//!   array or a single file: a directory of anything else is never removed.
//! - An array whose every element is the fill value needs no chunk file: missing
//!   chunks read as the fill value, as Zarr defines.

use std::borrow::Cow;
use std::io::ErrorKind;
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{ArrayViewMutD, IxDyn, Slice};
use rustix::fs::{renameat_with, RenameFlags, CWD};
use taskloom_exec::owned::{fresh_name, remove_stale, OwnedDir};
use taskloom_graph::{with_chunk, Chunk};
use zarrs::array::{ArrayBytes, ArrayToBytesCodecTraits};

use super::element::Elem;
use super::read::{open, zarr_indices};
use super::{cache, ArrayMeta, Compression, StoreError, StoredArray};
use crate::grid::Dims;
use crate::kernels::elementwise::promote::Scalar;

/// The suffix of temporary directories; `array.write` writes nowhere else, so a graph
/// cannot modify a committed array in place.
pub(super) const PENDING_SUFFIX: &str = ".partial";

/// An array being written: chunks go to `temp_path()` until `commit`.
/// Dropping it without committing removes everything written.
pub struct PendingArray {
    path: PathBuf,
    overwrite: bool,
    array: Arc<StoredArray>,
    /// `None` once committed (the directory was renamed onto `path`).
    dir: Option<OwnedDir>,
}

/// Starts writing a new array at `path`: fails at once if `path` exists and
/// `overwrite` is false, else writes the metadata into a temporary sibling directory.
/// Chunks are zstd-compressed, as zarr-python writes them.
pub fn create(path: &Path, meta: &ArrayMeta, overwrite: bool) -> Result<PendingArray, StoreError> {
    create_with(path, meta, overwrite, Compression::Zstd)
}

/// As [`create`], with chunks encoded as `compression` says.
pub fn create_with(
    path: &Path,
    meta: &ArrayMeta,
    overwrite: bool,
    compression: Compression,
) -> Result<PendingArray, StoreError> {
    create_filled(path, meta, overwrite, compression, Scalar::Int(0))
}

/// As [`create_with`], with `fill` as the array's fill value: what every chunk not
/// written reads as.
pub(crate) fn create_filled(
    path: &Path,
    meta: &ArrayMeta,
    overwrite: bool,
    compression: Compression,
    fill: Scalar,
) -> Result<PendingArray, StoreError> {
    if path.symlink_metadata().is_ok() {
        if !overwrite {
            return Err(StoreError::Exists {
                path: path.to_path_buf(),
            });
        }
        replaceable(path)?;
    }
    if !matches!(meta.zarr_format, 2 | 3) {
        return Err(StoreError::Unsupported {
            path: path.to_path_buf(),
            what: format!("Zarr format {} (expected 2 or 3)", meta.zarr_format),
        });
    }
    let creating = |e| StoreError::io(path, "creating the array", e);
    let name = path.file_name().ok_or_else(|| {
        creating(std::io::Error::new(
            ErrorKind::InvalidInput,
            "the path has no file name",
        ))
    })?;
    let parent = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    remove_stale(parent, &prefix, PENDING_SUFFIX);
    // As `mkdir` makes it (subject to the umask), not owner-only: the directory
    // becomes the array.
    let temp = parent.join(fresh_name(&prefix, PENDING_SUFFIX));
    let dir = OwnedDir::create(&temp, 0o777).map_err(creating)?;
    for (file, text) in meta.files(compression, fill) {
        std::fs::write(dir.path().join(file), text).map_err(creating)?;
    }
    let array = Arc::new(open(dir.path())?);
    cache::insert(dir.path(), array.clone());
    Ok(PendingArray {
        path: path.to_path_buf(),
        overwrite,
        array,
        dir: Some(dir),
    })
}

/// Fails when `path` is a directory that is not a Zarr array: overwriting replaces an
/// array, or a single file as a user's `cp` would, never a folder of other files.
fn replaceable(path: &Path) -> Result<(), StoreError> {
    if !path.symlink_metadata().is_ok_and(|m| m.is_dir()) {
        return Ok(());
    }
    match open(path) {
        Ok(_) | Err(StoreError::Unsupported { .. }) => Ok(()),
        Err(StoreError::NotAnArray { reason, .. }) => Err(StoreError::NotReplaceable {
            path: path.to_path_buf(),
            reason,
        }),
        Err(other) => Err(other),
    }
}

impl PendingArray {
    /// The temporary directory chunks are written to: what `array.write` tasks name,
    /// in this process or another.
    pub fn temp_path(&self) -> &Path {
        self.dir
            .as_ref()
            .map_or(self.path.as_path(), |dir| dir.path())
    }

    /// Writes block `index`: `chunk` is its in-bounds part (the grid's block shape).
    pub fn write_chunk(&self, index: &[usize], chunk: &Chunk) -> Result<(), StoreError> {
        self.array.write_chunk(index, chunk)
    }

    /// Puts the array at its path in one rename, replacing what was there (when
    /// created with `overwrite`).
    pub fn commit(mut self) -> Result<(), StoreError> {
        let Some(dir) = self.dir.take() else {
            return Ok(());
        };
        let temp = dir.path().to_path_buf();
        cache::forget(&temp);
        let committing = |e: std::io::Error| StoreError::io(&self.path, "committing the array", e);
        let old = self.path.symlink_metadata().ok();
        match old {
            Some(_) if !self.overwrite => {
                return Err(StoreError::Exists {
                    path: self.path.clone(),
                })
            }
            Some(old) => {
                // Checked again: something else may have appeared there meanwhile.
                replaceable(&self.path)?;
                swap(&temp, &self.path).map_err(committing)?;
                // `temp` now holds the old array, which `dir` removes when dropped
                // (a directory) or which is removed here (anything else).
                if !old.is_dir() {
                    std::fs::remove_file(&temp).map_err(committing)?;
                }
                cache::forget(&self.path);
                drop(dir);
            }
            None => {
                rename_new(&temp, &self.path).map_err(committing)?;
                cache::forget(&self.path);
                // The directory is now the array: nothing to clean up.
                dir.keep();
            }
        }
        Ok(())
    }
}

impl Drop for PendingArray {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            cache::forget(dir.path());
        }
    }
}

impl std::fmt::Debug for PendingArray {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "PendingArray({} -> {})",
            self.temp_path().display(),
            self.path.display()
        )
    }
}

/// Exchanges `a` and `b` atomically where the filesystem can (Linux `renameat2`),
/// else moves `b` aside first: either way `b` is never half-written.
fn swap(a: &Path, b: &Path) -> std::io::Result<()> {
    match renameat_with(CWD, a, CWD, b, RenameFlags::EXCHANGE) {
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => {
            let old = a.with_extension("old");
            std::fs::rename(b, &old)?;
            if let Err(e) = std::fs::rename(a, b) {
                // Put the old array back rather than leave nothing at `b`.
                std::fs::rename(&old, b)?;
                return Err(e);
            }
            std::fs::rename(old, a)
        }
        other => other.map_err(Into::into),
    }
}

/// Renames `a` to `b`, failing if `b` appeared meanwhile.
fn rename_new(a: &Path, b: &Path) -> std::io::Result<()> {
    match renameat_with(CWD, a, CWD, b, RenameFlags::NOREPLACE) {
        Err(rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS) => std::fs::rename(a, b),
        other => other.map_err(Into::into),
    }
}

impl StoredArray {
    /// Encodes `chunk` as block `index` and writes its file (padded with the fill value
    /// to the full chunk shape at a ragged edge, as Zarr stores edge chunks).
    pub(crate) fn write_chunk(&self, index: &[usize], chunk: &Chunk) -> Result<(), StoreError> {
        self.check_index(index)?;
        let meta = self.meta();
        let block = meta.grid.block_shape(index);
        if chunk.dtype() != meta.dtype || chunk.shape() != block {
            return Err(StoreError::Mismatch {
                path: self.path().to_path_buf(),
                index: index.to_vec(),
                got: format!("{} {}", Dims(chunk.shape()), chunk.dtype()),
                want: format!("{} {}", Dims(&block), meta.dtype),
            });
        }
        with_chunk!(chunk, a => self.write_typed(index, a.view()))
    }

    fn write_typed<T: Elem>(
        &self,
        index: &[usize],
        chunk: ndarray::ArrayViewD<'_, T>,
    ) -> Result<(), StoreError> {
        let full = self.meta().grid.chunks();
        let elements: Cow<'_, [T]> = match chunk.as_slice() {
            Some(elements) if chunk.shape() == full => Cow::Borrowed(elements),
            _ => {
                let mut padded = vec![self.fill::<T>(); full.iter().product()];
                ArrayViewMutD::from_shape(IxDyn(full), &mut padded)
                    .map_err(|e| self.corrupt(index, e.to_string()))?
                    .slice_each_axis_mut(|ax| Slice::from(0..chunk.shape()[ax.axis.index()]))
                    .assign(&chunk);
                Cow::Owned(padded)
            }
        };
        let array = self.zarrs();
        let shape: Vec<NonZeroU64> = full
            .iter()
            .filter_map(|&c| NonZeroU64::new(c as u64))
            .collect();
        let indices = zarr_indices(index);
        let file = self.chunk_file(&indices);
        let writing = |e| StoreError::io(&file, format!("writing chunk {index:?}"), e);
        let stored = T::store(&elements);
        let encoded = array
            .codecs()
            .encode(
                ArrayBytes::from(bytemuck::cast_slice::<T::Stored, u8>(&stored)),
                &shape,
                array.data_type(),
                array.fill_value(),
                self.options(),
            )
            .map_err(|e| writing(std::io::Error::other(e)))?;
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(writing)?;
        }
        std::fs::write(&file, &encoded).map_err(writing)
    }
}

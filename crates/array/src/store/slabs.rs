//! Reading an uncompressed chunk a slab of rows at a time.
//!
//! A reduction over a stored chunk needs each element once. Reading the whole chunk
//! first copies it into a chunk-sized buffer (through memory) and then reads it back;
//! reading a few hundred KiB of rows at a time into a buffer that stays in cache costs
//! what `cat` costs, and the reduction reads from cache.

use std::fs::File;
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;

use ndarray::{ArrayD, IxDyn};
use taskloom_graph::{Chunk, DType};

use super::element::Elem;
use super::fast::Fast;
use super::{StoreError, StoredArray};
use crate::store::read::zarr_indices;

impl StoredArray {
    /// The file of block `index`, stored uncompressed, opened and checked to be of a
    /// whole chunk's length, with its path; `None` when the chunk has no file (the
    /// fill value).
    pub(crate) fn raw_chunk(
        &self,
        index: &[usize],
    ) -> Result<Option<(File, std::path::PathBuf)>, StoreError> {
        let file = self.chunk_file(&zarr_indices(index));
        let f = match File::open(&file) {
            Ok(f) => f,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(StoreError::io(file, format!("reading chunk {index:?}"), e)),
        };
        let size = self.meta().dtype.size();
        let want = (self.meta().grid.chunks().iter().product::<usize>() * size) as u64;
        let len = f
            .metadata()
            .map_err(|e| StoreError::io(file.clone(), format!("reading chunk {index:?}"), e))?
            .len();
        if len != want {
            let reason = format!("{len} bytes where an uncompressed chunk has {want}");
            return Err(self.corrupt(index, reason));
        }
        Ok(Some((f, file)))
    }

    /// Passes block `index` to `each` as successive slabs of whole rows (along axis 0)
    /// of about `bytes` each. Returns `false`, having read nothing, when the chunk is
    /// not an uncompressed file holding whole rows of the block: the caller then reads
    /// it whole.
    pub fn for_each_slab<E: From<StoreError>>(
        &self,
        index: &[usize],
        bytes: usize,
        each: &mut dyn FnMut(Chunk) -> Result<(), E>,
    ) -> Result<bool, E> {
        self.check_index(index)?;
        let block = self.meta().grid.block_shape(index);
        let full = self.meta().grid.chunks();
        if self.fast() != Some(Fast::Raw) || block.is_empty() || block[1..] != full[1..] {
            return Ok(false);
        }
        let Some((f, file)) = self.raw_chunk(index)? else {
            return Ok(false);
        };
        let size = self.meta().dtype.size();
        let row: usize = full[1..].iter().product();
        let rows_per_slab = (bytes / (row * size).max(1)).max(1);
        let mut first = 0;
        while first < block[0] {
            let rows = rows_per_slab.min(block[0] - first);
            let mut shape = block.clone();
            shape[0] = rows;
            let offset = (first * row * size) as u64;
            let read = |e: std::io::Error| {
                StoreError::io(file.clone(), format!("reading chunk {index:?}"), e)
            };
            let slab = match self.meta().dtype {
                DType::Float64 => slab::<f64>(&f, offset, &shape).map_err(read)?,
                DType::Float32 => slab::<f32>(&f, offset, &shape).map_err(read)?,
                DType::Int64 => slab::<i64>(&f, offset, &shape).map_err(read)?,
                DType::Int32 => slab::<i32>(&f, offset, &shape).map_err(read)?,
                DType::Bool => slab::<bool>(&f, offset, &shape).map_err(read)?,
            };
            each(slab)?;
            first += rows;
        }
        Ok(true)
    }
}

/// The elements of `shape` stored at `offset` of `f`.
fn slab<T: Elem>(f: &File, offset: u64, shape: &[usize]) -> std::io::Result<Chunk> {
    let mut elements = vec![<T::Stored as bytemuck::Zeroable>::zeroed(); shape.iter().product()];
    f.read_exact_at(bytemuck::cast_slice_mut(&mut elements), offset)?;
    let array =
        ArrayD::from_shape_vec(IxDyn(shape), T::load(elements)).expect("the shape's elements");
    Ok(T::wrap(array))
}

//! Assembling a result computed into memory from its blocks, after the run.
//!
//! - The blocks are the run's targets, not the arguments of one last task: a task
//!   putting them side by side would hold every block and the whole result at once,
//!   twice the result, which for a result near the memory limit is twice the limit.
//! - Here each block is copied into place and then let go, the run holding no other
//!   reference to it: the result fills as the blocks go, so the peak is about the
//!   result and one block.
//! - A block's pages go back to the system as soon as it is copied
//!   ([`release_pages`]): an allocator keeping freed memory a while for reuse (as
//!   taskloom's does, for a second) would otherwise keep every block resident until
//!   the copy ends.
//! - The result is allocated zeroed, which the system does lazily: its pages become
//!   resident only as blocks are copied into them.

use std::sync::Arc;

use ndarray::{ArrayD, Axis, IxDyn};
use taskloom_graph::{with_chunk, Chunk, DType, Value};

use crate::error::ArrayError;
use crate::grid::{Dims, Grid};
use crate::kernels::args::{cast, Element};
use crate::kernels::elementwise::element::with_dtype;

/// The array of `dtype` on `grid` whose blocks, in C order, are `blocks`.
pub(crate) fn assemble(grid: &Grid, dtype: DType, blocks: Vec<Value>) -> Result<Chunk, ArrayError> {
    if blocks.len() != grid.num_blocks() {
        return Err(internal(format!(
            "{} blocks came back for a grid of {}",
            blocks.len(),
            grid.num_blocks()
        )));
    }
    Ok(with_dtype!(dtype, T => {
        let mut out = ArrayD::<T>::from_elem(IxDyn(grid.shape()), T::from_i64(0));
        for (index, block) in grid.block_indices().zip(blocks) {
            let Value::Chunk(chunk) = &block else {
                return Err(internal(format!("block {index:?} is {}", block.type_name())));
            };
            let chunk = Arc::clone(chunk);
            drop(block);
            let shape = grid.block_shape(&index);
            if chunk.shape() != &shape[..] {
                return Err(internal(format!(
                    "block {index:?} has shape {}, not {}",
                    Dims(chunk.shape()),
                    Dims(&shape)
                )));
            }
            let mut view = out.view_mut();
            for (k, start) in grid.block_start(&index).into_iter().enumerate() {
                view.slice_axis_inplace(Axis(k), ndarray::Slice::from(start..start + shape[k]));
            }
            view.assign(&cast::<T>(&chunk));
            if let Ok(mut owned) = Arc::try_unwrap(chunk) {
                release_pages(&mut owned);
            }
        }
        T::chunk(out)
    }))
}

fn internal(what: String) -> ArrayError {
    ArrayError::invalid(format!("internal error: assembling the result: {what}"))
}

/// Returns the whole pages of `chunk`'s elements to the system (their contents become
/// zeros), for a chunk about to be dropped whose values are no longer needed.
fn release_pages(chunk: &mut Chunk) {
    let (start, len) = with_chunk!(chunk, a => match a.as_slice_memory_order_mut() {
        Some(elements) => (elements.as_mut_ptr() as usize, std::mem::size_of_val(elements)),
        None => return,
    });
    // SAFETY: sysconf has no preconditions.
    let page = match unsafe { libc::sysconf(libc::_SC_PAGESIZE) } {
        size if size > 0 => size as usize,
        _ => return,
    };
    let first = start.next_multiple_of(page);
    let end = (start + len) / page * page;
    if end > first {
        // SAFETY: [first, end) lies within the chunk's elements, which `chunk` owns
        // exclusively (`&mut`), so no other object and no allocator bookkeeping is in
        // those pages. MADV_DONTNEED on private anonymous memory (what allocators hand
        // out) only makes the pages read as zeros next time, a valid value of every
        // element type here, and the caller drops the chunk without reading it.
        unsafe { libc::madvise(first as *mut libc::c_void, end - first, libc::MADV_DONTNEED) };
    }
}

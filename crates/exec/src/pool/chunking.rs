//! How a map's items are cut into chunks, and who may run each chunk.
//!
//! A chunk (a `job::Batch` inside the pool) is the unit handed to a worker: one message to a process, one queue
//! operation for a thread. Large chunks make the per-item overhead vanish; small chunks
//! let idle workers take over the work of slow ones. Where the chunks go is the other
//! half of the trade-off, as in OpenMP's `schedule(static)` and `schedule(dynamic)`:
//! fixed chunks are dealt to the workers in turn before anything runs, so a worker that
//! draws the slow items stays slow while the others idle; dynamic chunks wait in one
//! shared queue and each worker takes the next when it is idle.

use crate::pool::error::PoolError;

/// How `map` cuts its items into chunks and hands them out.
///
/// `multiprocessing`'s `chunksize=k` is `Dynamic(k)` here (its workers pull chunks
/// from one queue); `Fixed(k)` is the static schedule it has no name for, kept apart
/// so that the difference can be seen and measured (`examples/pool_chunking.rs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Chunking {
    /// Chunks of `k` items dealt round-robin to the workers up front (static
    /// scheduling): no balancing at run time, the least overhead per chunk.
    /// `Fixed(n / workers)` gives each worker one contiguous block.
    Fixed(usize),
    /// About four chunks per worker, taken by idle workers from a shared queue:
    /// `multiprocessing.Pool.map`'s default (`chunksize = ceil(n / (4 * workers))`).
    Auto,
    /// Chunks of `k` items in a shared queue, each taken by the next idle worker
    /// (dynamic scheduling): balances uneven items; `Dynamic(1)` balances best and
    /// costs one round trip per item.
    Dynamic(usize),
}

impl Default for Chunking {
    /// `Auto`, like `multiprocessing`.
    fn default() -> Self {
        Chunking::Auto
    }
}

/// A chunking resolved for one map: how its items split into batches (the chunk
/// size) and whether the batches are dealt out up front (static) or shared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Split {
    pub size: usize,
    pub dealt: bool,
}

impl Chunking {
    /// The chunk size and placement for `items` items over `workers` workers; a chunk
    /// size of 0 is an error, not a hang.
    pub(crate) fn split(self, items: usize, workers: usize) -> Result<Split, PoolError> {
        let workers = workers.max(1);
        match self {
            Chunking::Fixed(0) | Chunking::Dynamic(0) => Err(PoolError::ZeroChunkSize),
            Chunking::Fixed(k) => Ok(Split {
                size: k,
                dealt: true,
            }),
            Chunking::Dynamic(k) => Ok(Split {
                size: k,
                dealt: false,
            }),
            Chunking::Auto => Ok(Split {
                size: items.div_ceil(4 * workers).max(1),
                dealt: false,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_is_about_four_chunks_per_worker_like_multiprocessing() {
        // Python: chunksize, extra = divmod(n, 4 * workers); chunksize += bool(extra)
        assert_eq!(Chunking::Auto.split(1_000_000, 2).unwrap().size, 125_000);
        assert_eq!(Chunking::Auto.split(100, 3).unwrap().size, 9);
        assert_eq!(Chunking::Auto.split(1, 8).unwrap().size, 1);
        assert_eq!(Chunking::Auto.split(0, 8).unwrap().size, 1);
        assert!(!Chunking::Auto.split(10, 2).unwrap().dealt);
    }

    #[test]
    fn zero_sized_chunks_are_rejected() {
        assert_eq!(
            Chunking::Fixed(0).split(10, 2),
            Err(PoolError::ZeroChunkSize)
        );
        assert_eq!(
            Chunking::Dynamic(0).split(10, 2),
            Err(PoolError::ZeroChunkSize)
        );
    }

    #[test]
    fn fixed_is_dealt_and_dynamic_is_shared() {
        assert_eq!(
            Chunking::Fixed(5).split(10, 2),
            Ok(Split {
                size: 5,
                dealt: true
            })
        );
        assert_eq!(
            Chunking::Dynamic(5).split(10, 2),
            Ok(Split {
                size: 5,
                dealt: false
            })
        );
    }
}

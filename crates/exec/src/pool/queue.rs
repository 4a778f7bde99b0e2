//! The chunks waiting to run: one queue per worker for chunks dealt up front
//! (`Chunking::Fixed`), and one shared queue that any idle worker takes from
//! (`Auto`, `Dynamic`). A worker empties its own queue before it takes shared chunks.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::pool::chunking::Plan;
use crate::pool::job::{Chunk, Failure, Job};

pub(crate) struct Queues {
    own: Vec<VecDeque<Chunk>>,
    shared: VecDeque<Chunk>,
}

impl Queues {
    pub fn new(workers: usize) -> Queues {
        Queues {
            own: (0..workers.max(1)).map(|_| VecDeque::new()).collect(),
            shared: VecDeque::new(),
        }
    }

    /// Cuts `job` into chunks as `plan` says and queues them.
    pub fn push(&mut self, job: &Arc<Job>, plan: Plan) {
        let n = job.items.len();
        let size = plan.size.max(1);
        let workers = self.own.len();
        let mut start = 0;
        let mut turn = 0;
        while start < n {
            let end = n.min(start.saturating_add(size));
            let chunk = Chunk {
                job: Arc::clone(job),
                start,
                end,
            };
            if plan.dealt {
                self.own[turn % workers].push_back(chunk);
                turn += 1;
            } else {
                self.shared.push_back(chunk);
            }
            start = end;
        }
    }

    /// The next chunk for worker `worker`: its own first, then a shared one.
    pub fn next(&mut self, worker: usize) -> Option<Chunk> {
        self.own[worker]
            .pop_front()
            .or_else(|| self.shared.pop_front())
    }

    /// Puts a chunk that did not run back at the front of `worker`'s queue.
    pub fn put_back(&mut self, worker: usize, chunk: Chunk) {
        self.own[worker].push_front(chunk);
    }

    /// Fails the chunks dealt to `worker` (it cannot be replaced).
    pub fn fail_own(&mut self, worker: usize, failure: Failure) {
        for chunk in self.own[worker].drain(..) {
            chunk.fail(failure.clone());
        }
    }

    /// Fails every queued chunk (the pool is shutting down or has no workers left).
    pub fn fail_all(&mut self, failure: Failure) {
        for chunk in self.own.iter_mut().flat_map(|q| q.drain(..)) {
            chunk.fail(failure.clone());
        }
        for chunk in self.shared.drain(..) {
            chunk.fail(failure.clone());
        }
    }
}

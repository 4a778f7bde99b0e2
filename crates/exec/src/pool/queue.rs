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

    /// Whether chunks were dealt to `worker` and wait for it.
    pub fn has_own(&self, worker: usize) -> bool {
        !self.own[worker].is_empty()
    }

    /// How many chunks wait in the shared queue.
    pub fn shared_len(&self) -> usize {
        self.shared.len()
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

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use taskloom_graph::Value;

    use super::*;

    fn job(n: i64) -> Arc<Job> {
        Arc::new(Job {
            op: Arc::from("inc"),
            func: None,
            items: (0..n).map(Value::Int).collect(),
            spread: false,
            sink: mpsc::channel().0,
        })
    }

    fn ranges(queues: &mut Queues, worker: usize) -> Vec<(usize, usize)> {
        std::iter::from_fn(|| queues.next(worker))
            .map(|c| (c.start, c.end))
            .collect()
    }

    #[test]
    fn fixed_chunks_are_dealt_in_turn_and_only_to_their_worker() {
        let mut queues = Queues::new(2);
        queues.push(
            &job(7),
            Plan {
                size: 2,
                dealt: true,
            },
        );
        assert_eq!(ranges(&mut queues, 1), [(2, 4), (6, 7)]);
        assert_eq!(ranges(&mut queues, 0), [(0, 2), (4, 6)]);
    }

    #[test]
    fn shared_chunks_go_to_whoever_asks_in_order() {
        let mut queues = Queues::new(3);
        queues.push(
            &job(5),
            Plan {
                size: 2,
                dealt: false,
            },
        );
        assert_eq!(queues.next(2).map(|c| c.start), Some(0));
        assert_eq!(queues.next(0).map(|c| c.start), Some(2));
        assert_eq!(ranges(&mut queues, 1), [(4, 5)]);
    }

    #[test]
    fn a_chunk_larger_than_the_job_is_the_whole_job_and_none_is_empty() {
        let mut queues = Queues::new(2);
        queues.push(
            &job(3),
            Plan {
                size: 100,
                dealt: true,
            },
        );
        queues.push(
            &job(0),
            Plan {
                size: 1,
                dealt: false,
            },
        );
        assert_eq!(ranges(&mut queues, 0), [(0, 3)]);
        assert_eq!(ranges(&mut queues, 1), []);
    }
}

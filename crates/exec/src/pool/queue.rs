//! The batches waiting to run: one queue per worker for batches dealt up front
//! (`Chunking::Fixed`), and one shared queue that any idle worker takes from
//! (`Auto`, `Dynamic`). A worker empties its own queue before it takes shared batches.

use std::collections::VecDeque;
use std::sync::Arc;

use crate::pool::chunking::Split;
use crate::pool::job::{Batch, Fault, Job};

pub(crate) struct Queues {
    own: Vec<VecDeque<Batch>>,
    shared: VecDeque<Batch>,
}

impl Queues {
    pub fn new(workers: usize) -> Queues {
        Queues {
            own: (0..workers.max(1)).map(|_| VecDeque::new()).collect(),
            shared: VecDeque::new(),
        }
    }

    /// Cuts `job` into batches as `split` says and queues them.
    pub fn push(&mut self, job: &Arc<Job>, split: Split) {
        let n = job.items.len();
        let size = split.size.max(1);
        let workers = self.own.len();
        let mut start = 0;
        let mut turn = 0;
        while start < n {
            let end = n.min(start.saturating_add(size));
            let batch = Batch {
                job: Arc::clone(job),
                start,
                end,
            };
            if split.dealt {
                self.own[turn % workers].push_back(batch);
                turn += 1;
            } else {
                self.shared.push_back(batch);
            }
            start = end;
        }
    }

    /// The next batch for worker `worker`: its own first, then a shared one.
    pub fn next(&mut self, worker: usize) -> Option<Batch> {
        self.next_at_most(worker, usize::MAX)
    }

    /// As [`Queues::next`], of at most `most` items (at least 1): a longer batch is cut,
    /// and its rest stays first in the queue it was in (a worker with only that many
    /// items left to run before it is renewed).
    pub fn next_at_most(&mut self, worker: usize, most: usize) -> Option<Batch> {
        let queue = if self.own[worker].is_empty() {
            &mut self.shared
        } else {
            &mut self.own[worker]
        };
        let first = queue.front_mut()?;
        let most = most.max(1);
        if first.len() <= most {
            return queue.pop_front();
        }
        let cut = Batch {
            job: Arc::clone(&first.job),
            start: first.start,
            end: first.start + most,
        };
        first.start = cut.end;
        Some(cut)
    }

    /// Whether batches were dealt to `worker` and wait for it.
    pub fn has_own(&self, worker: usize) -> bool {
        !self.own[worker].is_empty()
    }

    /// How many batches wait in the shared queue.
    pub fn shared_len(&self) -> usize {
        self.shared.len()
    }

    /// Puts a batch that did not run back at the front of `worker`'s queue.
    pub fn put_back(&mut self, worker: usize, batch: Batch) {
        self.own[worker].push_front(batch);
    }

    /// Queues each item of `batch` (whose worker died running it) as a batch of its
    /// own, first in the shared queue: whichever item killed the worker then fails
    /// alone, and idle workers share the rerun.
    pub fn retry_alone(&mut self, batch: Batch) {
        for single in batch.singles().rev() {
            self.shared.push_front(single);
        }
    }

    /// Fails the batches dealt to `worker` (it cannot be replaced).
    pub fn fail_own(&mut self, worker: usize, fault: Fault) {
        for batch in self.own[worker].drain(..) {
            batch.fail(fault.clone());
        }
    }

    /// Fails every queued batch (the pool is shutting down or has no workers left).
    pub fn fail_all(&mut self, fault: Fault) {
        for batch in self.own.iter_mut().flat_map(|q| q.drain(..)) {
            batch.fail(fault.clone());
        }
        for batch in self.shared.drain(..) {
            batch.fail(fault.clone());
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
    fn fixed_batches_are_dealt_in_turn_and_only_to_their_worker() {
        let mut queues = Queues::new(2);
        queues.push(
            &job(7),
            Split {
                size: 2,
                dealt: true,
            },
        );
        assert_eq!(ranges(&mut queues, 1), [(2, 4), (6, 7)]);
        assert_eq!(ranges(&mut queues, 0), [(0, 2), (4, 6)]);
    }

    #[test]
    fn shared_batches_go_to_whoever_asks_in_order() {
        let mut queues = Queues::new(3);
        queues.push(
            &job(5),
            Split {
                size: 2,
                dealt: false,
            },
        );
        assert_eq!(queues.next(2).map(|c| c.start), Some(0));
        assert_eq!(queues.next(0).map(|c| c.start), Some(2));
        assert_eq!(ranges(&mut queues, 1), [(4, 5)]);
    }

    #[test]
    fn a_batch_larger_than_the_job_is_the_whole_job_and_none_is_empty() {
        let mut queues = Queues::new(2);
        queues.push(
            &job(3),
            Split {
                size: 100,
                dealt: true,
            },
        );
        queues.push(
            &job(0),
            Split {
                size: 1,
                dealt: false,
            },
        );
        assert_eq!(ranges(&mut queues, 0), [(0, 3)]);
        assert_eq!(ranges(&mut queues, 1), []);
    }

    #[test]
    fn a_batch_longer_than_asked_is_cut_and_its_rest_comes_next() {
        let mut queues = Queues::new(2);
        queues.push(
            &job(10),
            Split {
                size: 4,
                dealt: false,
            },
        );
        let cut = queues.next_at_most(0, 3).unwrap();
        assert_eq!((cut.start, cut.end), (0, 3));
        let rest = queues.next_at_most(1, 3).unwrap();
        assert_eq!((rest.start, rest.end), (3, 4));
        assert_eq!(ranges(&mut queues, 0), [(4, 8), (8, 10)]);
    }

    #[test]
    fn a_crashed_batch_runs_again_one_item_at_a_time_before_the_rest() {
        let mut queues = Queues::new(2);
        let job = job(6);
        queues.push(
            &job,
            Split {
                size: 3,
                dealt: false,
            },
        );
        let crashed = queues.next(0).unwrap();
        queues.retry_alone(crashed);
        assert_eq!(ranges(&mut queues, 1), [(0, 1), (1, 2), (2, 3), (3, 6)]);
    }
}

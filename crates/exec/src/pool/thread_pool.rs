//! The thread backend: N threads that take batches from the queues and call the op in
//! this process. Items and results are shared, never serialized, so closures work
//! here (and only here).

use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use crate::pool::chunking::Split;
use crate::pool::job::{Batch, Fault, Job};
use crate::pool::queue::Queues;
use crate::pool::Dispatch;
use crate::process::worker::call_op;

struct State {
    queues: Queues,
    closed: bool,
}

struct Shared {
    state: Mutex<State>,
    work: Condvar,
}

/// Worker threads and their queues; dropping it stops and joins the threads.
pub(crate) struct ThreadBackend {
    shared: Arc<Shared>,
    threads: Vec<JoinHandle<()>>,
}

impl ThreadBackend {
    pub fn start(workers: usize) -> Result<ThreadBackend, std::io::Error> {
        let workers = workers.max(1);
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                queues: Queues::new(workers),
                closed: false,
            }),
            work: Condvar::new(),
        });
        let mut backend = ThreadBackend {
            shared,
            threads: Vec::with_capacity(workers),
        };
        for me in 0..workers {
            let shared = Arc::clone(&backend.shared);
            let handle = thread::Builder::new()
                .name(format!("taskloom-pool-{me}"))
                .spawn(move || work(&shared, me))?;
            backend.threads.push(handle);
        }
        Ok(backend)
    }
}

fn lock(shared: &Shared) -> std::sync::MutexGuard<'_, State> {
    shared.state.lock().unwrap_or_else(|e| e.into_inner())
}

/// A worker thread's life: run batches until the pool closes.
fn work(shared: &Shared, me: usize) {
    loop {
        let batch = {
            let mut state = lock(shared);
            loop {
                if state.closed {
                    return;
                }
                if let Some(batch) = state.queues.next(me) {
                    break batch;
                }
                state = shared.work.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        run_batch(&batch);
    }
}

fn run_batch(batch: &Batch) {
    let job = &batch.job;
    let Some(f) = &job.func else {
        batch.fail(Fault::Op("no op to call".into()));
        return;
    };
    batch.deliver_results(
        batch
            .items()
            .iter()
            .map(|item| call_op(f, item, job.spread)),
    );
}

impl Dispatch for ThreadBackend {
    fn workers(&self) -> usize {
        self.threads.len()
    }

    fn enqueue(&self, job: Arc<Job>, split: Split) {
        let mut state = lock(&self.shared);
        if state.closed {
            drop(state);
            Batch::whole(job).fail(Fault::Closed);
            return;
        }
        state.queues.push(&job, split);
        drop(state);
        self.shared.work.notify_all();
    }
}

impl Drop for ThreadBackend {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.closed = true;
        state.queues.fail_all(Fault::Closed);
        drop(state);
        self.shared.work.notify_all();
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

//! The thread backend: N threads that take chunks from the queues and call the op in
//! this process. Items and results are shared, never serialized, so closures work
//! here (and only here).

use std::sync::{Arc, Condvar, Mutex};
use std::thread::{self, JoinHandle};

use taskloom_graph::Value;

use crate::pool::chunking::Plan;
use crate::pool::job::{Chunk, Failure, Job};
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

/// A worker thread's life: run chunks until the pool closes.
fn work(shared: &Shared, me: usize) {
    loop {
        let chunk = {
            let mut state = lock(shared);
            loop {
                if state.closed {
                    return;
                }
                if let Some(chunk) = state.queues.next(me) {
                    break chunk;
                }
                state = shared.work.wait(state).unwrap_or_else(|e| e.into_inner());
            }
        };
        run_chunk(&chunk);
    }
}

fn run_chunk(chunk: &Chunk) {
    let job = &chunk.job;
    let Some(f) = &job.func else {
        chunk.fail(Failure::Op("no op to call".into()));
        return;
    };
    let mut values = Vec::with_capacity(chunk.len());
    let mut failures = Vec::new();
    for (i, item) in chunk.items().iter().enumerate() {
        match call_op(f, item, job.spread) {
            Ok(value) => values.push(value),
            Err(cause) => {
                values.push(Value::Null);
                failures.push((chunk.start + i, Failure::Op(cause)));
            }
        }
    }
    chunk.deliver(values, failures);
}

impl Dispatch for ThreadBackend {
    fn workers(&self) -> usize {
        self.threads.len()
    }

    fn enqueue(&self, job: Arc<Job>, plan: Plan) {
        let mut state = lock(&self.shared);
        if state.closed {
            drop(state);
            Chunk {
                end: job.items.len(),
                job,
                start: 0,
            }
            .fail(Failure::Closed);
            return;
        }
        state.queues.push(&job, plan);
        drop(state);
        self.shared.work.notify_all();
    }
}

impl Drop for ThreadBackend {
    fn drop(&mut self) {
        let mut state = lock(&self.shared);
        state.closed = true;
        state.queues.fail_all(Failure::Closed);
        drop(state);
        self.shared.work.notify_all();
        for handle in self.threads.drain(..) {
            let _ = handle.join();
        }
    }
}

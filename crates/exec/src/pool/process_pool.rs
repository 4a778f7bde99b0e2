//! The process backend: N worker processes (this same binary in worker mode, see
//! `serve_worker_if_requested`) fed chunks by a driver thread over the worker
//! protocol's `Map` request. Only named ops cross the process boundary, so this
//! backend offers no closure methods.
//!
//! The driver reuses the process executor's worker pool (spawning, reaping, death
//! detection). Each worker holds up to two chunks, so it never waits for the driver
//! between chunks. When a worker dies, the chunk it was running fails with the
//! cause (e.g. "killed by SIGABRT"), the chunk queued behind it is given back, and a
//! new worker takes its place; other chunks are unaffected. Dropping the pool kills
//! and reaps every worker.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use taskloom_graph::{ExprArena, Value};
use taskloom_sched::WorkerId;

use crate::pool::chunking::Plan;
use crate::pool::error::PoolError;
use crate::pool::job::{Chunk, Failure, Job};
use crate::pool::queue::Queues;
use crate::pool::Dispatch;
use crate::process::pool::{Incoming, Pool};
use crate::process::protocol::{MapRef, ProgramRef, Reply, WORKER_ENV};

/// Chunks a worker holds at once: the one it runs and the next, so that it never
/// waits for the driver between chunks.
const IN_FLIGHT: usize = 2;

/// Chunks a worker may hold while many shared chunks are still queued: more messages
/// in flight hide the per-message round trip of small chunks. Near the end of a map
/// the depth falls to one, so that no worker sits on a chunk another could run now.
const IN_FLIGHT_DEEP: usize = 4;

/// How long a new worker may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

enum Msg {
    Job(Arc<Job>, Plan),
    Worker(WorkerId, Incoming),
    Shutdown,
}

/// The driver thread; dropping it shuts the workers down.
pub(crate) struct ProcessBackend {
    workers: usize,
    orders: mpsc::Sender<Msg>,
    driver: Option<JoinHandle<()>>,
}

impl ProcessBackend {
    pub fn start(workers: usize, executable: Option<PathBuf>) -> Result<ProcessBackend, PoolError> {
        if std::env::var_os(WORKER_ENV).is_some() {
            // Without this, a program that forgot to serve would start pools forever.
            return Err(PoolError::Spawn(
                "this process was started as a pool worker but did not serve: call \
                 taskloom::serve_worker_if_requested first thing in main"
                    .into(),
            ));
        }
        let workers = workers.max(1);
        let executable = match executable {
            Some(path) => path,
            None => std::env::current_exe()
                .map_err(|e| PoolError::Spawn(format!("cannot find this program: {e}")))?,
        };
        // Workers expect a graph program first; the pool's is empty (maps name ops).
        let program = postcard::to_stdvec(&ProgramRef {
            arena: &ExprArena::default(),
            spans: &[],
            ops: &[],
        })
        .map_err(|e| PoolError::Spawn(format!("cannot encode the empty program: {e}")))?;
        let mut pool = Pool::new(executable, program);
        let (orders, inbox) = mpsc::channel();
        let events = std::mem::replace(&mut pool.events, mpsc::channel().1);
        let forward = orders.clone();
        thread::Builder::new()
            .name("taskloom-pool-events".into())
            .spawn(move || {
                while let Ok((worker, incoming)) = events.recv() {
                    if forward.send(Msg::Worker(worker, incoming)).is_err() {
                        return;
                    }
                }
            })
            .map_err(|e| PoolError::Spawn(e.to_string()))?;
        let mut slots = Vec::with_capacity(workers);
        for _ in 0..workers {
            match pool.spawn() {
                Ok(id) => slots.push(Slot::new(id)),
                Err(e) => {
                    pool.shutdown(true);
                    return Err(PoolError::Spawn(format!("worker process: {e}")));
                }
            }
        }
        if let Err(e) = wait_loaded(&mut pool, &inbox, workers) {
            pool.shutdown(true);
            return Err(e);
        }
        let mut driver = Driver {
            pool: Some(pool),
            queues: Queues::new(workers),
            slot_of: (0..workers).collect(),
            slots,
            next_batch: 0,
        };
        let handle = thread::Builder::new()
            .name("taskloom-pool-driver".into())
            .spawn(move || driver.run(&inbox))
            .map_err(|e| PoolError::Spawn(e.to_string()))?;
        Ok(ProcessBackend {
            workers,
            orders,
            driver: Some(handle),
        })
    }
}

/// Waits until `count` new workers report that they serve.
fn wait_loaded(
    pool: &mut Pool,
    inbox: &mpsc::Receiver<Msg>,
    count: usize,
) -> Result<(), PoolError> {
    let mut loaded = 0;
    while loaded < count {
        match inbox.recv_timeout(START_TIMEOUT) {
            Ok(Msg::Worker(_, Incoming::Reply(Reply::Loaded))) => loaded += 1,
            Ok(Msg::Worker(worker, Incoming::Gone { .. })) => {
                let exit = pool.reap(worker);
                return Err(PoolError::Spawn(format!(
                    "a worker process {exit} before serving: does the program call \
                     taskloom::serve_worker_if_requested first thing in main?"
                )));
            }
            Ok(_) => {}
            Err(_) => {
                return Err(PoolError::Spawn(format!(
                    "the worker processes did not start serving within {START_TIMEOUT:?}"
                )))
            }
        }
    }
    Ok(())
}

impl Dispatch for ProcessBackend {
    fn workers(&self) -> usize {
        self.workers
    }

    fn enqueue(&self, job: Arc<Job>, plan: Plan) {
        if let Err(mpsc::SendError(Msg::Job(job, _))) = self.orders.send(Msg::Job(job, plan)) {
            Chunk {
                end: job.items.len(),
                job,
                start: 0,
            }
            .fail(Failure::Closed);
        }
    }
}

impl Drop for ProcessBackend {
    fn drop(&mut self) {
        let _ = self.orders.send(Msg::Shutdown);
        if let Some(handle) = self.driver.take() {
            let _ = handle.join();
        }
    }
}

/// One worker position: the process filling it now (replaced when it dies) and the
/// chunks sent to it, oldest (running) first.
struct Slot {
    worker: Option<WorkerId>,
    sent: VecDeque<(u64, Chunk)>,
    /// The worker said it serves. A replacement that dies before it does is not
    /// replaced again: it would die the same way, forever.
    loaded: bool,
}

impl Slot {
    fn new(worker: WorkerId) -> Slot {
        Slot {
            worker: Some(worker),
            sent: VecDeque::new(),
            loaded: true,
        }
    }
}

struct Driver {
    /// `None` once shut down.
    pool: Option<Pool>,
    queues: Queues,
    slots: Vec<Slot>,
    /// The slot of each worker id ever started.
    slot_of: Vec<usize>,
    next_batch: u64,
}

impl Drop for Driver {
    /// However the driver ends (even by a panic), no worker outlives it.
    fn drop(&mut self) {
        if let Some(pool) = self.pool.take() {
            pool.shutdown(true);
        }
    }
}

impl Driver {
    /// The slot `worker` fills, if it is one of ours.
    fn slot(&self, worker: WorkerId) -> Option<usize> {
        self.slot_of
            .get(worker.0 as usize)
            .copied()
            .filter(|&s| s < self.slots.len())
    }

    fn run(&mut self, inbox: &mpsc::Receiver<Msg>) {
        loop {
            self.feed();
            let Ok(msg) = inbox.recv() else {
                break;
            };
            match msg {
                Msg::Job(job, plan) => self.queues.push(&job, plan),
                Msg::Worker(worker, Incoming::Reply(Reply::Mapped { batch, results })) => {
                    self.finished(worker, batch, results);
                }
                Msg::Worker(worker, Incoming::Gone { garbage }) => self.lost(worker, garbage),
                Msg::Worker(worker, Incoming::Reply(Reply::Loaded)) => {
                    if let Some(s) = self.slot(worker) {
                        self.slots[s].loaded = true;
                    }
                }
                Msg::Worker(..) => {}
                Msg::Shutdown => break,
            }
        }
        self.queues.fail_all(Failure::Closed);
        for slot in &mut self.slots {
            for (_, chunk) in slot.sent.drain(..) {
                chunk.fail(Failure::Closed);
            }
        }
        if let Some(pool) = self.pool.take() {
            pool.shutdown(true);
        }
    }

    /// Sends each worker chunks until it holds `IN_FLIGHT` (or `IN_FLIGHT_DEEP`):
    /// first one each, then the next, so that no worker waits while another is fed
    /// twice.
    fn feed(&mut self) {
        let Some(pool) = self.pool.as_mut() else {
            return;
        };
        let mut sent_any = false;
        let workers = self.slots.len();
        for round in 1..=IN_FLIGHT_DEEP {
            for (s, slot) in self.slots.iter_mut().enumerate() {
                let Some(worker) = slot.worker else {
                    continue;
                };
                if slot.sent.len() >= round {
                    continue;
                }
                // Chunks dealt to this worker are its own anyway: queue two. Shared
                // chunks: deep while many wait, one at a time at the end, so that
                // the last ones go to whichever worker is idle first.
                let limit = if self.queues.has_own(s) {
                    IN_FLIGHT
                } else {
                    match self.queues.shared_len() {
                        n if n > IN_FLIGHT_DEEP * workers => IN_FLIGHT_DEEP,
                        n if n > workers => IN_FLIGHT,
                        _ => 1,
                    }
                };
                if round > limit {
                    continue;
                }
                let Some(chunk) = self.queues.next(s) else {
                    continue;
                };
                let batch = self.next_batch;
                self.next_batch += 1;
                pool.send(
                    worker,
                    &MapRef {
                        batch,
                        op: &chunk.job.op,
                        spread: chunk.job.spread,
                        items: chunk.items(),
                    },
                );
                // Sent at once: the worker may be idle.
                pool.flush();
                slot.sent.push_back((batch, chunk));
                sent_any = true;
            }
        }
        if sent_any {
            pool.flush();
        }
    }

    fn finished(&mut self, worker: WorkerId, batch: u64, results: Vec<Result<Value, String>>) {
        let Some(s) = self.slot(worker) else {
            return;
        };
        let slot = &mut self.slots[s];
        let Some(pos) = slot.sent.iter().position(|(b, _)| *b == batch) else {
            return;
        };
        let Some((_, chunk)) = slot.sent.remove(pos) else {
            return;
        };
        if results.len() != chunk.len() {
            chunk.fail(Failure::Op(format!(
                "the worker sent {} results for {} items",
                results.len(),
                chunk.len()
            )));
            return;
        }
        let mut values = Vec::with_capacity(results.len());
        let mut failures = Vec::new();
        for (i, result) in results.into_iter().enumerate() {
            match result {
                Ok(value) => values.push(value),
                Err(cause) => {
                    values.push(Value::Null);
                    failures.push((chunk.start + i, Failure::Op(cause)));
                }
            }
        }
        chunk.deliver(values, failures);
    }

    /// A worker's output ended: it died. The chunk it was running fails with the
    /// cause; the ones queued behind it go back to its slot, which a new worker fills.
    fn lost(&mut self, worker: WorkerId, garbage: Option<String>) {
        let Some(s) = self.slot(worker) else {
            return;
        };
        let Some(pool) = self.pool.as_mut() else {
            return;
        };
        let exit = pool.reap(worker);
        let cause = match garbage {
            Some(g) => format!("its worker process sent an unreadable message ({g}) and {exit}"),
            None => format!("its worker process died ({exit})"),
        };
        let slot = &mut self.slots[s];
        if slot.worker != Some(worker) {
            return;
        }
        slot.worker = None;
        let mut sent = std::mem::take(&mut slot.sent);
        if let Some((_, running)) = sent.pop_front() {
            running.fail(Failure::Died(cause.clone()));
        }
        for (_, chunk) in sent.into_iter().rev() {
            self.queues.put_back(s, chunk);
        }
        let respawn = if self.slots[s].loaded {
            pool.spawn().map_err(|e| e.to_string())
        } else {
            Err("replacement workers die before serving".to_string())
        };
        match respawn {
            Ok(new) => {
                if self.slot_of.len() <= new.0 as usize {
                    self.slot_of.resize(new.0 as usize + 1, usize::MAX);
                }
                self.slot_of[new.0 as usize] = s;
                self.slots[s].worker = Some(new);
                self.slots[s].loaded = false;
            }
            Err(e) => {
                let failure =
                    Failure::Died(format!("{cause}, and no new worker could be started ({e})"));
                self.queues.fail_own(s, failure);
                if self.slots.iter().all(|slot| slot.worker.is_none()) {
                    self.queues.fail_all(Failure::Died(format!(
                        "{cause}, and no new worker could be started ({e})"
                    )));
                }
            }
        }
    }
}

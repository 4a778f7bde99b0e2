//! The process backend: N worker processes (this same binary in worker mode, see
//! `serve_worker_if_requested`) fed batches by a driver thread over the worker
//! protocol's `Map` request. Only named ops cross the process boundary, so this
//! backend offers no closure methods.
//!
//! - The driver thread owns the workers (the process executor's `Supervisor`): it
//!   starts them, so that they die with it, and it waits on one channel for jobs and
//!   worker events alike.
//! - Each worker holds up to two batches (more while many shared ones wait), so it
//!   never waits for the driver between batches.
//! - When a worker dies, a new one takes its place and the batches queued behind the
//!   one it was running go back to the queue. The items of the batch it was running
//!   run again, each alone, on the workers left: the item that killed it then fails by
//!   itself (its cause names the signal, e.g. "killed by SIGABRT"), and the others
//!   succeed. Items of a crashed batch may so run twice: ops had better be pure.
//! - With `renew_after` n (`multiprocessing`'s `maxtasksperchild`), a worker takes
//!   no new batch once it has been given `n` items; once it has answered them all it
//!   is let go (its input closes, it exits) and a new worker takes its slot. Nothing
//!   it was given is lost or blamed on it. A batch longer than the worker's share
//!   left is cut, so a worker runs exactly `n` items, whatever the chunking.
//! - Dropping the pool kills and reaps every worker.

use std::collections::VecDeque;
use std::ffi::OsString;
use std::num::NonZeroUsize;
use std::path::PathBuf;
use std::sync::mpsc;
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use taskloom_graph::Value;
use taskloom_sched::WorkerId;

use crate::pool::chunking::Split;
use crate::pool::error::PoolError;
use crate::pool::job::{Batch, Fault, Job};
use crate::pool::queue::Queues;
use crate::pool::Dispatch;
use crate::process::protocol::{MapRef, Reply, WORKER_ENV};
use crate::process::supervisor::{Ended, Incoming, Supervisor};

/// Batches a worker holds at once: the one it runs and the next, so that it never
/// waits for the driver between batches.
const IN_FLIGHT: usize = 2;

/// Batches a worker may hold while many shared batches are still queued: more
/// messages in flight hide the per-message round trip of small batches. Near the end
/// of a map the depth falls to one, so that no worker sits on a batch another could
/// run now.
const IN_FLIGHT_DEEP: usize = 4;

/// How long a new worker may take to start serving.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// What the driver thread waits for: jobs from the pool, events from its workers.
enum Msg {
    Job(Arc<Job>, Split),
    Worker(WorkerId, Incoming),
    Shutdown,
}

impl From<(WorkerId, Incoming)> for Msg {
    fn from((worker, incoming): (WorkerId, Incoming)) -> Msg {
        Msg::Worker(worker, incoming)
    }
}

/// The driver thread; dropping it shuts the workers down.
pub(crate) struct ProcessBackend {
    workers: usize,
    orders: mpsc::Sender<Msg>,
    driver: Option<JoinHandle<()>>,
}

impl ProcessBackend {
    /// Starts the driver thread, which starts `workers` workers (`executable` with
    /// `args`), each replaced after `renew_after` items when given; returns once they
    /// all serve.
    pub fn start(
        workers: usize,
        executable: Option<PathBuf>,
        args: Vec<OsString>,
        renew_after: Option<NonZeroUsize>,
    ) -> Result<ProcessBackend, PoolError> {
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
        let (orders, inbox) = mpsc::channel();
        let (started, start) = mpsc::channel();
        let events = orders.clone();
        let driver = thread::Builder::new()
            .name("taskloom-pool-driver".into())
            .spawn(move || {
                let mut supervisor = Supervisor::new(executable, events).with_args(args);
                match start_workers(&mut supervisor, &inbox, workers) {
                    Ok(slots) => {
                        let _ = started.send(Ok(()));
                        Driver {
                            supervisor: Some(supervisor),
                            queues: Queues::new(workers),
                            slot_of: (0..workers).collect(),
                            slots,
                            next_batch: 0,
                            renew_after: renew_after.map(NonZeroUsize::get),
                        }
                        .run(&inbox);
                    }
                    Err(e) => {
                        supervisor.shutdown(true);
                        let _ = started.send(Err(e));
                    }
                }
            })
            .map_err(|e| PoolError::Spawn(e.to_string()))?;
        let outcome = start
            .recv()
            .unwrap_or_else(|_| Err(PoolError::Spawn("the pool's driver thread ended".into())));
        match outcome {
            Ok(()) => Ok(ProcessBackend {
                workers,
                orders,
                driver: Some(driver),
            }),
            Err(e) => {
                let _ = driver.join();
                Err(e)
            }
        }
    }
}

/// Starts `count` workers and waits until each says it serves.
fn start_workers(
    supervisor: &mut Supervisor<Msg>,
    inbox: &mpsc::Receiver<Msg>,
    count: usize,
) -> Result<Vec<Slot>, PoolError> {
    let mut slots = Vec::with_capacity(count);
    for _ in 0..count {
        let worker = supervisor
            .spawn()
            .map_err(|e| PoolError::Spawn(format!("worker process: {e}")))?;
        slots.push(Slot::new(worker));
    }
    let mut ready = 0;
    while ready < count {
        match inbox.recv_timeout(START_TIMEOUT) {
            Ok(Msg::Worker(_, Incoming::Reply(Reply::Ready))) => ready += 1,
            Ok(Msg::Worker(worker, Incoming::Gone { garbage })) => {
                let how = match supervisor.reap(worker, garbage) {
                    Ended::Died(exit) => exit,
                    other => format!("ended: {other}"),
                };
                return Err(PoolError::Spawn(format!(
                    "a worker process {how} before serving: does the program call \
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
    Ok(slots)
}

impl Dispatch for ProcessBackend {
    fn workers(&self) -> usize {
        self.workers
    }

    fn enqueue(&self, job: Arc<Job>, split: Split) {
        if let Err(mpsc::SendError(Msg::Job(job, _))) = self.orders.send(Msg::Job(job, split)) {
            Batch::whole(job).fail(Fault::Closed);
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
/// batches sent to it, oldest (running) first.
struct Slot {
    worker: Option<WorkerId>,
    sent: VecDeque<(u64, Batch)>,
    /// The worker said it serves. A replacement that dies before it does is not
    /// replaced again: it would die the same way, forever.
    serving: bool,
    /// Items given to the worker filling the slot now.
    given: usize,
}

impl Slot {
    fn new(worker: WorkerId) -> Slot {
        Slot {
            worker: Some(worker),
            sent: VecDeque::new(),
            serving: true,
            given: 0,
        }
    }
}

struct Driver {
    /// `None` once shut down.
    supervisor: Option<Supervisor<Msg>>,
    queues: Queues,
    slots: Vec<Slot>,
    /// The slot of each worker id ever started.
    slot_of: Vec<usize>,
    next_batch: u64,
    /// Items after which a worker is replaced, if any.
    renew_after: Option<usize>,
}

impl Drop for Driver {
    /// However the driver ends (even by a panic), no worker outlives it.
    fn drop(&mut self) {
        if let Some(supervisor) = self.supervisor.take() {
            supervisor.shutdown(true);
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
            self.renew();
            self.feed();
            let Ok(msg) = inbox.recv() else {
                break;
            };
            match msg {
                Msg::Job(job, split) => self.queues.push(&job, split),
                Msg::Worker(worker, Incoming::Reply(Reply::Mapped { batch, results })) => {
                    self.finished(worker, batch, results);
                }
                Msg::Worker(worker, Incoming::Gone { garbage }) => self.lost(worker, garbage),
                Msg::Worker(worker, Incoming::Reply(Reply::Ready)) => {
                    if let Some(s) = self.slot(worker) {
                        self.slots[s].serving = true;
                    }
                }
                Msg::Worker(..) => {}
                Msg::Shutdown => break,
            }
        }
        self.queues.fail_all(Fault::Closed);
        for slot in &mut self.slots {
            for (_, batch) in slot.sent.drain(..) {
                batch.fail(Fault::Closed);
            }
        }
        if let Some(supervisor) = self.supervisor.take() {
            supervisor.shutdown(true);
        }
    }

    /// Sends each worker batches until it holds `IN_FLIGHT` (or `IN_FLIGHT_DEEP`):
    /// first one each, then the next, so that no worker waits while another is fed
    /// twice.
    fn feed(&mut self) {
        let Some(supervisor) = self.supervisor.as_mut() else {
            return;
        };
        let mut sent_any = false;
        let workers = self.slots.len();
        let renew_after = self.renew_after.unwrap_or(usize::MAX);
        for round in 1..=IN_FLIGHT_DEEP {
            for (s, slot) in self.slots.iter_mut().enumerate() {
                let Some(worker) = slot.worker else {
                    continue;
                };
                if slot.sent.len() >= round || slot.given >= renew_after {
                    continue;
                }
                // Batches dealt to this worker are its own anyway: queue two. Shared
                // batches: deep while many wait, one at a time at the end, so that
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
                // A renewed worker is given exactly its share: a longer batch is cut.
                let share = renew_after - slot.given;
                let Some(batch) = self.queues.next_at_most(s, share) else {
                    continue;
                };
                let id = self.next_batch;
                self.next_batch += 1;
                supervisor.send(
                    worker,
                    &MapRef {
                        batch: id,
                        op: &batch.job.op,
                        spread: batch.job.spread,
                        items: batch.items(),
                    },
                );
                // Sent at once: the worker may be idle.
                supervisor.flush();
                slot.given += batch.len();
                slot.sent.push_back((id, batch));
                sent_any = true;
            }
        }
        if sent_any {
            supervisor.flush();
        }
    }

    fn finished(&mut self, worker: WorkerId, id: u64, results: Vec<Result<Value, String>>) {
        let Some(s) = self.slot(worker) else {
            return;
        };
        let slot = &mut self.slots[s];
        let Some(pos) = slot.sent.iter().position(|(b, _)| *b == id) else {
            return;
        };
        let Some((_, batch)) = slot.sent.remove(pos) else {
            return;
        };
        if results.len() != batch.len() {
            batch.fail(Fault::Op(format!(
                "the worker sent {} results for {} items",
                results.len(),
                batch.len()
            )));
            return;
        }
        batch.deliver_results(results);
    }

    /// A worker's output ended: it died. The batches queued behind the one it was
    /// running go back to its slot, which a new worker fills; the running one's items
    /// run again one by one, or, when it had one item, that item fails.
    fn lost(&mut self, worker: WorkerId, garbage: Option<String>) {
        let Some(s) = self.slot(worker) else {
            return;
        };
        let Some(supervisor) = self.supervisor.as_mut() else {
            return;
        };
        let cause = supervisor.reap(worker, garbage).to_string();
        let slot = &mut self.slots[s];
        if slot.worker != Some(worker) {
            return;
        }
        slot.worker = None;
        let mut sent = std::mem::take(&mut slot.sent);
        let running = sent.pop_front();
        for (_, batch) in sent.into_iter().rev() {
            self.queues.put_back(s, batch);
        }
        match running {
            Some((_, batch)) if batch.len() > 1 => self.queues.retry_alone(batch),
            Some((_, batch)) => batch.fail(Fault::Died(cause.clone())),
            None => {}
        }
        if self.slots[s].serving {
            self.refill(s, &cause);
        } else {
            self.cannot_refill(s, &cause, "replacement workers die before serving");
        }
    }

    /// Lets go the workers that have been given their `renew_after` items and have
    /// answered them all; new workers take their slots.
    fn renew(&mut self) {
        let Some(limit) = self.renew_after else {
            return;
        };
        for s in 0..self.slots.len() {
            let slot = &self.slots[s];
            let Some(worker) = slot
                .worker
                .filter(|_| slot.given >= limit && slot.sent.is_empty())
            else {
                continue;
            };
            let Some(supervisor) = self.supervisor.as_mut() else {
                return;
            };
            // Its end, when it comes, is not a death: the slot is no longer its.
            supervisor.retire(worker);
            self.slots[s].worker = None;
            self.refill(s, "a worker was renewed");
        }
    }

    /// Starts a new worker in slot `s`, whose worker ended for `cause`.
    fn refill(&mut self, s: usize, cause: &str) {
        let Some(supervisor) = self.supervisor.as_mut() else {
            return;
        };
        match supervisor.spawn() {
            Ok(new) => {
                if self.slot_of.len() <= new.0 as usize {
                    self.slot_of.resize(new.0 as usize + 1, usize::MAX);
                }
                self.slot_of[new.0 as usize] = s;
                let slot = &mut self.slots[s];
                slot.worker = Some(new);
                slot.serving = false;
                slot.given = 0;
            }
            Err(e) => self.cannot_refill(s, cause, &e.to_string()),
        }
    }

    /// Slot `s` stays empty: what waits for it fails, and everything does once no
    /// slot has a worker.
    fn cannot_refill(&mut self, s: usize, cause: &str, why: &str) {
        let fault = Fault::Died(format!(
            "{cause}, and no new worker could be started ({why})"
        ));
        self.queues.fail_own(s, fault.clone());
        if self.slots.iter().all(|slot| slot.worker.is_none()) {
            self.queues.fail_all(fault);
        }
    }
}

//! Rank 0 of an MPI run: runs the sans-IO scheduler core (as the process executor's
//! driver does) and carries out its decisions by messages to the worker ranks.
//!
//! - Worker rank `r` is the core's worker `r - 1`; the core sees one worker per rank,
//!   with as many slots as the rank has task threads plus `SLOTS_AHEAD`, so a rank
//!   always has tasks queued behind the running ones and never waits for rank 0.
//! - A `Transfer` becomes a `Send` to the holder, which sends the result straight to
//!   the destination; the destination reports `Arrived`. Sends are grouped per holder
//!   and destination, and every message to a rank waits in its batch until the turn
//!   ends (`transport.rs`).
//! - Results stay on the ranks; only the targets come to rank 0 at the end.
//! - A failed run drains the ranks (their queues forgotten, shell commands ended) and
//!   returns at once (or once no rank runs a task, when the run settles on failure); a
//!   stop request drains them too but lets running tasks end for up to `STOP_GRACE`
//!   first.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskloom_exec::worker::{encode_load, Reply, Request, WorkerLimit};
use taskloom_exec::{Limits, MemoryLimit, Observers, RunError, Span};
use taskloom_graph::{KeyId, Value};
use taskloom_sched::{Decision, Event, Plan, Scheduler, Status, WorkerId};

use super::transport::{messages, Idle, Transport};

/// Tasks given to a rank beyond its task threads, so that it never waits for rank 0
/// between tasks (as `SLOTS_PER_WORKER` for worker processes).
const SLOTS_AHEAD: usize = 16;

/// How long a stopped run lets the tasks running on the ranks end before their shell
/// commands are ended: the grace a stopped program expects (Slurm's `--signal` comes
/// well before the time limit).
const STOP_GRACE: Duration = Duration::from_secs(2);

/// One run on rank 0; see the module header.
pub(crate) struct Driver<'t> {
    pub transport: &'t mut Transport,
    pub plan: &'t Arc<Plan>,
    pub limits: &'t Limits,
    pub observers: &'t Observers,
    /// Each rank's bound on the results it holds (`Mpi::memory_limit`).
    pub memory: Option<&'t MemoryLimit>,
    /// Task threads per rank.
    pub threads: usize,
    /// A failed run waits until no rank runs a task (`Mpi::settle_on_failure`).
    pub settle: bool,
    /// Result bytes moved between ranks (as the workers measured the results).
    pub bytes_moved: u64,
    /// Result bytes per key, as reported when it finished.
    pub bytes: HashMap<KeyId, u64>,
    pub spans: Vec<Span>,
}

/// What a batch from a rank told the driver, besides events for the core.
enum Heard {
    Values(Vec<(KeyId, Option<Value>)>),
    Drained,
}

impl Driver<'_> {
    pub fn run(&mut self) -> Result<Vec<Value>, RunError> {
        // Each rank holds at most the whole limit: ranks may be on machines of their own.
        let limit = self.memory.map(|memory| WorkerLimit {
            bytes: memory.bytes(),
            scratch: memory.scratch().map(PathBuf::from),
        });
        let load = encode_load(self.plan, limit.as_ref())?;
        let ranks = self.transport.size();
        let slots = self.threads + SLOTS_AHEAD;
        let mut scheduler = Scheduler::new(Arc::clone(self.plan), slots, self.limits.retries);
        let timeout = Request::Timeout {
            limit: self.limits.task_timeout,
        };
        for rank in 1..ranks {
            self.transport.push(rank, &timeout);
            self.transport.push_encoded(rank, &load);
            scheduler.add_worker();
        }
        let outcome = self.schedule(&mut scheduler);
        let outcome = match outcome {
            Ok(()) => self.collect(&scheduler),
            Err(e) => Err(e),
        };
        if outcome.is_err() {
            self.drain(self.limits.stopped().is_some());
        }
        match self.limits.stopped() {
            Some(signal) => Err(RunError::Stopped { signal }),
            None => outcome,
        }
    }

    /// Runs the core until every target is computed (`Ok`) or the run fails.
    fn schedule(&mut self, scheduler: &mut Scheduler) -> Result<(), RunError> {
        let mut decisions = Vec::new();
        let mut events = Vec::new();
        scheduler.assign(&mut decisions);
        let tick = self.limits.tick();
        let mut last_look = Instant::now();
        let mut idle = Idle::default();
        loop {
            self.carry_out(&mut decisions);
            self.transport.flush();
            match scheduler.status() {
                Status::Running => {}
                Status::Finished => return Ok(()),
                Status::Failed(failure) => {
                    return Err(RunError::failed(self.plan.graph(), failure))
                }
            }
            if last_look.elapsed() >= tick {
                last_look = Instant::now();
                if let Some(signal) = self.limits.stopped() {
                    return Err(RunError::Stopped { signal });
                }
            }
            let mut heard = false;
            while let Some((rank, batch)) = self.transport.receive() {
                heard = true;
                self.hear(rank, &batch, &mut events)?;
            }
            for event in events.drain(..) {
                scheduler.handle(event, &mut decisions);
            }
            if heard {
                idle.busy();
            } else {
                idle.wait();
            }
        }
    }

    /// Turns one rank's batch into events for the core.
    fn hear(
        &mut self,
        rank: usize,
        batch: &[u8],
        events: &mut Vec<Event>,
    ) -> Result<Option<Heard>, RunError> {
        let worker = WorkerId(rank as u32 - 1);
        let mut heard = None;
        let mut fatal = None;
        messages::<Reply>(batch, |reply| {
            match reply {
                Reply::Finished {
                    key,
                    bytes,
                    started_ns,
                    ended_ns,
                } => {
                    self.observers.remote_task_finished(
                        &mut self.spans,
                        key,
                        worker.0,
                        (started_ns, ended_ns),
                    );
                    self.bytes.insert(key, bytes);
                    events.push(Event::Finished { key, worker, bytes });
                }
                Reply::Failed { key, op, cause } => events.push(Event::Failed {
                    key,
                    worker,
                    op,
                    cause,
                }),
                Reply::Arrived { key } => events.push(Event::Arrived { key, worker }),
                Reply::Unsent { key, to } => events.push(Event::TransferFailed {
                    key,
                    worker: WorkerId(to - 1),
                }),
                Reply::UnknownOp { op } => {
                    fatal = Some(RunError::Internal(format!(
                        "rank {rank} does not know op '{op}': register it before serving as an MPI worker"
                    )))
                }
                Reply::TimedOut { key } => {
                    fatal = Some(RunError::TimedOut {
                        key: self.plan.graph().name(key).to_string(),
                        limit: self.limits.task_timeout.unwrap_or_default(),
                    })
                }
                Reply::Values { values } => heard = Some(Heard::Values(values)),
                Reply::Drained => heard = Some(Heard::Drained),
                Reply::Unreadable { key, cause } => {
                    fatal = Some(RunError::unreadable(self.plan.graph(), key, cause))
                }
                Reply::Spilled {
                    written,
                    read_back,
                    over,
                } => {
                    if let Some(memory) = self.memory {
                        memory.counts().add(written, read_back, over);
                    }
                }
                Reply::Ready | Reply::Loaded | Reply::Mapped { .. } => {}
            }
            Ok(())
        })
        .map_err(|e| RunError::Internal(format!("a message from rank {rank}: {e}")))?;
        match fatal {
            Some(error) => Err(error),
            None => Ok(heard),
        }
    }

    fn carry_out(&mut self, decisions: &mut Vec<Decision>) {
        // Transfers grouped by holder and destination: one `Send` each, not one per key.
        let mut sends: HashMap<(WorkerId, WorkerId), Vec<KeyId>> = HashMap::new();
        for decision in decisions.drain(..) {
            match decision {
                Decision::Transfer { key, from, to } => {
                    self.bytes_moved += self.bytes.get(&key).copied().unwrap_or(0);
                    sends.entry((from, to)).or_default().push(key);
                }
                Decision::Run { key, worker } => {
                    self.transport.push(rank_of(worker), &Request::Run { key });
                }
                Decision::Cancel { key, worker } => {
                    self.transport
                        .push(rank_of(worker), &Request::Cancel { key });
                }
                Decision::Release { key, workers } => {
                    for w in workers {
                        self.transport.push(rank_of(w), &Request::Release { key });
                    }
                }
            }
        }
        for ((from, to), keys) in sends {
            let to = rank_of(to) as u32;
            self.transport
                .push(rank_of(from), &Request::Send { keys, to });
        }
    }

    /// Fetches the targets from the ranks holding them.
    fn collect(&mut self, scheduler: &Scheduler) -> Result<Vec<Value>, RunError> {
        let targets = self.plan.targets();
        let mut asks: HashMap<WorkerId, Vec<KeyId>> = HashMap::new();
        for &t in targets {
            let holder = scheduler.placement(t)[0];
            let keys = asks.entry(holder).or_default();
            if !keys.contains(&t) {
                keys.push(t);
            }
        }
        let mut waiting = asks.len();
        for (holder, keys) in asks {
            self.transport
                .push(rank_of(holder), &Request::Fetch { keys });
        }
        self.transport.flush();
        let mut got: HashMap<KeyId, Value> = HashMap::new();
        let mut idle = Idle::default();
        let mut events = Vec::new();
        while waiting > 0 {
            if let Some(signal) = self.limits.stopped() {
                return Err(RunError::Stopped { signal });
            }
            let Some((rank, batch)) = self.transport.receive() else {
                idle.wait();
                continue;
            };
            idle.busy();
            if let Some(Heard::Values(values)) = self.hear(rank, &batch, &mut events)? {
                waiting -= 1;
                for (key, value) in values {
                    let value = value.ok_or_else(|| {
                        RunError::Internal(format!(
                            "the rank holding '{}' no longer has it",
                            self.plan.graph().name(key)
                        ))
                    })?;
                    got.insert(key, value);
                }
            }
            // Late events (transfers still arriving) no longer matter.
            events.clear();
        }
        Ok(targets.iter().map(|t| got[t].clone()).collect())
    }

    /// Ends the run on every rank: queued tasks forgotten; running ones let end for up
    /// to `STOP_GRACE` when `gently`, their shell commands ended at once otherwise;
    /// when the run settles, waits for the running ones to end however long they take.
    fn drain(&mut self, gently: bool) {
        let ranks = self.transport.size();
        for rank in 1..ranks {
            self.transport.push(
                rank,
                &Request::Drain {
                    stop_shells: !gently,
                },
            );
        }
        self.transport.flush();
        if !gently && !self.settle {
            return;
        }
        let deadline = Instant::now() + STOP_GRACE;
        let mut drained = 1;
        let mut idle = Idle::default();
        let mut events = Vec::new();
        while drained < ranks && (self.settle || Instant::now() < deadline) {
            match self.transport.receive() {
                Some((rank, batch)) => {
                    idle.busy();
                    if let Ok(Some(Heard::Drained)) = self.hear(rank, &batch, &mut events) {
                        drained += 1;
                    }
                    events.clear();
                }
                None => idle.wait(),
            }
        }
    }
}

/// The rank of the core's worker `worker` (rank 0 runs no tasks).
fn rank_of(worker: WorkerId) -> usize {
    worker.0 as usize + 1
}

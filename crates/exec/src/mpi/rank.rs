//! A worker rank (every rank but 0): runs the tasks rank 0 gives it on threads of its
//! own, keeps their results, and sends them to peer ranks when told to.
//!
//! - The rank's main thread is its only MPI thread: it receives batches, queues tasks
//!   in `Tasks` (shared with worker processes), hands each runnable one with its
//!   inputs to the task threads, keeps finished values, and sends replies and results
//!   in batches (`transport.rs`).
//! - Results go to peers directly (`Send` becomes a `Store` to the peer, which reports
//!   `Arrived` to rank 0): rank 0 carries no result bytes but the requested ones.
//! - The program stays loaded across runs (a library may compute many graphs); the
//!   rank serves until rank 0 says `Shutdown`. Each load has its own `Shells`, and a
//!   task of an earlier load that ends late (its run failed or was stopped) is
//!   dropped, not reported into the next run.
//! - A terminating signal does not end the rank: the launcher forwards signals to
//!   every rank, and rank 0 decides (it drains the ranks, then shuts them down, which
//!   ends their shell commands). If rank 0 dies instead, the launcher ends the job.

use std::collections::HashMap;
use std::io;
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use taskloom_graph::ops::Shells;
use taskloom_graph::{KeyId, OpFn, Registry, Value};

use super::transport::{messages, Idle, Transport};
use crate::process::protocol::{Program, Reply, Request};
use crate::process::tasks::{bind, evaluate, Evaluated, Tasks};
use crate::stop::on_signals;

/// Rank 0, which gives the tasks.
pub(crate) const DRIVER: usize = 0;

/// A task handed to a task thread, with everything it reads.
struct Job {
    /// Which load of the program it belongs to.
    load: u64,
    program: Arc<Program>,
    shells: Shells,
    ops: Arc<[OpFn]>,
    key: KeyId,
    inputs: Vec<(KeyId, Value)>,
}

/// Serves rank 0 until it says `Shutdown`, running up to `threads` tasks at once.
pub(crate) fn serve(
    transport: &mut Transport,
    registry: &Registry,
    threads: usize,
) -> io::Result<()> {
    // Signals are rank 0's to act on (see the module header): caught, and ignored here.
    let _catching = on_signals(|_| {})?;
    let (jobs, taken) = mpsc::channel::<Job>();
    let (finished, done) = mpsc::channel::<(u64, Evaluated)>();
    let taken = Arc::new(Mutex::new(taken));
    for _ in 0..threads.max(1) {
        let (taken, finished) = (Arc::clone(&taken), finished.clone());
        thread::Builder::new()
            .name("taskloom-task".into())
            .spawn(move || run_jobs(&taken, &finished))?;
    }
    let mut rank = Rank {
        registry,
        load: 0,
        program: Arc::new(Program::default()),
        shells: Shells::new(),
        ops: Arc::from(Vec::new()),
        tasks: Tasks::default(),
        jobs,
        running: HashMap::new(),
        timeout: None,
        threads: threads.max(1),
        draining: false,
        serving: true,
    };
    let mut idle = Idle::default();
    while rank.serving {
        let mut active = false;
        while let Some((_, batch)) = transport.receive() {
            active = true;
            messages(&batch, |request| rank.handle(request, transport))?;
        }
        while let Ok(ended) = done.try_recv() {
            active = true;
            rank.conclude(ended, transport);
        }
        active |= rank.start_runnable();
        rank.report_overdue(transport);
        if rank.draining && rank.running.is_empty() {
            rank.draining = false;
            transport.push(DRIVER, &Reply::Drained);
        }
        transport.flush();
        if active {
            idle.busy();
        } else if rank.running.is_empty() {
            idle.wait();
        } else if let Some(pause) = idle.pause() {
            // A task ending wakes the rank at once; a message waits at most `pause`.
            if let Ok(ended) = done.recv_timeout(pause) {
                rank.conclude(ended, transport);
                idle.busy();
            }
        }
    }
    // Task threads still in an op that is not a shell command are left to the exit.
    rank.shells.stop();
    transport.finish();
    Ok(())
}

/// A task thread: runs jobs until the rank drops the sending end.
fn run_jobs(taken: &Mutex<mpsc::Receiver<Job>>, finished: &mpsc::Sender<(u64, Evaluated)>) {
    loop {
        let job = match taken.lock() {
            Ok(taken) => taken.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let lookup = |k: KeyId| {
            job.inputs
                .iter()
                .find(|(i, _)| *i == k)
                .map(|(_, v)| v.clone())
        };
        let evaluated = {
            let _entered = job.shells.enter();
            evaluate(&job.program, &job.ops, job.key, &lookup)
        };
        if finished.send((job.load, evaluated)).is_err() {
            return;
        }
    }
}

struct Rank<'r> {
    registry: &'r Registry,
    /// How many programs were loaded: the current load's number.
    load: u64,
    program: Arc<Program>,
    /// The shell commands of the loaded program's tasks.
    shells: Shells,
    ops: Arc<[OpFn]>,
    tasks: Tasks,
    jobs: mpsc::Sender<Job>,
    /// The tasks on the task threads, by load, each with its start (`None` once
    /// reported overdue).
    running: HashMap<(u64, KeyId), Option<Instant>>,
    /// The task timeout of the current run.
    timeout: Option<Duration>,
    threads: usize,
    /// A `Drain` waits for the running tasks to end.
    draining: bool,
    serving: bool,
}

impl Rank<'_> {
    fn handle(&mut self, request: Request, transport: &mut Transport) -> io::Result<()> {
        match request {
            Request::Load(program) => match bind(self.registry, &program) {
                Ok(ops) => {
                    self.ops = Arc::from(ops);
                    self.load += 1;
                    self.program = Arc::new(program);
                    self.shells = Shells::new();
                    self.tasks = Tasks::default();
                    transport.push(DRIVER, &Reply::Loaded);
                }
                Err(op) => {
                    transport.push(DRIVER, &Reply::UnknownOp { op });
                }
            },
            Request::Run { key } => self
                .tasks
                .give(key, &self.program)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
            Request::Store { key, value } => {
                self.tasks.held.insert(key, value);
                transport.push(DRIVER, &Reply::Arrived { key });
            }
            Request::Send { keys, to } => {
                for key in keys {
                    match self.tasks.held.get(&key) {
                        Some(value) => {
                            let value = value.clone();
                            transport.push(to as usize, &Request::Store { key, value });
                        }
                        None => {
                            transport.push(DRIVER, &Reply::Unsent { key, to });
                        }
                    }
                }
            }
            Request::Fetch { keys } => {
                let values = keys
                    .into_iter()
                    .map(|k| (k, self.tasks.held.get(&k).cloned()))
                    .collect();
                transport.push(DRIVER, &Reply::Values { values });
            }
            Request::Cancel { key } => self.tasks.cancel(key),
            Request::Release { key } => {
                self.tasks.held.remove(&key);
            }
            Request::Drain { stop_shells } => {
                self.tasks.cancel_all();
                if stop_shells {
                    self.shells.stop();
                }
                self.draining = true;
            }
            Request::Shutdown => self.serving = false,
            Request::Timeout { limit } => self.timeout = limit,
            Request::Map { .. } => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "a pool map request reached an MPI rank",
                ))
            }
        }
        Ok(())
    }

    /// Keeps a task's result and reports its end, unless it belongs to an earlier load.
    fn conclude(&mut self, (load, evaluated): (u64, Evaluated), transport: &mut Transport) {
        self.running.remove(&(load, evaluated.key));
        if load == self.load {
            let reply = self.tasks.conclude(evaluated, &self.program);
            transport.push(DRIVER, &reply);
        }
    }

    /// Reports the tasks running longer than the task timeout, once each: rank 0 ends
    /// the run (a thread cannot be taken back), as the threads executor does.
    fn report_overdue(&mut self, transport: &mut Transport) {
        let Some(limit) = self.timeout else { return };
        for (&(load, key), started) in &mut self.running {
            if load == self.load && started.is_some_and(|t| t.elapsed() > limit) {
                *started = None;
                transport.push(DRIVER, &Reply::TimedOut { key });
            }
        }
    }

    /// Hands runnable tasks to free task threads; whether any was.
    fn start_runnable(&mut self) -> bool {
        let mut started = false;
        while self.running.len() < self.threads {
            let Some((key, inputs)) = self.tasks.take_runnable() else {
                break;
            };
            let inputs = inputs
                .into_iter()
                .map(|k| (k, self.tasks.held[&k].clone()))
                .collect();
            let job = Job {
                load: self.load,
                program: Arc::clone(&self.program),
                shells: self.shells.clone(),
                ops: Arc::clone(&self.ops),
                key,
                inputs,
            };
            if self.jobs.send(job).is_err() {
                break;
            }
            self.running.insert((self.load, key), Some(Instant::now()));
            started = true;
        }
        started
    }
}

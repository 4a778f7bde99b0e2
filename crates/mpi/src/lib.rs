//! The MPI executor: one program started on K ranks by the site's MPI launcher
//! (`mpirun -n K`, `srun --mpi=pmix`); rank 0 schedules, ranks 1..K-1 run tasks.
//!
//! - Every rank makes an [`Mpi`] first. Rank 0 uses it as its executor; the others
//!   call [`Mpi::serve`], which runs the tasks rank 0 sends until it says `Shutdown`
//!   (so they never read the graph: rank 0 sends it). The SPMD model: every rank is
//!   the same binary, so its registry knows the same ops.
//! - The messages are the process executor's protocol (`taskloom_exec::worker`), in
//!   batches over MPI (`transport.rs`); rank 0 drives the scheduler core
//!   (`driver.rs`), a worker rank runs tasks on threads of its own (`rank.rs`) with
//!   the worker processes' task logic (`taskloom_exec::worker::Tasks`).
//! - A crate of its own, behind the `taskloom` crate's `mpi` feature: the other crates
//!   build the same with or without MPI, so a build without it (the Python wheel, the
//!   default binary) reuses theirs.
//! - Alone (K = 1, or started without a launcher) rank 0 runs the tasks itself, on
//!   threads, as the threads executor does.
//! - Dropping rank 0's `Mpi` shuts the worker ranks down; every rank finalizes MPI
//!   when its `Mpi` is dropped, which the launcher requires of a clean exit.
//! - A rank that dies makes the launcher end the whole job (MPI's rule), so rank 0
//!   never waits on a dead peer; every MPI call here returns at once, so rank 0 also
//!   sees a stop request while it waits.
//! - Except while the job starts: a rank killed inside `MPI_Init` can leave the others
//!   waiting there for it, and Open MPI's mpirun does not always end them (seen on a
//!   loaded machine). A rank that has not finished starting MPI within
//!   [`START_LIMIT`] (or `TASKLOOM_MPI_START_TIMEOUT` seconds) gives up and exits 1;
//!   and every rank asks PMIx for its store without locks (`PMIX_STORE`), as a rank
//!   killed while it held the shared store's lock hung the launcher itself.

mod driver;
mod link;
mod rank;
mod transport;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use mpi::collective::CommunicatorCollectives;
use mpi::environment::Universe;
use mpi::Threading;
use taskloom_exec::worker::Request;
use taskloom_exec::{on_signals, Executor, Limits, MemoryLimit, Observers, RunError, Threads};
use taskloom_graph::{Registry, Value};
use taskloom_sched::Plan;

pub use self::link::Link;

use self::driver::Driver;
use self::transport::Transport;

/// MPI's state in this process: the transport before the universe, so that sends
/// complete before the universe finalizes MPI when dropped.
struct Session {
    transport: Transport,
    _universe: Universe,
}

// SAFETY: MPI is initialized at `MPI_THREAD_SERIALIZED` (checked in `Mpi::init`): any
// thread may call it, one at a time. A `Session` is only reached through the mutex of
// its `Mpi`, so its MPI calls never overlap.
unsafe impl Send for Session {}

/// Runs tasks on MPI ranks; see the module header.
pub struct Mpi {
    session: Mutex<Session>,
    rank: usize,
    ranks: usize,
    threads: usize,
    limits: Limits,
    observers: Observers,
    settle_on_failure: bool,
    bytes_moved: AtomicU64,
    memory_limit: Option<MemoryLimit>,
}

impl std::fmt::Debug for Mpi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mpi")
            .field("rank", &self.rank)
            .field("ranks", &self.ranks)
            .field("threads", &self.threads)
            .finish()
    }
}

/// Initializes MPI (once per process) at the thread level every rank needs: the MPI
/// thread alone calls MPI, and other threads hand it their messages.
fn initialize() -> Result<(Universe, Transport), RunError> {
    choose_pmix_store();
    let started = watch_start(start_limit()?)?;
    let initialized = mpi::initialize_with_threading(Threading::Serialized);
    let (universe, threading) =
        initialized.ok_or_else(|| RunError::Internal("MPI is initialized already".into()))?;
    if threading < Threading::Serialized {
        return Err(RunError::Environment(format!(
            "this MPI library offers threads only at level {threading:?}; taskloom needs Serialized"
        )));
    }
    let transport = Transport::new(universe.world());
    // Signals are rank 0's to act on (rank.rs); the launcher forwards each to every
    // rank, whenever it comes. Every other rank ignores them until its process ends,
    // its finalize included, and rank 0 starts no work before they all do: a signal
    // ending a rank would make the launcher end rank 0 before it could stop the run
    // cleanly and say why. (The barrier is part of the start the watch bounds.)
    if transport.rank() != rank::DRIVER {
        let catching = on_signals(|_| {})
            .map_err(|e| RunError::Internal(format!("cannot catch signals: {e}")))?;
        std::mem::forget(catching);
    }
    universe.world().barrier();
    drop(started);
    Ok((universe, transport))
}

/// How long a rank waits for MPI to start: generous, since a large job's start takes
/// seconds, yet bounded, since a rank that died while starting can leave the others
/// waiting for it until the allocation's walltime (see the module header).
pub const START_LIMIT: Duration = Duration::from_secs(60);

/// Seconds that replace [`START_LIMIT`] (a huge job's slower start, or a test's
/// shorter patience).
pub const START_TIMEOUT_ENV: &str = "TASKLOOM_MPI_START_TIMEOUT";

/// [`START_LIMIT`], or what [`START_TIMEOUT_ENV`] says.
fn start_limit() -> Result<Duration, RunError> {
    let Some(text) = std::env::var_os(START_TIMEOUT_ENV) else {
        return Ok(START_LIMIT);
    };
    text.to_str()
        .and_then(|t| t.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .ok_or_else(|| {
            RunError::Environment(format!(
                "{START_TIMEOUT_ENV} must be a positive number of seconds, not {text:?}"
            ))
        })
}

/// PMIx's setting of the store a rank keeps the job's data in, and the store taskloom
/// chooses unless the environment chose one: its default shared-memory store has a
/// lock that a rank can die holding, as one killed while the job starts does, and the
/// launcher then hangs for good (seen with Open MPI 4.1's mpirun, waiting in its PMIx
/// server's finalize with every rank gone). The message-based store takes no lock a
/// rank holds; it keeps the job's data once per rank instead of once per node, the
/// same with taskloom's one rank per node.
const PMIX_STORE: (&str, &str) = ("PMIX_MCA_gds", "hash");

/// Sets [`PMIX_STORE`] for this rank's PMIx client, read when MPI starts, unless the
/// environment sets it already.
fn choose_pmix_store() {
    let (variable, store) = PMIX_STORE;
    if std::env::var_os(variable).is_none() {
        // Called before MPI starts and before the start's watch: the other threads a
        // process has by then (signals, progress) never read the environment from C.
        std::env::set_var(variable, store);
    }
}

/// Ends this process, exit 1, unless the returned guard is dropped (MPI has started)
/// within `limit`.
fn watch_start(limit: Duration) -> Result<mpsc::Sender<()>, RunError> {
    let (guard, watch) = mpsc::channel::<()>();
    thread::Builder::new()
        .name("taskloom-mpi-start".into())
        .spawn(move || {
            if let Err(RecvTimeoutError::Timeout) = watch.recv_timeout(limit) {
                eprintln!(
                    "taskloom: error: MPI did not finish starting within {:?}: a rank may have \
                     died while the job started (set {START_TIMEOUT_ENV} to wait longer)",
                    limit
                );
                // SAFETY: `_exit` ends the process at once, without the exit handlers
                // MPI registered (they would wait for the start this thread gives up
                // on). Nothing is half written: no task has run on this rank yet, and
                // what a run writes is renamed into place whole.
                unsafe { libc::_exit(1) };
            }
        })
        .map_err(|e| RunError::Internal(format!("cannot start a thread: {e}")))?;
    Ok(guard)
}

impl Mpi {
    /// Initializes MPI (once per process), with one task thread per core on each rank.
    pub fn init() -> Result<Mpi, RunError> {
        let (universe, transport) = initialize()?;
        Ok(Mpi {
            rank: transport.rank(),
            ranks: transport.size(),
            session: Mutex::new(Session {
                transport,
                _universe: universe,
            }),
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            limits: Limits::default(),
            memory_limit: None,
            observers: Observers::default(),
            settle_on_failure: false,
            bytes_moved: AtomicU64::new(0),
        })
    }

    /// This process's rank: 0 schedules, the others serve.
    pub fn rank(&self) -> usize {
        self.rank
    }

    /// How many ranks the job has.
    pub fn ranks(&self) -> usize {
        self.ranks
    }

    /// Runs up to `threads` tasks at once on each rank (at least one).
    pub fn threads(mut self, threads: usize) -> Self {
        self.threads = threads.max(1);
        self
    }

    /// Runs under `limits`: failed tasks run again up to `retries` more times; a stop
    /// request drains the ranks and ends the run.
    pub fn limited(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    /// Reports finished tasks and their spans (per rank) to `observers`.
    pub fn observed(mut self, observers: Observers) -> Self {
        self.observers = observers;
        self
    }

    /// Holds at most `limit` of results on each rank (not across them: ranks may have
    /// machines of their own); results past it go to the rank's scratch files, so that
    /// a run larger than the ranks' memory finishes.
    pub fn memory_limit(mut self, limit: MemoryLimit) -> Self {
        self.memory_limit = Some(limit);
        self
    }

    /// On a failure, returns only once the tasks running on every rank have finished
    /// (as `Threads::settle_on_failure`): for tasks that write into a directory the
    /// caller removes on failure (array chunks), so none lands after the clean-up.
    pub fn settle_on_failure(mut self) -> Self {
        self.settle_on_failure = true;
        self
    }

    /// Result bytes moved between ranks in the last run (each result counted at the
    /// size its rank measured), the targets' bytes to rank 0 not included.
    pub fn bytes_moved(&self) -> u64 {
        self.bytes_moved.load(Ordering::Relaxed)
    }

    /// Serves rank 0 with `registry`'s ops until it shuts this rank down, then
    /// finalizes MPI; returns the exit code, for the caller to exit with. For every
    /// rank but 0 (which ignore terminating signals from `init` on).
    pub fn serve(self, registry: &Registry) -> i32 {
        let outcome = rank::serve(&mut self.session().transport, registry, self.threads);
        drop(self);
        match outcome {
            Ok(()) => 0,
            Err(e) => {
                eprintln!("taskloom MPI rank: {e}");
                1
            }
        }
    }

    fn session(&self) -> MutexGuard<'_, Session> {
        // A panic while holding it leaves MPI as it was: go on.
        self.session.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl Executor for Mpi {
    fn run(&self, plan: Arc<Plan>) -> Result<Vec<Value>, RunError> {
        if self.rank != rank::DRIVER {
            return Err(RunError::Internal(
                "only rank 0 runs graphs; the other ranks serve it (Mpi::serve)".into(),
            ));
        }
        if self.ranks == 1 {
            let mut threads = Threads::new(self.threads)
                .observed(self.observers.clone())
                .limited(self.limits.clone());
            if self.settle_on_failure {
                threads = threads.settle_on_failure();
            }
            if let Some(limit) = &self.memory_limit {
                threads = threads.memory_limit(limit.clone());
            }
            return threads.run(plan);
        }
        if plan.is_empty() {
            return Ok(Vec::new());
        }
        let mut session = self.session();
        let mut driver = Driver {
            transport: &mut session.transport,
            plan: &plan,
            limits: &self.limits,
            observers: &self.observers,
            memory: self.memory_limit.as_ref(),
            threads: self.threads,
            settle: self.settle_on_failure,
            bytes_moved: 0,
            bytes: HashMap::new(),
            spans: Vec::new(),
        };
        let outcome = driver.run();
        if let Some(trace) = &self.observers.trace {
            trace.extend(&mut driver.spans);
            trace.note_workers(self.ranks - 1);
        }
        self.bytes_moved
            .store(driver.bytes_moved, Ordering::Relaxed);
        outcome
    }
}

impl Drop for Mpi {
    fn drop(&mut self) {
        let mut session = self.session();
        if self.rank == rank::DRIVER {
            for to in 1..self.ranks {
                session.transport.push(to, &Request::Shutdown);
            }
        }
        session.transport.finish();
    }
}

//! How a run in this process (threads, sync) ends: every target is done, a task fails
//! (after its retries), a task runs past the task timeout, or a stop is requested; and
//! how it ends what its shell commands started.
//!
//! - Workers run tasks on threads of their own and report their end here; the caller
//!   waits on a condvar, waking every `Limits::tick` to look for a stop request and,
//!   with a timeout, for a task running too long (each worker's current task and its
//!   start, behind a lock of its own that only that worker and the caller take).
//! - A run that ends early stops its `Shells` before the caller returns: every shell
//!   command it started gets SIGTERM, and SIGKILL after `KILL_GRACE`. The shell ops
//!   then return, and their threads find the run over.
//! - An op that is not a shell command cannot be interrupted: the caller returns
//!   without waiting for it, and its thread ends when the op returns. A timed-out task
//!   is therefore not retried here (its thread is not free to run it again); the
//!   process executor, which kills the worker, does retry it.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::Instant;

use taskloom_graph::ops::{Entered, Shells};
use taskloom_graph::{Graph, KeyId};

use crate::error::RunError;
use crate::limits::Limits;

/// A worker's current task and when it started, if it runs one.
type Running = Mutex<Option<(KeyId, Instant)>>;

/// The end of one run in this process; see the module header.
pub(crate) struct Watch {
    limits: Limits,
    over: AtomicBool,
    failure: Mutex<Option<RunError>>,
    ended: (Mutex<bool>, Condvar),
    /// Per worker, when there is a task timeout: its current task and its start.
    running: Box<[Running]>,
    shells: Shells,
}

impl Watch {
    pub fn new(workers: usize, limits: Limits) -> Watch {
        let watched = if limits.task_timeout.is_some() {
            workers
        } else {
            0
        };
        Watch {
            limits,
            over: AtomicBool::new(false),
            failure: Mutex::new(None),
            ended: (Mutex::new(false), Condvar::new()),
            running: (0..watched).map(|_| Mutex::new(None)).collect(),
            shells: Shells::new(),
        }
    }

    /// Makes the shell commands started on this thread the run's; for each worker.
    pub fn enter(&self) -> Entered {
        self.shells.enter()
    }

    /// How many more times a failed task runs.
    pub fn retries(&self) -> u32 {
        self.limits.retries
    }

    /// Whether the run is over: a worker starts no task once it is.
    #[inline]
    pub fn is_over(&self) -> bool {
        self.over.load(Ordering::Acquire)
    }

    /// Worker `worker` starts task `key`.
    #[inline]
    pub fn begin(&self, worker: usize, key: KeyId) {
        if let Some(running) = self.running.get(worker) {
            *lock(running) = Some((key, Instant::now()));
        }
    }

    /// Worker `worker` is done with its task.
    #[inline]
    pub fn done(&self, worker: usize) {
        if let Some(running) = self.running.get(worker) {
            *lock(running) = None;
        }
    }

    /// Ends the run with `error`, unless it failed already.
    pub fn fail(&self, error: RunError) {
        lock(&self.failure).get_or_insert(error);
        self.end();
    }

    /// Ends the run; wakes the caller.
    pub fn end(&self) {
        self.over.store(true, Ordering::Release);
        let (lock_, cvar) = &self.ended;
        *lock(lock_) = true;
        cvar.notify_all();
    }

    /// Waits until the run is over, ending it on a stop request or a task past its
    /// timeout; returns why it failed, after its shell commands ended.
    pub fn wait(&self, graph: &Graph) -> Option<RunError> {
        let tick = self.limits.tick();
        loop {
            {
                let (lock_, cvar) = &self.ended;
                let ended = lock(lock_);
                if *ended {
                    break;
                }
                let (ended, _) = cvar
                    .wait_timeout(ended, tick)
                    .unwrap_or_else(|e| e.into_inner());
                if *ended {
                    break;
                }
            }
            self.look(graph);
        }
        let failure = lock(&self.failure).take();
        let stopped = self.limits.stopped();
        if failure.is_some() || stopped.is_some() {
            self.shells.stop();
        }
        match stopped {
            Some(signal) => Some(RunError::Stopped { signal }),
            None => failure,
        }
    }

    /// Fails the run if a stop was requested or a task is past its timeout.
    fn look(&self, graph: &Graph) {
        if let Some(signal) = self.limits.stopped() {
            return self.fail(RunError::Stopped { signal });
        }
        let Some(limit) = self.limits.task_timeout else {
            return;
        };
        for running in self.running.iter() {
            let current = *lock(running);
            if let Some((key, started)) = current {
                if started.elapsed() > limit {
                    return self.fail(RunError::TimedOut {
                        key: graph.name(key).to_string(),
                        limit,
                    });
                }
            }
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

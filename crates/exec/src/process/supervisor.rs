//! The worker processes of a process-executor run or of a process pool: one
//! supervisor for both.
//!
//! - A worker is a program (this same binary, usually) started with `WORKER_ENV` set.
//!   It says `Reply::Ready` before it reads anything, so that a worker that serves is
//!   told from one that died starting; what it is asked next (a graph program to
//!   load, chunks of a map) is the caller's business.
//! - Workers stay in our process group, so Ctrl-C at the terminal reaches them, and
//!   die with the thread that spawned them (`taskloom_child::Group::Parent`), besides
//!   ending when their input closes: spawn from the thread that drives them.
//! - One reader thread per worker sends its replies, wrapped in the caller's message
//!   type `M`, on the caller's channel: a driver waits on one channel for worker
//!   events and for whatever else it serves (a pool's jobs).
//! - A worker's end arrives as `Incoming::Gone`; `reap` says how it ended: the cause
//!   given to `kill` (a timeout), an unreadable message, or its own death ("killed by
//!   SIGSEGV").
//! - A worker is ended with SIGTERM (`terminate`, `shutdown`), on which it ends its
//!   shell commands and exits; SIGKILL follows if it is still there once `KILL_GRACE`
//!   and [`EXIT_MARGIN`] are over.
//! - A worker that has done its share (a pool's `maxtasksperchild`) is let go with
//!   `retire`: its input closes and it exits by itself.
//! - `shutdown` ends and reaps every worker; so does dropping the supervisor.

use std::ffi::OsString;
use std::fmt;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use serde::Serialize;
use taskloom_child::{describe, Child, Group, KILL_GRACE};
use taskloom_sched::WorkerId;

use super::protocol::{receive, send_encoded, send_with, Reply, WORKER_ENV};

/// How much longer than `KILL_GRACE` a worker asked to end (SIGTERM) has before
/// SIGKILL: its own shell commands get `KILL_GRACE` before it kills them, and it needs
/// a moment to exit after that.
const EXIT_MARGIN: Duration = Duration::from_secs(1);

/// How often `shutdown` looks for workers that have exited.
const SHUTDOWN_POLL: Duration = Duration::from_millis(5);

/// What arrives from a worker.
pub enum Incoming {
    Reply(Reply),
    /// Its output ended: it exited, was killed, or wrote something unreadable (the
    /// reading error). Reap it.
    Gone {
        garbage: Option<String>,
    },
}

/// How a worker ended: the cause of the failure of what it was running.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Ended {
    /// `kill` ended it, for this cause.
    Killed(String),
    /// It wrote something that is not a message (so it was killed): the reading error.
    Unreadable(String),
    /// It died by itself: "killed by SIGSEGV", "exited with code 3".
    Died(String),
}

impl fmt::Display for Ended {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ended::Killed(cause) => f.write_str(cause),
            Ended::Unreadable(error) => {
                write!(f, "its worker sent an unreadable message ({error})")
            }
            Ended::Died(exit) => write!(f, "its worker died ({exit})"),
        }
    }
}

struct Worker {
    /// Before `stdin`: dropping a worker kills it first, so that flushing its input
    /// cannot block on a worker that no longer reads.
    process: Child,
    /// `None` once closed.
    stdin: Option<BufWriter<ChildStdin>>,
    alive: bool,
    /// Why `kill` ended it.
    killed_for: Option<String>,
}

impl Worker {
    /// Its input, while it lives.
    fn input(&mut self) -> Option<&mut BufWriter<ChildStdin>> {
        self.stdin.as_mut().filter(|_| self.alive)
    }
}

/// Running worker processes; their replies go to the caller's channel.
pub struct Supervisor<M> {
    executable: PathBuf,
    /// Arguments the workers start with (an interpreter's worker module, say).
    args: Vec<OsString>,
    workers: Vec<Worker>,
    /// Where requests are encoded, reused.
    scratch: Vec<u8>,
    events: mpsc::Sender<M>,
}

impl<M: From<(WorkerId, Incoming)> + Send + 'static> Supervisor<M> {
    /// Workers running `executable`, whose replies go to `events` as
    /// `M::from((worker, incoming))`.
    pub fn new(executable: PathBuf, events: mpsc::Sender<M>) -> Self {
        Supervisor {
            executable,
            args: Vec::new(),
            workers: Vec::new(),
            scratch: Vec::new(),
            events,
        }
    }

    /// Starts the workers with `args`: for an executable that serves only when told
    /// how (`python -c ...`), where this program serves on `WORKER_ENV` alone.
    pub fn with_args(mut self, args: Vec<OsString>) -> Self {
        self.args = args;
        self
    }

    /// Starts a worker; its id is the next in order. Its `Ready` (or `Gone`, when it
    /// cannot serve) arrives on the channel.
    pub fn spawn(&mut self) -> io::Result<WorkerId> {
        let id = WorkerId(self.workers.len() as u32);
        let mut command = Command::new(&self.executable);
        command
            .args(&self.args)
            .env(WORKER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        let mut process = Child::spawn(&mut command, Group::Parent)?;
        let pipes = process.pipes();
        let (Some(stdin), Some(stdout)) = (pipes.stdin, pipes.stdout) else {
            return Err(io::Error::other("a worker started without its pipes"));
        };
        widen_pipe(&stdin);
        let events = self.events.clone();
        thread::Builder::new()
            .name(format!("taskloom-worker-{}-reader", id.0))
            .spawn(move || read_replies(id, stdout, events))?;
        self.workers.push(Worker {
            process,
            stdin: Some(BufWriter::with_capacity(1 << 16, stdin)),
            alive: true,
            killed_for: None,
        });
        Ok(id)
    }

    /// Queues `request` for `worker`; returns the encoded size. Sending to a dead
    /// worker does nothing: its death is reported on the channel.
    pub fn send<T: Serialize + ?Sized>(&mut self, worker: WorkerId, request: &T) -> usize {
        match self.workers[worker.0 as usize].input() {
            Some(stdin) => send_with(stdin, request, &mut self.scratch).unwrap_or(0),
            None => 0,
        }
    }

    /// Queues a request encoded once for many workers (a graph program).
    pub fn send_encoded(&mut self, worker: WorkerId, request: &[u8]) {
        if let Some(stdin) = self.workers[worker.0 as usize].input() {
            let _ = send_encoded(stdin, request);
        }
    }

    /// Sends everything queued.
    pub fn flush(&mut self) {
        for w in self.workers.iter_mut().filter(|w| w.alive) {
            if let Some(stdin) = &mut w.stdin {
                let _ = stdin.flush();
            }
        }
    }

    /// Lets `worker` go once it has answered everything sent to it: its input is
    /// flushed and closed, so that it exits as it does at the end of a run. Its end
    /// still arrives as `Incoming::Gone`, to be reaped.
    pub fn retire(&mut self, worker: WorkerId) {
        if let Some(mut stdin) = self.workers[worker.0 as usize].stdin.take() {
            let _ = stdin.flush();
        }
    }

    /// Ends `worker` for `cause`, which `reap` reports once its end arrives: SIGTERM
    /// now, SIGKILL from `enforce_grace`.
    pub fn terminate(&mut self, worker: WorkerId, cause: String) {
        let w = &mut self.workers[worker.0 as usize];
        w.killed_for.get_or_insert(cause);
        w.process.terminate(Instant::now());
    }

    /// Whether `worker` is being ended (`terminate`).
    pub fn ending(&self, worker: WorkerId) -> bool {
        self.workers[worker.0 as usize].killed_for.is_some()
    }

    /// SIGKILL to the workers still there after their grace and `EXIT_MARGIN`.
    pub fn enforce_grace(&mut self, now: Instant) {
        for w in self.workers.iter_mut().filter(|w| w.alive) {
            if w.process
                .grace_end()
                .is_some_and(|end| now >= end + EXIT_MARGIN)
            {
                w.process.kill();
            }
        }
    }

    /// Reaps a worker whose output ended (`Incoming::Gone`, with its `garbage`) and
    /// says how it ended.
    pub fn reap(&mut self, worker: WorkerId, garbage: Option<String>) -> Ended {
        let w = &mut self.workers[worker.0 as usize];
        w.alive = false;
        w.stdin = None;
        // A worker that wrote garbage may still be running: `reap` ends it first.
        let exit = match w.process.reap() {
            Ok(status) => describe(status),
            Err(e) => format!("could not be waited for ({e})"),
        };
        match (w.killed_for.take(), garbage) {
            (Some(cause), _) => Ended::Killed(cause),
            (None, Some(error)) => Ended::Unreadable(error),
            (None, None) => Ended::Died(exit),
        }
    }

    /// Ends every worker: closes their input so that they exit, after SIGTERM when
    /// `now` (and SIGKILL to those still there after their grace), and reaps them
    /// all so that no process outlives the run.
    pub fn shutdown(mut self, now: bool) {
        let started = Instant::now();
        for w in &mut self.workers {
            if now {
                w.process.terminate(started);
            }
            w.stdin = None;
        }
        if now {
            while self
                .workers
                .iter_mut()
                .any(|w| matches!(w.process.try_reap(), Ok(None)))
            {
                if started.elapsed() >= KILL_GRACE + EXIT_MARGIN {
                    self.workers.iter_mut().for_each(|w| w.process.kill());
                    break;
                }
                thread::sleep(SHUTDOWN_POLL);
            }
        }
        for w in &mut self.workers {
            let _ = w.process.wait();
        }
    }
}

/// Asks for a 1 MiB pipe (Linux's default limit for unprivileged processes) instead
/// of 64 KiB, so that a large message (a chunk of a pool map) is queued for a busy
/// worker without blocking the driver. Best effort: a smaller pipe only means waits.
fn widen_pipe(stdin: &ChildStdin) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: fcntl on a pipe descriptor we own; failure is harmless.
        unsafe {
            libc::fcntl(stdin.as_raw_fd(), libc::F_SETPIPE_SZ, 1 << 20);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = stdin;
}

fn read_replies<M: From<(WorkerId, Incoming)>>(
    id: WorkerId,
    stdout: ChildStdout,
    events: mpsc::Sender<M>,
) {
    let mut input = BufReader::with_capacity(1 << 16, stdout);
    let mut buf = Vec::new();
    loop {
        let incoming = match receive::<Reply>(&mut input, &mut buf) {
            Ok(Some(reply)) => Incoming::Reply(reply),
            Ok(None) => Incoming::Gone { garbage: None },
            Err(e) => Incoming::Gone {
                garbage: Some(e.to_string()),
            },
        };
        let gone = matches!(incoming, Incoming::Gone { .. });
        if events.send(M::from((id, incoming))).is_err() || gone {
            return;
        }
    }
}

//! The worker processes of one run: starting them (the same binary, in worker mode),
//! talking to them, and noticing when one dies.

use std::io::{self, BufReader, BufWriter, Write};
use std::os::unix::process::ExitStatusExt;
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;

use taskloom_sched::WorkerId;

use serde::Serialize;

use super::protocol::{receive, send_encoded, send_with, Reply, WORKER_ENV};

/// What arrives from a worker.
pub enum Incoming {
    Reply(Reply),
    /// Its output ended: it exited, was killed, or wrote something unreadable.
    Gone {
        garbage: Option<String>,
    },
}

struct Worker {
    child: Child,
    stdin: BufWriter<ChildStdin>,
    alive: bool,
}

/// Running worker processes and the channel their replies arrive on.
pub struct Pool {
    executable: PathBuf,
    program: Vec<u8>,
    workers: Vec<Worker>,
    /// Where requests are encoded, reused.
    scratch: Vec<u8>,
    sender: mpsc::Sender<(WorkerId, Incoming)>,
    pub events: mpsc::Receiver<(WorkerId, Incoming)>,
}

impl Pool {
    /// A pool of `executable`s in worker mode, each loaded with `program` (an encoded
    /// `Program`).
    pub fn new(executable: PathBuf, program: Vec<u8>) -> Pool {
        let (sender, events) = mpsc::channel();
        Pool {
            executable,
            program,
            workers: Vec::new(),
            scratch: Vec::new(),
            sender,
            events,
        }
    }

    /// Starts a worker and sends it the program; its id is the next in order.
    pub fn spawn(&mut self) -> io::Result<WorkerId> {
        let id = WorkerId(self.workers.len() as u32);
        let mut child = Command::new(&self.executable)
            .env(WORKER_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().expect("piped stdout");
        let stdin = child.stdin.take().expect("piped stdin");
        widen_pipe(&stdin);
        let sender = self.sender.clone();
        thread::Builder::new()
            .name(format!("taskloom-worker-{}-reader", id.0))
            .spawn(move || read_replies(id, stdout, sender))?;
        let mut worker = Worker {
            child,
            stdin: BufWriter::with_capacity(1 << 16, stdin),
            alive: true,
        };
        // A worker that dies at once shows up as `Gone` on the channel.
        let _ = send_encoded(&mut worker.stdin, &self.program).and_then(|()| worker.stdin.flush());
        self.workers.push(worker);
        Ok(id)
    }

    /// Queues `request` for `worker`; returns the encoded size. Sending to a dead
    /// worker does nothing: its death is reported on the channel.
    pub fn send<T: Serialize + ?Sized>(&mut self, worker: WorkerId, request: &T) -> usize {
        let w = &mut self.workers[worker.0 as usize];
        if !w.alive {
            return 0;
        }
        send_with(&mut w.stdin, request, &mut self.scratch).unwrap_or(0)
    }

    /// Sends everything queued.
    pub fn flush(&mut self) {
        for w in self.workers.iter_mut().filter(|w| w.alive) {
            let _ = w.stdin.flush();
        }
    }

    /// Kills `worker` (its death then arrives on the channel).
    pub fn kill(&mut self, worker: WorkerId) {
        let _ = self.workers[worker.0 as usize].child.kill();
    }

    /// Reaps a worker whose output ended and says how it ended.
    pub fn reap(&mut self, worker: WorkerId) -> String {
        let w = &mut self.workers[worker.0 as usize];
        w.alive = false;
        // A worker that wrote garbage may still be running: end it before waiting.
        let _ = w.child.kill();
        match w.child.wait() {
            Ok(status) => describe_exit(status),
            Err(e) => format!("could not be waited for ({e})"),
        }
    }

    /// Ends every worker: closes their input so they exit, or kills them when
    /// `kill`, then reaps them all so that no process outlives the run.
    pub fn shutdown(mut self, kill: bool) {
        for w in &mut self.workers {
            if kill {
                let _ = w.child.kill();
            }
        }
        for w in self.workers.drain(..) {
            let Worker {
                mut child, stdin, ..
            } = w;
            drop(stdin);
            let _ = child.wait();
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

fn read_replies(
    id: WorkerId,
    stdout: std::process::ChildStdout,
    sender: mpsc::Sender<(WorkerId, Incoming)>,
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
        if sender.send((id, incoming)).is_err() || gone {
            return;
        }
    }
}

/// "killed by SIGABRT", "exited with code 3".
fn describe_exit(status: ExitStatus) -> String {
    match (status.signal(), status.code()) {
        (Some(signal), _) => format!("killed by {}", signal_name(signal)),
        (None, Some(code)) => format!("exited with code {code}"),
        (None, None) => "ended".to_string(),
    }
}

/// The conventional name of a signal number.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        1 => "SIGHUP",
        2 => "SIGINT",
        3 => "SIGQUIT",
        4 => "SIGILL",
        6 => "SIGABRT",
        7 => "SIGBUS",
        8 => "SIGFPE",
        9 => "SIGKILL",
        11 => "SIGSEGV",
        13 => "SIGPIPE",
        14 => "SIGALRM",
        15 => "SIGTERM",
        _ => return format!("signal {signal}"),
    };
    name.to_string()
}

//! The shell commands a run has started, so that the run can end them when it stops
//! early (a task failed or ran too long, or a signal arrived).
//!
//! - `shell()` starts its command in a process group of its own (`Group::Own`):
//!   ending the group ends everything the command started, and a Ctrl-C meant for
//!   taskloom does not reach it unasked.
//! - A run makes a [`Shells`] and enters it on every thread that runs its tasks (a
//!   thread-local); a command started there is registered until it is reaped. Outside
//!   any run (an op called directly) a command belongs to a registry of its own.
//! - [`Shells::stop`]: no new command starts; every registered group gets SIGTERM, and
//!   those still there after `KILL_GRACE` get SIGKILL. A command starts under the
//!   registry's lock, so a stop never misses one that is starting.
//! - A command's exit is awaited on its pidfd, outside the lock and without reaping it;
//!   it leaves the registry under the lock and only then is reaped. So a stop signals
//!   a group only while its leader is unreaped, when its id cannot have been reused.

use std::cell::RefCell;
use std::collections::HashMap;
use std::io::{self, Read};
use std::os::fd::OwnedFd;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use taskloom_child::{Child, Group, KILL_GRACE};

thread_local! {
    /// Where the thread's shell commands register; `None` outside a run.
    static CURRENT: RefCell<Option<Shells>> = const { RefCell::new(None) };
}

/// How often a command's exit is looked for where there are no pidfds: short next to
/// starting a shell.
const EXIT_POLL: Duration = Duration::from_millis(10);

/// The shell commands of one run; see the module header. Cheap to clone: clones
/// share the registry.
#[derive(Clone, Default)]
pub struct Shells(Arc<Registry>);

#[derive(Default)]
struct Registry {
    state: Mutex<State>,
    /// Notified when a command leaves the registry.
    left: Condvar,
}

#[derive(Default)]
struct State {
    stopped: bool,
    next: u64,
    live: HashMap<u64, Child>,
}

/// While it lives, shell commands started on its thread belong to its `Shells`.
pub struct Entered {
    previous: Option<Shells>,
}

impl Drop for Entered {
    fn drop(&mut self) {
        CURRENT.with(|current| *current.borrow_mut() = self.previous.take());
    }
}

/// What a finished command left: its exit status, stdout and stderr.
pub(super) struct Output {
    pub status: ExitStatus,
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
}

impl Shells {
    /// An empty registry.
    pub fn new() -> Self {
        Shells::default()
    }

    /// Registers the shell commands started on this thread here, until the guard is
    /// dropped.
    pub fn enter(&self) -> Entered {
        let previous = CURRENT.with(|current| current.borrow_mut().replace(self.clone()));
        Entered { previous }
    }

    /// Ends every command registered here and refuses new ones: SIGTERM to each group,
    /// SIGKILL to those still there after `KILL_GRACE`. Returns once they are gone or
    /// killed, so at most `KILL_GRACE` later.
    pub fn stop(&self) {
        let mut state = self.lock();
        state.stopped = true;
        let now = Instant::now();
        for child in state.live.values_mut() {
            child.terminate(now);
        }
        let deadline = now + KILL_GRACE;
        while !state.live.is_empty() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.live.values_mut().for_each(Child::kill);
                return;
            }
            state = self
                .0
                .left
                .wait_timeout(state, left)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Runs `command` (stdin from /dev/null, stdout and stderr captured) in its own
    /// process group, registered in the thread's `Shells`, until it and its group end.
    pub(super) fn run(command: &mut Command) -> io::Result<Output> {
        let shells = CURRENT
            .with(|current| current.borrow().clone())
            .unwrap_or_default();
        shells.run_here(command)
    }

    fn run_here(&self, command: &mut Command) -> io::Result<Output> {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // Started under the lock, so that a stop comes either before (and nothing
        // starts) or after (and finds it registered).
        let (id, pipes, exit_fd) = {
            let mut state = self.lock();
            if state.stopped {
                return Err(io::Error::other("the run is stopping"));
            }
            let mut child = Child::spawn(command, Group::Own)?;
            let pipes = child.pipes();
            // On failure, dropping the child kills and reaps it.
            let exit_fd = child.exit_fd().map(OwnedFd::try_clone).transpose()?;
            let id = state.next;
            state.next += 1;
            state.live.insert(id, child);
            (id, pipes, exit_fd)
        };
        let (stdout, stderr) = std::thread::scope(|scope| {
            let stderr = scope.spawn(|| read_all(pipes.stderr));
            (read_all(pipes.stdout), stderr.join().unwrap_or_default())
        });
        let status = self.reap(id, exit_fd)?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Waits for command `id` to exit, then takes it out of the registry and reaps
    /// it, killing what is left of its group.
    fn reap(&self, id: u64, exit_fd: Option<OwnedFd>) -> io::Result<ExitStatus> {
        if exit_fd.is_some_and(|fd| wait_readable(&fd).is_ok()) {
            let child = self.lock().live.remove(&id);
            self.0.left.notify_all();
            let mut child = child.expect("a command leaves the registry once, here");
            return child.reap();
        }
        self.reap_polling(id)
    }

    /// Without a (working) pidfd: reaps command `id` once it has exited.
    fn reap_polling(&self, id: u64) -> io::Result<ExitStatus> {
        loop {
            {
                let mut state = self.lock();
                let child = state.live.get_mut(&id).expect("registered until reaped");
                if let Some(status) = child.try_reap()? {
                    state.live.remove(&id);
                    self.0.left.notify_all();
                    return Ok(status);
                }
            }
            std::thread::sleep(EXIT_POLL);
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.0.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

fn read_all(pipe: Option<impl Read>) -> Vec<u8> {
    let mut bytes = Vec::new();
    if let Some(mut pipe) = pipe {
        // A read error ends the output as EOF would: the status says how it ended.
        let _ = pipe.read_to_end(&mut bytes);
    }
    bytes
}

/// Blocks until `fd` (a pidfd: its process exited) is readable.
fn wait_readable(fd: &OwnedFd) -> io::Result<()> {
    use rustix::event::{poll, PollFd, PollFlags};
    let mut fds = [PollFd::new(fd, PollFlags::IN)];
    loop {
        match poll(&mut fds, None) {
            Ok(_) => return Ok(()),
            Err(rustix::io::Errno::INTR) => continue,
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn stop_ends_a_running_command_and_refuses_new_ones() {
        let shells = Shells::new();
        let running = shells.clone();
        let started = Instant::now();
        let command = std::thread::spawn(move || {
            let _entered = running.enter();
            Shells::run(&mut sh("sleep 30; echo done"))
        });
        while shells.lock().live.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
        shells.stop();
        let output = command.join().unwrap().unwrap();
        assert!(!output.status.success());
        assert!(output.stdout.is_empty());
        assert!(started.elapsed() < Duration::from_secs(10));
        let _entered = shells.enter();
        assert!(
            Shells::run(&mut sh("true")).is_err(),
            "started after a stop"
        );
    }

    #[test]
    fn a_command_that_ignores_sigterm_is_killed_after_the_grace() {
        let shells = Shells::new();
        let running = shells.clone();
        let command = std::thread::spawn(move || {
            let _entered = running.enter();
            Shells::run(&mut sh("trap '' TERM; echo up; sleep 30"))
        });
        while shells.lock().live.is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
        // Time for the shell to set its trap.
        std::thread::sleep(Duration::from_millis(200));
        let started = Instant::now();
        shells.stop();
        assert!(started.elapsed() >= KILL_GRACE - Duration::from_millis(100));
        let output = command.join().unwrap().unwrap();
        assert!(!output.status.success());
    }

    #[test]
    fn outside_a_run_a_command_still_runs_to_its_end() {
        let output = Shells::run(&mut sh("echo out; echo err >&2; exit 3")).unwrap();
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");
        assert_eq!(output.status.code(), Some(3));
    }
}

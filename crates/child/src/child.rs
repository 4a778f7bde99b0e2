//! One child process, from its start to its reaping.
//!
//! - Started in its own process group, or in ours bound to the starting thread
//!   ([`Group`]).
//! - Signals reach it (or its group) only while it is not reaped.
//! - `terminate` then `enforce_grace`: SIGTERM, and SIGKILL once [`KILL_GRACE`] is
//!   over; the caller's poll loop wakes at `grace_end`.
//! - `reap` kills what is left and waits; `Drop` does the same for a child nobody
//!   reaped.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::process::{self, ChildStderr, ChildStdin, ChildStdout, Command, ExitStatus};
use std::time::{Duration, Instant};

use rustix::process::{kill_process, kill_process_group, Pid, Signal};

/// How long a child has between SIGTERM and SIGKILL: enough for a program to clean
/// up (remove temporary files, flush a log), short enough that a timeout still ends
/// it promptly.
pub const KILL_GRACE: Duration = Duration::from_secs(2);

/// Which process group a child is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Group {
    /// A group of its own, which it leads: signals reach everything it started. For
    /// commands (`taskloom map`'s items). Started with `posix_spawn`, the fast path.
    Own,
    /// Ours, so that Ctrl-C at the terminal reaches it as it reaches us; and on Linux
    /// it gets SIGTERM when the thread that started it ends (PR_SET_PDEATHSIG follows
    /// the thread, not the process): start workers from the thread that drives them.
    /// SIGTERM, not SIGKILL, so that a worker whose parent was killed outright can
    /// still end what it started (its `shell()` commands' groups) before it exits.
    Parent,
}

/// The pipes of a child started with piped stdio, taken once.
pub struct Pipes {
    pub stdin: Option<ChildStdin>,
    pub stdout: Option<ChildStdout>,
    pub stderr: Option<ChildStderr>,
}

/// A started child; see the module header.
pub struct Child {
    child: process::Child,
    /// Its pid, which is also its group's id under `Group::Own`.
    pid: Pid,
    group: Group,
    /// Readable once the child has exited (Linux); `None` elsewhere.
    pidfd: Option<OwnedFd>,
    /// Set once reaped.
    status: Option<ExitStatus>,
    terminated_at: Option<Instant>,
    killed: bool,
}

impl Child {
    /// Starts `command` in `group`.
    pub fn spawn(command: &mut Command, group: Group) -> io::Result<Child> {
        match group {
            Group::Own => {
                command.process_group(0);
            }
            Group::Parent => die_with_parent(command),
        }
        let child = command.spawn()?;
        let pid = Pid::from_child(&child);
        Ok(Child {
            child,
            pid,
            group,
            pidfd: open_pidfd(pid),
            status: None,
            terminated_at: None,
            killed: false,
        })
    }

    /// Its piped stdin, stdout and stderr (each `None` when not piped or taken).
    pub fn pipes(&mut self) -> Pipes {
        Pipes {
            stdin: self.child.stdin.take(),
            stdout: self.child.stdout.take(),
            stderr: self.child.stderr.take(),
        }
    }

    /// Readable once the child has exited, for a poll loop (Linux); elsewhere `None`,
    /// and `try_reap` is the way to notice an exit.
    pub fn exit_fd(&self) -> Option<&OwnedFd> {
        self.pidfd.as_ref()
    }

    /// Its pid, which is also its group's id under [`Group::Own`].
    pub fn id(&self) -> u32 {
        self.pid.as_raw_nonzero().get() as u32
    }

    /// How it ended, once reaped.
    pub fn status(&self) -> Option<ExitStatus> {
        self.status
    }

    /// Whether SIGKILL was sent.
    pub fn killed(&self) -> bool {
        self.killed
    }

    /// Sends `signal` to the child, or to its whole group when it leads one, unless
    /// it is reaped already.
    pub fn signal(&mut self, signal: Signal) {
        if self.status.is_some() {
            return;
        }
        // ESRCH (it, or its whole group, is gone already) is fine.
        let _ = match self.group {
            Group::Own => kill_process_group(self.pid, signal),
            Group::Parent => kill_process(self.pid, signal),
        };
        if signal == Signal::KILL {
            self.killed = true;
        }
    }

    /// SIGKILL now.
    pub fn kill(&mut self) {
        self.signal(Signal::KILL);
    }

    /// SIGTERM now (once); SIGKILL follows from `enforce_grace` after `KILL_GRACE`.
    pub fn terminate(&mut self, now: Instant) {
        if self.terminated_at.is_none() && self.status.is_none() {
            self.signal(Signal::TERM);
            self.terminated_at = Some(now);
        }
    }

    /// When the grace after `terminate` ends, if it was terminated.
    pub fn grace_end(&self) -> Option<Instant> {
        self.terminated_at.map(|t| t + KILL_GRACE)
    }

    /// SIGKILL once the grace after `terminate` is over.
    pub fn enforce_grace(&mut self, now: Instant) {
        if !self.killed && self.grace_end().is_some_and(|end| now >= end) {
            self.kill();
        }
    }

    /// The child has exited (its `exit_fd` said so), or must end now: kills what is
    /// left (the rest of its group, or the child itself), then reaps it.
    pub fn reap(&mut self) -> io::Result<ExitStatus> {
        if let Some(status) = self.status {
            return Ok(status);
        }
        self.kill();
        self.wait()
    }

    /// Waits for the child to exit by itself (its input closed, say), and reaps it.
    pub fn wait(&mut self) -> io::Result<ExitStatus> {
        let status = self.child.wait()?;
        self.status = Some(status);
        Ok(status)
    }

    /// Without `exit_fd`: reaps the child if it has exited, and then kills what is
    /// left of its group.
    pub fn try_reap(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            if let Some(status) = self.child.try_wait()? {
                self.status = Some(status);
                if self.group == Group::Own {
                    // Reaped already, so the group id could in principle be reused by
                    // now; this path is only for systems without pidfds.
                    let _ = kill_process_group(self.pid, Signal::KILL);
                }
            }
        }
        Ok(self.status)
    }
}

impl Drop for Child {
    /// An owner that ends early (an error, a panic) still leaves no process behind.
    fn drop(&mut self) {
        if self.status.is_none() {
            self.kill();
            let _ = self.child.wait();
        }
    }
}

/// Makes the child get SIGKILL when the thread starting it ends.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use rustix::process::{getpid, getppid, set_parent_process_death_signal};
    let parent = getpid();
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes two system calls and allocates
    // nothing (an error is an errno).
    unsafe {
        command.pre_exec(move || {
            set_parent_process_death_signal(Some(Signal::TERM))?;
            // We may have died before the prctl: then nothing would ever kill it.
            if getppid() != Some(parent) {
                return Err(rustix::io::Errno::SRCH.into());
            }
            Ok(())
        });
    }
}

/// Elsewhere a worker ends when its input closes, which our death also brings.
#[cfg(not(target_os = "linux"))]
fn die_with_parent(_: &mut Command) {}

#[cfg(target_os = "linux")]
fn open_pidfd(pid: Pid) -> Option<OwnedFd> {
    rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
}

#[cfg(not(target_os = "linux"))]
fn open_pidfd(_: Pid) -> Option<OwnedFd> {
    None
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    use rustix::event::{poll, PollFd, PollFlags, Timespec};

    use super::*;
    use crate::describe;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]).stdout(Stdio::piped());
        command
    }

    /// Whether `pid` names a process (not reaped yet, or someone else's by reuse).
    fn exists(pid: u32) -> bool {
        Pid::from_raw(pid as i32).is_some_and(|pid| rustix::process::test_kill_process(pid).is_ok())
    }

    /// Waits up to 5 s for `pid` to be gone (an orphan is reaped by init).
    fn gone(pid: u32) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while exists(pid) && Instant::now() < until {
            std::thread::sleep(Duration::from_millis(10));
        }
        !exists(pid)
    }

    /// The first line the child prints: the pid of something it started.
    fn first_pid(child: &mut Child) -> u32 {
        let mut line = String::new();
        BufReader::new(child.pipes().stdout.unwrap())
            .read_line(&mut line)
            .unwrap();
        line.trim().parse().unwrap()
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn reaping_a_group_leader_kills_what_it_left_behind() {
        let mut child = Child::spawn(&mut sh("sleep 30 & echo $!"), Group::Own).unwrap();
        let orphan = first_pid(&mut child);
        // The leader exits at once; its `sleep` stays in the group until reaping.
        let mut exit = [PollFd::new(child.exit_fd().unwrap(), PollFlags::IN)];
        let five_seconds = Timespec {
            tv_sec: 5,
            tv_nsec: 0,
        };
        assert_eq!(poll(&mut exit, Some(&five_seconds)).unwrap(), 1);
        assert!(exists(orphan));
        assert_eq!(describe(child.reap().unwrap()), "exited with code 0");
        assert!(gone(orphan), "the group's sleep survived");
    }

    #[test]
    fn terminate_reaches_the_whole_group_and_kill_follows_the_grace() {
        // The shell ignores SIGTERM (from after its first `sleep` started), so only
        // SIGKILL ends it.
        let script = "sleep 30 & trap '' TERM; echo $!; wait; exec sleep 30";
        let mut child = Child::spawn(&mut sh(script), Group::Own).unwrap();
        let sleeper = first_pid(&mut child);
        let now = Instant::now();
        child.terminate(now);
        assert!(gone(sleeper), "SIGTERM did not reach the group");
        assert_eq!(child.grace_end(), Some(now + KILL_GRACE));
        child.enforce_grace(now);
        assert!(!child.killed(), "killed before the grace was over");
        child.enforce_grace(now + KILL_GRACE);
        assert!(child.killed());
        assert_eq!(describe(child.wait().unwrap()), "killed by SIGKILL");
    }

    #[test]
    fn a_child_in_our_group_dies_with_the_thread_that_started_it() {
        let mut child = std::thread::spawn(|| {
            let mut command = Command::new("sleep");
            command.arg("30");
            Child::spawn(&mut command, Group::Parent).unwrap()
        })
        .join()
        .unwrap();
        let status = child.wait().unwrap();
        if cfg!(target_os = "linux") {
            assert_eq!(describe(status), "killed by SIGTERM");
        }
    }

    #[test]
    fn dropping_a_child_kills_and_reaps_it() {
        let mut command = Command::new("sleep");
        command.arg("30");
        let child = Child::spawn(&mut command, Group::Parent).unwrap();
        let pid = child.child.id();
        drop(child);
        assert!(!exists(pid), "left running or unreaped");
    }
}

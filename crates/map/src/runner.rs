//! Running the items' processes: at most `jobs` at once, each in its own process group
//! so that a timeout, a halt or Ctrl-C reaches everything an item started, with its
//! stdout and stderr captured whole.
//!
//! One thread drives everything with `poll(2)`: the children's pipes, a pidfd per child
//! (readable when it exits), and a socket per terminating signal (SIGINT, SIGTERM,
//! SIGHUP, SIGQUIT, ...: `taskloom_child::Interrupts`). No thread per child,
//! so starting an item costs one `posix_spawn` and a few file descriptors; that is what
//! lets `-j 2` keep up with `xargs -P 2` on commands as short as `true`.
//!
//! A child's exit is noticed before it is reaped, while it is a zombie: its pid, which
//! is also its process group id, cannot be reused yet, so signalling the group never
//! reaches an unrelated process. When the leader has exited, whatever it left behind in
//! its group is killed, so that no item leaves orphans. (Groups, signals, the grace
//! before SIGKILL and reaping are `taskloom_child`'s, shared with the worker
//! processes of the process executor and pool.)
//!
//! An attempt stopped from outside (its timeout, a halt, a signal to the run, a caller
//! that abandoned the run) is a failure whatever its status: a program whose SIGTERM
//! handler exits 0 did not finish its work. [`Ended::stopped`] says why.
//!
//! Items come from a [`Feed`]: `0..count` on one machine ([`run`]), or as another
//! process hands them out and tells its halts ([`run_fed`]); what a failure or a
//! signal does to the rest of the run is [`Course`]'s to decide.
//!
//! Each running item holds a lane, the lowest of `0..jobs` free when it started (kept
//! through its retries), so that a timeline can draw a lane per job.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::ffi::OsString;
use std::io::{ErrorKind, Read};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::{ChildStderr, ChildStdout};
use std::time::{Duration, Instant};

use rustix::event::{poll, PollFd, PollFlags, Timespec};
use serde::{Deserialize, Serialize};
use taskloom_child::{Child, Interrupts};

use crate::course::{Course, Cut};
use crate::spawn::{self, Programs, StartError};
use crate::Error;

pub use taskloom_child::{signal_name, KILL_GRACE};

/// What the first failure (after its retries) does to the rest of the run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Halt {
    /// Kill the running items and stop.
    Now,
    /// Start no new items; let the running ones finish.
    Soon,
    /// Go on with every item.
    #[default]
    Never,
}

/// How items are run.
#[derive(Clone, Debug)]
pub struct Options {
    /// How many items run at once (at least 1).
    pub jobs: usize,
    /// How many more times a failed item runs.
    pub retries: u32,
    /// An attempt running longer gets SIGTERM, and SIGKILL [`KILL_GRACE`] later.
    pub timeout: Option<Duration>,
    /// What the first failure does to the rest of the run.
    pub halt: Halt,
}

/// How one item ended (its last attempt), reported as soon as it does. It travels
/// between processes as it is, but for `started`, which is the receiver's to set.
#[derive(Debug, Serialize, Deserialize)]
pub struct Ended {
    /// The item's position in the list given to [`run`].
    pub index: usize,
    /// The exit code, when the process exited rather than being killed.
    pub exit: Option<i32>,
    /// The signal that killed the process.
    pub signal: Option<i32>,
    /// Everything the last attempt wrote, whole (earlier attempts' output is dropped).
    pub stdout: Vec<u8>,
    /// Likewise for stderr.
    pub stderr: Vec<u8>,
    /// When the first attempt started.
    #[serde(skip, default = "Instant::now")]
    pub started: Instant,
    /// From the first attempt's start to the last one's end.
    pub seconds: f64,
    /// 1 plus the retries used.
    pub attempts: u32,
    /// Why the last attempt was stopped from outside, if it was.
    pub stopped: Option<Stopped>,
    /// The lane (`0..jobs`) the item ran in.
    pub lane: usize,
    /// Why the last attempt could not start at all (its program is missing, its
    /// command line is too long); `exit` is then the status a shell gives for it.
    pub unstartable: Option<String>,
}

impl Ended {
    /// Exit status 0 of an attempt that ended by itself; any other status, a signal or
    /// a stop from outside is a failure.
    pub fn succeeded(&self) -> bool {
        self.exit == Some(0) && self.stopped.is_none()
    }

    /// A failure of the item's own (its status, or its timeout), not one the run
    /// brought on it by stopping: only those set off a halt.
    pub(crate) fn failed_by_itself(&self) -> bool {
        !self.succeeded() && matches!(self.stopped, None | Some(Stopped::Timeout))
    }
}

/// Why an attempt was stopped from outside rather than left to end by itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stopped {
    /// It ran into the timeout.
    Timeout,
    /// Another item's failure halted the run (`Halt::Now`).
    Halt,
    /// A terminating signal stopped the run.
    Interrupt,
    /// The caller abandoned the run ([`Flow::Abandon`]).
    Abandon,
}

/// What the caller makes of an item that ended, from [`run`]'s `on_end`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flow {
    /// Go on as the options say.
    Go,
    /// An item failed after all (its output could not be delivered): the halt policy
    /// applies as to any failure.
    Failed,
    /// Stop the run: kill the running items and start no more (nobody reads its output
    /// any more).
    Abandon,
}

/// Why [`run`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Stop {
    /// Every item ran.
    Done,
    /// A failure stopped the run early (`--halt now` or `soon`).
    Halted,
    /// This terminating signal arrived; the running items were killed.
    Interrupted(i32),
    /// The caller abandoned the run ([`Flow::Abandon`]); the running items were killed.
    Abandoned,
}

/// Runs items `0..count`, whose command lines `command_line` gives, and reports each to
/// `on_end` as it ends, which says how the run goes on. Returns once no child of the
/// run is left.
///
/// A command line that cannot be started is that item's failure (see [`spawn`]); only
/// the machine refusing processes is an error for the whole run, which kills the items
/// already running first.
pub fn run(
    count: usize,
    command_line: impl FnMut(usize) -> Vec<OsString>,
    options: &Options,
    on_end: impl FnMut(Ended) -> Flow,
) -> Result<Stop, Error> {
    let mut feed = Counted {
        count,
        next: 0,
        command_line,
    };
    run_fed(&mut feed, options, on_end)
}

/// Where [`run_fed`] takes its items from, as they become known: all at once on one
/// machine ([`run`]), or as another process hands them out (a rank of a job spread
/// over machines, which also follows the halts and signals of that process).
pub trait Feed {
    /// The next item to start, by its index, with its command line; `None` when none
    /// is ready now.
    fn next(&mut self) -> Option<(usize, Vec<OsString>)>;
    /// Whether more items may come: the run ends once none may and none runs.
    fn open(&self) -> bool;
    /// Takes in what came since the last look; a stop the source asks for (it halted,
    /// it was interrupted, or its output's reader is gone).
    fn update(&mut self) -> Option<Stop>;
    /// Readable when the feed has news for [`Feed::update`] and [`Feed::next`];
    /// `None` for a feed that has every item from the start.
    fn news(&self) -> Option<BorrowedFd<'_>>;
    /// An attempt's process group started (its id): a feed whose runner may be killed
    /// outright has it ended then ([`crate::guard`]).
    fn group_started(&mut self, _group: u32) {}
    /// The group's leader was reaped: its id may be reused from now on.
    fn group_reaped(&mut self, _group: u32) {}
}

/// Items `0..count`, command lines made on demand.
struct Counted<F> {
    count: usize,
    next: usize,
    command_line: F,
}

impl<F: FnMut(usize) -> Vec<OsString>> Feed for Counted<F> {
    fn next(&mut self) -> Option<(usize, Vec<OsString>)> {
        let index = self.next;
        (index < self.count).then(|| {
            self.next += 1;
            (index, (self.command_line)(index))
        })
    }

    fn open(&self) -> bool {
        self.next < self.count
    }

    fn update(&mut self) -> Option<Stop> {
        None
    }

    fn news(&self) -> Option<BorrowedFd<'_>> {
        None
    }
}

/// [`run`] with items from `feed`: at most `options.jobs` at once, each retried and
/// timed out here; `options.halt` applies to the failures seen here.
pub fn run_fed(
    feed: &mut dyn Feed,
    options: &Options,
    mut on_end: impl FnMut(Ended) -> Flow,
) -> Result<Stop, Error> {
    let signals = Interrupts::install()?;
    let jobs = options.jobs.max(1);
    allow_open_files(jobs);
    let mut running: Vec<Running> = Vec::with_capacity(jobs);
    let mut lanes: BinaryHeap<Reverse<usize>> = (0..jobs).map(Reverse).collect();
    let mut course = Course::new(options.halt);
    let mut fatal: Option<Error> = None;
    let mut ready: Vec<(usize, Stream)> = Vec::new();
    let mut programs = Programs::default();
    loop {
        if let Some(stop) = feed.update() {
            apply(course.stop_by(stop), &mut running);
        }
        while course.accepting() && running.len() < jobs {
            let Some((index, argv)) = feed.next() else {
                break;
            };
            let Some(Reverse(lane)) = lanes.pop() else {
                unreachable!("fewer than `jobs` items run, so a lane is free")
            };
            match Running::spawn(index, lane, argv, &mut programs, options.timeout, None) {
                Ok(child) => {
                    feed.group_started(child.child.id());
                    running.push(child);
                }
                Err(StartError::Item(why)) => {
                    lanes.push(Reverse(lane));
                    let ended = why.ended(index, lane, Instant::now(), 1);
                    apply(course.conclude(ended, &mut on_end), &mut running);
                }
                Err(StartError::Run(error)) => {
                    lanes.push(Reverse(lane));
                    fatal = Some(Error::Io(error));
                    apply(course.fail(), &mut running);
                }
            }
        }
        if running.is_empty() && !(course.accepting() && feed.open()) {
            break;
        }

        // Wait for the next event: output, an exit, a signal, news, or a deadline.
        let now = Instant::now();
        let mut wake = running.iter().filter_map(Running::next_deadline).min();
        if running
            .iter()
            .any(|r| r.child.exit_fd().is_none() && r.child.status().is_none())
        {
            // No pidfd (not Linux, or an old kernel): look for exits every 10 ms.
            let tick = now + Duration::from_millis(10);
            wake = Some(wake.map_or(tick, |w| w.min(tick)));
        }
        let timeout = wake.map(|w| {
            let left = w.saturating_duration_since(now);
            Timespec {
                tv_sec: left.as_secs() as _,
                tv_nsec: left.subsec_nanos() as _,
            }
        });
        ready.clear();
        {
            let mut fds = Vec::with_capacity(3 + 3 * running.len());
            let mut tags = Vec::with_capacity(fds.capacity());
            for (_, stream) in signals.streams() {
                fds.push(PollFd::new(stream, PollFlags::IN));
                tags.push((usize::MAX, Stream::Signal));
            }
            if let Some(news) = feed.news() {
                fds.push(PollFd::from_borrowed_fd(news, PollFlags::IN));
                tags.push((usize::MAX, Stream::News));
            }
            for (slot, r) in running.iter().enumerate() {
                if let (Some(fd), None) = (r.child.exit_fd(), r.child.status()) {
                    fds.push(PollFd::new(fd, PollFlags::IN));
                    tags.push((slot, Stream::Exit));
                }
                if let Some(out) = &r.stdout {
                    fds.push(PollFd::new(out, PollFlags::IN));
                    tags.push((slot, Stream::Stdout));
                }
                if let Some(err) = &r.stderr {
                    fds.push(PollFd::new(err, PollFlags::IN));
                    tags.push((slot, Stream::Stderr));
                }
            }
            match poll(&mut fds, timeout.as_ref()) {
                Ok(_) => {}
                Err(rustix::io::Errno::INTR) => {}
                Err(e) => return Err(Error::Io(e.into())),
            }
            for (fd, tag) in fds.iter().zip(&tags) {
                if !fd.revents().is_empty() {
                    ready.push(*tag);
                }
            }
        }

        for &(slot, stream) in &ready {
            match stream {
                Stream::Signal => {
                    if let Some(signal) = signals.pending() {
                        apply(course.interrupt(signal), &mut running);
                    }
                }
                // Taken in by `update` at the top of the loop.
                Stream::News => {}
                Stream::Exit => {
                    running[slot].child.reap()?;
                }
                Stream::Stdout | Stream::Stderr => running[slot].read(stream),
            }
        }

        let now = Instant::now();
        for r in &mut running {
            if r.child.exit_fd().is_none() {
                r.child.try_reap()?;
            }
            r.enforce_deadlines(now);
        }

        // Items whose process has exited and whose pipes are closed have ended.
        let mut slot = 0;
        while slot < running.len() {
            if !running[slot].is_finished() {
                slot += 1;
                continue;
            }
            let mut r = running.swap_remove(slot);
            feed.group_reaped(r.child.id());
            let mut ended = r.ended();
            if !ended.succeeded() && course.accepting() && r.attempts <= options.retries {
                let argv = std::mem::take(&mut r.argv);
                match Running::spawn(
                    r.index,
                    r.lane,
                    argv,
                    &mut programs,
                    options.timeout,
                    Some(&r),
                ) {
                    Ok(again) => {
                        feed.group_started(again.child.id());
                        running.push(again);
                        continue;
                    }
                    Err(StartError::Item(why)) => {
                        ended = why.ended(r.index, r.lane, r.first_start, r.attempts + 1);
                    }
                    Err(StartError::Run(error)) => {
                        fatal = Some(Error::Io(error));
                        apply(course.fail(), &mut running);
                    }
                }
            }
            lanes.push(Reverse(r.lane));
            apply(course.conclude(ended, &mut on_end), &mut running);
        }
    }
    let stop = course.finish(signals.pending());
    match fatal {
        Some(error) => Err(error),
        None => Ok(stop),
    }
}

/// Carries out what the course decided for the running attempts.
fn apply(cut: Option<Cut>, running: &mut [Running]) {
    match cut {
        None => {}
        Some(Cut::Cancel(reason)) => cancel_all(running, reason),
        Some(Cut::Kill) => {
            for r in running {
                r.child.kill();
            }
        }
    }
}

/// Stops every running attempt for `reason` (SIGTERM to its group now, SIGKILL after
/// the grace); one that has exited already keeps its own status.
fn cancel_all(running: &mut [Running], reason: Stopped) {
    let now = Instant::now();
    for r in running {
        if r.child.status().is_none() {
            r.stopped.get_or_insert(reason);
            r.child.terminate(now);
        }
    }
}

/// What a polled file descriptor is.
#[derive(Clone, Copy, Debug)]
enum Stream {
    Signal,
    News,
    Exit,
    Stdout,
    Stderr,
}

/// One item's current attempt.
struct Running {
    index: usize,
    lane: usize,
    /// The command line, for a retry.
    argv: Vec<OsString>,
    /// The item's process, leading its own group.
    child: Child,
    stdout: Option<ChildStdout>,
    stderr: Option<ChildStderr>,
    out: Vec<u8>,
    err: Vec<u8>,
    first_start: Instant,
    attempts: u32,
    deadline: Option<Instant>,
    stopped: Option<Stopped>,
}

impl Running {
    /// Starts an attempt for item `index`: the first, or the one after `previous`.
    fn spawn(
        index: usize,
        lane: usize,
        argv: Vec<OsString>,
        programs: &mut Programs,
        timeout: Option<Duration>,
        previous: Option<&Running>,
    ) -> Result<Self, StartError> {
        let mut child = spawn::start(&argv, programs)?;
        let pipes = child.pipes();
        let (stdout, stderr) = (pipes.stdout, pipes.stderr);
        for fd in [
            stdout.as_ref().map(AsFd::as_fd),
            stderr.as_ref().map(AsFd::as_fd),
        ]
        .into_iter()
        .flatten()
        {
            rustix::io::ioctl_fionbio(fd, true).map_err(|e| StartError::Run(e.into()))?;
        }
        let now = Instant::now();
        Ok(Running {
            index,
            lane,
            argv,
            child,
            stdout,
            stderr,
            out: Vec::new(),
            err: Vec::new(),
            first_start: previous.map_or(now, |p| p.first_start),
            attempts: previous.map_or(1, |p| p.attempts + 1),
            // A deadline beyond what the clock can count is no deadline.
            deadline: timeout.and_then(|t| now.checked_add(t)),
            stopped: None,
        })
    }

    /// Reads what a pipe has; closes it at end of file.
    fn read(&mut self, stream: Stream) {
        let (pipe, buffer): (&mut dyn Read, _) = match stream {
            Stream::Stdout => match &mut self.stdout {
                Some(pipe) => (pipe, &mut self.out),
                None => return,
            },
            Stream::Stderr => match &mut self.stderr {
                Some(pipe) => (pipe, &mut self.err),
                None => return,
            },
            _ => return,
        };
        match pipe.read_to_end(buffer) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => {}
            // End of file, or a pipe that cannot be read any more: either way, done.
            _ => match stream {
                Stream::Stdout => self.stdout = None,
                _ => self.stderr = None,
            },
        }
    }

    fn enforce_deadlines(&mut self, now: Instant) {
        if self.child.status().is_some() {
            // The item has exited but something outside its group (it called setsid)
            // still holds its pipes: stop waiting for them once its time is up.
            if self.next_deadline().is_some_and(|d| now >= d) {
                self.stdout = None;
                self.stderr = None;
            }
            return;
        }
        if self.deadline.is_some_and(|d| now >= d) && self.child.grace_end().is_none() {
            self.stopped = Some(Stopped::Timeout);
            self.child.terminate(now);
        }
        self.child.enforce_grace(now);
    }

    /// When this item next needs attention without any event.
    fn next_deadline(&self) -> Option<Instant> {
        let grace_over = self.child.grace_end();
        if self.child.status().is_some() {
            let pipes_open = self.stdout.is_some() || self.stderr.is_some();
            return match (self.deadline, grace_over) {
                _ if !pipes_open => None,
                (Some(d), Some(g)) => Some(d.min(g)),
                (d, g) => d.or(g),
            };
        }
        match grace_over {
            Some(_) if self.child.killed() => None,
            Some(end) => Some(end),
            None => self.deadline,
        }
    }

    fn is_finished(&self) -> bool {
        self.child.status().is_some() && self.stdout.is_none() && self.stderr.is_none()
    }

    /// How the attempt ended; its captured output moves out.
    fn ended(&mut self) -> Ended {
        let status = self.child.status();
        Ended {
            index: self.index,
            exit: status.and_then(|s| s.code()),
            signal: status.and_then(|s| s.signal()),
            stdout: std::mem::take(&mut self.out),
            stderr: std::mem::take(&mut self.err),
            started: self.first_start,
            seconds: self.first_start.elapsed().as_secs_f64(),
            attempts: self.attempts,
            stopped: self.stopped,
            lane: self.lane,
            unstartable: None,
        }
    }
}

/// Raises the soft limit on open files when `jobs` children need more than it allows
/// (three descriptors each, plus a few of our own), as far as the hard limit goes.
/// Without this, `-j 400` would fail to start items under the usual soft limit of 1024.
fn allow_open_files(jobs: usize) {
    use rustix::process::{getrlimit, setrlimit, Resource, Rlimit};
    let needed = jobs as u64 * 4 + 64;
    let limit = getrlimit(Resource::Nofile);
    if let Some(current) = limit.current.filter(|&c| c < needed) {
        let raised = limit.maximum.map_or(needed, |max| max.min(needed));
        if raised > current {
            let _ = setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(raised),
                    maximum: limit.maximum,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(jobs: usize) -> Options {
        Options {
            jobs,
            retries: 0,
            timeout: None,
            halt: Halt::Never,
        }
    }

    fn sh(script: &str) -> Vec<OsString> {
        ["sh", "-c", script].map(OsString::from).to_vec()
    }

    /// Runs `scripts` (one `sh -c` each) and returns what ended, by index.
    fn run_scripts(scripts: &[&str], options: &Options) -> (Result<Stop, Error>, Vec<Ended>) {
        let mut ended = Vec::new();
        let stop = run(
            scripts.len(),
            |i| sh(scripts[i]),
            options,
            |e| {
                ended.push(e);
                Flow::Go
            },
        );
        ended.sort_by_key(|e| e.index);
        (stop, ended)
    }

    #[test]
    fn captures_output_and_status_of_each_item() {
        let (stop, ended) = run_scripts(
            &["echo out; echo err >&2", "exit 3", "kill -USR1 $$"],
            &options(2),
        );
        assert_eq!(stop.unwrap(), Stop::Done);
        assert_eq!(ended.len(), 3);
        assert_eq!(
            (&ended[0].stdout[..], &ended[0].stderr[..]),
            (&b"out\n"[..], &b"err\n"[..])
        );
        assert!(ended[0].succeeded());
        assert_eq!((ended[1].exit, ended[1].signal), (Some(3), None));
        assert_eq!(ended[2].exit, None);
        assert_eq!(ended[2].signal.map(signal_name).as_deref(), Some("SIGUSR1"));
    }

    #[test]
    fn retries_count_attempts_and_halt_soon_starts_nothing_more() {
        let mut opts = options(1);
        opts.retries = 2;
        opts.halt = Halt::Soon;
        let (stop, ended) = run_scripts(&["exit 1", "true"], &opts);
        assert_eq!(stop.unwrap(), Stop::Halted);
        assert_eq!(ended.len(), 1, "the second item never starts");
        assert_eq!(ended[0].attempts, 3);
    }

    #[test]
    fn timeout_sends_sigterm_to_the_group() {
        let mut opts = options(1);
        opts.timeout = Some(Duration::from_millis(100));
        let (stop, ended) = run_scripts(&["sleep 5"], &opts);
        assert_eq!(stop.unwrap(), Stop::Done);
        assert_eq!(ended[0].stopped, Some(Stopped::Timeout));
        assert_eq!(ended[0].signal.map(signal_name).as_deref(), Some("SIGTERM"));
        assert!(ended[0].seconds < 2.0);
    }

    #[test]
    fn an_attempt_stopped_by_its_timeout_fails_even_if_it_exits_0_and_is_retried() {
        let mut opts = options(1);
        opts.timeout = Some(Duration::from_millis(200));
        opts.retries = 1;
        opts.halt = Halt::Soon;
        let (stop, ended) = run_scripts(&["trap 'exit 0' TERM; sleep 5 & wait", "true"], &opts);
        assert_eq!(stop.unwrap(), Stop::Halted, "the timeout is a failure");
        assert_eq!(ended.len(), 1, "the second item never starts");
        assert_eq!(ended[0].exit, Some(0));
        assert_eq!(ended[0].stopped, Some(Stopped::Timeout));
        assert_eq!(ended[0].attempts, 2);
        assert!(!ended[0].succeeded());
    }

    #[test]
    fn abandoning_the_run_stops_running_items_and_starts_no_more() {
        let scripts = ["true", "trap 'exit 0' TERM; sleep 5 & wait", "true"];
        let mut seen = Vec::new();
        let stop = run(
            scripts.len(),
            |i| sh(scripts[i]),
            &options(2),
            |e| {
                let first = seen.is_empty();
                seen.push(e);
                if first {
                    Flow::Abandon
                } else {
                    Flow::Go
                }
            },
        );
        assert_eq!(stop.unwrap(), Stop::Abandoned);
        assert_eq!(seen.len(), 2, "the third item never starts");
        assert_eq!(seen[1].stopped, Some(Stopped::Abandon));
        assert!(!seen[1].succeeded());
    }

    #[test]
    fn each_running_item_has_a_lane_of_its_own() {
        let scripts = ["sleep 1", "sleep 0.1", "sleep 0.1", "true"];
        let (stop, ended) = run_scripts(&scripts, &options(2));
        assert_eq!(stop.unwrap(), Stop::Done);
        let lanes: Vec<usize> = ended.iter().map(|e| e.lane).collect();
        // The first item keeps lane 0; the others follow each other in lane 1.
        assert_eq!(lanes, [0, 1, 1, 1]);
    }

    #[test]
    fn an_item_that_cannot_start_fails_alone_and_halt_applies() {
        let argv = |i: usize| match i {
            1 => vec![OsString::from("./taskloom-no-such-job.sh")],
            _ => sh("sleep 0.2; echo ran"),
        };
        let collect = |ended: &mut Vec<Ended>, e| {
            ended.push(e);
            Flow::Go
        };
        let mut ended = Vec::new();
        let stop = run(3, argv, &options(2), |e| collect(&mut ended, e)).unwrap();
        assert_eq!(stop, Stop::Done);
        ended.sort_by_key(|e| e.index);
        assert_eq!(ended.len(), 3);
        for e in [&ended[0], &ended[2]] {
            assert!(e.succeeded(), "{e:?}");
            assert_eq!(e.stdout, b"ran\n");
        }
        assert_eq!((ended[1].exit, ended[1].attempts), (Some(127), 1));
        let why = ended[1].unstartable.as_deref().unwrap();
        assert!(
            why.contains("cannot run './taskloom-no-such-job.sh'"),
            "{why}"
        );
        assert!(String::from_utf8_lossy(&ended[1].stderr).contains(why));

        let mut opts = options(1);
        opts.halt = Halt::Soon;
        opts.retries = 2;
        let mut ended = Vec::new();
        let stop = run(3, argv, &opts, |e| collect(&mut ended, e)).unwrap();
        assert_eq!(stop, Stop::Halted);
        assert_eq!(ended.len(), 2, "the third item never starts");
        assert_eq!(ended[1].attempts, 1, "an unstartable item is not retried");
    }
}

//! A guard process that ends the items' process groups when their runner is killed
//! outright (SIGKILL: no handler of the runner's runs, and each item leads a group of
//! its own, so nothing else would end them).
//!
//! - For runners whose death leaves the job going on elsewhere: the worker ranks of an
//!   MPI job, whose launcher ends the other ranks but knows nothing of their items.
//! - The guard is this program again ([`serve_if_requested`] first in `main`), in a
//!   group of its own, so that signals the launcher sends the runner's group do not
//!   end it first; it catches the terminating signals and goes on.
//! - The runner tells it each group it starts and each one it reaps, 5 bytes a record
//!   on the guard's stdin. The end of that input is the runner gone: at a clean end no
//!   group is left registered; otherwise each one left gets SIGTERM, and SIGKILL after
//!   [`KILL_GRACE`] if it is still there.
//! - A group left registered belongs to a leader the runner never reaped: whoever
//!   reaps it after the runner's death does so an instant before the guard's signal at
//!   the earliest, far too soon for its id to be reused.

use std::collections::HashSet;
use std::io::{self, BufReader, Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{ChildStdin, Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::{kill_process_group, test_kill_process_group, Pid, Signal};
use taskloom_child::{Child, Group, Interrupts, KILL_GRACE};

/// The environment variable that makes this program serve as a guard.
pub const GUARD_ENV: &str = "TASKLOOM_MAP_GUARD";

/// What `ps` shows of the guard.
const NAME: &str = "taskloom-map-guard";

/// How often the guard looks whether the groups it stopped are gone: short next to
/// the grace.
const LOOK: Duration = Duration::from_millis(20);

/// A record: `+` (started) or `-` (reaped), then the group's id, little-endian.
const STARTED: u8 = b'+';
const REAPED: u8 = b'-';

/// The runner's side: the guard's process and its input.
pub struct Guard {
    input: Option<ChildStdin>,
    process: Child,
}

impl Guard {
    /// Starts the guard: this program, with [`GUARD_ENV`] set.
    pub fn start() -> io::Result<Guard> {
        let mut command = Command::new(std::env::current_exe()?);
        command
            .arg0(NAME)
            .env(GUARD_ENV, "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let mut process = Child::spawn(&mut command, Group::Own)?;
        let input = process.pipes().stdin;
        Ok(Guard { input, process })
    }

    /// Registers `group`, just started.
    pub fn started(&mut self, group: u32) {
        self.tell(STARTED, group);
    }

    /// Unregisters `group`, just reaped.
    pub fn reaped(&mut self, group: u32) {
        self.tell(REAPED, group);
    }

    fn tell(&mut self, kind: u8, group: u32) {
        let mut record = [kind, 0, 0, 0, 0];
        record[1..].copy_from_slice(&group.to_le_bytes());
        // A guard that has gone cannot be told: the run goes on without its net.
        if let Some(input) = &mut self.input {
            if input.write_all(&record).is_err() {
                self.input = None;
            }
        }
    }
}

impl Drop for Guard {
    fn drop(&mut self) {
        // The end of its input; with nothing registered, it exits at once.
        self.input = None;
        let _ = self.process.wait();
    }
}

/// Serves as a guard when started as one (see the module header), and exits; returns
/// otherwise.
pub fn serve_if_requested() {
    if std::env::var_os(GUARD_ENV).is_none() {
        return;
    }
    // Caught, never read: only the end of the input ends the guard.
    let _caught = Interrupts::install();
    let groups = registered(BufReader::new(io::stdin().lock()));
    end(&groups);
    std::process::exit(0)
}

/// The groups left registered when `input` ends.
fn registered(mut input: impl Read) -> HashSet<u32> {
    let mut groups = HashSet::new();
    let mut record = [0u8; 5];
    while input.read_exact(&mut record).is_ok() {
        let group = u32::from_le_bytes([record[1], record[2], record[3], record[4]]);
        match record[0] {
            STARTED => groups.insert(group),
            _ => groups.remove(&group),
        };
    }
    groups
}

/// SIGTERM to every group, SIGKILL after the grace to those still there.
fn end(groups: &HashSet<u32>) {
    let pids: Vec<Pid> = groups
        .iter()
        .filter_map(|&g| Pid::from_raw(g as i32))
        .collect();
    for &pid in &pids {
        let _ = kill_process_group(pid, Signal::TERM);
    }
    let until = Instant::now() + KILL_GRACE;
    let left = || {
        pids.iter()
            .filter(|&&pid| test_kill_process_group(pid).is_ok())
    };
    while left().next().is_some() && Instant::now() < until {
        std::thread::sleep(LOOK);
    }
    for &pid in left() {
        let _ = kill_process_group(pid, Signal::KILL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_groups_left_are_those_started_and_not_reaped() {
        let mut input = Vec::new();
        for (kind, group) in [(STARTED, 7u32), (STARTED, 9), (REAPED, 7), (STARTED, 70000)] {
            input.push(kind);
            input.extend(group.to_le_bytes());
        }
        // A record cut short by the runner's death is no record.
        input.push(STARTED);
        let left = registered(&input[..]);
        assert_eq!(left, HashSet::from([9, 70000]));
    }
}

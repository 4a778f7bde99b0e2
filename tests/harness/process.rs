//! The processes a run leaves behind, and tests that need a process of their own.
//!
//! - A run's processes are found by a marker in their environment
//!   ([`MARK`]): workers inherit it from the command that carries it.
//! - All tests share one binary; a test that measures or marks its whole process
//!   runs again, alone, in a child process ([`in_own_process`]).

use std::os::unix::process::ExitStatusExt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::TestCommand;

/// The environment variable whose value marks a run's processes.
pub const MARK: &str = "TASKLOOM_TEST_MARK";

/// Names the test a child process of [`in_own_process`] runs.
const ALONE: &str = "TASKLOOM_TEST_ALONE";

/// A marker no other run of this test binary uses: `label`, the process id and a count.
pub fn unique_mark(label: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{}-{n}", std::process::id())
}

/// The processes that have the marker `mark` in their environment (their pids).
pub fn marked_processes(mark: &str) -> Vec<String> {
    let needle = format!("{MARK}={mark}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect()
}

/// Whether `pid` is a live process (a zombie waiting for init to reap it is not).
pub fn alive(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => !stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X'])),
        Err(_) => false,
    }
}

/// Asserts that no process marked `mark` is left, after a few seconds for the last
/// ones to be reaped.
pub fn assert_none_left(mark: &str) {
    wait_for(Duration::from_secs(5), || marked_processes(mark).is_empty());
    assert_eq!(
        marked_processes(mark),
        Vec::<String>::new(),
        "processes left"
    );
}

/// Waits up to `limit` for `done`; returns whether it came true.
pub fn wait_for(limit: Duration, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    loop {
        if done() {
            return true;
        }
        if start.elapsed() >= limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Runs the test `name` of the module `module` (pass `module_path!()`) again in a child
/// process, alone, and asserts that it passed there. Returns true in that child, where the test goes on, and false in the test
/// binary's own process, where the test ends.
pub fn in_own_process(module: &str, name: &str) -> bool {
    // Test names leave out the crate: `tests::api::memory` holds `api::memory::NAME`.
    let module = module.split_once("::").map_or("", |(_, path)| path);
    let test = format!("{module}::{name}");
    if std::env::var(ALONE).is_ok_and(|running| running == test) {
        return true;
    }
    let out = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([test.as_str(), "--exact", "--test-threads=1", "--nocapture"])
        .env(ALONE, &test)
        .output()
        .expect("run the test binary");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("1 passed"),
        "{test} in a process of its own:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    false
}

/// Sends the signal `name` (`TERM`, `USR1`, `KILL`) to process `pid`.
pub fn send_signal(name: &str, pid: u32) {
    let sent = std::process::Command::new("kill")
        .args([format!("-{name}"), pid.to_string()])
        .status()
        .expect("run kill");
    assert!(sent.success(), "kill -{name} {pid}");
}

/// Runs `command` to its end: its exit code and peak resident memory in bytes (from
/// wait4, for that process alone). Linux counts in it the peak of the process that
/// started it (recorded at exec), so callers run in a process of their own, one that
/// holds little memory ([`in_own_process`]). The command must write little: its
/// output is not read.
pub fn peak_memory(command: TestCommand) -> (i32, u64) {
    let taskloom = command.spawn();
    let pid = taskloom.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is valid, and wait4 fills it for our own child.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(
        unsafe { libc::wait4(pid, &mut status, 0, &mut usage) },
        pid,
        "wait4"
    );
    let code = std::process::ExitStatus::from_raw(status)
        .code()
        .expect("exited");
    (code, usage.ru_maxrss as u64 * 1024)
}

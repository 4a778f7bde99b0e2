//! `taskloom run --executor processes`: the same results as threads, crash isolation,
//! retries, task timeouts, and no process left behind.

use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::marked_processes;

mod common;

/// Runs `taskloom run FILE ARGS --executor processes` with a marker in its environment
/// (inherited by its workers); returns (exit code, stdout, stderr) once every process
/// carrying the marker is gone, or fails if one outlives the run.
fn run_processes(source: &str, args: &[&str]) -> (i32, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.tl");
    let source = source.replace("{DIR}", &dir.path().display().to_string());
    std::fs::write(&file, source).unwrap();
    let mark = format!("run-{}-{}", std::process::id(), unique());
    let out = Command::cargo_bin("taskloom")
        .unwrap()
        .arg("run")
        .arg(&file)
        .args(args)
        .args(["--executor", "processes"])
        .env("TASKLOOM_TEST_MARK", &mark)
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    assert_no_process_left(&mark);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!stderr.contains("panicked"), "{stderr}");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).to_string(),
        stderr,
    )
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// Fails if any process still has `mark` in its environment.
fn assert_no_process_left(mark: &str) {
    assert_eq!(
        marked_processes(mark),
        Vec::<String>::new(),
        "processes left behind"
    );
}

/// Waits up to 10 s for `done`.
fn wait_for(done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(10) {
        if done() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    false
}

#[test]
fn killing_taskloom_mid_task_leaves_no_worker_behind() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("graph.tl");
    std::fs::write(
        &file,
        "slow = sleep(60000, 1)\nq = inc(1)\nout = list(slow, q)\n",
    )
    .unwrap();
    let mark = format!("kill-{}", std::process::id());
    let mut taskloom = std::process::Command::new(env!("CARGO_BIN_EXE_taskloom"))
        .arg("run")
        .arg(&file)
        .args(["--executor", "processes", "--workers", "2"])
        .env("TASKLOOM_TEST_MARK", &mark)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(
        wait_for(|| marked_processes(&mark).len() == 3),
        "taskloom and 2 workers start"
    );
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &taskloom.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    taskloom.wait().unwrap();
    assert!(
        wait_for(|| marked_processes(&mark).is_empty()),
        "workers outlived taskloom: {:?}",
        marked_processes(&mark)
    );
}

#[test]
fn results_match_the_thread_executor_on_every_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (example, key) in [
        ("lecture.tl", "y"),
        ("mapreduce.tl", "mean_square"),
        ("tree.json", "total"),
    ] {
        let source = std::fs::read_to_string(root.join("examples").join(example)).unwrap();
        let threads = Command::cargo_bin("taskloom")
            .unwrap()
            .args([
                "run",
                &root.join("examples").join(example).display().to_string(),
                "--get",
                key,
            ])
            .output()
            .unwrap();
        let (code, stdout, _) = run_processes(&source, &["--get", key, "--workers", "2"]);
        assert_eq!(code, 0, "{example}");
        assert_eq!(
            stdout,
            String::from_utf8_lossy(&threads.stdout),
            "{example}"
        );
    }
}

#[test]
fn a_crashing_task_fails_naming_its_key_and_the_signal() {
    let (code, stdout, stderr) = run_processes(
        "a = crash()\nb = inc(1)\nout = list(a, b)\n",
        &["--workers", "2"],
    );
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    assert!(stderr.contains("task 'a' failed"), "{stderr}");
    assert!(
        stderr.contains("worker died") && stderr.contains("SIGABRT"),
        "{stderr}"
    );
}

#[test]
fn a_crash_outside_the_requested_keys_does_not_matter() {
    let (code, stdout, _) = run_processes("a = crash()\nb = inc(1)\n", &["--get", "b"]);
    assert_eq!((code, stdout.as_str()), (0, "2\n"));
}

#[test]
fn a_task_whose_worker_dies_once_succeeds_on_retry() {
    // The first attempt kills its own worker; the marker makes the second one pass.
    let flaky = "a = list(shell(\"test -e {DIR}/m || { touch {DIR}/m; kill -ABRT $PPID; }\"), 1)\n\
                 b = inc(41)\nout = list(a, b)\n";
    let (code, stdout, stderr) = run_processes(flaky, &["--retries", "1", "--workers", "2"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(stdout, "{\"out\":[[\"\",1],42]}\n");
    let (code, _, stderr) = run_processes(flaky, &["--workers", "2"]);
    assert_eq!(code, 1);
    assert!(stderr.contains("SIGABRT"), "{stderr}");
}

#[test]
fn retries_do_not_hide_a_task_that_always_fails() {
    let (code, _, stderr) = run_processes("a = fail(\"boom\")\n", &["--retries", "2"]);
    assert_eq!(code, 1);
    assert!(
        stderr.contains("task 'a' failed in op 'fail': boom"),
        "{stderr}"
    );
}

#[test]
fn a_task_running_past_its_timeout_is_killed() {
    let started = Instant::now();
    let (code, _, stderr) = run_processes(
        "slow = sleep(30000, 1)\nquick = inc(1)\nout = list(slow, quick)\n",
        &["--task-timeout", "1s", "--workers", "2"],
    );
    assert_eq!(code, 1);
    assert!(
        stderr.contains("task 'slow' failed") && stderr.contains("task timeout"),
        "{stderr}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_malformed_task_timeout_is_a_usage_error() {
    let (code, _, stderr) = run_processes("a = 1\n", &["--task-timeout", "soon"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("soon"), "{stderr}");
}

#[test]
fn dependents_queued_behind_a_failed_task_run_again_after_its_retry() {
    // On one worker, `b` and `c` are queued behind `a` (pipelining); `a` fails once, so
    // they find no input and are skipped, then run after `a`'s retry succeeds.
    let flaky = "a = list(shell(\"test -e {DIR}/m || { touch {DIR}/m; exit 1; }\"), 1)\n\
                 b = inc(getitem(a, 1))\nc = inc(b)\n";
    let (code, stdout, stderr) =
        run_processes(flaky, &["--get", "c", "--retries", "1", "--workers", "1"]);
    assert_eq!((code, stdout.as_str()), (0, "3\n"), "{stderr}");
}

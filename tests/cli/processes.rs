//! `taskloom run --executor processes`: the same results as threads, crash isolation,
//! retries, task timeouts, and no process left behind.

use std::path::Path;
use std::time::{Duration, Instant};

use crate::harness::graph::GraphFile;
use crate::harness::process::{assert_none_left, marked_processes, unique_mark, wait_for, MARK};
use crate::harness::Dir;

/// Runs `taskloom run FILE ARGS --executor processes` with a marker in its environment
/// (inherited by its workers); returns (exit code, stdout, stderr) once every process
/// carrying the marker is gone, or fails if one outlives the run. `{DIR}` in `source`
/// stands for the file's directory.
fn run_processes(source: &str, args: &[&str]) -> (i32, String, String) {
    let mut file = GraphFile::named("graph.tl", "");
    file.write(&source.replace("{DIR}", &file.root().display().to_string()));
    let mark = unique_mark("run");
    let out = file
        .command(&["run", file.name()])
        .args(args)
        .args(&["--executor", "processes"])
        .env(MARK, &mark)
        .output();
    assert_none_left(&mark);
    assert!(!out.stderr.contains("panicked"), "{}", out.stderr);
    (out.code.unwrap_or(-1), out.stdout, out.stderr)
}

#[test]
fn killing_taskloom_mid_task_leaves_no_worker_behind() {
    let file = GraphFile::named(
        "graph.tl",
        "slow = sleep(60000, 1)\nq = inc(1)\nout = list(slow, q)\n",
    );
    let mark = unique_mark("kill");
    let taskloom = file
        .command(&[
            "run",
            file.name(),
            "--executor",
            "processes",
            "--workers",
            "2",
        ])
        .env(MARK, &mark)
        .spawn();
    assert!(
        wait_for(Duration::from_secs(10), || marked_processes(&mark).len()
            == 3),
        "taskloom and 2 workers start"
    );
    taskloom.signal("TERM");
    taskloom.wait();
    assert!(
        wait_for(Duration::from_secs(10), || marked_processes(&mark)
            .is_empty()),
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
        let path = root.join("examples").join(example);
        let source = std::fs::read_to_string(&path).unwrap();
        let threads = Dir::new().taskloom(&["run", &path.display().to_string(), "--get", key]);
        let (code, stdout, _) = run_processes(&source, &["--get", key, "--workers", "2"]);
        assert_eq!(code, 0, "{example}");
        assert_eq!(stdout, threads.stdout, "{example}");
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
fn a_crash_names_the_task_that_crashed_not_a_task_beside_it() {
    // `fine` shares a worker with `boom` (one worker), or runs beside it (two): either
    // way the error names `boom`, and `--retries` does not move the blame.
    let source = r#"{"boom": {"op": "crash"}, "fine": {"op": "sleep", "args": [300, 41]},
                     "after": {"op": "inc", "args": [{"ref": "fine"}]}}"#;
    for extra in [
        &["--workers", "2"][..],
        &["--workers", "2", "--retries", "2"],
        &["--workers", "1"],
        &["--workers", "1", "--retries", "1"],
    ] {
        let mut args = vec!["--get", "boom", "--get", "after"];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = run_processes(source, &args);
        assert_eq!((code, stdout.as_str()), (1, ""), "{extra:?}: {stderr}");
        assert!(
            stderr.contains("task 'boom' failed: its worker died (killed by SIGABRT)"),
            "{extra:?}: {stderr}"
        );
    }
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

//! `taskloom run` under every executor: `--retries` and `--task-timeout` mean the same
//! everywhere, and nothing a `shell()` task started outlives a timeout, a failure or a
//! terminating signal (checked through /proc: the command's marker reaches every
//! process it starts, workers and shell commands alike). A processes run spreads ready
//! tasks over idle workers, and its profile shows every worker.

use std::time::{Duration, Instant};

use crate::harness::graph::GraphFile;
use crate::harness::process::{assert_none_left, marked_processes, unique_mark, wait_for, MARK};
use crate::harness::Outcome;

const EXECUTORS: [&str; 3] = ["sync", "threads", "processes"];

/// Runs `taskloom run graph.tl ARGS` on `source` with a fresh marker; returns its
/// outcome and how long it took, once no marked process is left (or fails).
fn run(source: &str, args: &[&str]) -> (Outcome, Duration) {
    let file = GraphFile::named("graph.tl", source);
    let mark = unique_mark("limits");
    let started = Instant::now();
    let out = file
        .command(&["run", file.name()])
        .args(args)
        .env(MARK, &mark)
        .output();
    let took = started.elapsed();
    assert_none_left(&mark);
    out.assert_no_panic();
    (out, took)
}

/// How many `sleep` commands of the run marked `mark` are running.
fn sleeps(mark: &str) -> usize {
    marked_processes(mark)
        .iter()
        .filter(|pid| {
            std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with(b"sleep\0"))
        })
        .count()
}

#[test]
fn a_task_timeout_ends_a_shell_task_under_every_executor() {
    for executor in EXECUTORS {
        let (out, took) = run(
            "a = shell(\"sleep 45\")\nb = inc(1)\nout = list(a, b)\n",
            &[
                "--executor",
                executor,
                "--workers",
                "2",
                "--task-timeout",
                "1s",
            ],
        );
        let error = out.error(1);
        assert!(
            error.contains("task 'a' failed: it ran longer than the task timeout (1s)"),
            "{executor}: {error}"
        );
        assert!(took < Duration::from_secs(15), "{executor}: took {took:?}");
    }
}

#[test]
fn a_zero_task_timeout_is_refused() {
    for executor in EXECUTORS {
        let (out, _) = run("a = 1\n", &["--executor", executor, "--task-timeout", "0"]);
        assert_eq!(out.exit_code(), 2, "{executor}");
        assert!(
            out.stderr.contains("more than 0"),
            "{executor}: {}",
            out.stderr
        );
    }
}

#[test]
fn retries_rerun_a_flaky_task_under_every_executor() {
    for executor in EXECUTORS {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        let source = format!(
            "a = shell(\"test -e {m} || {{ touch {m}; exit 1; }}; echo ok\")\n",
            m = m.display()
        );
        let args = ["--executor", executor, "--get", "a"];
        let (out, _) = run(&source, &[&args[..], &["--retries", "1"]].concat());
        assert_eq!(out.ok(), "\"ok\"\n", "{executor}");
        std::fs::remove_file(&m).unwrap();
        let (out, _) = run(&source, &args);
        out.error(1);
    }
}

#[test]
fn a_failure_ends_a_shell_task_running_on_another_worker() {
    for executor in ["threads", "processes"] {
        let (out, took) = run(
            "a = shell(\"sleep 45\")\nb = list(sleep(300), fail(\"x\"))\nout = list(a, b)\n",
            &["--executor", executor, "--workers", "2"],
        );
        let error = out.error(1);
        assert!(
            error.contains("task 'b' failed in op 'fail': x"),
            "{executor}: {error}"
        );
        assert!(took < Duration::from_secs(15), "{executor}: took {took:?}");
    }
}

#[test]
fn a_terminating_signal_ends_the_run_and_its_shell_tasks() {
    for (signal, code) in [("HUP", 129), ("INT", 130), ("QUIT", 131), ("TERM", 143)] {
        for executor in EXECUTORS {
            let file = GraphFile::named(
                "graph.tl",
                "a = shell(\"sleep 45\")\nb = sleep(45000)\nout = list(a, b)\n",
            );
            let mark = unique_mark("signal");
            let taskloom = file
                .command(&["run", file.name(), "--executor", executor, "--workers", "2"])
                .env(MARK, &mark)
                .spawn();
            // The shell command is up: `sh` and `sleep`, besides taskloom (and workers).
            let sleeping = || sleeps(&mark) > 0;
            assert!(wait_for(Duration::from_secs(10), sleeping), "{executor}");
            let sent = Instant::now();
            taskloom.signal(signal);
            let out = taskloom.wait();
            assert!(sent.elapsed() < Duration::from_secs(10), "{executor}");
            let error = out.error(code);
            assert!(
                error.contains(&format!("stopped by SIG{signal}")),
                "{executor}: {error}"
            );
            assert_none_left(&mark);
        }
    }
}

#[test]
fn a_processes_run_killed_outright_leaves_no_shell_command() {
    let file = GraphFile::named(
        "graph.tl",
        "a = shell(\"sleep 45\")\nb = shell(\"sleep 46\")\nout = list(a, b)\n",
    );
    let mark = unique_mark("killed");
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
    assert!(wait_for(Duration::from_secs(10), || sleeps(&mark) == 2));
    // SIGKILL cannot be caught: the workers learn of it from their parent's death.
    taskloom.signal("KILL");
    taskloom.wait();
    assert_none_left(&mark);
}

#[test]
fn a_processes_run_gives_each_idle_worker_a_task_first() {
    let source: String = (0..10)
        .map(|i| format!("s{i} = sleep(200, {i})\n"))
        .collect();
    let file = GraphFile::named("graph.tl", &source);
    let out = file
        .command(&["run", file.name()])
        .args(&["--executor", "processes", "--workers", "2"])
        .args(&["--trace", "trace.json"])
        .output();
    out.ok();
    let trace: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(file.path("trace.json")).unwrap()).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    assert_eq!(events.len(), 10);
    for worker in 0..2 {
        let ran = events.iter().filter(|e| e["tid"] == worker).count();
        assert_eq!(ran, 5, "worker {worker} ran {ran} of 10");
    }
}

#[test]
fn a_profile_shows_the_workers_that_ran_nothing() {
    for executor in ["threads", "processes"] {
        let file = GraphFile::named("graph.tl", "a = inc(1)\n");
        let out = file
            .command(&["run", file.name()])
            .args(&["--executor", executor, "--workers", "3"])
            .args(&["--profile", "profile.html"])
            .output();
        out.ok();
        let html = std::fs::read_to_string(file.path("profile.html")).unwrap();
        for worker in 0..3 {
            assert!(
                html.contains(&format!("worker {worker} utilisation")),
                "{executor}: no lane for worker {worker}"
            );
        }
    }
}

//! Retries, task timeouts and stop requests work under every executor, and a run that
//! ends early (a failure, a timeout, a stop) leaves no shell command behind.
//!
//! Shell commands here start `sleep` through `env MARK=...`, so that the processes a
//! case started are found through /proc by that marker; each case checks that none is
//! left.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use taskloom_exec::{Executor, Limits, Observers, RunError, Sequential, Stop, Threads};
use taskloom_graph::{parse, validate, OpError, Registry, Value};
use taskloom_sched::Plan;

use crate::processes::processes;

/// The variable whose value marks the processes of one case.
const MARK: &str = "TASKLOOM_EXEC_TEST_MARK";

/// A marker no other case uses.
fn unique_mark(label: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{label}-{}-{n}", std::process::id())
}

/// The live processes (not zombies) whose environment holds `mark`.
fn marked(mark: &str) -> Vec<u32> {
    let needle = format!("{MARK}={mark}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| {
            let env = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
            let zombie = stat
                .rsplit_once(')')
                .is_some_and(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']));
            !zombie && env.split(|&b| b == 0).any(|v| v == needle.as_bytes())
        })
        .collect()
}

/// Waits up to `limit` for `done`.
fn wait_for(limit: Duration, done: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !done() {
        if start.elapsed() > limit {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    true
}

/// Fails if a process marked `mark` is still there a moment after the run.
fn assert_none_left(mark: &str) {
    wait_for(Duration::from_secs(1), || marked(mark).is_empty());
    assert_eq!(marked(mark), Vec::<u32>::new(), "processes left behind");
}

/// A shell command, for the graph text, that runs `sleep SECONDS` in the background
/// and waits for it: the group has two processes, the marked one not its leader.
fn marked_sleep(mark: &str, seconds: u32) -> String {
    format!("shell(\"env {MARK}={mark} sleep {seconds} & wait\")")
}

/// A plan of `src` for `targets` over `registry`.
fn plan_with(registry: &Registry, src: &str, targets: &[&str]) -> Arc<Plan> {
    let graph = parse(src).unwrap();
    let ops = validate(&graph, registry).unwrap();
    let targets = targets.iter().map(|t| graph.key(t).unwrap()).collect();
    Arc::new(Plan::new(Arc::new(graph), ops, targets))
}

fn plan(src: &str, targets: &[&str]) -> Arc<Plan> {
    plan_with(&Registry::builtins(), src, targets)
}

/// The executors that run tasks in this process.
const IN_PROCESS: [&str; 2] = ["sync", "threads"];
/// Every executor (the process workers know the builtin ops only).
const EVERY: [&str; 3] = ["sync", "threads", "processes"];

/// The executor `name` (two workers where it has workers) under `limits`.
fn executor(name: &str, limits: &Limits) -> Box<dyn Executor> {
    let limits = limits.clone();
    match name {
        "sync" => Box::new(Sequential::default().limited(limits)),
        "threads" => Box::new(Threads::new(2).limited(limits)),
        _ => Box::new(processes(2).limited(limits)),
    }
}

fn retrying(retries: u32) -> Limits {
    Limits {
        retries,
        ..Limits::default()
    }
}

/// Builtins and `flaky`, which fails the first `failures` times it is called.
fn flaky_registry(failures: u32) -> Registry {
    let calls = AtomicU32::new(0);
    let mut registry = Registry::builtins();
    registry.register("flaky", move |_| {
        if calls.fetch_add(1, Ordering::Relaxed) < failures {
            Err(OpError::new("not yet"))
        } else {
            Ok(Value::Int(7))
        }
    });
    registry
}

#[test]
fn a_flaky_task_succeeds_within_its_retries_in_process() {
    for name in IN_PROCESS {
        let run = |retries: u32| {
            let registry = flaky_registry(2);
            let plan = plan_with(&registry, "a = flaky()\nb = inc(a)\n", &["b"]);
            executor(name, &retrying(retries)).run(plan)
        };
        assert_eq!(run(2), Ok(vec![Value::Int(8)]), "{name}");
        let error = run(1).unwrap_err().to_string();
        assert_eq!(error, "task 'a' failed in op 'flaky': not yet", "{name}");
    }
}

#[test]
fn a_flaky_shell_task_succeeds_on_retry_under_every_executor() {
    for name in EVERY {
        let dir = tempfile::tempdir().unwrap();
        let m = dir.path().join("m");
        let src = format!(
            "a = shell(\"test -e {m} || {{ touch {m}; exit 1; }}; echo ok\")\n",
            m = m.display()
        );
        let out = executor(name, &retrying(1)).run(plan(&src, &["a"]));
        assert_eq!(out, Ok(vec![Value::str("ok")]), "{name}");
    }
}

#[test]
fn a_task_past_its_timeout_fails_the_run_at_once_and_its_command_ends() {
    let limits = Limits {
        task_timeout: Some(Duration::from_millis(300)),
        ..Limits::default()
    };
    for name in EVERY {
        let mark = unique_mark("timeout");
        let src = format!("a = {}\nb = inc(1)\n", marked_sleep(&mark, 45));
        let started = Instant::now();
        let error = executor(name, &limits)
            .run(plan(&src, &["a", "b"]))
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: no prompt end"
        );
        let text = error.to_string();
        assert!(
            text.starts_with("task 'a' failed: it ran longer than the task timeout (300ms)"),
            "{name}: {text}"
        );
        assert_none_left(&mark);
    }
}

#[test]
fn an_op_that_cannot_be_interrupted_still_times_out_promptly_in_process() {
    // `sleep` is Rust, not a command: its thread goes on, the run does not wait for it.
    let limits = Limits {
        task_timeout: Some(Duration::from_millis(200)),
        ..Limits::default()
    };
    for name in IN_PROCESS {
        let started = Instant::now();
        let error = executor(name, &limits)
            .run(plan("a = sleep(20000)\n", &["a"]))
            .unwrap_err();
        assert!(started.elapsed() < Duration::from_secs(5), "{name}");
        assert!(
            matches!(error, RunError::TimedOut { .. }),
            "{name}: {error}"
        );
    }
}

#[test]
fn a_failure_ends_the_shell_commands_still_running() {
    // Under sync no task runs beside another: nothing runs while one fails.
    for name in ["threads", "processes"] {
        let mark = unique_mark("failure");
        // `b` fails after a moment, while `a` runs on the other worker.
        let src = format!(
            "a = {}\nb = list(sleep(200), fail(\"boom\"))\n",
            marked_sleep(&mark, 45)
        );
        let started = Instant::now();
        let error = executor(name, &Limits::default())
            .run(plan(&src, &["a", "b"]))
            .unwrap_err();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: no prompt end"
        );
        assert_eq!(
            error.to_string(),
            "task 'b' failed in op 'fail': boom",
            "{name}"
        );
        assert_none_left(&mark);
    }
}

#[test]
fn a_worker_reports_a_failure_before_it_goes_on_to_a_long_task() {
    // One worker is given both tasks and runs `a` first: its failure must not wait
    // behind `z`, which the run then ends.
    let mark = unique_mark("same-worker");
    let src = format!("a = fail(\"boom\")\nz = {}\n", marked_sleep(&mark, 45));
    let started = Instant::now();
    let error = processes(1).run(plan(&src, &["a", "z"])).unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(10), "no prompt end");
    assert_eq!(error.to_string(), "task 'a' failed in op 'fail': boom");
    assert_none_left(&mark);
}

#[test]
fn a_stop_request_ends_the_run_and_its_commands() {
    for name in EVERY {
        let mark = unique_mark("stop");
        let stop = Stop::new();
        let limits = Limits {
            stop: Some(stop.clone()),
            ..Limits::default()
        };
        let src = format!("a = {}\nb = sleep(30000)\n", marked_sleep(&mark, 45));
        let requester = std::thread::spawn({
            let mark = mark.clone();
            move || {
                wait_for(Duration::from_secs(10), || !marked(&mark).is_empty());
                stop.request(15);
            }
        });
        let started = Instant::now();
        let error = executor(name, &limits)
            .run(plan(&src, &["a", "b"]))
            .unwrap_err();
        requester.join().unwrap();
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: no prompt end"
        );
        assert_eq!(error, RunError::Stopped { signal: 15 }, "{name}");
        assert_eq!(error.to_string(), "stopped by SIGTERM");
        assert_none_left(&mark);
    }
}

#[test]
fn a_trace_counts_the_workers_that_ran_nothing() {
    for workers in [1, 3] {
        let trace = taskloom_exec::Trace::new();
        let observers = Observers {
            trace: Some(trace.clone()),
            ..Observers::default()
        };
        let executors: Vec<Box<dyn Executor>> = vec![
            Box::new(Threads::new(workers).observed(observers.clone())),
            Box::new(processes(workers).observed(observers.clone())),
        ];
        for executor in executors {
            executor.run(plan("a = inc(1)\n", &["a"])).unwrap();
        }
        assert_eq!(trace.take_spans().len(), 2);
        assert_eq!(trace.workers(), workers);
    }
    let trace = taskloom_exec::Trace::new();
    let observers = Observers {
        trace: Some(trace.clone()),
        ..Observers::default()
    };
    Sequential::default()
        .observed(observers)
        .run(plan("a = inc(1)\n", &["a"]))
        .unwrap();
    assert_eq!(trace.workers(), 1);
}

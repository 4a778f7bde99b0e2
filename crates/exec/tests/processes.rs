//! The process executor through the library: data stays where it was made.

use std::sync::Arc;

use taskloom_exec::{Executor, Limits, Processes};
use taskloom_graph::{parse, validate, Registry, Value};
use taskloom_sched::Plan;

/// The `taskloom` binary serves as the worker: it is built with the workspace.
pub(crate) fn processes(workers: usize) -> Processes {
    let exe = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target");
    let profile = if cfg!(debug_assertions) {
        "debug"
    } else {
        "release"
    };
    let bin = std::env::var("CARGO_TARGET_DIR")
        .map(|d| std::path::PathBuf::from(d).join(profile).join("taskloom"))
        .unwrap_or_else(|_| exe.join(profile).join("taskloom"));
    Processes::new(workers).executable(bin)
}

fn run(executor: &Processes, src: &str, target: &str) -> Value {
    let graph = parse(src).unwrap();
    let ops = validate(&graph, &Registry::builtins()).unwrap();
    let t = graph.key(target).unwrap();
    let plan = Arc::new(Plan::new(Arc::new(graph), ops, vec![t]));
    executor.run(plan).unwrap().pop().unwrap()
}

#[test]
fn a_chain_never_leaves_its_worker() {
    let mut src = String::from("c0 = range(1000)\n");
    for i in 1..200 {
        src.push_str(&format!("c{i} = identity(c{})\n", i - 1));
    }
    let executor = processes(2);
    let v = run(&executor, &src, "c199");
    assert!(matches!(v, Value::List(ref items) if items.len() == 1000));
    assert_eq!(executor.bytes_moved(), 0);
}

#[test]
fn a_reduction_moves_only_what_its_worker_lacks() {
    let mut src = String::new();
    for i in 0..64 {
        src.push_str(&format!("x{i} = inc({i})\n"));
    }
    let all: Vec<String> = (0..64).map(|i| format!("x{i}")).collect();
    src.push_str(&format!("total = sum([{}])\n", all.join(", ")));
    let executor = processes(2);
    assert_eq!(run(&executor, &src, "total"), Value::Int((1..=64).sum()));
    let moved = executor.bytes_moved();
    assert!(moved > 0, "the other worker's results had to move");
    assert!(moved < 64 * 64, "moved {moved} bytes for 64 small ints");
}

#[test]
fn a_worker_that_writes_garbage_fails_the_run_at_once_and_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("fake-worker");
    let pid_file = dir.path().join("pid");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\necho $$ > {}\nprintf 'garbage!'\nexec sleep 30\n",
            pid_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let graph = parse("a = inc(1)\n").unwrap();
    let ops = validate(&graph, &Registry::builtins()).unwrap();
    let a = graph.key("a").unwrap();
    let plan = Arc::new(Plan::new(Arc::new(graph), ops, vec![a]));
    let started = std::time::Instant::now();
    let err = Processes::new(1).executable(&fake).run(plan).unwrap_err();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "no hang"
    );
    assert!(err.to_string().contains("unreadable message"), "{err}");
    let pid = std::fs::read_to_string(&pid_file)
        .unwrap()
        .trim()
        .to_string();
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists(),
        "the fake worker was killed and reaped"
    );
}

/// A plan of `src` for `targets`.
fn plan(src: &str, targets: &[&str]) -> Arc<Plan> {
    let graph = parse(src).unwrap();
    let ops = validate(&graph, &Registry::builtins()).unwrap();
    let targets = targets.iter().map(|t| graph.key(t).unwrap()).collect();
    Arc::new(Plan::new(Arc::new(graph), ops, targets))
}

#[test]
fn a_crash_is_blamed_on_the_task_that_crashes_not_on_its_neighbours() {
    // On one worker all three share a process when `boom` kills it; on two, `boom` is
    // alone. Either way the error names `boom`, with or without retries.
    let src = "boom = crash()\nfine = sleep(300, 41)\nafter = inc(fine)\n";
    for (workers, retries) in [(1, 0), (1, 2), (2, 0), (2, 2)] {
        let executor = processes(workers).limited(Limits {
            retries,
            ..Limits::default()
        });
        let err = executor
            .run(plan(src, &["boom", "after"]))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("task 'boom' failed: its worker died (killed by SIGABRT)"),
            "{workers} workers, {retries} retries: {err}"
        );
    }
}

#[test]
fn bystanders_of_a_crash_run_again_and_use_up_no_retry() {
    // `flaky` kills its worker the first time it runs, while `a` and `b` are queued on
    // the same worker. Nobody is charged: each runs again alone, and all succeed, with
    // no retries allowed.
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("ran-once");
    let src = format!(
        "a = sleep(50, 1)\nflaky = shell(\"if [ -e {m} ]; then echo 2; else touch {m}; kill -KILL $PPID; fi\")\n\
         b = sleep(50, 3)\nout = list(a, flaky, b)\n",
        m = marker.display()
    );
    let executor = processes(1);
    let out = executor.run(plan(&src, &["out"])).unwrap().pop().unwrap();
    assert_eq!(out.to_json(), r#"[1,"2",3]"#);
    assert!(marker.exists(), "flaky did kill its first worker");
}

#[test]
fn ready_tasks_spread_over_every_worker() {
    let src: String = (0..10)
        .map(|i| format!("s{i} = sleep(50, {i})\n"))
        .collect();
    let keys: Vec<String> = (0..10).map(|i| format!("s{i}")).collect();
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let trace = taskloom_exec::Trace::new();
    let observers = taskloom_exec::Observers {
        trace: Some(trace.clone()),
        ..Default::default()
    };
    let executor = processes(2).observed(observers);
    executor.run(plan(&src, &keys)).unwrap();
    let spans = trace.take_spans();
    for worker in 0..2 {
        let ran = spans.iter().filter(|s| s.worker == worker).count();
        assert_eq!(ran, 5, "worker {worker} ran {ran} of 10: {spans:?}");
    }
}

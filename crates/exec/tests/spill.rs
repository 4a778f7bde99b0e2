//! Under a memory limit the thread pool writes results past it to scratch files and
//! reads them back: the same values as without a limit, and no scratch left after a
//! success, a failed task or a stop.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use taskloom_exec::{Executor, Limits, MemoryLimit, RunError, Stop, Threads};
use taskloom_graph::{parse, validate, Registry};
use taskloom_sched::Plan;

/// Eight lists of 10,000 ints (about 240 kB held each), each summed, and one of them
/// also kept whole; `tail` is more graph text.
fn big_lists(tail: &str) -> String {
    let mut src = String::new();
    for i in 0..8 {
        src.push_str(&format!("a{i} = range({}, {})\n", i * 10, i * 10 + 10_000));
        src.push_str(&format!("s{i} = sum(a{i})\n"));
    }
    src.push_str("sums = list(s0, s1, s2, s3, s4, s5, s6, s7)\n");
    src.push_str("both = list(sum(sums), len(concat(list(a0, a7))))\n");
    src.push_str(tail);
    src
}

fn plan(src: &str, targets: &[&str]) -> Arc<Plan> {
    let graph = parse(src).unwrap();
    let ops = validate(&graph, &Registry::builtins()).unwrap();
    let targets = targets.iter().map(|t| graph.key(t).unwrap()).collect();
    Arc::new(Plan::new(Arc::new(graph), ops, targets))
}

/// The entries of `dir`: what a run left behind.
fn left_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn results_past_the_limit_are_written_out_and_read_back_unchanged() {
    let src = big_lists("");
    let targets = ["both", "a3"];
    let unlimited = Threads::new(2).run(plan(&src, &targets)).unwrap();
    let scratch = tempfile::tempdir().unwrap();
    let limit = MemoryLimit::new(100_000).scratch_in(scratch.path().to_path_buf());
    let counts = limit.counts().clone();
    let limited = Threads::new(2)
        .memory_limit(limit)
        .run(plan(&src, &targets))
        .unwrap();
    assert_eq!(limited, unlimited);
    assert!(counts.spilled() > 0, "nothing was written out");
    assert!(counts.read_back() > 0, "nothing was read back");
    // `a3` is a target: it stays in memory whatever the limit, past it.
    assert!(
        counts.over_limit() > 0,
        "a target over the limit went unreported"
    );
    assert_eq!(left_in(scratch.path()), Vec::<String>::new());
}

#[test]
fn a_limit_that_holds_everything_writes_nothing() {
    let src = big_lists("");
    let limit = MemoryLimit::new(1 << 30);
    let counts = limit.counts().clone();
    let values = Threads::new(2)
        .memory_limit(limit)
        .run(plan(&src, &["both"]))
        .unwrap();
    assert_eq!(values, Threads::new(2).run(plan(&src, &["both"])).unwrap());
    assert_eq!((counts.spilled(), counts.read_back()), (0, 0));
    assert_eq!(counts.over_limit(), 0);
}

#[test]
fn a_failed_run_leaves_no_scratch() {
    // `late` fails after the lists were written out.
    let src = big_lists("late = fail(sleep(200, \"boom\"))\nall = list(both, late)\n");
    let scratch = tempfile::tempdir().unwrap();
    let limit = MemoryLimit::new(100_000).scratch_in(scratch.path().to_path_buf());
    let counts = limit.counts().clone();
    let error = Threads::new(2)
        .memory_limit(limit)
        .run(plan(&src, &["all"]))
        .unwrap_err();
    assert_eq!(error.to_string(), "task 'late' failed in op 'fail': boom");
    assert!(
        counts.spilled() > 0,
        "nothing was written out before the failure"
    );
    assert_eq!(left_in(scratch.path()), Vec::<String>::new());
}

#[test]
fn a_stopped_run_leaves_no_scratch() {
    let src = big_lists("late = sleep(10000, 1)\nall = list(both, a1, late)\n");
    let scratch = tempfile::tempdir().unwrap();
    let limit = MemoryLimit::new(100_000).scratch_in(scratch.path().to_path_buf());
    let counts = limit.counts().clone();
    let stop = Stop::new();
    let limits = Limits {
        stop: Some(stop.clone()),
        ..Limits::default()
    };
    let parent = scratch.path().to_path_buf();
    let requester = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        // While the run lasts: one directory, for this user only.
        let modes: Vec<u32> = std::fs::read_dir(&parent)
            .unwrap()
            .map(|e| e.unwrap().metadata().unwrap().permissions().mode() & 0o777)
            .collect();
        stop.request(libc::SIGINT);
        modes
    });
    let result = Threads::new(2)
        .memory_limit(limit)
        .limited(limits)
        .run(plan(&src, &["all"]));
    assert_eq!(requester.join().unwrap(), vec![0o700]);
    assert_eq!(
        result,
        Err(RunError::Stopped {
            signal: libc::SIGINT
        })
    );
    assert!(
        counts.spilled() > 0,
        "nothing was written out before the stop"
    );
    assert_eq!(left_in(scratch.path()), Vec::<String>::new());
}

#[test]
fn a_scratch_directory_that_cannot_be_made_is_a_clear_error() {
    let limit = MemoryLimit::new(1).scratch_in("/nonexistent/taskloom".into());
    let error = Threads::new(1)
        .memory_limit(limit)
        .run(plan("a = range(10)\n", &["a"]))
        .unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("cannot create a scratch directory for results past the memory limit"),
        "{error}"
    );
}

//! Progress bars go to stderr, only when asked for (or when stderr is a terminal), and
//! never change stdout.

use crate::harness::graph::GraphFile;

/// Runs a graph of 8 tasks of 30 ms each and a sum (9 tasks).
fn run(args: &[&str]) -> (String, String, i32) {
    let cells: Vec<String> = (0..8).map(|i| format!("c{i}")).collect();
    let mut text: String = (0..8).map(|i| format!("c{i} = busy(30, {i})\n")).collect();
    text.push_str(&format!("total = sum([{}])\n", cells.join(", ")));
    let all: Vec<&str> = ["--get", "total"].iter().chain(args).copied().collect();
    let out = GraphFile::named("graph.tl", &text).run(&all);
    (out.stdout, out.stderr, out.code.unwrap_or(-1))
}

#[test]
fn progress_draws_a_task_bar_on_stderr_for_every_executor() {
    for executor in ["sync", "threads", "processes"] {
        let (stdout, stderr, code) = run(&["--progress", "--executor", executor]);
        assert_eq!((stdout.as_str(), code), ("28\n", 0), "{executor}");
        assert!(stderr.contains("/9 tasks"), "{executor}: {stderr:?}");
    }
}

#[test]
fn no_bar_when_stderr_is_not_a_terminal_or_when_refused() {
    for args in [&[][..], &["--no-progress"][..]] {
        let (stdout, stderr, code) = run(args);
        assert_eq!((stdout.as_str(), stderr.as_str(), code), ("28\n", "", 0));
    }
}

#[test]
fn the_last_of_progress_and_no_progress_wins() {
    let (_, stderr, code) = run(&["--progress", "--no-progress"]);
    assert_eq!((stderr.as_str(), code), ("", 0));
    let (_, stderr, code) = run(&["--no-progress", "--progress"]);
    assert_eq!(code, 0);
    assert!(stderr.contains("/9 tasks"), "{stderr:?}");
}

//! `taskloom simulate`, end to end: makespans, bounds, memory and transfers worked out
//! by hand, in the table and in JSON, and bad input (exit 2 naming the option).

use crate::harness::graph::GraphFile;
use crate::harness::{assert_contains_all, Outcome};
use serde_json::Value;

/// 1 ms, then four 2 ms tasks, then a 1 ms join: 10 ms on one worker, 6 ms on two.
const FORK_JOIN: &str = "s = busy(1)\nf1 = busy(2, s)\nf2 = busy(2, s)\nf3 = busy(2, s)\n\
                         f4 = busy(2, s)\nj = busy(1, [f1, f2, f3, f4])\n";

fn simulate(graph: &GraphFile, args: &[&str]) -> Outcome {
    let mut all = vec!["simulate", graph.name()];
    all.extend_from_slice(args);
    graph.invoke(&all)
}

fn policy<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["policies"]
        .as_array()
        .expect("a list of policies")
        .iter()
        .find(|p| p["policy"] == name)
        .unwrap_or_else(|| panic!("no {name} in {report}"))
}

#[test]
fn the_table_shows_bounds_makespan_ratio_and_memory() {
    let g = GraphFile::text(FORK_JOIN);
    let stdout = simulate(&g, &["--workers", "2", "--policy", "default"])
        .ok()
        .to_string();
    assert_contains_all(
        &stdout,
        &[
            "graph.txt: 6 tasks on 2 workers; lower bound 5.0 ms = max(critical path 4.0 ms, \
             work 10.0 ms / 2)\n",
            "policy",
            "makespan",
            "peak memory",
        ],
    );
    let row = stdout
        .lines()
        .find(|l| l.starts_with("default"))
        .expect("a default row");
    let cells: Vec<&str> = row.split_whitespace().collect();
    assert_eq!(cells, ["default", "6.0", "ms", "1.200", "5"]);
    assert!(
        !stdout.contains("transfers"),
        "no --transfer-ms, no column: {stdout}"
    );
}

#[test]
fn every_policy_by_default_and_with_all() {
    let g = GraphFile::text(FORK_JOIN);
    let names = ["default", "fifo", "random", "critical-path", "depth-first"];
    for args in [
        &["--workers", "1"][..],
        &["--workers", "1", "--policy", "all", "--policy", "fifo"],
    ] {
        let stdout = simulate(&g, args).ok().to_string();
        let rows: Vec<&str> = stdout
            .lines()
            .skip(2)
            .map(|l| l.split_whitespace().next().unwrap())
            .collect();
        assert_eq!(rows, names, "each policy once, in order: {stdout}");
        // One worker is never idle: every policy takes the whole 10 ms of work.
        for line in stdout.lines().skip(2) {
            assert!(
                line.contains(" 10.0 ms ") && line.contains(" 1.000 "),
                "{line}"
            );
        }
    }
}

#[test]
fn json_reports_every_number_unrounded() {
    let g = GraphFile::text(FORK_JOIN);
    let report = simulate(&g, &["--workers", "2", "--policy", "fifo", "--json"]).json();
    assert_eq!(report["tasks"], 6);
    assert_eq!(report["workers"], 2);
    assert_eq!(report["critical_path_ms"], 4.0);
    assert_eq!(report["work_ms"], 10.0);
    assert_eq!(report["lower_bound_ms"], 5.0);
    let fifo = policy(&report, "fifo");
    assert_eq!(fifo["makespan_ms"], 6.0);
    assert_eq!(fifo["ratio"], 1.2);
    assert_eq!(fifo["peak_memory"], 5);
    assert_eq!(fifo["completed"], 6);
    assert_eq!(report["policies"].as_array().unwrap().len(), 1);
}

#[test]
fn transfers_cost_time_on_a_diamond() {
    // a, then b beside it and c on the other worker after receiving a (1 ms), then d
    // beside b after receiving c: 1 + 2 + 2 = 5 ms, 2 transfers.
    let g = GraphFile::text("a = busy(1)\nb = busy(1, a)\nc = busy(1, a)\nd = busy(1, [b, c])\n");
    let args = [
        "--workers",
        "2",
        "--policy",
        "default",
        "--transfer-ms",
        "1",
    ];
    let stdout = simulate(&g, &args).ok().to_string();
    assert!(
        stdout.lines().nth(1).unwrap().ends_with("transfers"),
        "{stdout}"
    );
    let row: Vec<&str> = stdout.lines().nth(2).unwrap().split_whitespace().collect();
    assert_eq!(row, ["default", "5.0", "ms", "1.667", "3", "2"]);
}

#[test]
fn the_driver_can_cost_time_per_decision_and_per_message() {
    // One task per worker at a time, so each task of a chain waits for the driver to
    // hear of the previous one. a: decided at 0.5 ms, on its worker at 1.5, ends at 2.5,
    // heard at 3.5; b: decided at 4, there at 5, ends at 7, heard at 8; c: decided at
    // 8.5, there at 9.5, ends at 11.5, heard at 12.5.
    let g = GraphFile::text("a = busy(1)\nb = busy(2, a)\nc = busy(2, b)\n");
    let costs = ["--decision-ms", "0.5", "--latency-ms", "1"];
    let mut args = vec!["--workers", "2", "--policy", "default", "--json"];
    args.extend(costs);
    let report = simulate(&g, &args).json();
    assert_eq!(report["decision_ms"], 0.5);
    assert_eq!(report["latency_ms"], 1.0);
    assert_eq!(policy(&report, "default")["makespan_ms"], 12.5);
    let mut args = vec!["--workers", "2", "--policy", "default"];
    args.extend(costs);
    let stdout = simulate(&g, &args).ok().to_string();
    assert!(
        stdout
            .lines()
            .next()
            .unwrap()
            .ends_with("; driver 0.5 ms per task, latency 1 ms"),
        "{stdout}"
    );
}

#[test]
fn durations_and_sizes_can_be_set() {
    let g = GraphFile::text("a = inc(1)\nb = inc(a)\nc = add(a, b)\n");
    let report = simulate(
        &g,
        &[
            "--workers",
            "1",
            "--duration-ms",
            "2.5",
            "--size-of",
            "inc=10",
            "--json",
        ],
    )
    .json();
    assert_eq!(report["work_ms"], 7.5);
    // c ends holding a, b (10 units each) and itself (1).
    assert_eq!(policy(&report, "default")["peak_memory"], 21);
}

#[test]
fn random_is_repeatable_with_its_seed() {
    let mut src = String::new();
    for i in 0..40 {
        src.push_str(&format!("x{i} = busy({})\n", 1 + i % 7));
    }
    let all: Vec<String> = (0..40).map(|i| format!("x{i}")).collect();
    src.push_str(&format!("out = busy(1, [{}])\n", all.join(", ")));
    let g = GraphFile::text(&src);
    let args = [
        "--workers",
        "3",
        "--policy",
        "random",
        "--seed",
        "9",
        "--json",
    ];
    assert_eq!(simulate(&g, &args).ok(), simulate(&g, &args).ok());
}

#[test]
fn bad_arguments_exit_2_naming_the_option() {
    let g = GraphFile::text(FORK_JOIN);
    let cases: [(&[&str], &str); 9] = [
        (&["--workers", "0"], "--workers"),
        (&["--workers", "two"], "--workers"),
        (&[], "--workers"),
        (
            &["--workers", "2", "--policy", "lifo"],
            "unknown policy 'lifo'",
        ),
        (&["--workers", "2", "--duration-ms=-1"], "--duration-ms"),
        (&["--workers", "2", "--transfer-ms", "nan"], "--transfer-ms"),
        (&["--workers", "2", "--size-of", "inc"], "--size-of"),
        (
            &["--workers", "2", "--decision-ms", "fast"],
            "--decision-ms",
        ),
        (&["--workers", "2", "--latency-ms=-0.1"], "--latency-ms"),
    ];
    for (args, needle) in cases {
        let run = simulate(&g, args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(run.stdout, "", "{args:?}");
        run.assert_no_panic();
        assert!(run.stderr.contains(needle), "{args:?}: {}", run.stderr);
    }
}

#[test]
fn graph_errors_name_the_file_and_exit_2() {
    let g = GraphFile::text("a = nosuchop(1)\n");
    assert!(simulate(&g, &["--workers", "2"])
        .error(2)
        .contains("nosuchop"));
    let missing = g.invoke(&["simulate", "nothing.tl", "--workers", "2"]);
    assert!(missing.error(2).contains("cannot read nothing.tl"));
    let unknown = simulate(
        &GraphFile::text(FORK_JOIN),
        &["--workers", "2", "--get", "zz"],
    );
    assert!(unknown.error(2).contains("zz"));
}

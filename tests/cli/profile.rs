//! `run --trace` and `run --profile`: when and where each task ran, as a Chrome trace
//! and as a self-contained HTML page, on every executor.

use crate::harness::graph::GraphFile;

/// 4 independent tasks of 40 ms of CPU and their sum, on 2 workers.
const GRAPH: &str = "a = busy(40, 1)\nb = busy(40, 2)\nc = busy(40, 3)\nd = busy(40, 4)\ntotal = sum([a, b, c, d])\n";

fn run_traced(executor: &str) -> (serde_json::Value, String) {
    let graph = GraphFile::named("g.tl", GRAPH);
    let out = graph.run(&[
        "--get",
        "total",
        "--workers",
        "2",
        "--executor",
        executor,
        "--trace",
        "t.json",
        "--profile",
        "p.html",
    ]);
    assert_eq!(out.stdout, "10\n", "{executor}");
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    let trace = serde_json::from_str(&std::fs::read_to_string(graph.path("t.json")).unwrap());
    (
        trace.unwrap(),
        std::fs::read_to_string(graph.path("p.html")).unwrap(),
    )
}

#[test]
fn the_trace_has_one_complete_event_per_task_on_its_worker() {
    for executor in ["sync", "threads", "processes"] {
        let (trace, _) = run_traced(executor);
        let events = trace["traceEvents"].as_array().unwrap();
        assert_eq!(events.len(), 5, "{executor}");
        let mut names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
        names.sort_unstable();
        assert_eq!(names, ["a", "b", "c", "d", "total"], "{executor}");
        for e in events {
            assert_eq!(e["ph"], "X");
            let tid = e["tid"].as_u64().unwrap();
            assert!(
                tid < if executor == "sync" { 1 } else { 2 },
                "{executor}: {e}"
            );
            if e["name"] != "total" {
                // busy(40) burns 40 ms of CPU; its span cannot be shorter.
                assert!(e["dur"].as_f64().unwrap() >= 39_000.0, "{executor}: {e}");
                assert_eq!(e["cat"], "busy");
            }
        }
        // `total` starts after every input ended.
        let end_of = |n: &str| {
            let e = events.iter().find(|e| e["name"] == n).unwrap();
            e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap()
        };
        let total = events.iter().find(|e| e["name"] == "total").unwrap();
        let latest_input = ["a", "b", "c", "d"]
            .map(end_of)
            .into_iter()
            .fold(0.0, f64::max);
        assert!(
            total["ts"].as_f64().unwrap() >= latest_input - 1.0,
            "{executor}"
        );
    }
}

#[test]
fn the_profile_is_a_self_contained_page_with_lanes_bars_and_a_summary() {
    let (_, html) = run_traced("threads");
    assert!(html.starts_with("<!DOCTYPE html>"));
    assert_eq!(html.matches("class=\"lane\"").count(), 2);
    assert_eq!(html.matches("class=\"task\"").count(), 5);
    for part in [
        "id=\"summary\"",
        "summed task seconds",
        "worker 1 utilisation",
        "id=\"slowest\"",
    ] {
        assert!(html.contains(part), "{part}");
    }
    // The only URL is the SVG namespace: nothing is fetched from a network.
    let namespace = "xmlns=\"http://www.w3.org/2000/svg\"";
    assert_eq!(
        html.matches("http").count(),
        html.matches(namespace).count()
    );
    assert!(
        !html.contains("<script src") && !html.contains("<link"),
        "no external resources"
    );
}

#[test]
fn an_unwritable_profile_path_is_refused_before_the_run_naming_it() {
    let graph = GraphFile::named("g.tl", "a = inc(1)\n");
    let out = graph.run(&["--profile", "/nonexistent-dir/p.html"]);
    assert!(
        out.error(2).contains("/nonexistent-dir/p.html"),
        "{}",
        out.stderr
    );
}

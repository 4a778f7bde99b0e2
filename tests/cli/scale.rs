//! `taskloom scale`, end to end: the fitted serial fraction of a graph whose serial
//! fraction is known by construction, the report in text and JSON, the plots, and
//! bad input (exit 2 naming the option).

use crate::harness::graph::GraphFile;
use crate::harness::{assert_contains_all, Outcome};
use serde_json::Value;

/// One `sleep(150)` task every other task needs, then 6 parallel `sleep(100)` tasks:
/// T(1) = 0.75 s of which 0.15 s is serial, so B = 0.2 (T(2) = 0.45 s, S(2) = 5/3).
/// Sleeping tasks overlap however loaded the machine is, so the construction holds on
/// a busy CI machine too; the timing tests of this file also take turns (`MEASURING`).
const KNOWN_SERIAL: &str = "head = sleep(150, 1)
t1 = sleep(100, head)
t2 = sleep(100, head)
t3 = sleep(100, head)
t4 = sleep(100, head)
t5 = sleep(100, head)
t6 = sleep(100, head)
total = sum([t1, t2, t3, t4, t5, t6])
";

/// Small and fast: for checking the report's form, not its numbers.
const TINY: &str = "a = inc(1)\nb = inc(a)\nc = add(a, b)\n";

fn scale(graph: &GraphFile, args: &[&str]) -> Outcome {
    let _turn = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let mut all = vec!["scale", graph.name()];
    all.extend_from_slice(args);
    graph.invoke(&all)
}

/// One `scale` run at a time: each measures speed-up on every core.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[test]
fn the_fitted_serial_fraction_matches_the_construction() {
    let g = GraphFile::text(KNOWN_SERIAL);
    let v = scale(&g, &["--workers", "1,2", "--repeat", "3", "--json"]).json();
    let points = v["points"].as_array().unwrap();
    assert_eq!(points.len(), 2, "{v}");
    assert_eq!(points[0]["workers"], 1);
    assert_eq!(points[0]["speedup"], 1.0);
    assert_eq!(points[0]["efficiency"], 1.0);
    assert_eq!(points[0]["karp_flatt"], Value::Null);
    let t1 = points[0]["seconds"].as_f64().unwrap();
    assert!(t1 >= 0.74, "T(1) = {t1}: the graph sleeps 0.75 s");
    let s2 = points[1]["speedup"].as_f64().unwrap();
    let b = v["amdahl"]["serial_fraction"].as_f64().unwrap();
    assert!(
        (b - 0.2).abs() < 0.12,
        "B = {b} (S(2) = {s2}), expected 0.2"
    );
    // With one point above p = 1 the least-squares fit is exact: B = e(2) = 2/S − 1.
    let e2 = points[1]["karp_flatt"].as_f64().unwrap();
    assert!((b - e2).abs() < 1e-6, "B = {b}, e(2) = {e2}");
    assert!((e2 - (2.0 / s2 - 1.0)).abs() < 1e-9);
    assert!((points[1]["efficiency"].as_f64().unwrap() - s2 / 2.0).abs() < 1e-12);
    let max = v["amdahl"]["max_speedup"].as_f64().unwrap();
    assert!((max - 1.0 / b).abs() < 1e-6 * max);
}

#[test]
fn the_text_report_rounds_and_marks_counts_above_the_cores() {
    let g = GraphFile::text(TINY);
    let above = (cores() + 1).to_string();
    let list = format!("1,2,{above}");
    let run = scale(&g, &["--workers", &list, "--repeat", "2"]);
    let out = run.ok();
    assert_contains_all(
        out,
        &[
            "3 tasks, median of 2 runs per worker count, timing the run only",
            "workers   seconds  speed-up  efficiency  Karp-Flatt e\n",
            "     1 ",
            &format!("{above:>6}* "),
            &format!("* more workers than the {} core", cores()),
            "Amdahl fit: serial fraction B = ",
        ],
    );
    // Rounded: no long fractions in the human table.
    assert!(!out.contains("0000"), "{out}");
}

#[test]
fn one_worker_is_measured_even_when_not_listed() {
    let g = GraphFile::text(TINY);
    let v = scale(&g, &["--workers", "2", "--repeat", "1", "--json"]).json();
    let workers: Vec<u64> = v["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["workers"].as_u64().unwrap())
        .collect();
    assert_eq!(workers, [1, 2]);
    let out = scale(&g, &["--workers", "2", "--repeat", "1"]);
    assert!(
        out.ok().contains("1 worker added to the list"),
        "{}",
        out.stdout
    );
}

#[test]
fn the_svg_plot_is_well_formed_with_three_series() {
    let g = GraphFile::text(TINY);
    let run = scale(
        &g,
        &["--workers", "1,2", "--repeat", "1", "--plot", "speedup.svg"],
    );
    assert!(run.ok().contains("plot: speedup.svg"));
    let svg = std::fs::read_to_string(g.path("speedup.svg")).unwrap();
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    assert_eq!(doc.root_element().tag_name().name(), "svg");
    assert_contains_all(&svg, &["measured S(p)", "Amdahl fit", "ideal S = p"]);
    let lines = doc
        .descendants()
        .filter(|n| n.has_tag_name("polyline"))
        .count();
    assert!(lines >= 3, "{lines} polylines");
}

#[test]
fn the_png_plot_is_a_png() {
    let g = GraphFile::text(TINY);
    let json = scale(
        &g,
        &[
            "--workers",
            "1,2",
            "--repeat",
            "1",
            "--json",
            "--plot",
            "s.PNG",
        ],
    )
    .json();
    assert!(json["amdahl"].is_object(), "JSON stays alone on stdout");
    let png = std::fs::read(g.path("s.PNG")).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "signature");
    assert!(png.len() > 5_000, "{} bytes", png.len());
}

#[test]
fn malformed_worker_lists_exit_2_naming_the_option() {
    let g = GraphFile::text(TINY);
    for (bad, says) in [
        ("", "empty list"),
        ("1,,2", "empty item"),
        ("0,2", "counts start at 1"),
        ("1,two", "'two' is not a whole number"),
        ("1,2,2", "2 is listed twice"),
        ("1", "needs a worker count above 1"),
    ] {
        let run = scale(&g, &["--workers", bad]);
        assert_eq!(run.code, Some(2), "{bad:?}: {}", run.stderr);
        assert_eq!(run.stdout, "");
        run.assert_no_panic();
        assert_contains_all(&run.stderr, &["--workers", says]);
    }
    for (args, option) in [
        (&["--workers", "1,2", "--repeat", "0"][..], "--repeat"),
        (&["--workers", "1,2", "--plot", "out.pdf"][..], "--plot"),
        (&["--repeat", "2"][..], "--workers"),
    ] {
        let run = scale(&g, args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(run.stderr.contains(option), "{}", run.stderr);
    }
}

#[test]
fn graph_errors_keep_their_exit_codes() {
    let missing = GraphFile::text(TINY);
    let run = missing.invoke(&["scale", "nothing.tl", "--workers", "1,2"]);
    assert!(run.error(2).contains("cannot read nothing.tl"));
    let failing = GraphFile::text("a = fail(\"boom\")\n");
    let run = scale(&failing, &["--workers", "1,2", "--repeat", "1"]);
    assert!(run.error(1).contains("boom"), "{}", run.stderr);
    let no_key = GraphFile::text(TINY);
    assert!(scale(&no_key, &["--workers", "1,2", "--get", "zz"])
        .error(2)
        .contains("zz"));
}

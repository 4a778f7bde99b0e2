//! The HTML profile in a real browser: headless Chromium (Debian's, installed by
//! `scripts/test.sh`) renders it; the rendered page has a lane per worker and a bar per task,
//! the browser logs no error, and a screenshot is kept in target/test-artifacts/.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::harness::graph::GraphFile;

/// Headless Chromium with the flags this closed network needs (no background traffic).
fn chromium(profile_dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!("--user-data-dir={}", profile_dir.display()))
        .args(args)
        .output()
        .expect("chromium runs")
}

fn have_chromium() -> bool {
    Command::new("chromium")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn the_profile_renders_in_chromium_with_lanes_and_bars_and_no_errors() {
    if !have_chromium() {
        // scripts/test.sh installs it; elsewhere say how to get it rather than pass quietly.
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is missing on CI"
        );
        eprintln!("skipped: install Debian's chromium (apt-get install chromium) to run this test");
        return;
    }
    let cells: Vec<String> = (0..12).map(|i| format!("c{i}")).collect();
    let mut text: String = (0..12)
        .map(|i| format!("c{i} = busy({}, {i})\n", 10 + 5 * i))
        .collect();
    text.push_str(&format!("total = sum([{}])\n", cells.join(", ")));
    let graph = GraphFile::named("g.tl", &text);
    graph
        .run(&["--workers", "2", "--profile", "profile.html"])
        .ok();
    let page = graph.path("profile.html");
    let url = format!("file://{}", page.display());

    let dom = chromium(&graph.path("chrome-a"), &["--dump-dom", &url]);
    let rendered = String::from_utf8_lossy(&dom.stdout);
    assert_eq!(
        rendered.matches("class=\"lane\"").count(),
        2,
        "lanes in the rendered DOM"
    );
    assert_eq!(
        rendered.matches("class=\"task\"").count(),
        13,
        "one bar per task"
    );
    assert!(rendered.contains("achieved speed-up"));
    let log = String::from_utf8_lossy(&dom.stderr);
    for bad in ["Uncaught", "ERROR:CONSOLE", "Failed to load"] {
        assert!(!log.contains(bad), "browser logged {bad}: {log}");
    }

    let artifacts = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("../test-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    let shot = artifacts.join("profile.png");
    let _ = std::fs::remove_file(&shot);
    let screenshot = format!("--screenshot={}", shot.display());
    chromium(
        &graph.path("chrome-b"),
        &[&screenshot, "--window-size=1200,900", &url],
    );
    let png = std::fs::read(&shot).expect("a screenshot was written");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 10_000,
        "{} bytes",
        png.len()
    );
}

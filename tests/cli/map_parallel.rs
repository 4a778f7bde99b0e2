//! `taskloom map` side by side with GNU parallel: scripts/compare-parallel.sh runs the
//! cases of parallel's tutorial under both and fails on any difference that
//! docs/map-vs-parallel.md does not list and explain.

use std::process::Command;

use crate::harness::TASKLOOM;

/// What the script exits with when GNU parallel is not installed.
const NO_PARALLEL: i32 = 3;

#[test]
fn map_agrees_with_gnu_parallel_where_the_contract_says_it_does() {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/compare-parallel.sh");
    let output = Command::new("bash")
        .arg(script)
        .arg(TASKLOOM)
        .output()
        .expect("run scripts/compare-parallel.sh");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(NO_PARALLEL) {
        eprintln!(
            "skipped: GNU parallel is not installed and nothing here installs it \
             (scripts/test.sh does: apt-get install parallel)\n{stderr}"
        );
        return;
    }
    assert!(
        output.status.success(),
        "unexplained differences from GNU parallel:\n{stdout}\n{stderr}"
    );
    assert!(stdout.contains(", 0 unexplained"), "{stdout}");
}

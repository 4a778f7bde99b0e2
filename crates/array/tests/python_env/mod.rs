//! The Python interpreter of the reference tests: a virtualenv with NumPy and
//! zarr-python 3, built by `scripts/python-env.sh` the first time a test binary asks.
//! Shared by this crate's interop tests and the CLI tests at the workspace root.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The virtualenv's interpreter, created on first use.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .ancestors()
            .map(|dir| dir.join("scripts/python-env.sh"))
            .find(|script| script.exists())
            .expect("scripts/python-env.sh in the workspace");
        let out = Command::new("sh")
            .arg(&script)
            .output()
            .expect("run python-env.sh");
        assert!(
            out.status.success(),
            "python-env.sh failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
    })
}

/// Runs `script` with `args` in the virtualenv's interpreter and parses what it prints
/// as JSON.
pub fn run_json(script: &str, args: &[&OsStr]) -> serde_json::Value {
    let out = Command::new(python())
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("run python");
    assert!(
        out.status.success(),
        "python failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("python prints JSON")
}

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
        let out = stdout(Command::new("sh").arg(&script), "python-env.sh");
        PathBuf::from(String::from_utf8(out).unwrap().trim())
    })
}

/// What `command` prints, once it has succeeded (else the test fails with its stderr).
fn stdout(command: &mut Command, what: &str) -> Vec<u8> {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs `script` with `args` in the virtualenv's interpreter and parses what it prints
/// as JSON.
pub fn run_json(script: &str, args: &[&OsStr]) -> serde_json::Value {
    let out = stdout(
        Command::new(python()).arg("-c").arg(script).args(args),
        "python",
    );
    serde_json::from_slice(&out).expect("python prints JSON")
}

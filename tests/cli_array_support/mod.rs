//! Shared by the end-to-end tests of `taskloom array`: a working directory where the
//! command runs as a user runs it, and the NumPy reference (`tests/array_reference.py`,
//! run with zarr-python 3 from `scripts/python-env.sh`) that checks what it printed
//! and wrote.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::{json, Value as Json};
use tempfile::TempDir;

/// A safety net so that a hung command fails its test instead of hanging the suite.
const TIMEOUT: Duration = Duration::from_secs(60);

#[path = "../../crates/array/tests/python_env/mod.rs"]
mod python_env;
pub use python_env::python;

/// The outcome of one command.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` if a signal ended the process.
    pub code: Option<i32>,
    /// The command line, for failure messages.
    pub command: String,
}

impl Run {
    /// Asserts a failure with exit `code`: nothing on stdout, a message on stderr that
    /// is no crash. Returns the message.
    pub fn failure(&self, code: i32) -> &str {
        assert_eq!(
            self.code,
            Some(code),
            "exit code of `{}`\nstdout: {}\nstderr: {}",
            self.command,
            self.stdout,
            self.stderr
        );
        assert_eq!(self.stdout, "", "stdout of the failed `{}`", self.command);
        assert!(
            !self.stderr.trim().is_empty(),
            "no message from `{}`",
            self.command
        );
        for crash in ["panicked", "RUST_BACKTRACE", "stack backtrace"] {
            assert!(
                !self.stderr.contains(crash),
                "`{}` crashed: {}",
                self.command,
                self.stderr
            );
        }
        &self.stderr
    }
}

/// A fresh directory in which `taskloom array` runs, naming arrays relatively.
pub struct Workspace {
    dir: TempDir,
}

impl Workspace {
    pub fn new() -> Self {
        Workspace {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `taskloom array ARGS...` in this directory.
    pub fn run(&self, args: &[&str]) -> Run {
        let output = assert_cmd::Command::cargo_bin("taskloom")
            .expect("the taskloom binary")
            .current_dir(self.dir.path())
            .arg("array")
            .args(args)
            .timeout(TIMEOUT)
            .output()
            .expect("run taskloom");
        Run {
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
            command: format!("taskloom array {}", args.join(" ")),
        }
    }

    /// Runs a command that must succeed silently on stderr; returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let run = self.run(args);
        assert_eq!(
            run.code,
            Some(0),
            "`{}` failed\nstderr: {}",
            run.command,
            run.stderr
        );
        assert_eq!(run.stderr, "", "stderr of `{}`", run.command);
        run.stdout
    }

    /// Runs a command that writes OUT: it must succeed and print nothing.
    pub fn write(&self, args: &[&str]) {
        let stdout = self.ok(args);
        assert_eq!(stdout, "", "stdout of a command writing an array: {args:?}");
    }

    /// Runs a command that prints one line of JSON; returns that line.
    pub fn print(&self, args: &[&str]) -> String {
        let stdout = self.ok(args);
        assert!(
            stdout.ends_with('\n') && stdout.matches('\n').count() == 1,
            "expected one line from {args:?}, got {stdout:?}"
        );
        serde_json::from_str::<Json>(&stdout)
            .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}): {stdout:?}"));
        stdout
    }

    /// `taskloom array create NAME --shape S --chunks C --dtype D FILL...`.
    pub fn create(&self, name: &str, shape: &str, chunks: &str, dtype: &str, fill: &[&str]) {
        let mut args = vec![
            "create", name, "--shape", shape, "--chunks", chunks, "--dtype", dtype,
        ];
        args.extend_from_slice(fill);
        self.write(&args);
    }

    /// Every entry under the directory (recursively), sorted: to show that a failed
    /// command wrote nothing, not even a temporary directory.
    pub fn listing(&self) -> Vec<String> {
        fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).expect("read directory") {
                let path = entry.expect("directory entry").path();
                out.push(path.strip_prefix(root).unwrap().display().to_string());
                if path.is_dir() {
                    walk(&path, root, out);
                }
            }
        }
        let mut out = Vec::new();
        walk(self.root(), self.root(), &mut out);
        out.sort();
        out
    }
}

/// Checks collected during a test, verified against NumPy in one Python run.
pub struct Reference<'a> {
    workspace: &'a Workspace,
    checks: Vec<Json>,
}

impl<'a> Reference<'a> {
    pub fn new(workspace: &'a Workspace) -> Self {
        Reference {
            workspace,
            checks: Vec::new(),
        }
    }

    /// Printed JSON must equal NumPy's `expect` (ints as JSON ints, floats as floats).
    pub fn printed(&mut self, name: &str, expect: Json, stdout: &str) -> &mut Json {
        self.push(json!({"name": name, "expect": expect, "json": stdout}))
    }

    /// The array at `path` (read with zarr-python) must equal NumPy's `expect`.
    pub fn stored(&mut self, name: &str, expect: Json, path: &str) -> &mut Json {
        self.push(json!({"name": name, "expect": expect, "zarr": path}))
    }

    /// `info` output must agree with what zarr-python reads at `path`.
    pub fn info(&mut self, name: &str, path: &str, stdout: &str) {
        self.push(json!({"name": name, "info": path, "json": stdout}));
    }

    /// The array at `path` must hold uniform [0, 1) floats, no two chunks alike.
    pub fn unit_random(&mut self, name: &str, path: &str) {
        self.push(json!({"name": name, "unit_random": path}));
    }

    fn push(&mut self, check: Json) -> &mut Json {
        self.checks.push(check);
        self.checks.last_mut().unwrap()
    }

    /// Runs every check; panics listing all that failed.
    pub fn verify(self) {
        let n = self.checks.len();
        assert!(n > 0, "nothing to verify");
        let result = reference(self.workspace, json!({"checks": self.checks}));
        let failures = result["failures"].as_array().expect("failures");
        assert!(
            failures.is_empty(),
            "{} of {n} checks differ from NumPy:\n{}",
            failures.len(),
            failures
                .iter()
                .map(|f| f.as_str().unwrap_or_default())
                .collect::<Vec<_>>()
                .join("\n")
        );
        assert_eq!(result["checked"], json!(n), "checks run");
    }
}

/// Writes arrays with zarr-python: `specs` as the "write" list of array_reference.py.
pub fn write_with_zarr_python(workspace: &Workspace, specs: Json) {
    let result = reference(workspace, json!({"write": specs}));
    assert_eq!(result["failures"], json!([]));
}

fn reference(workspace: &Workspace, mut job: Json) -> Json {
    job["root"] = json!(workspace.root());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/array_reference.py");
    let mut child = Command::new(python())
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .expect("send the job");
    let out = child.wait_with_output().expect("run python");
    assert!(
        out.status.success(),
        "array_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("array_reference.py prints JSON")
}

/// NumPy's expressions (see array_reference.py).
pub mod np {
    use serde_json::{json, Value as Json};

    pub fn read(path: &str) -> Json {
        json!({ "read": path })
    }
    pub fn arange(shape: &[usize], dtype: &str) -> Json {
        json!({ "arange": shape, "dtype": dtype })
    }
    pub fn full(value: Json, shape: &[usize], dtype: &str) -> Json {
        json!({ "full": value, "shape": shape, "dtype": dtype })
    }
    /// Integers in [low, high) from NumPy's generator.
    pub fn ints(low: i64, high: i64, shape: &[usize], dtype: &str, seed: u64) -> Json {
        json!({ "ints": [low, high], "shape": shape, "dtype": dtype, "seed": seed })
    }
    /// Floats in [low, high) from NumPy's generator.
    pub fn floats(low: f64, high: f64, shape: &[usize], dtype: &str, seed: u64) -> Json {
        json!({ "floats": [low, high], "shape": shape, "dtype": dtype, "seed": seed })
    }
    pub fn reduce(op: &str, axis: Option<usize>, x: Json) -> Json {
        json!({ "reduce": op, "axis": axis, "x": x })
    }
    pub fn map(op: &str, x: Json) -> Json {
        json!({ "map": op, "x": x })
    }
    pub fn binary(op: &str, a: Json, b: Json) -> Json {
        json!({ "binary": op, "a": a, "b": b })
    }
    pub fn scale(by: Json, add: Json, x: Json) -> Json {
        json!({ "scale": [by, add], "x": x })
    }
    pub fn astype(dtype: &str, x: Json) -> Json {
        json!({ "astype": dtype, "x": x })
    }
    pub fn transpose(x: Json) -> Json {
        json!({ "transpose": x })
    }
    pub fn matmul(a: Json, b: Json) -> Json {
        json!({ "matmul": [a, b] })
    }
    pub fn index(text: &str, x: Json) -> Json {
        json!({ "index": text, "x": x })
    }
    pub fn topk(k: usize, smallest: bool, x: Json) -> Json {
        json!({ "topk": k, "smallest": smallest, "x": x })
    }
    pub fn sort(descending: bool, x: Json) -> Json {
        let order = if descending {
            "descending"
        } else {
            "ascending"
        };
        json!({ "sort": order, "x": x })
    }
}

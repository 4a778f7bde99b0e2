//! `taskloom array` in a [`Dir`], and NumPy as the reference: `array_reference.py`
//! (beside this file, run with NumPy and zarr-python 3 from `scripts/python-env.sh`)
//! checks what a command printed and wrote.
//!
//! - A test collects its checks in a [`Reference`] and verifies them in one Python
//!   run at its end (starting Python costs far more than a check).
//! - Expected values are NumPy expressions built with [`np`]; the script evaluates
//!   them on the same data, read back with zarr-python (which also proves interop).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use serde_json::{json, Value as Json};

use super::{Dir, Outcome};

// The interpreter alone is used here; the array crate's tests also run scripts with it.
#[allow(dead_code)]
#[path = "../../crates/array/tests/python_env/mod.rs"]
mod python_env;

impl Dir {
    /// `taskloom array ARGS...` in this directory.
    pub fn array(&self, args: &[&str]) -> Outcome {
        self.command(&["array"]).args(args).output()
    }

    /// Runs an array command that prints one line of JSON; returns that line.
    pub fn array_print(&self, args: &[&str]) -> String {
        self.array(args).json_line().to_string()
    }

    /// Runs an array command that writes OUT: it must succeed and print nothing.
    pub fn array_write(&self, args: &[&str]) {
        self.array(args).silent();
    }

    /// `taskloom array create NAME --shape S --chunks C --dtype D FILL...`.
    pub fn create_array(&self, name: &str, shape: &str, chunks: &str, dtype: &str, fill: &[&str]) {
        let mut args = vec![
            "create", name, "--shape", shape, "--chunks", chunks, "--dtype", dtype,
        ];
        args.extend_from_slice(fill);
        self.array_write(&args);
    }
}

/// Checks collected during a test, verified against NumPy in one Python run.
pub struct Reference<'a> {
    dir: &'a Dir,
    checks: Vec<Json>,
}

impl<'a> Reference<'a> {
    pub fn new(dir: &'a Dir) -> Self {
        Reference {
            dir,
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
        let result = reference(self.dir, json!({"checks": self.checks}));
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

/// Writes arrays in `dir` with zarr-python: `specs` as the "write" list of
/// array_reference.py.
pub fn write_with_zarr_python(dir: &Dir, specs: Json) {
    let result = reference(dir, json!({"write": specs}));
    assert_eq!(result["failures"], json!([]));
}

fn reference(dir: &Dir, mut job: Json) -> Json {
    job["root"] = json!(dir.root());
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/harness/array_reference.py");
    let mut child = Command::new(python_env::python())
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
    pub fn compare(op: &str, a: Json, b: Json) -> Json {
        json!({ "compare": op, "a": a, "b": b })
    }
    pub fn select(cond: Json, a: Json, b: Json) -> Json {
        json!({ "where": [cond, a, b] })
    }
    pub fn cumsum(axis: usize, x: Json) -> Json {
        json!({ "cumsum": axis, "x": x })
    }
    pub fn scale(by: Json, add: Json, x: Json) -> Json {
        json!({ "scale": [by, add], "x": x })
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

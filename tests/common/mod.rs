//! Shared helpers for the end-to-end tests of the `taskloom` command: graph files in a
//! temporary directory, running the binary under every executor, and checking the
//! output rules (JSON on stdout, one clean message on stderr, exit codes).

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;
use tempfile::TempDir;

/// The executor settings every value test runs under; their outputs must be identical.
pub const EXECUTORS: [&[&str]; 3] = [
    &["--executor", "sync"],
    &["--executor", "threads", "--workers", "1"],
    &["--workers", "4"],
];

/// A safety net so that a hung run fails its test instead of hanging the suite.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A graph file in its own temporary directory; commands run with that directory as
/// their working directory and name the file relatively (as a user would).
pub struct GraphFile {
    dir: TempDir,
    name: String,
    source: String,
}

impl GraphFile {
    /// `source` written to `graph.txt` (the text form, or JSON: the content decides).
    pub fn text(source: &str) -> Self {
        Self::named("graph.txt", source)
    }

    /// `source` written to `graph.json`.
    pub fn json(source: &str) -> Self {
        Self::named("graph.json", source)
    }

    /// `source` written to a file called `name` in a fresh temporary directory.
    pub fn named(name: &str, source: &str) -> Self {
        let dir = tempfile::tempdir().expect("temporary directory");
        std::fs::write(dir.path().join(name), source).expect("write graph file");
        GraphFile {
            dir,
            name: name.to_string(),
            source: source.to_string(),
        }
    }

    /// Replaces the file's content (to build a source that names paths in its directory).
    pub fn write(&mut self, source: &str) {
        std::fs::write(self.dir.path().join(&self.name), source).expect("write graph file");
        self.source = source.to_string();
    }

    /// The file name as passed on the command line (and as messages show it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The temporary directory holding the file.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// An absolute path inside the temporary directory (for markers and outputs).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `taskloom run FILE args...` once.
    pub fn run(&self, args: &[&str]) -> Run {
        self.execute("run", args)
    }

    /// `taskloom graph FILE args...`.
    pub fn graph(&self, args: &[&str]) -> Run {
        self.execute("graph", args)
    }

    /// `taskloom run FILE args...` under each of [`EXECUTORS`]: asserts that stdout,
    /// stderr and exit code are the same under all of them and returns that outcome.
    pub fn run_everywhere(&self, args: &[&str]) -> Run {
        let mut first: Option<Run> = None;
        for executor in EXECUTORS {
            let all: Vec<&str> = args.iter().chain(executor.iter()).copied().collect();
            let run = self.run(&all);
            if let Some(reference) = &first {
                assert_eq!(
                    (&run.stdout, &run.stderr, run.code),
                    (&reference.stdout, &reference.stderr, reference.code),
                    "executors disagree: `{}` vs `{}`",
                    run.context,
                    reference.context
                );
            } else {
                first = Some(run);
            }
        }
        first.expect("at least one executor")
    }

    /// `taskloom run FILE args...` once, with the time it took.
    pub fn run_timed(&self, args: &[&str]) -> (Run, Duration) {
        let start = Instant::now();
        let run = self.run(args);
        (run, start.elapsed())
    }

    fn execute(&self, subcommand: &str, args: &[&str]) -> Run {
        let mut all = vec![subcommand, self.name.as_str()];
        all.extend_from_slice(args);
        self.invoke(&all)
    }

    /// `taskloom args...` in the file's directory, with exactly these arguments.
    pub fn invoke(&self, args: &[&str]) -> Run {
        let output = Command::cargo_bin("taskloom")
            .expect("the taskloom binary")
            .current_dir(self.dir.path())
            .args(args)
            .timeout(TIMEOUT)
            .output()
            .expect("run taskloom");
        Run {
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
            context: format!(
                "taskloom {}\n--- {} ---\n{}",
                args.join(" "),
                self.name,
                abbreviate(&self.source)
            ),
        }
    }
}

/// Long generated sources are cut short in failure messages.
fn abbreviate(source: &str) -> String {
    if source.len() <= 2000 {
        source.to_string()
    } else {
        format!("{}... ({} bytes)", &source[..2000], source.len())
    }
}

/// The outcome of one command.
#[derive(Debug)]
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` if a signal ended the process.
    pub code: Option<i32>,
    /// The command and graph, for failure messages.
    pub context: String,
}

impl Run {
    /// Asserts a successful run: exit 0 and nothing on stderr. Returns stdout.
    pub fn ok(&self) -> &str {
        assert_eq!(
            self.code,
            Some(0),
            "expected success\n{}\nstderr: {}",
            self.context,
            self.stderr
        );
        assert_eq!(
            self.stderr, "",
            "stderr of a successful run\n{}",
            self.context
        );
        &self.stdout
    }

    /// Asserts a successful run printing one line of JSON, and parses it.
    pub fn json(&self) -> Value {
        let stdout = self.ok();
        assert!(
            stdout.ends_with('\n') && stdout.matches('\n').count() == 1,
            "expected one line of JSON, got {stdout:?}\n{}",
            self.context
        );
        serde_json::from_str(stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout:?}\n{}", self.context))
    }

    /// Asserts a failed run in the error style of the contract: exit `code`, nothing on
    /// stdout, one `taskloom: error: ...` line on stderr and no panic. Returns stderr.
    pub fn error(&self, code: i32) -> &str {
        self.error_lines(code, true)
    }

    /// Like [`Run::error`], but the message may span several lines (a `shell` error
    /// quotes the command's stderr).
    pub fn multiline_error(&self, code: i32) -> &str {
        self.error_lines(code, false)
    }

    fn error_lines(&self, code: i32, one_line: bool) -> &str {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n{}\nstdout: {}\nstderr: {}",
            self.context,
            self.stdout,
            self.stderr
        );
        assert_eq!(self.stdout, "", "stdout of a failed run\n{}", self.context);
        assert_no_panic(&self.stderr, &self.context);
        assert!(
            self.stderr.starts_with("taskloom: error: "),
            "message style: {:?}\n{}",
            self.stderr,
            self.context
        );
        if one_line {
            assert_eq!(
                self.stderr.trim_end().lines().count(),
                1,
                "expected a one-line message: {:?}\n{}",
                self.stderr,
                self.context
            );
        }
        &self.stderr
    }
}

/// Asserts that `stderr` shows no panic or backtrace.
pub fn assert_no_panic(stderr: &str, context: &str) {
    for bad in [
        "panicked",
        "RUST_BACKTRACE",
        "stack backtrace",
        "has overflowed its stack",
        "fatal runtime error",
    ] {
        assert!(
            !stderr.contains(bad),
            "stderr shows a crash ({bad}): {stderr}\n{context}"
        );
    }
}

/// Asserts that `text` contains each of `parts`.
pub fn assert_contains_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "expected {part:?} in {text:?}");
    }
}

/// The value of `expr` (as `v = expr` in the text form), computed under every executor.
pub fn eval(expr: &str) -> Value {
    GraphFile::text(&format!("v = {expr}\n"))
        .run_everywhere(&["--get", "v"])
        .json()
}

/// What `taskloom run --get v` prints for `v = expr`, exactly (under every executor).
pub fn eval_stdout(expr: &str) -> String {
    GraphFile::text(&format!("v = {expr}\n"))
        .run_everywhere(&["--get", "v"])
        .ok()
        .to_string()
}

/// Computes each expression of `cases` in one graph (under every executor) and checks
/// it against the expected JSON, strictly: `3` (an int) is not `3.0` (a float).
pub fn assert_evals(cases: &[(&str, &str)]) {
    assert!(cases.len() >= 2, "use eval for a single expression");
    let keys: Vec<String> = (0..cases.len()).map(|i| format!("c{i}")).collect();
    let source: String = keys
        .iter()
        .zip(cases)
        .map(|(key, (expr, _))| format!("{key} = {expr}\n"))
        .collect();
    let mut args = Vec::new();
    for key in &keys {
        args.push("--get");
        args.push(key.as_str());
    }
    let output = GraphFile::text(&source).run_everywhere(&args).json();
    let object = output.as_object().expect("several --get print an object");
    assert_eq!(object.len(), cases.len(), "keys printed: {output}");
    for (key, (expr, expected)) in keys.iter().zip(cases) {
        let expected: Value = serde_json::from_str(expected).expect("expected value is JSON");
        let actual = object
            .get(key)
            .unwrap_or_else(|| panic!("{key} missing from {output}"));
        assert_eq!(actual, &expected, "value of {expr}");
    }
}

/// Asserts that `v = expr` fails at run time (exit 1) under every executor, with a
/// message naming the key `v`, the op `op` and containing `cause`. Returns the message.
pub fn assert_task_error(expr: &str, op: &str, cause: &str) -> String {
    let run = GraphFile::text(&format!("v = {expr}\n")).run_everywhere(&["--get", "v"]);
    let stderr = run.error(1);
    assert_contains_all(stderr, &["'v'", &format!("'{op}'"), cause]);
    stderr.to_string()
}

/// A double-quoted string literal (same in JSON and the text form) for `text`.
pub fn quoted(text: &str) -> String {
    serde_json::to_string(text).expect("a string serializes")
}

/// A `shell` command that creates `marker` (an absolute path), as a string literal.
pub fn touch_command(marker: &Path) -> String {
    quoted(&format!("touch '{}'", marker.display()))
}

/// The processes that have `TASKLOOM_TEST_MARK=mark` in their environment: how tests
/// find a run's workers (which inherit it) and check that none outlives the run.
pub fn marked_processes(mark: &str) -> Vec<String> {
    let needle = format!("TASKLOOM_TEST_MARK={mark}");
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| e.file_name().to_string_lossy().parse::<u32>().is_ok())
        .filter(|e| {
            std::fs::read(e.path().join("environ"))
                .map(|env| env.split(|&b| b == 0).any(|v| v == needle.as_bytes()))
                .unwrap_or(false)
        })
        .map(|e| e.file_name().to_string_lossy().to_string())
        .collect()
}

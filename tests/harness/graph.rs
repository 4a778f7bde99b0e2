//! Graph files for `taskloom run` and `taskloom graph`: a file in a [`Dir`], run under
//! every executor, and the value checks the `run` tests repeat.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{assert_contains_all, Dir, Outcome, TestCommand};

/// The executor settings every value test runs under; their outputs must be identical.
pub const EXECUTORS: [&[&str]; 3] = [
    &["--executor", "sync"],
    &["--executor", "threads", "--workers", "1"],
    &["--workers", "4"],
];

/// A graph file in a [`Dir`] of its own; commands name it relatively (as a user would).
pub struct GraphFile {
    dir: Dir,
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

    /// `source` written to a file called `name` in a fresh directory.
    pub fn named(name: &str, source: &str) -> Self {
        let dir = Dir::new();
        dir.create(name, source);
        GraphFile {
            dir,
            name: name.to_string(),
            source: source.to_string(),
        }
    }

    /// Replaces the file's content (to build a source that names paths in its directory).
    pub fn write(&mut self, source: &str) {
        self.dir.create(&self.name, source);
        self.source = source.to_string();
    }

    /// The file name as passed on the command line (and as messages show it).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The directory holding the file.
    pub fn root(&self) -> &Path {
        self.dir.root()
    }

    /// An absolute path in the file's directory (for markers and outputs).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path(name)
    }

    /// `taskloom run FILE args...` once.
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.execute("run", args)
    }

    /// `taskloom graph FILE args...`.
    pub fn graph(&self, args: &[&str]) -> Outcome {
        self.execute("graph", args)
    }

    /// `taskloom run FILE args...` under each of [`EXECUTORS`]: asserts that stdout,
    /// stderr and exit code are the same under all of them and returns that outcome.
    pub fn run_everywhere(&self, args: &[&str]) -> Outcome {
        let mut first: Option<Outcome> = None;
        for executor in EXECUTORS {
            let all: Vec<&str> = args.iter().chain(executor.iter()).copied().collect();
            let run = self.run(&all);
            if let Some(reference) = &first {
                run.assert_alike(reference);
            } else {
                first = Some(run);
            }
        }
        first.expect("at least one executor")
    }

    /// `taskloom run FILE args...` once, with the time it took.
    pub fn run_timed(&self, args: &[&str]) -> (Outcome, Duration) {
        let start = Instant::now();
        let run = self.run(args);
        (run, start.elapsed())
    }

    fn execute(&self, subcommand: &str, args: &[&str]) -> Outcome {
        let mut all = vec![subcommand, self.name.as_str()];
        all.extend_from_slice(args);
        self.invoke(&all)
    }

    /// `taskloom args...` in the file's directory, with exactly these arguments.
    pub fn invoke(&self, args: &[&str]) -> Outcome {
        self.command(args).output()
    }

    /// `taskloom args...` in the file's directory, to be given more options; failures
    /// show the graph.
    pub fn command(&self, args: &[&str]) -> TestCommand {
        self.dir.command(args).context(&format!(
            "--- {} ---\n{}",
            self.name,
            abbreviate(&self.source)
        ))
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

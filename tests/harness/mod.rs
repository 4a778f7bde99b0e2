//! The one harness of the end-to-end tests: a [`Dir`] to work in, a [`TestCommand`]
//! that runs `taskloom` there, and the [`Outcome`] of a run (stdout, stderr, exit code)
//! with the assertions of the output rules.
//!
//! - Every command runs the real binary in a fresh temporary directory and names files
//!   relatively, as a user does; the directory goes away with the test.
//! - An outcome carries its context (the command line, and the input when a helper
//!   knows it), so every failed assertion shows what ran.
//! - Each area's helpers build on these three and live beside them: graph files run
//!   under every executor ([`graph`]), `taskloom array` checked against NumPy
//!   ([`array`]), the processes a run leaves ([`process`]), batch systems to submit
//!   jobs to ([`batch`]), and runs under `mpirun` (`mpi`, with the `mpi` feature).
//! - A new test file goes in `tests/cli/` or `tests/api/` and is listed in that
//!   directory's `mod.rs`: every test is in the one binary `tests/tests.rs` builds.

pub mod array;
pub mod batch;
pub mod graph;
#[cfg(feature = "mpi")]
pub mod mpi;
pub mod process;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use serde_json::Value;
use tempfile::TempDir;

/// The binary under test, built by Cargo for the integration tests.
pub const TASKLOOM: &str = env!("CARGO_BIN_EXE_taskloom");

/// A safety net so that a hung command fails its test instead of hanging the suite.
const TIMEOUT: Duration = Duration::from_secs(120);

/// A fresh temporary working directory for one test's commands and files.
pub struct Dir {
    dir: TempDir,
}

impl Dir {
    pub fn new() -> Self {
        Dir {
            dir: tempfile::tempdir().expect("temporary directory"),
        }
    }

    /// The directory itself.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// An absolute path inside the directory (for arguments that must not be relative).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Writes `contents` to the file `name`.
    pub fn create(&self, name: &str, contents: &str) {
        std::fs::write(self.path(name), contents).expect("write a file");
    }

    /// The file `name`, or "" while it does not exist (a log a running command has not
    /// started yet).
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap_or_default()
    }

    /// Every entry under the directory (recursively), sorted: to show that a failed
    /// command wrote nothing, not even a temporary file.
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

    /// `taskloom ARGS...` in this directory, to be given more options, then run.
    pub fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> TestCommand {
        TestCommand::new(self.root()).args(args)
    }

    /// `taskloom ARGS...` in this directory, run to its end.
    pub fn taskloom<S: AsRef<OsStr>>(&self, args: &[S]) -> Outcome {
        self.command(args).output()
    }
}

/// One `taskloom` command: its arguments, environment, standard input and the context
/// its failures show.
pub struct TestCommand {
    command: std::process::Command,
    stdin: String,
    context: String,
    /// How long it may run before the test fails.
    timeout: Duration,
}

impl TestCommand {
    fn new(dir: &Path) -> Self {
        let mut command = std::process::Command::new(TASKLOOM);
        command.current_dir(dir);
        TestCommand::of(command, "taskloom")
    }

    /// `command` (which starts taskloom, perhaps through a launcher), shown as `context`
    /// when an assertion fails.
    pub fn of(command: std::process::Command, context: &str) -> Self {
        TestCommand {
            command,
            stdin: String::new(),
            context: context.to_string(),
            timeout: TIMEOUT,
        }
    }

    /// Lets the command run up to `limit` instead of [`TIMEOUT`]: for one that waits
    /// on something slow by design (a batch job that is requeued).
    pub fn patience(mut self, limit: Duration) -> Self {
        self.timeout = limit;
        self
    }

    pub fn arg<S: AsRef<OsStr>>(mut self, arg: S) -> Self {
        self.context.push(' ');
        self.context.push_str(&arg.as_ref().to_string_lossy());
        self.command.arg(arg);
        self
    }

    pub fn args<S: AsRef<OsStr>>(self, args: &[S]) -> Self {
        args.iter().fold(self, |command, arg| command.arg(arg))
    }

    pub fn env(mut self, name: &str, value: &str) -> Self {
        self.command.env(name, value);
        self
    }

    /// Text for standard input (empty by default).
    pub fn stdin(mut self, text: &str) -> Self {
        self.stdin = text.to_string();
        self
    }

    /// Shown under the command line when an assertion fails (the graph it ran).
    pub fn context(mut self, text: &str) -> Self {
        self.context.push('\n');
        self.context.push_str(text);
        self
    }

    /// Runs the command to its end (failing the test after its timeout).
    pub fn output(self) -> Outcome {
        let output = assert_cmd::Command::from_std(self.command)
            .write_stdin(self.stdin)
            .timeout(self.timeout)
            .output()
            .expect("run taskloom");
        Outcome {
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
            context: self.context,
        }
    }

    /// Starts the command in the background (for tests that signal or watch it); its
    /// standard input is empty.
    pub fn spawn(mut self) -> Running {
        let child = self
            .command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start taskloom");
        Running {
            child,
            context: self.context,
            timeout: self.timeout,
        }
    }
}

/// A command started with [`TestCommand::spawn`].
pub struct Running {
    child: std::process::Child,
    context: String,
    timeout: Duration,
}

impl Running {
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Sends the signal `name` (`TERM`, `INT`, `KILL`) to the command.
    pub fn signal(&self, name: &str) {
        process::send_signal(name, self.id());
    }

    /// Waits for the command's end, failing the test after its timeout (the command is
    /// killed then), so that a hang shows as a failure instead of a suite that never ends.
    pub fn wait(mut self) -> Outcome {
        let stdout = read_all(self.child.stdout.take().expect("stdout is piped"));
        let stderr = read_all(self.child.stderr.take().expect("stderr is piped"));
        let started = std::time::Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for taskloom") {
                break status;
            }
            if started.elapsed() > self.timeout {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "still running after {:?}, killed\n{}",
                    self.timeout, self.context
                );
            }
            std::thread::sleep(Duration::from_millis(10));
        };
        let output = std::process::Output {
            status,
            stdout: stdout.join().expect("read stdout"),
            stderr: stderr.join().expect("read stderr"),
        };
        Outcome {
            stdout: String::from_utf8(output.stdout).expect("stdout is UTF-8"),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
            context: self.context,
        }
    }
}

/// Reads `pipe` to its end on a thread of its own, so that a full pipe never stops
/// the command while the test waits for it.
fn read_all(mut pipe: impl std::io::Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        pipe.read_to_end(&mut bytes)
            .expect("read the command's output");
        bytes
    })
}

/// What a command did.
#[derive(Debug)]
pub struct Outcome {
    pub stdout: String,
    pub stderr: String,
    /// The exit code; `None` if a signal ended the process.
    pub code: Option<i32>,
    /// The command line (and input), for failure messages.
    pub context: String,
}

impl Outcome {
    /// Asserts the same stdout, stderr and exit code as `reference`: one command run
    /// in two ways (executors, rank counts) must not tell them apart.
    pub fn assert_alike(&self, reference: &Outcome) {
        assert_eq!(
            (&self.stdout, &self.stderr, self.code),
            (&reference.stdout, &reference.stderr, reference.code),
            "`{}` and `{}` disagree",
            self.context,
            reference.context
        );
    }

    /// The exit code, asserting that the command exited rather than died of a signal.
    pub fn exit_code(&self) -> i32 {
        self.code
            .unwrap_or_else(|| panic!("killed by a signal\n{}", self.context))
    }

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

    /// Asserts a successful run that printed nothing (one that writes a file).
    pub fn silent(&self) {
        assert_eq!(self.ok(), "", "stdout\n{}", self.context);
    }

    /// Asserts a successful run printing one line of JSON. Returns that line.
    pub fn json_line(&self) -> &str {
        self.parse_json_line().0
    }

    /// Asserts a successful run printing one line of JSON, and parses it.
    pub fn json(&self) -> Value {
        self.parse_json_line().1
    }

    fn parse_json_line(&self) -> (&str, Value) {
        let stdout = self.ok();
        assert!(
            stdout.ends_with('\n') && stdout.matches('\n').count() == 1,
            "expected one line of JSON, got {stdout:?}\n{}",
            self.context
        );
        let value = serde_json::from_str(stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {stdout:?}\n{}", self.context));
        (stdout, value)
    }

    /// Asserts a failed run in the error style of the contract: exit `code`, nothing on
    /// stdout, one `taskloom: error: ...` line on stderr and no panic. Returns stderr.
    pub fn error(&self, code: i32) -> &str {
        self.error_lines(code, true)
    }

    /// Like [`Outcome::error`], but the message may span several lines (a `shell`
    /// error quotes the command's stderr).
    pub fn multiline_error(&self, code: i32) -> &str {
        self.error_lines(code, false)
    }

    fn error_lines(&self, code: i32, one_line: bool) -> &str {
        let stderr = self.failure(code);
        assert!(
            stderr.starts_with("taskloom: error: "),
            "message style: {stderr:?}\n{}",
            self.context
        );
        if one_line {
            assert_eq!(
                stderr.trim_end().lines().count(),
                1,
                "expected a one-line message: {stderr:?}\n{}",
                self.context
            );
        }
        stderr
    }

    /// Asserts a failure with exit `code`: nothing on stdout and a message on stderr
    /// that is no crash (the rule of `taskloom array`, whose messages have no fixed
    /// prefix). Returns the message.
    pub fn failure(&self, code: i32) -> &str {
        assert_eq!(
            self.code,
            Some(code),
            "exit code\n{}\nstdout: {}\nstderr: {}",
            self.context,
            self.stdout,
            self.stderr
        );
        assert_eq!(self.stdout, "", "stdout of a failed run\n{}", self.context);
        assert!(
            !self.stderr.trim().is_empty(),
            "no message\n{}",
            self.context
        );
        self.assert_no_panic();
        &self.stderr
    }

    /// Asserts that stderr shows no panic or backtrace.
    pub fn assert_no_panic(&self) {
        for bad in [
            "panicked",
            "RUST_BACKTRACE",
            "stack backtrace",
            "has overflowed its stack",
            "fatal runtime error",
        ] {
            assert!(
                !self.stderr.contains(bad),
                "stderr shows a crash ({bad}): {}\n{}",
                self.stderr,
                self.context
            );
        }
    }
}

/// Asserts that `text` contains each of `parts`.
pub fn assert_contains_all(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "expected {part:?} in {text:?}");
    }
}

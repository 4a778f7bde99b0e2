//! The one exit path: how every command's outcome becomes stdout, a message and an
//! exit code.
//!
//! - A command returns an [`Outcome`]: the text for stdout (empty when it printed as it
//!   went, as `map` does), or a [`CommandError`].
//! - Errors stay typed until here, and [`CommandError::exit_code`] is the only place
//!   that decides a code: 2 for input a command cannot accept (found before anything
//!   ran or was written), 1 for a failure while running, 128 + N for a run, a map or an array run
//!   stopped by signal N; `taskloom wait` ends with the exit code of the job it waited for.
//! - [`finish`] prints the message once, as `taskloom: error: MESSAGE`. Libraries name
//!   no options; where a message names one, the command line maps the typed error to
//!   it (`map::message`, `plan`, and `array_message` here for `--overwrite`).
//! - Nothing here panics on I/O: stdout and stderr are written with `write!`, never
//!   `print!`. A stdout closed by its reader (`| head`) ends the command quietly with
//!   exit 0, as ripgrep does: the reader had all it wanted, and a `set -o pipefail`
//!   script does not fail for it. Any other stdout error (`/dev/full`) is a message
//!   naming stdout and exit 1. A stderr that cannot be written loses the message but
//!   not the exit code. SIGPIPE stays ignored, as Rust sets it, so these are errors
//!   returned, never a silent death.
//! - A command whose work succeeded but whose side output (`--profile`, `--plot`) could
//!   not be written ends with [`CommandError::AfterResults`]: the results print first,
//!   then the message.

use std::fmt;
use std::io::Write;
use std::path::PathBuf;

use taskloom::array::store::StoreError;
use taskloom::array::ArrayError;
use taskloom::exec::RunError;
use taskloom_analysis::plot::PlotError;
use taskloom_map::{Report, Stop};

/// What a command ends with: the text for stdout, or why it failed.
pub type Outcome = Result<String, CommandError>;

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// A graph that cannot be read or is invalid, or a failed run.
    #[error(transparent)]
    Taskloom(#[from] taskloom::Error),
    /// An array command's input, or its run.
    #[error("{}", array_message(.0))]
    Array(#[from] ArrayError),
    /// A map that cannot start; the message names the option at fault.
    #[error("{}", super::map::message(.0))]
    Map(#[from] taskloom_map::Error),
    /// A map whose items did not all succeed, or that a signal stopped.
    #[error("{}", super::map::summary(.0))]
    Unfinished(Box<Report>),
    /// The speed-up plot could not be drawn.
    #[error(transparent)]
    Plot(#[from] PlotError),
    /// An output file that cannot be written, found before the work started.
    #[error("cannot write {}: {source}", path.display())]
    Unwritable {
        path: PathBuf,
        source: std::io::Error,
    },
    /// An output file could not be written after the work.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Standard output could not be written.
    #[error("cannot write to stdout: {0}")]
    Stdout(std::io::Error),
    /// The work succeeded and `stdout` holds its results, but `error` happened after it
    /// (a side output that could not be written): both are shown.
    #[error("{error}")]
    AfterResults {
        stdout: String,
        error: Box<CommandError>,
    },
    /// Options the command line refuses; the message names them.
    #[error("{0}")]
    Usage(String),
    /// A batch job that cannot be submitted, found or asked about.
    #[error(transparent)]
    Batch(#[from] super::batch::BatchError),
    /// A batch job `wait` saw end other than successfully: exits with `code`, the job's.
    #[error("job {id} {state}")]
    Job {
        id: String,
        state: String,
        code: i32,
    },
}

impl From<RunError> for CommandError {
    fn from(error: RunError) -> Self {
        CommandError::Taskloom(error.into())
    }
}

impl CommandError {
    /// This error, shown after the results `stdout` of the work that came before it.
    pub fn after_results(self, stdout: String) -> CommandError {
        CommandError::AfterResults {
            stdout,
            error: Box::new(self),
        }
    }

    /// The process exit code: 2 for input the command cannot accept, 1 for a failure
    /// while running, 128 + N for a run, a map or an array run stopped by signal N.
    pub fn exit_code(&self) -> i32 {
        use taskloom::Error as Taskloom;
        use taskloom_map::Error as Map;
        match self {
            CommandError::Taskloom(
                Taskloom::Read { .. } | Taskloom::Graph { .. } | Taskloom::Checkpoint(_),
            ) => 2,
            CommandError::Taskloom(Taskloom::Run(RunError::Stopped { signal })) => 128 + signal,
            CommandError::Taskloom(
                Taskloom::Run(_) | Taskloom::Type { .. } | Taskloom::Write { .. },
            ) => 1,
            CommandError::Array(ArrayError::Invalid(_) | ArrayError::Store(_)) => 2,
            CommandError::Array(ArrayError::Run(_)) => 1,
            CommandError::Array(ArrayError::Interrupted { signal }) => 128 + signal,
            CommandError::Map(Map::Io(_)) => 1,
            CommandError::Map(_) => 2,
            CommandError::Unfinished(report) => match report.stop {
                Stop::Interrupted(signal) => 128 + signal,
                Stop::Done | Stop::Halted | Stop::Abandoned => 1,
            },
            CommandError::Plot(_) | CommandError::Write { .. } | CommandError::Stdout(_) => 1,
            CommandError::Usage(_) | CommandError::Unwritable { .. } => 2,
            CommandError::AfterResults { error, .. } => error.exit_code(),
            CommandError::Batch(error) => error.exit_code(),
            CommandError::Job { code, .. } => *code,
        }
    }
}

/// Writes the outcome's stdout, then its error's message to stderr, and returns the
/// process exit code.
pub fn finish(outcome: Outcome) -> i32 {
    let (stdout, error) = match outcome {
        Ok(stdout) => (stdout, None),
        Err(CommandError::AfterResults { stdout, error }) => (stdout, Some(*error)),
        Err(error) => (String::new(), Some(error)),
    };
    let errors: Vec<CommandError> = write_stdout(&stdout)
        .err()
        .into_iter()
        .chain(error)
        .collect();
    for error in &errors {
        stderr_line(format_args!("taskloom: error: {error}"));
    }
    // The command's own error decides the code when stdout failed as well.
    errors.last().map_or(0, CommandError::exit_code)
}

/// Shows what the argument parser answered instead of a command (a refused command line
/// on stderr, or the help or version on stdout) and returns its exit code; help on a
/// stdout that cannot be written fails as any other output does.
pub fn refused(answer: clap::Error) -> i32 {
    match answer.print() {
        Err(e) if !answer.use_stderr() && e.kind() != std::io::ErrorKind::BrokenPipe => {
            let error = CommandError::Stdout(e);
            stderr_line(format_args!("taskloom: error: {error}"));
            error.exit_code()
        }
        _ => answer.exit_code(),
    }
}

/// Writes one line to stderr. A stderr that cannot be written is not worth a panic: the
/// exit code still tells.
pub fn stderr_line(line: fmt::Arguments) {
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

fn write_stdout(text: &str) -> Result<(), CommandError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A reader that stopped early (`| head`) has had all it wanted.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CommandError::Stdout(e)),
        _ => Ok(()),
    }
}

/// An array error, with the option that resolves it where there is one.
fn array_message(error: &ArrayError) -> String {
    match error {
        ArrayError::Store(StoreError::Exists { .. }) => format!("{error} (use --overwrite)"),
        _ => error.to_string(),
    }
}

//! The one exit path: how every command's outcome becomes stdout, a message and an
//! exit code.
//!
//! - A command returns an [`Outcome`]: the text for stdout (empty when it printed as it
//!   went, as `map` does), or a [`CommandError`].
//! - Errors stay typed until here, and [`CommandError::exit_code`] is the only place
//!   that decides a code: 2 for input a command cannot accept (found before anything
//!   ran or was written), 1 for a failure while running, 128 + N for a map or an array
//!   run stopped by signal N.
//! - [`finish`] prints the message once, as `taskloom: error: MESSAGE`. Libraries name
//!   no options; where a message names one, the command's file maps the typed error to
//!   it (`map::message`, `plan`).

use std::io::Write;
use std::path::PathBuf;

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
    #[error(transparent)]
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
    /// An output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Standard output could not be written.
    #[error("cannot write output: {0}")]
    Stdout(std::io::Error),
    /// Options the command line refuses; the message names them.
    #[error("{0}")]
    Usage(String),
}

impl From<RunError> for CommandError {
    fn from(error: RunError) -> Self {
        CommandError::Taskloom(error.into())
    }
}

impl CommandError {
    /// The process exit code: 2 for input the command cannot accept, 1 for a failure
    /// while running, 128 + N for a map or an array run stopped by signal N.
    pub fn exit_code(&self) -> i32 {
        use taskloom::Error as Taskloom;
        use taskloom_map::Error as Map;
        match self {
            CommandError::Taskloom(Taskloom::Read { .. } | Taskloom::Graph { .. }) => 2,
            CommandError::Taskloom(Taskloom::Run(_) | Taskloom::Type { .. }) => 1,
            CommandError::Array(ArrayError::Invalid(_) | ArrayError::Store(_)) => 2,
            CommandError::Array(ArrayError::Run(_)) => 1,
            CommandError::Array(ArrayError::Interrupted { signal }) => 128 + signal,
            CommandError::Map(Map::Io(_)) => 1,
            CommandError::Map(_) => 2,
            CommandError::Unfinished(report) => match report.stop {
                Stop::Interrupted(signal) => 128 + signal,
                Stop::Done | Stop::Halted => 1,
            },
            CommandError::Plot(_) | CommandError::Write { .. } | CommandError::Stdout(_) => 1,
            CommandError::Usage(_) => 2,
        }
    }
}

/// Writes the outcome's stdout, or its error's message to stderr, and returns the
/// process exit code.
pub fn finish(outcome: Outcome) -> i32 {
    let error = match outcome.and_then(|stdout| write_stdout(&stdout)) {
        Ok(()) => return 0,
        Err(error) => error,
    };
    eprintln!("taskloom: error: {error}");
    error.exit_code()
}

fn write_stdout(text: &str) -> Result<(), CommandError> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        // A reader that stopped early (`| head`) has had all it wanted.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(CommandError::Stdout(e)),
        _ => Ok(()),
    }
}

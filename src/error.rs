//! The errors of the library. Each variant says whose fault it is (the input, found
//! before any task ran, or the run), so that a front end can decide what to do with
//! it; the library decides no exit codes.

use std::path::PathBuf;

use taskloom_checkpoint::StoreError;
use taskloom_exec::RunError;
use taskloom_graph::GraphError;
use thiserror::Error;

/// Anything that can stop a computation.
#[derive(Debug, Error)]
pub enum Error {
    /// The graph file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A graph could not be saved (`Builder::save`).
    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The graph is invalid; found before any task ran. `file` names where it came from.
    #[error("{}{source}", place(file.as_deref(), source))]
    Graph {
        file: Option<PathBuf>,
        source: GraphError,
    },
    /// The checkpoint directory cannot be used; found before any task ran.
    #[error("checkpoint {0}")]
    Checkpoint(#[from] StoreError),
    /// A task failed while running.
    #[error(transparent)]
    Run(#[from] RunError),
    /// A computed value does not have the type the caller asked for.
    #[error("key '{key}': {message}")]
    Type { key: String, message: String },
}

/// "FILE:" before a syntax error's "LINE:COL: ...", "FILE: " before other messages.
fn place(file: Option<&std::path::Path>, error: &GraphError) -> String {
    match (file, error) {
        (None, _) => String::new(),
        (Some(f), GraphError::Syntax { .. }) => format!("{}:", f.display()),
        (Some(f), _) => format!("{}: ", f.display()),
    }
}

impl From<GraphError> for Error {
    fn from(source: GraphError) -> Self {
        Error::Graph { file: None, source }
    }
}

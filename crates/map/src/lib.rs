//! `taskloom map`'s engine: one command run over many items in parallel, the way
//! `xargs -P` and GNU parallel do, with output kept in whole blocks, timeouts that kill
//! whole process groups, retries, halt policies and a results log that makes a run
//! resumable.
//!
//! The pieces, one file each: where items come from ([`items`]), how an item becomes a
//! command line ([`template`]), how processes are run ([`runner`]), in what order their
//! output is released ([`order`]), the JSON-lines log ([`results`]) and the summary
//! ([`stats`]). [`run`] ties them together; the command line only parses options and
//! prints.

#![warn(missing_docs)]

pub mod items;
pub mod order;
pub mod results;
pub mod runner;
pub mod stats;
pub mod template;

mod map;

pub use items::{Grid, Item, Source};
pub use map::{run, Failure, Finished, Map, Observer, Report, Stop};
pub use runner::{Halt, Options};
pub use stats::Stats;
pub use template::Template;

/// Why a map cannot run at all. Each is the user's to fix, so the command line exits
/// with 2 for every one of them except [`Error::Io`].
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Options or items that do not make a runnable map.
    #[error("{0}")]
    Usage(String),
    /// The command cannot be executed (it does not exist, or is not executable).
    #[error("cannot run '{program}': {source}")]
    Spawn {
        /// The program as the command line names it.
        program: String,
        /// What `posix_spawn` said.
        source: std::io::Error,
    },
    /// A file named by an option cannot be read or written.
    #[error("{path}: {source}")]
    File {
        /// The option and its file, as the user wrote them (`--input x.txt`).
        path: String,
        /// Why the file cannot be used.
        source: std::io::Error,
    },
    /// The machine refused something the run needs (pipes, processes, signals).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// The exit status the command line gives this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Io(_) => 1,
            _ => 2,
        }
    }
}

//! `taskloom map`'s engine: one command run over many items in parallel, the way
//! `xargs -P` and GNU parallel do, with output kept in whole blocks, timeouts that kill
//! whole process groups, retries, halt policies and a results log that makes a run
//! resumable.
//!
//! The pieces, one file each: where items come from ([`items`]), how an item becomes a
//! command line ([`template`]), how a command line becomes a process or an item's own
//! failure ([`spawn`]), how processes are run ([`runner`]) and where ([`place`]), what
//! a failure or a signal does to the rest of the run ([`course`]), in what order their
//! output is released ([`order`]), where it waits for its turn ([`spool`]), the
//! JSON-lines log ([`results`]) and the summary ([`stats`]). [`run`] ties them
//! together; the command line only parses options and prints.

#![warn(missing_docs)]

pub mod course;
pub mod guard;
pub mod items;
pub mod order;
pub mod place;
pub mod results;
pub mod runner;
pub mod spawn;
pub mod spool;
pub mod stats;
pub mod template;

mod map;

use std::fmt;
use std::path::PathBuf;

pub use items::{Grid, Item, Source};
pub use map::{run, Failure, Finished, Map, Observer, Report, Stop};
pub use place::{Local, Place};
pub use runner::{Halt, Options, Stopped};
pub use stats::Stats;
pub use template::Template;

/// A file a map reads or writes, by the part it plays in the run: a front end names
/// the option that gave it, the library only the file.
#[derive(Clone, Debug)]
pub enum MapFile {
    /// The items, one per line; `-` is stdin.
    Input(String),
    /// The results log.
    Results(PathBuf),
}

impl MapFile {
    /// What the file is for, in words.
    pub fn role(&self) -> &'static str {
        match self {
            MapFile::Input(_) => "items file",
            MapFile::Results(_) => "results log",
        }
    }
}

/// The path as given, stdin as `- (stdin)`.
impl fmt::Display for MapFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapFile::Input(path) if path == "-" => f.write_str("- (stdin)"),
            MapFile::Input(path) => f.write_str(path),
            MapFile::Results(path) => write!(f, "{}", path.display()),
        }
    }
}

/// Why a map cannot run at all. Every variant but [`Error::Io`] is the caller's to
/// fix; messages name files and values, never a front end's options, so a command
/// line matches on the variant to say which of its options is at fault.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Options or items that do not make a runnable map (an unknown placeholder).
    #[error("{0}")]
    Usage(String),
    /// No command was given.
    #[error("no command to run")]
    NoCommand,
    /// The source gives no items: a run that does nothing is almost always a mistake
    /// in how the items were given.
    #[error("{}", no_items(.0))]
    NoItems(Source),
    /// Two grids name the same parameter.
    #[error("grid parameter '{0}' is given more than once")]
    RepeatedGrid(String),
    /// More combinations of grid values than can be counted.
    #[error("too many combinations of grid values")]
    TooManyCombinations,
    /// Resuming was asked for without a results log to resume from.
    #[error("resuming needs a results log")]
    ResumeWithoutResults,
    /// The program, the same for every item, cannot be executed (it does not exist,
    /// or is not executable).
    #[error("cannot run '{program}': {source}")]
    Spawn {
        /// The program as the command line names it (bytes that are not UTF-8 as
        /// `\xNN`).
        program: String,
        /// Why not, as `execve` would say it.
        source: std::io::Error,
    },
    /// A file of the map cannot be read or written.
    #[error("{} {file}: {source}", file.role())]
    File {
        /// The file, by its role.
        file: MapFile,
        /// Why the file cannot be used.
        source: std::io::Error,
    },
    /// The machine refused something the run needs (pipes, processes, signals).
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

fn no_items(source: &Source) -> String {
    match source {
        Source::Words(_) => "no items".to_string(),
        Source::Input(path) => format!("no items in {}", MapFile::Input(path.clone())),
        Source::Grids(_) => "no items in the grids".to_string(),
    }
}

//! Everything that makes a graph invalid. All of these are found before any task runs.

use thiserror::Error;

/// An invalid graph: the message names the place (line and column, key, op).
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum GraphError {
    /// The source text does not follow the format.
    #[error("{line}:{column}: {message}")]
    Syntax {
        line: usize,
        column: usize,
        message: String,
    },
    /// A key refers to a key that no binding defines.
    #[error("key '{key}' refers to '{missing}', which is not defined")]
    MissingKey { key: String, missing: String },
    /// A key calls an op that the registry does not know; `suggestion` is the
    /// registered op nearest in spelling, when one is near enough to be a typo.
    #[error("key '{key}' uses unknown op '{op}'{}", did_you_mean(.suggestion.as_deref()))]
    UnknownOp {
        key: String,
        op: String,
        suggestion: Option<String>,
    },
    /// Keys that depend on themselves, listed along the cycle: each refers to the next.
    #[error("cycle: {}", cycle_text(.keys))]
    Cycle { keys: Vec<String> },
    /// A key was requested that the graph does not define.
    #[error("no key '{key}' in the graph")]
    NoSuchKey { key: String },
    /// A graph in the binary form that is damaged or truncated: the offset of the
    /// first byte at fault, and what is wrong there.
    #[error("byte {offset}: {message}")]
    Binary { offset: u64, message: String },
    /// The source is longer than a graph may be (`parse::MAX_SOURCE_BYTES`).
    #[error("larger than {limit} bytes, the size limit of a graph file")]
    TooLarge { limit: u64 },
}

fn did_you_mean(suggestion: Option<&str>) -> String {
    suggestion.map_or_else(String::new, |s| format!(" (did you mean '{s}'?)"))
}

fn cycle_text(keys: &[String]) -> String {
    let mut text = keys.join(" -> ");
    if let Some(first) = keys.first() {
        text.push_str(" -> ");
        text.push_str(first);
    }
    text
}

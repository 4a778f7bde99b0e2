//! Reading a graph file: the JSON form for programs, the text form for people.
//!
//! A file whose first non-blank character is `{` is JSON, otherwise text; both build
//! the same `Graph` through a `GraphBuilder`. The parsers are hand-written recursive
//! descent over bytes: they report line and column, refuse duplicate keys and integers
//! outside 64 bits (which generic JSON readers accept silently), grow the stack for
//! deep nesting, and load a million-task file in well under a second.

mod cursor;
mod json;
mod text;

use crate::error::GraphError;
use crate::graph::Graph;

/// Parses a graph from raw bytes, which must be UTF-8 (an error names the first
/// invalid byte's line and column).
pub fn parse_bytes(source: &[u8]) -> Result<Graph, GraphError> {
    match std::str::from_utf8(source) {
        Ok(text) => parse(text),
        Err(e) => {
            let valid = std::str::from_utf8(&source[..e.valid_up_to()]).unwrap_or_default();
            Err(cursor::Cursor::new(valid).error_at(valid.len(), "invalid UTF-8"))
        }
    }
}

/// Parses a graph in either form, checking that every reference is defined.
pub fn parse(source: &str) -> Result<Graph, GraphError> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let first = source.bytes().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'{') {
        json::parse(source)?.finish()
    } else {
        text::parse(source)?.finish()
    }
}

/// Grows the stack before a parser recurses, so that nesting depth is bounded by memory.
fn nested<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

//! Reading a graph file: the JSON form for programs, the text form for people.
//!
//! A file whose first non-blank character is `{` is JSON, otherwise text; both build
//! the same `Graph` through a `GraphBuilder`. The parsers are hand-written recursive
//! descent over bytes: they report line and column, refuse duplicate keys and integers
//! outside 64 bits (which generic JSON readers accept silently), grow the stack for
//! deep nesting, and load a million-task file in well under a second.
//! - A source is at most [`MAX_SOURCE_BYTES`] long, checked before anything is built:
//!   readers stop there (an endless `/dev/zero` is an error, not a full memory), and
//!   the graph's 32-bit indexes cannot overflow.
//! - Tables are sized once from the source's length, never from a count written in
//!   it, so what parsing reserves is bounded by what was read.

mod cursor;
mod json;
mod text;

use crate::error::GraphError;
use crate::graph::Graph;

/// The longest source a graph is read from: 4 GiB less a byte. Every node, reference,
/// list element and key-name byte of a graph takes at least a byte of its source, and
/// the graph indexes them with 32 bits (half the memory of 64-bit indexes in a
/// million-task graph), so no index of a graph read from a source this long can
/// overflow. It is over a hundred times the benchmarks' million-task file (about
/// 30 MB), and an endless input reaches it in about 20 s (on a 2-core machine) rather
/// than never.
pub const MAX_SOURCE_BYTES: u64 = u32::MAX as u64;

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
    if source.len() as u64 > MAX_SOURCE_BYTES {
        return Err(GraphError::TooLarge {
            limit: MAX_SOURCE_BYTES,
        });
    }
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

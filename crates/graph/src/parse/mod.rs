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
//! - Tables are sized from the source's length, never from a count written in it, so
//!   what parsing reserves is bounded by what was read. A first guess from the length
//!   is corrected once, from the first `SAMPLE_BYTES`' density of keys and nodes,
//!   instead of from a pass over the whole source before parsing.
//! - Each pass over the source (checking UTF-8, then parsing) tells its caller as it
//!   leaves every `PASSED_EVERY` bytes behind (`parse_bytes_releasing`): an owner that
//!   maps the file gives those pages back, so a large file is never in memory whole.

mod cursor;
mod json;
mod text;

use std::borrow::Cow;

use crate::error::GraphError;
use crate::graph::{BindError, Graph, GraphBuilder};
use crate::key::KeyId;

/// The longest source a graph is read from: 4 GiB less a byte. Every node, reference,
/// list element and key-name byte of a graph takes at least a byte of its source, and
/// the graph indexes them with 32 bits (half the memory of 64-bit indexes in a
/// million-task graph), so no index of a graph read from a source this long can
/// overflow. It is over a hundred times the benchmarks' million-task file (about
/// 30 MB), and an endless input reaches it in about 20 s (on a 2-core machine) rather
/// than never.
pub const MAX_SOURCE_BYTES: u64 = u32::MAX as u64;

/// How far a pass goes between reports of the bytes it has passed: large enough that
/// giving pages back costs nothing measurable (a call per 4 MiB), small enough that a
/// large file's pages never add up (4 bytes per task of the million-task JSON file).
const PASSED_EVERY: usize = 4 << 20;

/// How much of the source the parsers read before they size their tables for the rest:
/// enough bindings to know their density (thousands in the benchmarks' files).
const SAMPLE_BYTES: usize = 1 << 20;

/// Parses a graph from raw bytes, which must be UTF-8 (an error names the first
/// invalid byte's line and column).
pub fn parse_bytes(source: &[u8]) -> Result<Graph, GraphError> {
    parse_bytes_releasing(source, &mut |_| {})
}

/// `parse_bytes`, calling `passed(n)` whenever a pass over the source has read its
/// first `n` bytes and will not read them again soon (a later pass or an error
/// message may): an owner that maps a file can drop those pages, which the kernel
/// reads again from the file if they are read again.
pub fn parse_bytes_releasing(
    source: &[u8],
    passed: &mut dyn FnMut(usize),
) -> Result<Graph, GraphError> {
    check_length(source.len())?;
    let text = check_utf8(source, passed)?;
    parse_str(text, passed)
}

/// Parses a graph in either form, checking that every reference is defined.
pub fn parse(source: &str) -> Result<Graph, GraphError> {
    check_length(source.len())?;
    parse_str(source, &mut |_| {})
}

fn check_length(len: usize) -> Result<(), GraphError> {
    if len as u64 > MAX_SOURCE_BYTES {
        return Err(GraphError::TooLarge {
            limit: MAX_SOURCE_BYTES,
        });
    }
    Ok(())
}

/// `source` as text, checked `PASSED_EVERY` bytes at a time.
fn check_utf8<'a>(source: &'a [u8], passed: &mut dyn FnMut(usize)) -> Result<&'a str, GraphError> {
    let mut checked = 0;
    while checked < source.len() {
        let end = (checked + PASSED_EVERY).min(source.len());
        match std::str::from_utf8(&source[checked..end]) {
            Ok(_) => checked = end,
            // A character cut by the piece's end is checked whole with the next piece.
            Err(e) if e.error_len().is_none() && end < source.len() => checked += e.valid_up_to(),
            Err(e) => {
                let valid = &source[..checked + e.valid_up_to()];
                // SAFETY: the bytes before `checked` were checked by earlier pieces, and
                // this piece is valid up to `valid_up_to`.
                let valid = unsafe { std::str::from_utf8_unchecked(valid) };
                return Err(cursor::Cursor::new(valid).error_at(valid.len(), "invalid UTF-8"));
            }
        }
        passed(checked);
    }
    // SAFETY: every byte was checked above, piece by piece, and the pieces end on
    // character boundaries.
    Ok(unsafe { std::str::from_utf8_unchecked(source) })
}

fn parse_str(source: &str, passed: &mut dyn FnMut(usize)) -> Result<Graph, GraphError> {
    let source = source.strip_prefix('\u{feff}').unwrap_or(source);
    let first = source.bytes().find(|b| !b.is_ascii_whitespace());
    if first == Some(b'{') {
        json::parse(source, passed)?.finish()
    } else {
        text::parse(source, passed)?.finish()
    }
}

/// What a parser calls after each binding: reports the bytes passed every
/// `PASSED_EVERY` bytes, and sizes the builder's tables once the sample is read.
pub(super) struct Progress<'p> {
    passed: &'p mut dyn FnMut(usize),
    len: usize,
    next: usize,
    sized: bool,
}

impl<'p> Progress<'p> {
    /// A parser's progress over a source of `len` bytes, and a builder sized for the
    /// sample: tables for the rest of a large source wait for the sample's density.
    fn start(len: usize, passed: &'p mut dyn FnMut(usize)) -> (Self, GraphBuilder) {
        let sample = len.min(SAMPLE_BYTES);
        // The least a binding takes is about 8 bytes (`k = f()` and its newline) and
        // a node 2 (`1,`): guesses that only the sample's bytes bound.
        let builder = GraphBuilder::with_capacity(sample / 8 + 1, sample / 2 + 1);
        let progress = Progress {
            passed,
            len,
            next: PASSED_EVERY,
            sized: len <= SAMPLE_BYTES,
        };
        (progress, builder)
    }

    /// Called with the position after a binding.
    #[inline]
    fn at(&mut self, pos: usize, graph: &mut GraphBuilder) {
        if !self.sized && pos >= SAMPLE_BYTES {
            self.sized = true;
            // The rest of the source at the sample's density, and an eighth more for
            // a denser tail: one growth instead of a doubling per table.
            let scale = |n: usize| n + n * (self.len - pos) / pos + n / 8;
            let (keys, nodes) = graph.sizes();
            graph.reserve(scale(keys) - keys, scale(nodes) - nodes);
        }
        if pos >= self.next {
            self.next = pos + PASSED_EVERY;
            (self.passed)(pos);
        }
    }
}

/// The key names of the binding being read, looked up at its end: each name's slot
/// in the key table is fetched as the name is read, so the trips to memory of a
/// binding's names overlap instead of following one another (a binding that sums 32
/// keys makes 33). Ids are the same as if each name were looked up as it was read:
/// the binding's key first, then its references in order.
#[derive(Default)]
pub(super) struct Names<'a> {
    key: Option<Name<'a>>,
    /// Each reference's node and name.
    refs: Vec<(u32, Name<'a>)>,
}

/// A name whose lookup waits, or the id it was given already.
enum Name<'a> {
    Waiting(&'a str, u64),
    Found(KeyId),
}

impl<'a> Names<'a> {
    /// Starts a binding of the key `name`.
    pub fn define(&mut self, graph: &mut GraphBuilder, name: Cow<'a, str>) {
        self.refs.clear();
        self.key = Some(match name {
            Cow::Borrowed(name) => Name::Waiting(name, graph.key_hash(name)),
            Cow::Owned(name) => Name::Found(graph.key(&name)),
        });
    }

    /// Appends a reference to `name` to the binding's expression.
    pub fn reference(&mut self, graph: &mut GraphBuilder, name: Cow<'a, str>) {
        match name {
            Cow::Borrowed(name) => {
                let hash = graph.key_hash(name);
                let at = graph.arena().open_ref();
                self.refs.push((at, Name::Waiting(name, hash)));
            }
            // A name with escapes lives no longer than this call: it is looked up now,
            // after the names read before it, to keep the order of first appearance.
            Cow::Owned(name) => {
                self.look_up(graph);
                let at = graph.arena().open_ref();
                self.refs.push((at, Name::Found(graph.key(&name))));
            }
        }
    }

    /// Ends the binding: its expression is the nodes appended since `start`.
    pub fn bind(&mut self, graph: &mut GraphBuilder, start: u32) -> Result<(), BindError> {
        let key = self.look_up(graph);
        for (at, name) in self.refs.drain(..) {
            let Name::Found(id) = name else {
                unreachable!("look_up finds every name")
            };
            graph.arena().close_ref(at, id);
        }
        graph.bind(key, start)
    }

    /// Looks up every waiting name, in order; returns the binding's key.
    fn look_up(&mut self, graph: &mut GraphBuilder) -> KeyId {
        let key = self.key.as_mut().expect("a binding was started");
        for name in std::iter::once(key).chain(self.refs.iter_mut().map(|(_, n)| n)) {
            if let Name::Waiting(text, hash) = *name {
                *name = Name::Found(graph.key_hashed(text, hash));
            }
        }
        match self.key {
            Some(Name::Found(id)) => id,
            _ => unreachable!("the key was just looked up"),
        }
    }
}

/// Grows the stack before a parser recurses, so that nesting depth is bounded by memory.
fn nested<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

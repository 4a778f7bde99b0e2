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
//! - A source can be read in pieces on several threads (`parts`, `parse_bytes_in_parts`):
//!   each parser reads a `Piece` of it.

mod cursor;
mod json;
mod parts;
mod text;

use std::borrow::Cow;
use std::ops::Range;

use crate::binary;
use crate::error::GraphError;
use crate::graph::{BindError, Graph, GraphBuilder};
use crate::key::{KeyId, FETCH_AHEAD};
use crate::node::Span;
use cursor::Cursor;

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
pub(crate) const PASSED_EVERY: usize = 4 << 20;

/// How much of the source the parsers read before they size their tables for the rest:
/// enough bindings to know their density (thousands in the benchmarks' files).
const SAMPLE_BYTES: usize = 1 << 20;

/// What a parser calls with each range of the source it has read and will not read
/// again soon (a later pass or an error message may); parsers on several threads call
/// it at once, each with its own ranges.
pub type Passed<'p> = dyn Fn(Range<usize>) + Sync + 'p;

/// Parses a graph from raw bytes: the binary form (`binary`), recognised by its
/// magic, or text, which must be UTF-8 (an error names the first invalid byte's line
/// and column).
pub fn parse_bytes(source: &[u8]) -> Result<Graph, GraphError> {
    parse_bytes_releasing(source, &|_| {})
}

/// `parse_bytes`, calling `passed` with the ranges of the source it is done with: an
/// owner that maps a file can drop those pages, which the kernel reads again from the
/// file if they are read again.
pub fn parse_bytes_releasing(source: &[u8], passed: &Passed) -> Result<Graph, GraphError> {
    parse_in(source, 1, passed)
}

/// `parse_bytes`, reading the source in at most `parts` pieces at once, on as many
/// threads: the same graph, or the same error, as one parser gives.
///
/// It is not what `parse_bytes` does: while the main parser reads the first piece,
/// the names of the others wait in memory (about 90 bytes per task more at the peak,
/// for the benchmarks' 1M-task tree), and on the 2-core benchmark machine, shared
/// with other work, it was no faster (bench/LOAD_RESULTS.md). On idle cores, the
/// critical path measured per thread is 0.7-0.9 of one parser's.
pub fn parse_bytes_in_parts(source: &[u8], parts: usize) -> Result<Graph, GraphError> {
    parse_in(source, parts, &|_| {})
}

/// Parses a graph in either form, checking that every reference is defined.
pub fn parse(source: &str) -> Result<Graph, GraphError> {
    check_length(source.len())?;
    parse_str(source, &|_| {})
}

/// Reads `source` in `parts` pieces if it can be cut, with one parser otherwise or if
/// a piece fails: only that parser reports errors.
fn parse_in(source: &[u8], parts: usize, passed: &Passed) -> Result<Graph, GraphError> {
    check_length(source.len())?;
    if binary::is_binary(source) {
        return binary::read(source, passed);
    }
    if parts > 1 {
        if let Some(graph) = parts::parse(source, parts, passed) {
            return graph.finish();
        }
    }
    let text = check_utf8(source, 0, passed)?;
    parse_str(text, passed)
}

fn check_length(len: usize) -> Result<(), GraphError> {
    if len as u64 > MAX_SOURCE_BYTES {
        return Err(GraphError::TooLarge {
            limit: MAX_SOURCE_BYTES,
        });
    }
    Ok(())
}

/// `source`, which starts at byte `offset` of the whole, as text, checked
/// `PASSED_EVERY` bytes at a time.
fn check_utf8<'a>(source: &'a [u8], offset: usize, passed: &Passed) -> Result<&'a str, GraphError> {
    let mut checked = 0;
    while checked < source.len() {
        let from = checked;
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
                return Err(Cursor::new(valid).error_at(valid.len(), "invalid UTF-8"));
            }
        }
        passed(offset + from..offset + checked);
    }
    // SAFETY: every byte was checked above, piece by piece, and the pieces end on
    // character boundaries.
    Ok(unsafe { std::str::from_utf8_unchecked(source) })
}

fn parse_str(source: &str, passed: &Passed) -> Result<Graph, GraphError> {
    let source = without_bom(source);
    let piece = Piece::whole(source.len());
    let (graph, _) = if is_json(source.as_bytes()) {
        json::parse(source, piece, passed)?
    } else {
        text::parse(source, piece, passed)?
    };
    graph.finish()
}

/// `source` without the byte order mark an editor may have written first.
fn without_bom(source: &str) -> &str {
    source.strip_prefix('\u{feff}').unwrap_or(source)
}

/// Whether `source` (without its byte order mark) is in the JSON form.
fn is_json(source: &[u8]) -> bool {
    source.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// The part of the source a parser reads: all of it, or a piece cut where a binding
/// starts (`parts`).
#[derive(Clone, Copy)]
struct Piece {
    /// Where the piece starts in the source, for the ranges reported as passed.
    offset: usize,
    /// How many bytes the parser's tables are sized for: the whole source's for the
    /// main parser, which builds the graph; the piece's for one read ahead.
    len: usize,
    /// The piece starts the source (with the JSON form's `{`).
    first: bool,
    /// The piece ends the source (with the JSON form's `}`); any other ends where
    /// the next piece's first binding starts.
    last: bool,
    /// The piece is read ahead, for the main parser to look its names up later: its
    /// parser looks none up (`Names::ahead`).
    ahead: bool,
}

impl Piece {
    /// A whole source of `len` bytes.
    fn whole(len: usize) -> Self {
        Piece {
            offset: 0,
            len,
            first: true,
            last: true,
            ahead: false,
        }
    }
}

/// What a parser calls after each binding: reports the bytes passed every
/// `PASSED_EVERY` bytes, and sizes the builder's tables once the sample is read.
struct Progress<'p> {
    passed: &'p Passed<'p>,
    len: usize,
    offset: usize,
    next: usize,
    sized: bool,
}

impl<'p> Progress<'p> {
    /// A parser's progress over `piece`, and a builder sized for the sample: tables
    /// for the rest of a large source wait for the sample's density. A piece read
    /// ahead has no key table of its own to size.
    fn start(piece: Piece, passed: &'p Passed<'p>) -> (Self, GraphBuilder) {
        let sample = piece.len.min(SAMPLE_BYTES);
        // The least a binding takes is about 8 bytes (`k = f()` and its newline) and
        // a node 2 (`1,`): guesses that only the sample's bytes bound.
        let keys = if piece.ahead { 0 } else { sample / 8 + 1 };
        let builder = GraphBuilder::with_capacity(keys, sample / 2 + 1);
        let progress = Progress {
            passed,
            len: piece.len,
            offset: piece.offset,
            next: PASSED_EVERY,
            sized: piece.len <= SAMPLE_BYTES,
        };
        (progress, builder)
    }

    /// Called with the position after a binding, from the piece's start.
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
            let from = self.offset + self.next - PASSED_EVERY;
            self.next = pos + PASSED_EVERY;
            (self.passed)(from..self.offset + pos);
        }
    }
}

/// Key names a parser has read, looked up in batches: each name's slot in the key
/// table is fetched as the name is read, and looked up `BATCH` bindings later, so the
/// trips to memory of many names overlap instead of following one another.
///
/// Nothing a user sees changes: ids are given in order of first appearance, as if
/// each name were looked up when read, and a key bound twice is still the first error
/// in the file, since a parser that fails looks up the names before the failure first
/// (`first_error`).
#[derive(Default)]
struct Names<'a> {
    /// Every name not yet looked up, in order of appearance.
    waiting: Vec<Waiting<'a>>,
    /// The bindings ended since the last lookup: each key's span and source position.
    ended: Vec<(Span, usize)>,
    /// The names are read ahead of the main parser, which looks them up when it
    /// reaches them (`parts`): none is looked up here, and a name with escapes is
    /// kept in the reading builder's key table meanwhile.
    ahead: bool,
}

/// A name read but not yet looked up, or the id it got when it could not wait.
#[derive(Clone, Copy)]
enum Waiting<'a> {
    /// The key of a binding.
    Key(Lookup<'a>),
    /// A reference: the node that takes its key, and the name.
    Ref(u32, Lookup<'a>),
}

#[derive(Clone, Copy)]
enum Lookup<'a> {
    Name(&'a str, u64),
    Found(KeyId),
}

/// Bindings whose names wait to be looked up together: enough that the fetch of the
/// first is done before it is needed, few enough that they stay in the cache.
const BATCH: usize = 32;

impl<'a> Names<'a> {
    /// Names for a parser of `piece`.
    fn new(piece: Piece) -> Self {
        Names {
            ahead: piece.ahead,
            ..Names::default()
        }
    }

    /// Starts a binding of the key `name`.
    fn define(&mut self, graph: &mut GraphBuilder, name: Cow<'a, str>) -> Result<(), Refused> {
        let lookup = self.lookup(graph, name)?;
        self.waiting.push(Waiting::Key(lookup));
        Ok(())
    }

    /// Appends a reference to `name` to the current binding's expression.
    fn reference(&mut self, graph: &mut GraphBuilder, name: Cow<'a, str>) -> Result<(), Refused> {
        let lookup = self.lookup(graph, name)?;
        let at = graph.arena().open_ref();
        self.waiting.push(Waiting::Ref(at, lookup));
        Ok(())
    }

    /// A node was inserted at `at` of the arena (a call before its arguments): the
    /// references opened after it, which wait for their keys, moved one on.
    fn inserted(&mut self, at: u32) {
        for waiting in self.waiting.iter_mut().rev() {
            match waiting {
                Waiting::Ref(opened, _) if *opened >= at => *opened += 1,
                _ => return,
            }
        }
    }

    /// Ends the current binding, which started at byte `at` of the source: its
    /// expression is the nodes appended since `start`.
    fn end(&mut self, graph: &mut GraphBuilder, start: u32, at: usize) -> Result<(), Refused> {
        self.ended.push((graph.arena().span_from(start), at));
        if self.ended.len() == BATCH && !self.ahead {
            self.look_up(graph)?;
        }
        Ok(())
    }

    /// Binds every ended binding; what a parser calls when it reaches the end (of its
    /// piece: a piece read ahead leaves them to the main parser).
    fn finish(&mut self, graph: &mut GraphBuilder) -> Result<(), Refused> {
        if self.ahead {
            return Ok(());
        }
        self.look_up(graph)
    }

    /// The error a parser reports when it fails with `error`: a key bound twice
    /// before the failure comes first, as it would had every binding been bound as
    /// it ended.
    fn first_error(
        &mut self,
        graph: &mut GraphBuilder,
        c: &Cursor<'_>,
        error: GraphError,
    ) -> GraphError {
        match self.look_up(graph) {
            Ok(()) => error,
            Err(refused) => refused.place(c),
        }
    }

    /// How a name is kept until its lookup: a name with escapes lives no longer than
    /// this call, so it is looked up now, after every name read before it (or, read
    /// ahead, kept in the reading builder's table).
    fn lookup(
        &mut self,
        graph: &mut GraphBuilder,
        name: Cow<'a, str>,
    ) -> Result<Lookup<'a>, Refused> {
        Ok(match name {
            Cow::Borrowed(name) => Lookup::Name(name, graph.key_hash(name)),
            Cow::Owned(name) if self.ahead => Lookup::Found(graph.key(&name)),
            Cow::Owned(name) => {
                self.look_up(graph)?;
                Lookup::Found(graph.key(&name))
            }
        })
    }

    /// Looks up every waiting name in order and binds every ended binding. The
    /// current binding, if not ended, keeps its key's id for when it ends.
    fn look_up(&mut self, graph: &mut GraphBuilder) -> Result<(), Refused> {
        let open = look_up_in_order(graph, &self.waiting, &mut self.ended.drain(..));
        // Every name was looked up, or the error is the parser's last.
        self.waiting.clear();
        if let Some(key) = open? {
            self.waiting.push(Waiting::Key(Lookup::Found(key)));
        }
        Ok(())
    }
}

/// Looks up `waiting` in order, binding each key whose binding is complete to the
/// next of `ended`; returns the last key if its binding has not ended.
fn look_up_in_order(
    graph: &mut GraphBuilder,
    waiting: &[Waiting<'_>],
    ended: &mut dyn Iterator<Item = (Span, usize)>,
) -> Result<Option<KeyId>, Refused> {
    let mut key = None;
    for (i, entry) in waiting.iter().enumerate() {
        if let Some(Waiting::Key(Lookup::Name(_, hash)) | Waiting::Ref(_, Lookup::Name(_, hash))) =
            waiting.get(i + FETCH_AHEAD)
        {
            graph.fetch_key(*hash);
        }
        match *entry {
            Waiting::Key(lookup) => {
                if let Some(done) = key.replace(found(graph, lookup)) {
                    bind(graph, done, ended.next())?;
                }
            }
            Waiting::Ref(at, lookup) => {
                let id = found(graph, lookup);
                graph.arena().close_ref(at, id);
            }
        }
    }
    match key {
        Some(last) => match ended.next() {
            Some(span) => bind(graph, last, Some(span)).map(|()| None),
            None => Ok(Some(last)),
        },
        None => Ok(None),
    }
}

fn found(graph: &mut GraphBuilder, lookup: Lookup<'_>) -> KeyId {
    match lookup {
        Lookup::Name(name, hash) => graph.key_hashed(name, hash),
        Lookup::Found(id) => id,
    }
}

fn bind(graph: &mut GraphBuilder, key: KeyId, ended: Option<(Span, usize)>) -> Result<(), Refused> {
    let (span, at) = ended.expect("a binding ends before the next one starts");
    graph.bind(key, span).map_err(|e| Refused(at, e))
}

/// A binding the builder refused, and the byte of the source where it starts.
struct Refused(usize, BindError);

impl Refused {
    /// The syntax error that names the binding's place.
    fn place(self, c: &Cursor<'_>) -> GraphError {
        c.error_at(self.0, self.1.to_string())
    }
}

/// Grows the stack before a parser recurses, so that nesting depth is bounded by memory.
fn nested<T>(f: impl FnOnce() -> T) -> T {
    stacker::maybe_grow(64 * 1024, 1024 * 1024, f)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(graph: &Graph) -> Vec<&str> {
        graph.keys().map(|k| graph.name(k)).collect()
    }

    #[test]
    fn ids_follow_first_appearance_across_batches_and_escapes() {
        // More bindings than a batch, references ahead and behind, and names with
        // escapes (looked up at once) between names that wait.
        let mut bindings = Vec::new();
        let mut expected = Vec::new();
        for i in 0..100 {
            let ahead = format!("k{}", i + 1);
            let escaped = format!("e{i}");
            bindings.push(format!(
                r#""k{i}": {{"op": "list", "args": [{{"ref": "{ahead}"}}, {{"ref": "\u0065{i}"}}]}}"#
            ));
            bindings.push(format!(r#""{escaped}": {i}"#));
            for name in [format!("k{i}"), ahead, escaped] {
                if !expected.contains(&name) {
                    expected.push(name);
                }
            }
        }
        bindings.push(r#""k100": 0"#.to_string());
        let graph = parse(&format!("{{{}}}", bindings.join(",\n"))).unwrap();
        assert_eq!(names(&graph), expected);
        let k0 = graph.key("k0").unwrap();
        let deps: Vec<&str> = graph
            .dependencies(k0)
            .iter()
            .map(|&k| graph.name(k))
            .collect();
        assert_eq!(deps, ["k1", "e0"]);
    }

    #[test]
    fn a_key_bound_twice_is_reported_before_a_later_syntax_error() {
        for src in [
            "a = 1\nb = 2\na = 3\nc = (\n",
            "{\"a\": 1, \"b\": 2,\n\"a\": 3, \"c\": ]}",
        ] {
            match parse(src) {
                Err(GraphError::Syntax { line, message, .. }) => {
                    assert_eq!(line, if src.starts_with('{') { 2 } else { 3 }, "{src}");
                    assert!(message.contains("'a' is defined twice"), "{message}");
                }
                other => panic!("{src}: {other:?}"),
            }
        }
    }

    #[test]
    fn passes_report_their_progress_and_check_utf8_across_pieces() {
        // A character cut by the first piece's end, then an invalid byte later.
        let mut src = "a = \"".to_string();
        src.push_str(&"x".repeat(PASSED_EVERY - 6));
        src.push_str("é\"\nb = 1\n");
        let passed = std::sync::Mutex::new(Vec::new());
        let report = |range| passed.lock().unwrap().push(range);
        let graph = parse_bytes_releasing(src.as_bytes(), &report).unwrap();
        assert_eq!(graph.len(), 2);
        let passed = passed.into_inner().unwrap();
        assert!(passed.contains(&(0..PASSED_EVERY - 1)), "{passed:?}");
        assert!(passed.iter().any(|range| range.end == src.len()));
        let mut bad = src.into_bytes();
        bad.extend_from_slice(b"c = \"\xff\"\n");
        match parse_bytes(&bad) {
            Err(GraphError::Syntax {
                line,
                column,
                message,
            }) => {
                assert_eq!((line, column, message.as_str()), (3, 6, "invalid UTF-8"));
            }
            other => panic!("{other:?}"),
        }
    }
}

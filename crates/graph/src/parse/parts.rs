//! Reading a source on several threads: it is cut into pieces where bindings start;
//! the main parser reads the first piece while the others are read ahead on threads of
//! their own, then it looks up the names of each piece read ahead, in file order.
//!
//! - Ids follow first appearance in the file, and looking names up in a table far
//!   larger than the caches is most of what parsing costs after reading bytes, so the
//!   lookups stay in file order on one thread (`look_up_in_order`, fetching names
//!   ahead); what the other cores do is the rest: tokens, nodes, ops, literals and
//!   the hashes of the names.
//! - The main parser both reads and looks up, the others only read, so the first piece
//!   is the shorter (`first_share`): the pieces read ahead are ready when it needs them.
//! - A cut is a guess from a cheap scan (a line `NAME =` in the text form, `, "NAME":
//!   VALUE,` in JSON), which the parse checks: the piece before a cut must end a
//!   binding of the top level right there (`Piece::last`).
//! - Anything but a graph read exactly as one parser reads it (a wrong guess, a syntax
//!   error, a key bound twice) makes `parse` give up, and one parser reads the whole
//!   source again: it alone reports errors, so every message is its own, the first
//!   error in file order.

use std::ops::Range;

use super::{
    check_utf8, is_json, json, look_up_in_order, text, Lookup, Names, Passed, Piece, Refused,
    Waiting, PASSED_EVERY,
};
use crate::error::GraphError;
use crate::graph::GraphBuilder;
use crate::node::Span;

/// How far the scan for a JSON binding's end goes before it takes the guess as it is
/// (the parse checks it): a value longer than this is rare and costs only the scan.
const PROBE_BYTES: usize = 4 << 10;

/// How many names the main parser looks up between reports of the source it has
/// passed (about 2 MB of the benchmarks' JSON file).
const LOOKUP_RUN: usize = 1 << 16;

/// The byte order mark an editor may write first.
const BOM: &[u8] = "\u{feff}".as_bytes();

/// The builder of the graph in `source`, read in at most `parts` pieces; `None` if
/// it has no cut or a piece was not read as one parser reads it.
pub(super) fn parse(source: &[u8], parts: usize, passed: &Passed) -> Option<GraphBuilder> {
    let skip = if source.starts_with(BOM) {
        BOM.len()
    } else {
        0
    };
    let body = &source[skip..];
    let json = is_json(body);
    let mut starts = vec![0];
    starts.extend(cuts(body, json, parts));
    if starts.len() == 1 {
        return None;
    }
    let ranges: Vec<Range<usize>> = (0..starts.len())
        .map(|i| starts[i]..starts.get(i + 1).copied().unwrap_or(body.len()))
        .collect();
    std::thread::scope(|scope| {
        let last = ranges.len() - 1;
        let ahead: Vec<_> = (1..ranges.len())
            .map(|i| {
                let range = ranges[i].clone();
                let piece = Piece {
                    offset: skip + range.start,
                    len: range.len(),
                    first: false,
                    last: i == last,
                    ahead: true,
                };
                scope.spawn(move || read(&body[range], json, piece, passed).ok())
            })
            .collect();
        let main = Piece {
            offset: skip,
            len: body.len(),
            first: true,
            last: false,
            ahead: false,
        };
        let (mut graph, _) = read(&body[ranges[0].clone()], json, main, passed).ok()?;
        for (handle, range) in ahead.into_iter().zip(&ranges[1..]) {
            let joined = handle.join();
            let (piece, names) = joined.unwrap_or_else(|panic| std::panic::resume_unwind(panic))?;
            append(&mut graph, piece, names, skip + range.start, passed).ok()?;
        }
        Some(graph)
    })
}

/// The share of the source the main parser reads itself, of `parts` pieces. Reading
/// (tokens, nodes) costs about twice what looking the names up costs (measured on the
/// benchmarks' 1M-task tree, per thread: 0.40 s and 0.20 s of CPU for the JSON form),
/// so the first piece takes 2/(3 parts - 1) of the source (2/5 of it on 2 cores) and the
/// others share the rest: a piece read ahead is then ready when the main parser reaches it.
fn first_share(len: usize, parts: usize) -> usize {
    len / (3 * parts - 1) * 2
}

/// Reads `bytes`, the piece `piece` of the source.
fn read<'a>(
    bytes: &'a [u8],
    json: bool,
    piece: Piece,
    passed: &Passed,
) -> Result<(GraphBuilder, Names<'a>), GraphError> {
    let source = check_utf8(bytes, piece.offset, passed)?;
    if json {
        json::parse(source, piece, passed)
    } else {
        text::parse(source, piece, passed)
    }
}

/// Appends a piece read ahead, which starts at byte `offset` of the source, to the
/// graph the main parser has built so far: its nodes, then its names, looked up in
/// runs of complete bindings, the source passed after each run.
fn append(
    graph: &mut GraphBuilder,
    piece: GraphBuilder,
    names: Names<'_>,
    offset: usize,
    passed: &Passed,
) -> Result<(), Refused> {
    let (start, escaped) = graph.append_nodes(piece);
    // A name with escapes waits in the piece's own table, by its id there.
    let here = |lookup| match lookup {
        Lookup::Found(id) => {
            let name = escaped.name(id);
            Lookup::Name(name, escaped.hash(name))
        }
        name => name,
    };
    let waiting: Vec<Waiting<'_>> = names
        .waiting
        .into_iter()
        .map(|waiting| match waiting {
            Waiting::Key(lookup) => Waiting::Key(here(lookup)),
            Waiting::Ref(at, lookup) => Waiting::Ref(start + at, here(lookup)),
        })
        .collect();
    let last_at = std::cell::Cell::new(0);
    let mut ended = names.ended.into_iter().map(|(span, at)| {
        last_at.set(at);
        let span = Span {
            start: start + span.start,
            end: start + span.end,
        };
        (span, offset + at)
    });
    let mut done = 0;
    let mut released = 0;
    while done < waiting.len() {
        // A run ends where a binding starts, so that every binding in it is complete.
        let mut end = (done + LOOKUP_RUN).min(waiting.len());
        while end < waiting.len() && !matches!(waiting[end], Waiting::Key(_)) {
            end += 1;
        }
        let open = look_up_in_order(graph, &waiting[done..end], &mut ended)?;
        debug_assert!(open.is_none(), "a run of complete bindings");
        if last_at.get() >= released + PASSED_EVERY {
            passed(offset + released..offset + last_at.get());
            released = last_at.get();
        }
        done = end;
    }
    Ok(())
}

/// Where pieces after the first start: up to `parts - 1` positions where a binding
/// seems to start, the first after `first_share` of the source, the others evenly
/// spread over the rest.
fn cuts(body: &[u8], json: bool, parts: usize) -> Vec<usize> {
    let first = first_share(body.len(), parts);
    let rest = (body.len() - first) / (parts - 1).max(1);
    let mut cuts: Vec<usize> = Vec::new();
    for i in 0..parts.saturating_sub(1) {
        let target = (first + i * rest).max(cuts.last().map_or(1, |&cut| cut + 1));
        if target >= body.len() {
            break;
        }
        let found = if json {
            json_cut(body, target)
        } else {
            text_cut(body, target)
        };
        match found {
            Some(cut) => cuts.push(cut),
            None => break,
        }
    }
    cuts
}

/// The first position from `from` where a line of the text form starts a binding:
/// blanks, then `NAME =`.
fn text_cut(body: &[u8], from: usize) -> Option<usize> {
    let mut line = from;
    loop {
        line += body[line..].iter().position(|&b| b == b'\n')? + 1;
        let start = skip(body, line, b" \t\r");
        let name = body[start..]
            .iter()
            .position(|&b| !(b.is_ascii_alphanumeric() || b == b'_'))
            .map_or(body.len(), |n| start + n);
        let starts_name = body
            .get(start)
            .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_');
        if starts_name && body.get(skip(body, name, b" \t\r")) == Some(&b'=') {
            return Some(start);
        }
    }
}

/// The first position from `from` where a binding of the JSON form's graph object
/// seems to start: `, "NAME": VALUE,` (a field of an expression object after a comma is
/// the last of its object: `}` follows its value).
fn json_cut(body: &[u8], from: usize) -> Option<usize> {
    let mut comma = from;
    loop {
        comma += body[comma..].iter().position(|&b| b == b',')? + 1;
        let key = skip(body, comma, JSON_SPACE);
        if body.get(key) == Some(&b'"') && json_binding_at(body, key) {
            return Some(key);
        }
    }
}

/// JSON's whitespace.
const JSON_SPACE: &[u8] = b" \t\r\n";

/// Whether the string at `key` is followed by `:`, a value, and `,`: the value is
/// skipped by its brackets and strings, up to `PROBE_BYTES`.
fn json_binding_at(body: &[u8], key: usize) -> bool {
    let Some(after) = string_end(body, key) else {
        return false;
    };
    let colon = skip(body, after, JSON_SPACE);
    if body.get(colon) != Some(&b':') {
        return false;
    }
    let mut depth = 0usize;
    let mut i = colon + 1;
    let probe_end = body.len().min(i + PROBE_BYTES);
    while i < probe_end {
        match body[i] {
            b'"' => match string_end(body, i) {
                Some(end) => {
                    i = end;
                    continue;
                }
                None => return false,
            },
            b'[' | b'{' => depth += 1,
            b']' | b'}' if depth == 0 => return false,
            b']' | b'}' => depth -= 1,
            b',' if depth == 0 => return true,
            _ => {}
        }
        i += 1;
    }
    i == probe_end && probe_end < body.len()
}

/// The position after the string that starts at `open`, if it ends on its line.
fn string_end(body: &[u8], open: usize) -> Option<usize> {
    let mut i = open + 1;
    while let Some(&b) = body.get(i) {
        match b {
            b'"' => return Some(i + 1),
            b'\\' => i += 2,
            b'\n' => return None,
            _ => i += 1,
        }
    }
    None
}

/// The first position from `at` whose byte is not one of `bytes`.
fn skip(body: &[u8], at: usize, bytes: &[u8]) -> usize {
    body[at.min(body.len())..]
        .iter()
        .position(|b| !bytes.contains(b))
        .map_or(body.len(), |n| at + n)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(source: &str, parts: usize) -> Vec<&str> {
        let json = is_json(source.as_bytes());
        let mut starts = vec![0];
        starts.extend(cuts(source.as_bytes(), json, parts));
        starts.push(source.len());
        starts.windows(2).map(|w| &source[w[0]..w[1]]).collect()
    }

    #[test]
    fn cuts_fall_where_bindings_start() {
        let text = "a = inc(1)\n  b = [1,\n c]\nc = d\n# e = 1\nd = 2\n";
        assert_eq!(
            pieces(text, 2),
            ["a = inc(1)\n  b = [1,\n c]\n", "c = d\n# e = 1\nd = 2\n"]
        );
        let json = r#"{"a": {"op": "f", "args": [1]}, "b": {"args": [{"ref": "a"}], "op": "g"}, "c": [1, {"ref": "b"}], "d": 4}"#;
        let cut = pieces(json, 2);
        assert_eq!(cut[1], r#""c": [1, {"ref": "b"}], "d": 4}"#);
    }

    #[test]
    fn pieces_read_ahead_give_the_graph_one_parser_gives() {
        let mut text = String::new();
        for i in 0..200 {
            text.push_str(&format!(
                "k{i} = add(k{}, \"s{i}\", {}, 2.5)\n",
                i + 1,
                1i64 << 40
            ));
        }
        text.push_str("k200 = 0\n");
        let json = format!(
            "{{{}}}",
            (0..200)
                .map(|i| format!(
                    r#""k\u0030{i}": {{"op": "f{}", "args": [{{"ref": "k0{}"}}, 1.5]}}"#,
                    i % 3,
                    i + 1
                ))
                .chain(["\"k0200\": 0".to_string()])
                .collect::<Vec<_>>()
                .join(",\n")
        );
        for source in [text, json] {
            let one = super::super::parse(&source).unwrap();
            let many = parse(source.as_bytes(), 4, &|_| {}).expect("read in pieces");
            let many = many.finish().unwrap();
            let dump = |g: &crate::Graph| {
                let keys: Vec<_> = g
                    .keys()
                    .map(|k| (g.name(k).to_string(), g.expr(k), g.dependents(k).to_vec()))
                    .collect();
                format!("{keys:?} {:?} {}", g.op_names(), g.is_backward_only())
            };
            assert_eq!(dump(&one), dump(&many));
        }
    }
}

//! Reading a graph in the binary form, checking every byte it uses.
//!
//! - The header's counts fix the length of every section, so the file's length is
//!   checked against them first: a truncated file is named as such, at its end, and
//!   nothing is allocated from a count before the bytes it counts are known to be there.
//! - Then each section once, in file order; an error names the offset of the first
//!   byte at fault. The bytes read are reported as passed after each section, and
//!   every `PASSED_EVERY` bytes of the nodes, the largest.

use super::{node, value, HEADER, MAGIC, NODE, PREFIX, VERSION};
use crate::error::GraphError;
use crate::expr::OpId;
use crate::graph::Graph;
use crate::key::{KeyId, KeyTable};
use crate::node::{ExprArena, Node, Span};
use crate::parse::{Passed, PASSED_EVERY};
use crate::value::Value;

/// Whether `source` is meant to be a graph in the binary form: it starts as `MAGIC`
/// does, which no text or JSON file can.
pub fn is_binary(source: &[u8]) -> bool {
    source.starts_with(&MAGIC[..PREFIX])
}

/// The graph `source` holds in the binary form, or where and why it is not one;
/// `passed` is told of the bytes read, section by section.
pub fn read(source: &[u8], passed: &Passed) -> Result<Graph, GraphError> {
    let mut r = Reader {
        source,
        pos: 0,
        passed: 0,
    };
    let header = Header::read(&mut r)?;
    let op_ends = r.ends(header.ops, header.op_text)?;
    let op_text = r.names(&op_ends, header.op_text)?;
    let ops = name_slices(op_text, &op_ends).map(str::to_string).collect();
    let key_ends = r.ends(header.keys, header.key_text)?;
    let key_text_at = r.pos;
    let key_text = r.names(&key_ends, header.key_text)?.to_string();
    // The table finds a repeated name; the graph keeps the names alone.
    let (keys, duplicate) = KeyTable::from_names(key_text, key_ends);
    let keys = keys.into_names();
    if let Some(id) = duplicate {
        let at = key_text_at + keys.range(id).start;
        let message = format!("key '{}' is named twice", keys.name(id));
        return Err(r.error_at(at, message));
    }
    r.pass(passed);
    let spans_at = r.pos;
    let node_ends = r.ends(header.keys, header.nodes)?;
    let spans = spans_of(&node_ends);
    let (nodes, shape) = r
        .nodes(&spans, &header, passed)
        .map_err(|fault| match fault {
            Fault::At(error) => error,
            Fault::Unfinished(key, missing) => {
                let at = spans_at + 4 * key.index();
                r.error_at(
                    at,
                    format!("key {} lacks {missing} nodes of its expression", key.0),
                )
            }
        })?;
    r.pass(passed);
    let literals = r.literals(header.literals)?;
    r.pass(passed);
    Ok(Graph::assemble(
        keys,
        spans,
        ExprArena::from_parts(nodes, literals),
        ops,
        shape.references,
        shape.backward_only,
    ))
}

/// The counts the header gives.
struct Header {
    keys: u32,
    nodes: u32,
    literals: u32,
    ops: u32,
    key_text: u32,
    op_text: u32,
    literal_bytes: u32,
}

impl Header {
    fn read(r: &mut Reader<'_>) -> Result<Header, GraphError> {
        let magic = r.take(MAGIC.len(), "the magic")?;
        if let Some(i) = magic.iter().zip(&MAGIC).position(|(a, b)| a != b) {
            return Err(r.error_at(i, "not a graph in the binary form (wrong magic)"));
        }
        let version = r.u32("the version")?;
        if version != VERSION {
            return Err(r.error_at(
                r.pos - 4,
                format!(
                    "version {version} of the binary form; this taskloom reads version {VERSION}"
                ),
            ));
        }
        let header = Header {
            keys: r.u32("the header")?,
            nodes: r.u32("the header")?,
            literals: r.u32("the header")?,
            ops: r.u32("the header")?,
            key_text: r.u32("the header")?,
            op_text: r.u32("the header")?,
            literal_bytes: r.u32("the header")?,
        };
        let length = HEADER as u64
            + 4 * u64::from(header.ops)
            + u64::from(header.op_text)
            + 8 * u64::from(header.keys)
            + u64::from(header.key_text)
            + NODE as u64 * u64::from(header.nodes)
            + u64::from(header.literal_bytes);
        let have = r.source.len() as u64;
        if have < length {
            return Err(r.error_at(
                r.source.len(),
                format!("truncated: the header's counts need {length} bytes, there are {have}"),
            ));
        }
        if have > length {
            return Err(r.error_at(
                length as usize,
                format!(
                    "{} bytes after the end the header's counts give",
                    have - length
                ),
            ));
        }
        Ok(header)
    }
}

/// What the nodes of a graph show, found as they are checked.
struct Shape {
    /// How many references there are: a bound on the dependency edges.
    references: usize,
    /// Every reference points to an earlier key.
    backward_only: bool,
}

/// A fault in the nodes: at a node, or an expression short of nodes at its span's end.
enum Fault {
    At(GraphError),
    Unfinished(KeyId, u64),
}

/// The spans that a table of ends gives, each from the previous end.
fn spans_of(ends: &[u32]) -> Vec<Span> {
    let mut start = 0;
    ends.iter()
        .map(|&end| {
            let span = Span { start, end };
            start = end;
            span
        })
        .collect()
}

/// The names of `text` that `ends` delimit (checked by `Reader::names`).
fn name_slices<'a>(text: &'a str, ends: &'a [u32]) -> impl Iterator<Item = &'a str> + 'a {
    spans_of(ends)
        .into_iter()
        .map(move |s| &text[s.start as usize..s.end as usize])
}

/// A position in the source, and errors that name it.
struct Reader<'a> {
    source: &'a [u8],
    pos: usize,
    /// The bytes before this one were reported passed.
    passed: usize,
}

impl<'a> Reader<'a> {
    /// Reports the bytes read since the last report as passed.
    fn pass(&mut self, passed: &Passed) {
        passed(self.passed..self.pos);
        self.passed = self.pos;
    }

    fn error_at(&self, offset: usize, message: impl Into<String>) -> GraphError {
        GraphError::Binary {
            offset: offset as u64,
            message: message.into(),
        }
    }

    /// The next `n` bytes, which hold `what`.
    fn take(&mut self, n: usize, what: &str) -> Result<&'a [u8], GraphError> {
        let left = self.source.len() - self.pos;
        if n > left {
            return Err(self.error_at(
                self.source.len(),
                format!("truncated: {what} needs {n} bytes, there are {left}"),
            ));
        }
        self.pos += n;
        Ok(&self.source[self.pos - n..self.pos])
    }

    fn u32(&mut self, what: &str) -> Result<u32, GraphError> {
        let bytes = self.take(4, what)?;
        Ok(u32::from_le_bytes(bytes.try_into().expect("4 bytes")))
    }

    /// A table of `n` ends, each past the one before, the last `total`: no entry is
    /// empty, since no form of a graph has an empty op name, key name or expression.
    fn ends(&mut self, n: u32, total: u32) -> Result<Vec<u32>, GraphError> {
        let at = self.pos;
        let bytes = self.take(4 * n as usize, "a table of ends")?;
        let mut ends = Vec::with_capacity(n as usize);
        let mut last = 0;
        for (i, end) in bytes.chunks_exact(4).enumerate() {
            let end = u32::from_le_bytes(end.try_into().expect("4 bytes"));
            let refused = end == last;
            if end < last || end > total || refused {
                let why = if refused { "empty" } else { "out of order" };
                return Err(self.error_at(
                    at + 4 * i,
                    format!("entry {i} is {why}: it ends at {end}, after {last}, of {total}"),
                ));
            }
            ends.push(end);
            last = end;
        }
        if last != total {
            return Err(self.error_at(at, format!("the entries end at {last}, not at {total}")));
        }
        Ok(ends)
    }

    /// `total` bytes of names that `ends` delimit: UTF-8, each name whole.
    fn names(&mut self, ends: &[u32], total: u32) -> Result<&'a str, GraphError> {
        let at = self.pos;
        let bytes = self.take(total as usize, "names")?;
        let text = std::str::from_utf8(bytes)
            .map_err(|e| self.error_at(at + e.valid_up_to(), "a name that is not UTF-8"))?;
        if let Some(&end) = ends
            .iter()
            .find(|&&end| !text.is_char_boundary(end as usize))
        {
            return Err(self.error_at(at + end as usize, "a name that ends inside a character"));
        }
        Ok(text)
    }

    /// The nodes of every key, each span one whole expression.
    fn nodes(
        &mut self,
        spans: &[Span],
        header: &Header,
        passed: &Passed,
    ) -> Result<(Vec<Node>, Shape), Fault> {
        let at = self.pos;
        let bytes = self
            .take(NODE * header.nodes as usize, "nodes")
            .map_err(Fault::At)?;
        let mut unreported = at;
        let mut nodes = Vec::with_capacity(header.nodes as usize);
        let mut shape = Shape {
            references: 0,
            backward_only: true,
        };
        for (key, span) in spans.iter().enumerate() {
            // The expressions still to come: one, then each list's elements; a call's
            // arguments are the list that must follow it.
            let mut wanted: u64 = 1;
            let mut after_call = false;
            for i in span.start as usize..span.end as usize {
                let record = &bytes[NODE * i..NODE * (i + 1)];
                let fault = |message: String| Fault::At(self.error_at(at + NODE * i, message));
                if wanted == 0 {
                    return Err(fault(format!(
                        "key {key}'s expression ends before its nodes do"
                    )));
                }
                let payload = u32::from_le_bytes(record[4..].try_into().expect("4 bytes"));
                let n = decode(record[0], payload, header).map_err(fault)?;
                if record[1..4] != [0; 3] {
                    return Err(fault("a node's padding is not zero".into()));
                }
                if after_call && !matches!(n, Node::List(_)) {
                    return Err(fault("a call not followed by its argument list".into()));
                }
                wanted -= 1;
                match n {
                    Node::List(len) => wanted += u64::from(len),
                    Node::Call(_) => wanted += 1,
                    Node::Ref(target) => {
                        shape.references += 1;
                        shape.backward_only &= target.index() < key;
                    }
                    _ => {}
                }
                after_call = matches!(n, Node::Call(_));
                nodes.push(n);
            }
            if wanted > 0 {
                return Err(Fault::Unfinished(KeyId(key as u32), wanted));
            }
            let read = at + NODE * span.end as usize;
            if read - unreported >= PASSED_EVERY {
                passed(unreported..read);
                unreported = read;
            }
        }
        Ok((nodes, shape))
    }

    /// `n` literals, which take the rest of the source.
    fn literals(&mut self, n: u32) -> Result<Vec<Value>, GraphError> {
        let mut literals = Vec::with_capacity((n as usize).min(self.source.len() - self.pos));
        for _ in 0..n {
            literals.push(self.value()?);
        }
        if self.pos != self.source.len() {
            let left = self.source.len() - self.pos;
            return Err(self.error(format!("{left} bytes after the last of {n} literals")));
        }
        Ok(literals)
    }

    fn error(&self, message: impl Into<String>) -> GraphError {
        self.error_at(self.pos, message)
    }

    fn value(&mut self) -> Result<Value, GraphError> {
        let at = self.pos;
        let tag = self.take(1, "a literal")?[0];
        Ok(match tag {
            value::NULL => Value::Null,
            value::FALSE => Value::Bool(false),
            value::TRUE => Value::Bool(true),
            value::INT => Value::Int(i64::from_le_bytes(self.eight("an integer")?)),
            value::FLOAT => match f64::from_le_bytes(self.eight("a float")?) {
                f if f.is_finite() => Value::Float(f),
                f => return Err(self.error_at(at, format!("the float {f} is not finite"))),
            },
            value::STR => {
                let len = self.u32("a string's length")? as usize;
                let text_at = self.pos;
                let bytes = self.take(len, "a string")?;
                match std::str::from_utf8(bytes) {
                    Ok(text) => Value::str(text),
                    Err(e) => {
                        return Err(
                            self.error_at(text_at + e.valid_up_to(), "a string that is not UTF-8")
                        )
                    }
                }
            }
            value::BYTES => {
                let len = self.u32("a byte block's length")? as usize;
                Value::Bytes(self.take(len, "a byte block")?.into())
            }
            value::LIST => {
                let len = self.u32("a list's length")? as usize;
                // Each element takes a byte at least: a length no source could hold
                // is refused before anything is reserved for it.
                if len > self.source.len() - self.pos {
                    return Err(self.error_at(
                        self.source.len(),
                        format!("truncated: a list of {len} elements"),
                    ));
                }
                let mut items = Vec::with_capacity(len);
                for _ in 0..len {
                    items.push(stacker::maybe_grow(64 * 1024, 1024 * 1024, || {
                        self.value()
                    })?);
                }
                Value::List(items.into())
            }
            other => return Err(self.error_at(at, format!("unknown literal tag {other}"))),
        })
    }

    fn eight(&mut self, what: &str) -> Result<[u8; 8], GraphError> {
        Ok(self.take(8, what)?.try_into().expect("8 bytes"))
    }
}

/// The node a record's tag and payload give, checked against the header's tables.
fn decode(tag: u8, payload: u32, header: &Header) -> Result<Node, String> {
    let within = |n: u32, what: &str| {
        if payload < n {
            Ok(payload)
        } else {
            Err(format!("{what} {payload} of {n}"))
        }
    };
    Ok(match tag {
        node::NULL if payload == 0 => Node::Null,
        node::BOOL if payload <= 1 => Node::Bool(payload == 1),
        node::INT => Node::Int(payload as i32),
        node::LITERAL => Node::Literal(within(header.literals, "literal")?),
        node::REF => Node::Ref(KeyId(within(header.keys, "a reference to key")?)),
        node::LIST => Node::List(payload),
        node::CALL => Node::Call(OpId(within(header.ops, "a call of op")?)),
        node::NULL | node::BOOL => {
            return Err(format!("a node of tag {tag} with payload {payload}"))
        }
        other => return Err(format!("unknown node tag {other}")),
    })
}

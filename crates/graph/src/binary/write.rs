//! Writing a graph in the binary form: sections built in memory, one `write_all` each.

use std::io::{self, Write};

use super::{node, value, HEADER, MAGIC, NODE, VERSION};
use crate::graph::Graph;
use crate::node::Node;
use crate::value::Value;

impl Graph {
    /// Writes this graph in the binary form (see `binary`), which `parse_bytes` and
    /// `taskloom run` read back as the same graph, with no text to parse: how a
    /// program that generates a huge graph hands it over fastest.
    ///
    /// Fails with `InvalidInput` for what no form of a graph file can hold (an array
    /// chunk or a float that is not finite as a literal, an empty op or key name) and
    /// for tables past 4 GiB.
    pub fn write_binary(&self, mut out: impl Write) -> io::Result<()> {
        let names = ends(self.keys().map(|k| self.name(k)), "key")?;
        let ops = ends(self.op_names().iter().map(String::as_str), "op")?;
        let mut literals = Vec::new();
        for literal in self.arena().literals() {
            encode(literal, &mut literals)?;
        }
        let mut node_ends = Vec::with_capacity(4 * self.len());
        let mut nodes = Vec::new();
        for key in self.keys() {
            for &n in self.nodes(key) {
                nodes.extend_from_slice(&record(n));
            }
            node_ends.extend_from_slice(&count(nodes.len() / NODE)?.to_le_bytes());
        }
        let mut header = Vec::with_capacity(HEADER);
        header.extend_from_slice(&MAGIC);
        for n in [
            VERSION,
            count(self.len())?,
            count(nodes.len() / NODE)?,
            count(self.arena().literals().len())?,
            count(self.op_names().len())?,
            count(names.1.len())?,
            count(ops.1.len())?,
            count(literals.len())?,
        ] {
            header.extend_from_slice(&n.to_le_bytes());
        }
        for section in [
            &header, &ops.0, &ops.1, &names.0, &names.1, &node_ends, &nodes, &literals,
        ] {
            out.write_all(section)?;
        }
        out.flush()
    }
}

/// The ends of `names` in their concatenation (as `u32`s), and the concatenation;
/// `what` they name, for the error an empty one is (no form of a graph holds one).
fn ends<'a>(names: impl Iterator<Item = &'a str>, what: &str) -> io::Result<(Vec<u8>, Vec<u8>)> {
    let (mut ends, mut text) = (Vec::new(), Vec::new());
    for name in names {
        if name.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("an empty {what} name cannot be written"),
            ));
        }
        text.extend_from_slice(name.as_bytes());
        ends.extend_from_slice(&count(text.len())?.to_le_bytes());
    }
    Ok((ends, text))
}

/// A node's 8-byte record.
fn record(n: Node) -> [u8; NODE] {
    let (tag, payload) = match n {
        Node::Null => (node::NULL, 0),
        Node::Bool(b) => (node::BOOL, u32::from(b)),
        Node::Int(i) => (node::INT, i as u32),
        Node::Literal(index) => (node::LITERAL, index),
        Node::Ref(key) => (node::REF, key.0),
        Node::List(len) => (node::LIST, len),
        Node::Call(op) => (node::CALL, op.0),
    };
    let mut bytes = [0; NODE];
    bytes[0] = tag;
    bytes[4..].copy_from_slice(&payload.to_le_bytes());
    bytes
}

/// Appends `v`'s encoding to `out`.
fn encode(v: &Value, out: &mut Vec<u8>) -> io::Result<()> {
    match v {
        Value::Null => out.push(value::NULL),
        Value::Bool(false) => out.push(value::FALSE),
        Value::Bool(true) => out.push(value::TRUE),
        Value::Int(i) => {
            out.push(value::INT);
            out.extend_from_slice(&i.to_le_bytes());
        }
        Value::Float(f) if f.is_finite() => {
            out.push(value::FLOAT);
            out.extend_from_slice(&f.to_le_bytes());
        }
        Value::Float(f) => return Err(unwritable(&format!("the float {f}"))),
        Value::Str(s) => {
            out.push(value::STR);
            out.extend_from_slice(&count(s.len())?.to_le_bytes());
            out.extend_from_slice(s.as_bytes());
        }
        Value::Bytes(bytes) => {
            out.push(value::BYTES);
            out.extend_from_slice(&count(bytes.len())?.to_le_bytes());
            out.extend_from_slice(bytes);
        }
        Value::List(items) => {
            out.push(value::LIST);
            out.extend_from_slice(&count(items.len())?.to_le_bytes());
            for item in items.iter() {
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || encode(item, out))?;
            }
        }
        Value::Chunk(_) => return Err(unwritable("an array chunk")),
    }
    Ok(())
}

/// `n` as the `u32` the layout stores.
fn count(n: usize) -> io::Result<u32> {
    u32::try_from(n).map_err(|_| unwritable("a table of more than 4 GiB"))
}

fn unwritable(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!("{what} cannot be written in a graph file"),
    )
}

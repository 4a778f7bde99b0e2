//! The name of a stored result: a hash of how it is computed, never of its value.
//!
//! - A key's digest hashes its expression node by node: each op's name and version,
//!   each literal, and for each reference the digest of the key referred to (a Merkle
//!   tree over the graph, as joblib.Memory hashes a call and its arguments). Key names
//!   take no part, so renaming a key keeps its results.
//! - Computed from the graph alone, before anything runs: a run knows which results it
//!   can read and which tasks it need not run at all.
//! - A key has no digest when its expression calls an effect or refers to a key
//!   without one: its result may differ from one run to the next.
//! - BLAKE3: fast on the few dozen bytes of a typical expression, and 256 bits, so two
//!   computations never share a name by accident.

use std::fmt;

use serde::{Deserialize, Serialize};
use taskloom_graph::ops::Purity;
use taskloom_graph::{Graph, KeyId, Node, Value};

/// Hashed first, so that a change to how expressions are hashed names every result
/// anew instead of reading results stored under the old scheme.
const SCHEME: &[u8] = b"taskloom checkpoint digest 1";

/// The content address of a result.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Digest(pub [u8; 32]);

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for byte in self.0 {
            write!(f, "{byte:02x}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({self})")
    }
}

/// The digest of every key of `graph` (indexed by `KeyId`), or `None` for a key whose
/// result may differ between runs; `purity` is indexed by `OpId`.
pub fn digests(graph: &Graph, purity: &[Purity]) -> Vec<Option<Digest>> {
    let mut digests: Vec<Option<Digest>> = vec![None; graph.len()];
    let mut done = vec![false; graph.len()];
    // Post-order without recursion: chains may be a million long.
    let mut stack = Vec::new();
    for root in graph.keys() {
        stack.push(root);
        while let Some(&key) = stack.last() {
            if done[key.index()] {
                stack.pop();
                continue;
            }
            let before = stack.len();
            stack.extend(graph.dependencies(key).iter().filter(|d| !done[d.index()]));
            if stack.len() == before {
                stack.pop();
                digests[key.index()] = digest(graph, key, purity, &digests);
                done[key.index()] = true;
            }
        }
    }
    digests
}

/// The digest of `key`, whose dependencies' digests are in `known`.
fn digest(
    graph: &Graph,
    key: KeyId,
    purity: &[Purity],
    known: &[Option<Digest>],
) -> Option<Digest> {
    let mut hasher = blake3::Hasher::new();
    hasher.update(SCHEME);
    for node in graph.nodes(key) {
        match *node {
            Node::Null => hasher.update(&[0]),
            Node::Bool(b) => hasher.update(&[1, u8::from(b)]),
            Node::Int(i) => hash_int(&mut hasher, i.into()),
            Node::Literal(index) => match graph.arena().literal(index) {
                // The same int inline or as a literal is the same argument.
                Value::Int(i) => hash_int(&mut hasher, *i),
                other => {
                    let bytes = postcard::to_stdvec(other).ok()?;
                    hasher.update(&[3]);
                    hasher.update(&(bytes.len() as u64).to_le_bytes());
                    hasher.update(&bytes)
                }
            },
            Node::Ref(input) => {
                hasher.update(&[4]);
                hasher.update(&known[input.index()]?.0)
            }
            Node::List(n) => {
                hasher.update(&[5]);
                hasher.update(&n.to_le_bytes())
            }
            Node::Call(op) => {
                let Purity::Pure { version } = purity[op.index()] else {
                    return None;
                };
                let name = graph.op_name(op).as_bytes();
                hasher.update(&[6]);
                hasher.update(&(name.len() as u64).to_le_bytes());
                hasher.update(name);
                hasher.update(&version.to_le_bytes())
            }
        };
    }
    Some(Digest(*hasher.finalize().as_bytes()))
}

fn hash_int(hasher: &mut blake3::Hasher, i: i64) -> &mut blake3::Hasher {
    hasher.update(&[2]);
    hasher.update(&i.to_le_bytes())
}

//! A task graph: keys bound to expressions, with dependency edges in both directions.
//!
//! `GraphBuilder` is what the parsers and the Rust API write into; `finish` checks that
//! every reference is defined and computes the edges once, as flat adjacency arrays
//! (CSR), because every later pass walks them and a million-task graph must stay small.

use std::collections::HashMap;

use crate::error::GraphError;
use crate::expr::{Expr, OpId};
use crate::key::{KeyId, KeyTable, Names};
use crate::node::{ExprArena, Node, Span};
use crate::value::Value;

/// Adjacency lists in one flat array: the neighbours of node `i` are
/// `targets[offsets[i]..offsets[i + 1]]`.
#[derive(Clone, Debug, Default)]
pub struct Adjacency {
    offsets: Vec<u32>,
    targets: Vec<KeyId>,
}

impl Adjacency {
    /// The neighbours of `key`.
    #[inline]
    pub fn of(&self, key: KeyId) -> &[KeyId] {
        let i = key.index();
        &self.targets[self.offsets[i] as usize..self.offsets[i + 1] as usize]
    }

    /// The reversed adjacency, for `nodes` nodes (dependencies to dependents).
    fn reversed(&self, nodes: usize) -> Adjacency {
        let mut counts = vec![0u32; nodes + 1];
        for t in &self.targets {
            counts[t.index() + 1] += 1;
        }
        for i in 0..nodes {
            counts[i + 1] += counts[i];
        }
        let offsets = counts.clone();
        let mut fill = counts;
        let mut targets = vec![KeyId(0); self.targets.len()];
        for src in 0..nodes {
            for t in self.of(KeyId(src as u32)) {
                let slot = &mut fill[t.index()];
                targets[*slot as usize] = KeyId(src as u32);
                *slot += 1;
            }
        }
        Adjacency { offsets, targets }
    }
}

/// A complete graph in which every reference names a defined key.
#[derive(Clone, Debug)]
pub struct Graph {
    keys: Names,
    spans: Vec<Span>,
    arena: ExprArena,
    ops: Vec<String>,
    dependencies: Adjacency,
    dependents: Adjacency,
    /// Every key refers only to keys bound before it, so the graph has no cycle.
    backward_only: bool,
}

impl Graph {
    /// How many keys the graph binds.
    pub fn len(&self) -> usize {
        self.spans.len()
    }

    /// Whether the graph binds no key.
    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// All keys, in order of first appearance.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = KeyId> {
        (0..self.spans.len() as u32).map(KeyId)
    }

    /// The id of the key called `name`: a pass over the names (a few ms per million
    /// keys), as a run looks up only the keys it is asked for and a graph keeps no
    /// table of them.
    pub fn key(&self, name: &str) -> Result<KeyId, GraphError> {
        self.keys.find(name).ok_or_else(|| GraphError::NoSuchKey {
            key: name.to_string(),
        })
    }

    /// The ids of the keys called `names`, in their order: one pass over the graph's
    /// names however many are asked for (`key` would take a pass each). A missing
    /// name is the error of the first of them.
    pub fn keys_named<S: AsRef<str>>(&self, names: &[S]) -> Result<Vec<KeyId>, GraphError> {
        if let [name] = names {
            return Ok(vec![self.key(name.as_ref())?]);
        }
        let mut found: HashMap<&str, Option<KeyId>> =
            names.iter().map(|n| (n.as_ref(), None)).collect();
        for key in self.keys() {
            if let Some(slot) = found.get_mut(self.name(key)) {
                *slot = Some(key);
            }
        }
        names
            .iter()
            .map(|n| {
                found[n.as_ref()].ok_or_else(|| GraphError::NoSuchKey {
                    key: n.as_ref().to_string(),
                })
            })
            .collect()
    }

    /// The name of `key`.
    pub fn name(&self, key: KeyId) -> &str {
        self.keys.name(key)
    }

    /// What `key` is bound to, as a tree (decoded: for inspection, not for hot paths).
    pub fn expr(&self, key: KeyId) -> Expr {
        self.arena.decode(self.spans[key.index()])
    }

    /// What `key` is bound to, as stored: its nodes in preorder.
    #[inline]
    pub fn nodes(&self, key: KeyId) -> &[Node] {
        self.arena.nodes(self.spans[key.index()])
    }

    /// The store of every expression's nodes and literals.
    #[inline]
    pub fn arena(&self) -> &ExprArena {
        &self.arena
    }

    /// Where `key`'s nodes lie in the arena.
    #[inline]
    pub fn span(&self, key: KeyId) -> Span {
        self.spans[key.index()]
    }

    /// Every key's span, indexed by `KeyId`: with the arena and the op names, all a
    /// worker process needs to evaluate any task of the graph.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// The name of op `op`.
    pub fn op_name(&self, op: OpId) -> &str {
        &self.ops[op.index()]
    }

    /// Names of the ops this graph calls, indexed by `OpId`.
    pub fn op_names(&self) -> &[String] {
        &self.ops
    }

    /// The distinct keys `key` refers to, in order of first reference.
    pub fn dependencies(&self, key: KeyId) -> &[KeyId] {
        self.dependencies.of(key)
    }

    /// The keys that refer to `key`.
    pub fn dependents(&self, key: KeyId) -> &[KeyId] {
        self.dependents.of(key)
    }

    /// Whether every key refers only to keys bound before it (as a generated file
    /// usually does): then binding order is a topological order, and the graph is
    /// known to be acyclic without a pass over its edges.
    pub fn is_backward_only(&self) -> bool {
        self.backward_only
    }

    /// The keys no other key refers to: what `taskloom run` computes by default.
    pub fn outputs(&self) -> Vec<KeyId> {
        self.keys()
            .filter(|&k| self.dependents(k).is_empty())
            .collect()
    }

    /// This graph with each key of `rebind` bound anew to a call of a new op `op` on
    /// the given literal arguments (so it no longer depends on anything): how a
    /// resumed run reads stored results instead of computing them. The new op's id is
    /// the one after this graph's last, whatever its name.
    pub fn rebound(
        &self,
        op: &str,
        rebind: impl IntoIterator<Item = (KeyId, Vec<Value>)>,
    ) -> Graph {
        let mut arena = self.arena.clone();
        let mut spans = self.spans.clone();
        let mut ops = self.ops.clone();
        let id = OpId(ops.len() as u32);
        ops.push(op.to_string());
        for (key, args) in rebind {
            let start = arena.position();
            arena.push_call(id);
            let list = arena.open_list();
            let len = args.len();
            for arg in args {
                arena.push_value(arg);
            }
            arena.close_list(list, len);
            spans[key.index()] = arena.span_from(start);
        }
        let dependencies = dependency_lists(&spans, &arena, self.dependencies.targets.len());
        let dependents = dependencies.reversed(spans.len());
        Graph {
            keys: self.keys.clone(),
            spans,
            arena,
            ops,
            dependencies,
            dependents,
            // A rebound key refers to nothing: no reference is added.
            backward_only: self.backward_only,
        }
    }

    /// A short label of what `key` computes: its op, or the kind of literal.
    pub fn describe(&self, key: KeyId) -> String {
        self.label(key).to_string()
    }

    /// `describe`, borrowed: for labelling a million tasks without a million strings.
    pub fn label(&self, key: KeyId) -> &str {
        match self.nodes(key)[0] {
            Node::Call(op) => self.op_name(op),
            Node::Ref(_) => "ref",
            Node::List(_) => "list",
            Node::Null => "null",
            Node::Bool(_) => "bool",
            Node::Int(_) => "int",
            Node::Literal(index) => self.arena.literal(index).type_name(),
        }
    }
}

/// Collects bindings, from a parser or from code, into a `Graph`.
#[derive(Clone, Debug)]
pub struct GraphBuilder {
    keys: KeyTable,
    /// Each key's expression; `UNBOUND` until defined.
    spans: Vec<Span>,
    arena: ExprArena,
    ops: Vec<String>,
    op_ids: hashbrown::HashMap<String, OpId>,
    /// The op `op` gave last: consecutive tasks mostly call the same op, and one
    /// comparison costs less than hashing its name.
    last_op: OpId,
    /// Calls of `key`: at least the number of references, so edges are allocated once.
    references: usize,
    /// No bound expression refers to a key unbound when it was bound (nor to itself).
    backward_only: bool,
}

impl Default for GraphBuilder {
    fn default() -> Self {
        GraphBuilder {
            keys: KeyTable::default(),
            spans: Vec::new(),
            arena: ExprArena::default(),
            ops: Vec::new(),
            op_ids: hashbrown::HashMap::default(),
            last_op: OpId(0),
            references: 0,
            backward_only: true,
        }
    }
}

/// Why a binding was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum BindError {
    EmptyKey,
    Duplicate(String),
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::EmptyKey => f.write_str("the empty key \"\" is not allowed"),
            BindError::Duplicate(key) => write!(f, "key '{key}' is defined twice"),
        }
    }
}

impl GraphBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        GraphBuilder::default()
    }

    /// An empty builder with room for about `keys` keys and `nodes` expression nodes.
    /// Generous estimates cost little: memory that is reserved but never written is
    /// never given pages, while growing a table copies it into fresh ones.
    pub fn with_capacity(keys: usize, nodes: usize) -> Self {
        GraphBuilder {
            keys: KeyTable::with_capacity(keys),
            spans: Vec::with_capacity(keys),
            arena: ExprArena::with_capacity(nodes),
            ..GraphBuilder::default()
        }
    }

    /// How many keys and expression nodes were added so far.
    pub fn sizes(&self) -> (usize, usize) {
        (self.spans.len(), self.arena.position() as usize)
    }

    /// Room for about `keys` more keys and `nodes` more nodes: a parser that has read
    /// part of its source sizes the tables for the rest once.
    pub fn reserve(&mut self, keys: usize, nodes: usize) {
        self.keys.reserve(keys);
        self.spans.reserve(keys);
        self.arena.reserve(nodes);
    }

    /// The id for a reference to `name`, defined now or later.
    pub fn key(&mut self, name: &str) -> KeyId {
        self.key_hashed(name, self.keys.hash(name))
    }

    /// The hash `key_hashed` takes: taking it fetches `name`'s slot of the key table
    /// toward the cache, so that a parser that takes the hashes of a binding's names
    /// as it reads them, and looks them up at its end, waits for memory once per
    /// binding rather than once per name.
    #[inline]
    pub fn key_hash(&self, name: &str) -> u64 {
        self.keys.hash(name)
    }

    /// Fetches the key table's slot for a name whose `key_hash` was taken (here or by
    /// another builder) toward the cache, as `key_hash` does.
    #[inline]
    pub fn fetch_key(&self, hash: u64) {
        self.keys.fetch(hash);
    }

    /// Appends the nodes `ahead` read, from the source that follows this builder's,
    /// with its ops and literals numbered as this builder numbers them; its references
    /// and bindings are left to the caller, which looks their names up here. Returns
    /// the position of the first node appended, and `ahead`'s key table.
    pub(crate) fn append_nodes(&mut self, ahead: GraphBuilder) -> (u32, KeyTable) {
        let ops: Vec<OpId> = ahead.ops.iter().map(|name| self.op(name)).collect();
        let start = self.arena.position();
        self.arena.append(ahead.arena, &ops);
        (start, ahead.keys)
    }

    /// `key`, for a name whose `key_hash` was taken already.
    #[inline]
    pub fn key_hashed(&mut self, name: &str, hash: u64) -> KeyId {
        self.references += 1;
        let id = self.keys.intern_hashed(name, hash);
        if id.index() == self.spans.len() {
            self.spans.push(UNBOUND);
        }
        id
    }

    /// Where parsers append the nodes of the expression they are reading.
    #[inline]
    pub fn arena(&mut self) -> &mut ExprArena {
        &mut self.arena
    }

    /// The id for a call of op `name`.
    pub fn op(&mut self, name: &str) -> OpId {
        if self
            .ops
            .get(self.last_op.index())
            .is_some_and(|last| last == name)
        {
            return self.last_op;
        }
        let id = match self.op_ids.get(name) {
            Some(&id) => id,
            None => {
                let id = OpId(self.ops.len() as u32);
                self.ops.push(name.to_string());
                self.op_ids.insert(name.to_string(), id);
                id
            }
        };
        self.last_op = id;
        id
    }

    /// Binds `name` to `expr`; a key may be bound once.
    pub fn define(&mut self, name: &str, expr: &Expr) -> Result<KeyId, BindError> {
        if name.is_empty() {
            return Err(BindError::EmptyKey);
        }
        let id = self.key(name);
        let start = self.arena.position();
        self.arena.push_expr(expr);
        self.bind(id, self.arena.span_from(start))?;
        Ok(id)
    }

    /// Binds the key `id` (from `key`) to the nodes of `span`, which follow every
    /// node bound before; a key may be bound once.
    pub fn bind(&mut self, id: KeyId, span: Span) -> Result<(), BindError> {
        if self.spans[id.index()] != UNBOUND {
            return Err(BindError::Duplicate(self.keys.name(id).to_string()));
        }
        if self.backward_only {
            let spans = &self.spans;
            self.backward_only = refs(self.arena.nodes(span)).all(|k| spans[k.index()] != UNBOUND);
        }
        self.spans[id.index()] = span;
        Ok(())
    }

    /// Whether `name` is bound already.
    pub fn is_defined(&self, name: &str) -> bool {
        self.keys
            .get(name)
            .is_some_and(|id| self.spans[id.index()] != UNBOUND)
    }

    /// Checks that every reference is defined and computes the dependency edges.
    pub fn finish(self) -> Result<Graph, GraphError> {
        let GraphBuilder {
            keys,
            spans,
            arena,
            ops,
            references,
            backward_only,
            ..
        } = self;
        if let Some(missing) = spans.iter().position(|&s| s == UNBOUND) {
            return Err(missing_key_error(
                &keys,
                &spans,
                &arena,
                KeyId(missing as u32),
            ));
        }
        Ok(Graph::assemble(
            keys.into_names(),
            spans,
            arena,
            ops,
            references,
            backward_only,
        ))
    }
}

impl Graph {
    /// The graph of complete parts, with its edges computed; `references` bounds
    /// their number.
    pub(crate) fn assemble(
        keys: Names,
        spans: Vec<Span>,
        arena: ExprArena,
        ops: Vec<String>,
        references: usize,
        backward_only: bool,
    ) -> Graph {
        let dependencies = dependency_lists(&spans, &arena, references);
        let dependents = dependencies.reversed(spans.len());
        Graph {
            keys,
            spans,
            arena,
            ops,
            dependencies,
            dependents,
            backward_only,
        }
    }
}

/// The span of a key that is referenced but not (yet) defined.
const UNBOUND: Span = Span {
    start: u32::MAX,
    end: u32::MAX,
};

/// The keys an expression references, in order, with repeats.
fn refs(nodes: &[Node]) -> impl Iterator<Item = KeyId> + '_ {
    nodes.iter().filter_map(|n| match n {
        Node::Ref(key) => Some(*key),
        _ => None,
    })
}

/// Names the first key (in source order) that refers to the undefined key `missing`.
fn missing_key_error(
    keys: &KeyTable,
    spans: &[Span],
    arena: &ExprArena,
    missing: KeyId,
) -> GraphError {
    let referrer = spans
        .iter()
        .position(|&span| span != UNBOUND && refs(arena.nodes(span)).any(|r| r == missing));
    GraphError::MissingKey {
        key: referrer.map_or_else(String::new, |k| keys.name(KeyId(k as u32)).to_string()),
        missing: keys.name(missing).to_string(),
    }
}

/// The distinct references of each expression, in order of first reference;
/// `references` bounds their number.
fn dependency_lists(spans: &[Span], arena: &ExprArena, references: usize) -> Adjacency {
    let mut offsets = Vec::with_capacity(spans.len() + 1);
    let mut targets = Vec::with_capacity(references);
    // `seen_by[k] == i + 1` marks that key i already listed k: dedup in O(1) per edge.
    let mut seen_by = vec![0u32; spans.len()];
    offsets.push(0);
    for (i, &span) in spans.iter().enumerate() {
        let mark = i as u32 + 1;
        for k in refs(arena.nodes(span)) {
            if seen_by[k.index()] != mark {
                seen_by[k.index()] = mark;
                targets.push(k);
            }
        }
        offsets.push(u32::try_from(targets.len()).expect("more than 4 billion edges"));
    }
    Adjacency { offsets, targets }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lecture() -> Graph {
        let mut b = GraphBuilder::new();
        let add = b.op("add");
        b.define(
            "x",
            &Expr::call(
                add,
                vec![Expr::Value(Value::Int(2)), Expr::Value(Value::Int(3))],
            ),
        )
        .unwrap();
        let x = b.key("x");
        b.define("y", &Expr::call(add, vec![Expr::Ref(x), Expr::Ref(x)]))
            .unwrap();
        b.finish().unwrap()
    }

    #[test]
    fn edges_are_deduplicated_and_reversed() {
        let g = lecture();
        let (x, y) = (g.key("x").unwrap(), g.key("y").unwrap());
        assert_eq!(g.dependencies(y), &[x]);
        assert_eq!(g.dependents(x), &[y]);
        assert!(g.dependencies(x).is_empty());
        assert_eq!(g.outputs(), vec![y]);
        assert_eq!(g.describe(y), "add");
    }

    #[test]
    fn keys_named_come_in_the_order_asked_and_a_missing_one_is_named() {
        let g = lecture();
        let (x, y) = (g.key("x").unwrap(), g.key("y").unwrap());
        assert_eq!(g.keys_named(&["y", "x", "y"]).unwrap(), vec![y, x, y]);
        assert_eq!(g.keys_named(&["x"]).unwrap(), vec![x]);
        assert_eq!(g.keys_named::<&str>(&[]).unwrap(), vec![]);
        for names in [&["x", "nope", "gone"][..], &["nope"]] {
            match g.keys_named(names) {
                Err(GraphError::NoSuchKey { key }) => assert_eq!(key, "nope"),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn a_rebound_key_loses_its_edges_and_calls_the_new_op() {
        let g = lecture();
        let (x, y) = (g.key("x").unwrap(), g.key("y").unwrap());
        let r = g.rebound("load", [(y, vec![Value::str("stored")])]);
        assert!(r.dependencies(y).is_empty() && r.dependents(x).is_empty());
        assert_eq!(r.describe(y), "load");
        assert_eq!(r.op_names(), ["add", "load"]);
        assert_eq!(r.expr(x), g.expr(x));
        assert_eq!(r.name(y), "y");
    }

    #[test]
    fn a_reference_to_an_undefined_key_names_both_keys() {
        let mut b = GraphBuilder::new();
        let nope = b.key("nope");
        b.define("a", &Expr::Value(Value::Int(1))).unwrap();
        b.define("b", &Expr::Ref(nope)).unwrap();
        let err = b.finish().unwrap_err();
        assert_eq!(
            err,
            GraphError::MissingKey {
                key: "b".into(),
                missing: "nope".into()
            }
        );
    }

    #[test]
    fn a_graph_is_backward_only_until_a_key_refers_ahead_or_to_itself() {
        let backward = |src: &str| crate::parse::parse(src).unwrap().is_backward_only();
        assert!(backward("a = 1\nb = inc(a)\nc = add(a, [b])\n"));
        assert!(!backward("b = inc(a)\na = 1\n"));
        assert!(!backward("a = inc(a)\n"));
        assert!(backward(r#"{"a": 1, "b": {"ref": "a"}}"#));
        assert!(!backward(r#"{"b": {"ref": "a"}, "a": 1}"#));
    }

    #[test]
    fn keys_bind_once_and_never_empty() {
        let mut b = GraphBuilder::new();
        b.define("a", &Expr::Value(Value::Null)).unwrap();
        assert_eq!(
            b.define("a", &Expr::Value(Value::Null)),
            Err(BindError::Duplicate("a".into()))
        );
        assert_eq!(
            b.define("", &Expr::Value(Value::Null)),
            Err(BindError::EmptyKey)
        );
    }
}

//! Expressions as a graph stores them: one flat buffer of 8-byte nodes, in preorder.
//!
//! A tree of boxed expressions costs an allocation per task and 64 bytes for `inc(x)`;
//! a million-task graph is then mostly allocator traffic and fresh memory. Here every
//! expression of a graph lives in one `ExprArena`: `inc(0)` is the three nodes
//! `Call(inc) List(1) Int(0)`, 24 bytes, no allocation of its own. Scanning a key's
//! nodes finds its references and ops without recursion; evaluation reads them in
//! order. `Expr` remains the tree form for code that builds or inspects graphs.

use serde::{Deserialize, Serialize};

use crate::expr::{Expr, OpId};
use crate::key::KeyId;
use crate::value::Value;

/// One node of an encoded expression.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Node {
    Null,
    Bool(bool),
    /// An integer literal that fits in 32 bits (most do), stored inline.
    Int(i32),
    /// Any other literal: an index into the arena's literals.
    Literal(u32),
    Ref(KeyId),
    /// A list of the next `n` expressions (each one whole subtree).
    List(u32),
    /// A call of an op: always followed by a `List` node holding its arguments.
    Call(OpId),
}

/// Where a key's expression lies in the arena: `nodes[start..end]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

/// The nodes and literals of every expression of a graph. Serializable, so that worker
/// processes receive exactly what they evaluate and nothing else.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ExprArena {
    nodes: Vec<Node>,
    literals: Vec<Value>,
}

impl ExprArena {
    /// An arena with room for about `nodes` nodes.
    pub fn with_capacity(nodes: usize) -> Self {
        ExprArena {
            nodes: Vec::with_capacity(nodes),
            literals: Vec::new(),
        }
    }

    /// An arena of the given nodes and literals, which a reader has checked: every
    /// literal index within `literals`, every call followed by a list.
    pub(crate) fn from_parts(nodes: Vec<Node>, literals: Vec<Value>) -> Self {
        ExprArena { nodes, literals }
    }

    /// Every literal, indexed as `Node::Literal` indexes them.
    pub fn literals(&self) -> &[Value] {
        &self.literals
    }

    /// Room for about `nodes` more nodes.
    pub fn reserve(&mut self, nodes: usize) {
        self.nodes.reserve(nodes);
    }

    /// The position the next node will take.
    #[inline]
    pub fn position(&self) -> u32 {
        u32::try_from(self.nodes.len()).expect("more than 4 billion expression nodes")
    }

    /// The span from `start` to the current position.
    #[inline]
    pub fn span_from(&self, start: u32) -> Span {
        Span {
            start,
            end: self.position(),
        }
    }

    /// The nodes of `span`.
    #[inline]
    pub fn nodes(&self, span: Span) -> &[Node] {
        &self.nodes[span.start as usize..span.end as usize]
    }

    /// The literal a `Node::Literal` refers to.
    #[inline]
    pub fn literal(&self, index: u32) -> &Value {
        &self.literals[index as usize]
    }

    /// Appends a literal.
    #[inline]
    pub fn push_value(&mut self, value: Value) {
        let node = match value {
            Value::Null => Node::Null,
            Value::Bool(b) => Node::Bool(b),
            Value::Int(i) if i32::try_from(i).is_ok() => Node::Int(i as i32),
            other => {
                self.literals.push(other);
                Node::Literal(self.literals.len() as u32 - 1)
            }
        };
        self.nodes.push(node);
    }

    /// Appends a reference to `key`.
    #[inline]
    pub fn push_ref(&mut self, key: KeyId) {
        self.nodes.push(Node::Ref(key));
    }

    /// Appends a reference whose key `close_ref` sets: parsers look names up in
    /// batches, at the end of each binding.
    #[inline]
    pub fn open_ref(&mut self) -> u32 {
        self.nodes.push(Node::Ref(KeyId(u32::MAX)));
        self.position() - 1
    }

    /// Sets the key of the reference opened at `at`.
    #[inline]
    pub fn close_ref(&mut self, at: u32, key: KeyId) {
        self.nodes[at as usize] = Node::Ref(key);
    }

    /// Appends a list whose length `close_list` sets once its elements are appended.
    #[inline]
    pub fn open_list(&mut self) -> u32 {
        self.nodes.push(Node::List(0));
        self.position() - 1
    }

    /// Sets the length of the list opened at `at`.
    #[inline]
    pub fn close_list(&mut self, at: u32, len: usize) {
        self.nodes[at as usize] = Node::List(u32::try_from(len).expect("a list of 4 billion"));
    }

    /// Appends a call of `op`; its arguments follow as a list.
    #[inline]
    pub fn push_call(&mut self, op: OpId) {
        self.nodes.push(Node::Call(op));
    }

    /// Turns the list at `at` (already appended) into the arguments of a call of `op`,
    /// for formats where the arguments may come before the op's name.
    pub fn insert_call(&mut self, at: u32, op: OpId) {
        self.nodes.insert(at as usize, Node::Call(op));
    }

    /// Appends the nodes and literals of `other`, whose op `i` is op `ops[i]` here.
    pub fn append(&mut self, other: ExprArena, ops: &[OpId]) {
        let literals = u32::try_from(self.literals.len()).expect("4 billion literals");
        self.nodes
            .extend(other.nodes.iter().map(|&node| match node {
                Node::Call(op) => Node::Call(ops[op.index()]),
                Node::Literal(index) => Node::Literal(literals + index),
                other => other,
            }));
        self.literals.extend(other.literals);
    }

    /// Appends the nodes of `expr`.
    pub fn push_expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Value(v) => self.push_value(v.clone()),
            Expr::Ref(key) => self.push_ref(*key),
            Expr::List(items) => self.push_list(items),
            Expr::Call { op, args } => {
                self.push_call(*op);
                self.push_list(args);
            }
        }
    }

    fn push_list(&mut self, items: &[Expr]) {
        let at = self.open_list();
        for item in items {
            stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.push_expr(item));
        }
        self.close_list(at, items.len());
    }

    /// The expression tree of `span`.
    pub fn decode(&self, span: Span) -> Expr {
        let mut pos = span.start as usize;
        self.decode_at(&mut pos)
    }

    fn decode_at(&self, pos: &mut usize) -> Expr {
        let node = self.nodes[*pos];
        *pos += 1;
        match node {
            Node::Null => Expr::Value(Value::Null),
            Node::Bool(b) => Expr::Value(Value::Bool(b)),
            Node::Int(i) => Expr::Value(Value::Int(i.into())),
            Node::Literal(index) => Expr::Value(self.literal(index).clone()),
            Node::Ref(key) => Expr::Ref(key),
            Node::List(n) => Expr::List(self.decode_items(pos, n).into()),
            Node::Call(op) => {
                let Node::List(n) = self.nodes[*pos] else {
                    unreachable!("a call is followed by its argument list")
                };
                *pos += 1;
                Expr::call(op, self.decode_items(pos, n))
            }
        }
    }

    fn decode_items(&self, pos: &mut usize, n: u32) -> Vec<Expr> {
        (0..n)
            .map(|_| stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.decode_at(pos)))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_node_is_eight_bytes() {
        // Memory per task is a goal (a million tasks in a few hundred MB): keep it so.
        assert_eq!(std::mem::size_of::<Node>(), 8);
    }

    #[test]
    fn expressions_round_trip_through_the_arena() {
        let expr = Expr::call(
            OpId(3),
            vec![
                Expr::Value(Value::Int(7)),
                Expr::Value(Value::Int(1 << 40)),
                Expr::List(vec![Expr::Ref(KeyId(2)), Expr::Value(Value::str("s"))].into()),
                Expr::call(OpId(0), vec![]),
                Expr::Value(Value::Float(2.5)),
                Expr::Value(Value::Null),
                Expr::Value(Value::Bool(true)),
            ],
        );
        let mut arena = ExprArena::default();
        arena.push_value(Value::Int(99));
        let start = arena.position();
        arena.push_expr(&expr);
        let span = arena.span_from(start);
        assert_eq!(arena.decode(span), expr);
        assert_eq!(
            arena.nodes(span)[..3],
            [Node::Call(OpId(3)), Node::List(7), Node::Int(7)]
        );
    }
}

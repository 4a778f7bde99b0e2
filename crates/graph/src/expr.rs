//! What a key is bound to: a literal, a list, a reference or a task (an op call).

use crate::key::KeyId;
use crate::value::Value;

/// An op's index in its graph's table of op names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct OpId(pub u32);

impl OpId {
    /// The id as an array index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An expression of the graph format, as a tree: how code builds and inspects graphs.
/// (A graph stores its expressions more compactly, as nodes: see `node.rs`.) Nested
/// tasks run inside their enclosing task.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A literal: itself.
    Value(Value),
    /// The result of another key.
    Ref(KeyId),
    /// A list of the evaluated elements.
    List(Box<[Expr]>),
    /// An op called on its evaluated arguments.
    Call { op: OpId, args: Box<[Expr]> },
}

impl Expr {
    /// A call expression.
    pub fn call(op: OpId, args: Vec<Expr>) -> Expr {
        Expr::Call {
            op,
            args: args.into_boxed_slice(),
        }
    }
}

/// Dropping frees nested lists and calls from a heap-allocated stack rather than by
/// recursion: there is no nesting limit, so a file nested a million deep must not
/// overflow the stack when its graph is freed.
impl Drop for Expr {
    fn drop(&mut self) {
        let mut nested = Vec::new();
        detach_nested(self, &mut nested);
        while let Some(mut e) = nested.pop() {
            detach_nested(&mut e, &mut nested);
        }
    }
}

/// Moves the lists and calls that have elements of their own out of `e`, onto `out`.
fn detach_nested(e: &mut Expr, out: &mut Vec<Expr>) {
    if let Expr::List(items) | Expr::Call { args: items, .. } = e {
        for item in items.iter_mut() {
            if matches!(item, Expr::List(x) | Expr::Call { args: x, .. } if !x.is_empty()) {
                out.push(std::mem::replace(item, Expr::Value(Value::Null)));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_expression_nested_a_million_deep_is_freed_without_recursion() {
        let mut e = Expr::Value(Value::Int(0));
        for i in 0..1_000_000 {
            e = if i % 2 == 0 {
                Expr::List(vec![e].into())
            } else {
                Expr::call(OpId(0), vec![e])
            };
        }
        drop(e);
    }
}

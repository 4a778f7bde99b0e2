//! What a key is bound to: a literal, a list, a reference or a task (an op call).

use crate::key::KeyId;
use crate::value::Value;

/// An op's index in its graph's table of op names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct OpId(pub u32);

impl OpId {
    /// The id as an array index.
    #[inline]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// An expression of the graph format. Nested tasks run inside their enclosing task.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A literal: itself.
    Value(Value),
    /// The result of another key.
    Ref(KeyId),
    /// A list of the evaluated elements.
    List(Box<[Expr]>),
    /// An op called on its evaluated arguments. Held inline, so that a task costs one
    /// allocation (its arguments): `inc(x)` takes 64 bytes, where a boxed call took 72.
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

    /// Calls `f` on every key this expression references, in source order (with repeats).
    pub fn for_each_ref(&self, f: &mut impl FnMut(KeyId)) {
        match self {
            Expr::Value(_) => {}
            Expr::Ref(key) => f(*key),
            Expr::List(items) => items.iter().for_each(|e| walk_refs(e, f)),
            Expr::Call { args, .. } => args.iter().for_each(|e| walk_refs(e, f)),
        }
    }

    /// Calls `f` on every op this expression calls, outermost first.
    pub fn for_each_op(&self, f: &mut impl FnMut(OpId)) {
        match self {
            Expr::Value(_) | Expr::Ref(_) => {}
            Expr::List(items) => items.iter().for_each(|e| walk_ops(e, f)),
            Expr::Call { op, args } => {
                f(*op);
                args.iter().for_each(|e| walk_ops(e, f));
            }
        }
    }

    /// The outermost op, if this expression is a call.
    pub fn op(&self) -> Option<OpId> {
        match self {
            Expr::Call { op, .. } => Some(*op),
            _ => None,
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

// Deeply nested expressions must not overflow the stack: grow it on demand.
fn walk_refs(e: &Expr, f: &mut impl FnMut(KeyId)) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || e.for_each_ref(f))
}

fn walk_ops(e: &Expr, f: &mut impl FnMut(OpId)) {
    stacker::maybe_grow(32 * 1024, 1024 * 1024, || e.for_each_op(f))
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

    #[test]
    fn an_expression_is_four_words() {
        // Memory per task is a goal (a million tasks in a few hundred MB): keep it so.
        assert_eq!(std::mem::size_of::<Expr>(), 32);
    }
}

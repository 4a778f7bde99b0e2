//! Evaluating one key's expression, given the results of the keys it refers to.

use std::panic::{catch_unwind, AssertUnwindSafe};

use smallvec::SmallVec;

use crate::expr::OpId;
use crate::graph::Graph;
use crate::key::KeyId;
use crate::node::{ExprArena, Node, Span};
use crate::ops::{OpError, OpFn};
use crate::value::Value;

/// Why an expression could not be evaluated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EvalError {
    /// An op failed: which op, and why.
    Op { op: OpId, cause: OpError },
    /// A key the expression refers to has no value where it is evaluated: the caller
    /// ran a task before its inputs were there.
    MissingInput(KeyId),
}

/// Evaluates what `key` is bound to: literals are themselves, references are looked
/// up (`None`: the input is not there), lists and op calls evaluate their elements
/// first (nested calls run here, inside this task).
pub fn evaluate(
    graph: &Graph,
    key: KeyId,
    ops: &[OpFn],
    lookup: &impl Fn(KeyId) -> Option<Value>,
) -> Result<Value, EvalError> {
    evaluate_span(graph.arena(), graph.span(key), ops, lookup)
}

/// `evaluate` for an expression given by its place in an arena, for processes that
/// hold the arena but not the whole graph.
pub fn evaluate_span(
    arena: &ExprArena,
    span: Span,
    ops: &[OpFn],
    lookup: &impl Fn(KeyId) -> Option<Value>,
) -> Result<Value, EvalError> {
    let mut eval = Evaluation {
        nodes: arena.nodes(span),
        arena,
        ops,
        lookup,
        pos: 0,
    };
    eval.next()
}

/// A walk over one key's nodes, in preorder.
struct Evaluation<'a, L> {
    nodes: &'a [Node],
    arena: &'a ExprArena,
    ops: &'a [OpFn],
    lookup: &'a L,
    pos: usize,
}

impl<L: Fn(KeyId) -> Option<Value>> Evaluation<'_, L> {
    /// The value of the expression at `pos`, which moves past it.
    fn next(&mut self) -> Result<Value, EvalError> {
        let node = self.nodes[self.pos];
        self.pos += 1;
        Ok(match node {
            Node::Null => Value::Null,
            Node::Bool(b) => Value::Bool(b),
            Node::Int(i) => Value::Int(i.into()),
            Node::Literal(index) => self.arena.literal(index).clone(),
            Node::Ref(key) => (self.lookup)(key).ok_or(EvalError::MissingInput(key))?,
            Node::List(n) => {
                let items: Result<Vec<Value>, EvalError> = (0..n).map(|_| self.nested()).collect();
                Value::List(items?.into())
            }
            Node::Call(op) => {
                let Node::List(n) = self.nodes[self.pos] else {
                    unreachable!("a call is followed by its argument list")
                };
                self.pos += 1;
                let args: SmallVec<[Value; 4]> =
                    (0..n).map(|_| self.nested()).collect::<Result<_, _>>()?;
                let f = &self.ops[op.index()];
                // A user op that panics fails its task instead of the whole run.
                match catch_unwind(AssertUnwindSafe(|| f(&args))) {
                    Ok(result) => result,
                    Err(panic) => Err(OpError::new(format!("op panicked: {}", panic_text(&panic)))),
                }
                .map_err(|cause| EvalError::Op { op, cause })?
            }
        })
    }

    /// `next`, growing the stack first when an element is itself a list or a call.
    fn nested(&mut self) -> Result<Value, EvalError> {
        match self.nodes[self.pos] {
            Node::List(_) | Node::Call(_) => {
                stacker::maybe_grow(64 * 1024, 1024 * 1024, || self.next())
            }
            _ => self.next(),
        }
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ops::Registry;
    use crate::parse::parse;
    use crate::validate::validate;

    fn eval_key(
        src: &str,
        key: &str,
        lookup: impl Fn(KeyId) -> Option<Value>,
    ) -> Result<Value, EvalError> {
        let mut registry = Registry::builtins();
        registry.register("boom", |_| panic!("kaboom"));
        let g = parse(src).unwrap();
        let ops = validate(&g, &registry).unwrap();
        evaluate(&g, g.key(key).unwrap(), &ops, &lookup)
    }

    #[test]
    fn references_lists_and_nested_calls() {
        let v = eval_key("x = 1\ny = [x, \"s\", list(x, 2)]\n", "y", |_| {
            Some(Value::Int(41))
        })
        .unwrap();
        assert_eq!(v.to_json(), r#"[41,"s",[41,2]]"#);
    }

    #[test]
    fn a_panicking_op_becomes_an_error_naming_it() {
        let err = eval_key("x = boom()\n", "x", |_| None).unwrap_err();
        assert!(
            matches!(&err, EvalError::Op { cause, .. } if cause.0.contains("kaboom")),
            "{err:?}"
        );
    }

    #[test]
    fn an_input_that_is_not_there_is_an_error_not_a_value() {
        let err = eval_key("x = 1\ny = inc(x)\n", "y", |_| None).unwrap_err();
        assert!(
            matches!(err, EvalError::MissingInput(k) if k == KeyId(0)),
            "{err:?}"
        );
    }
}

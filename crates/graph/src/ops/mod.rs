//! Ops are named: a registry maps each name to a function of evaluated arguments.
//!
//! Names rather than closures are what let a task run anywhere: every worker runs the
//! same binary and so has the same registry (the SPMD model of MPI). A graph refers to
//! ops by name; binding a graph to a registry finds unknown ops before anything runs.
//! Builtins carry their documentation (`catalog`), so listings come from the registry
//! itself, and an unknown name finds its nearest registered one (`suggest`). Each op
//! declares whether it is pure (`purity`): only pure results are checkpointed.

mod aggregate;
mod args;
mod arith;
mod catalog;
mod compare;
mod effects;
mod lists;
mod purity;
mod shells;
mod suggest;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::value::Value;

pub use args::{expect_arity, float_result};
pub use catalog::OpDoc;
pub use purity::Purity;
pub use shells::{Entered, Shells};

/// Why an op failed on its arguments: the cause part of a task error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OpError(pub String);

impl OpError {
    /// An error carrying `cause` as its message.
    pub fn new(cause: impl Into<String>) -> Self {
        OpError(cause.into())
    }
}

impl fmt::Display for OpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What an op returns.
pub type OpResult = Result<Value, OpError>;

/// An op's implementation: shared, callable from any worker thread.
pub type OpFn = Arc<dyn Fn(&[Value]) -> OpResult + Send + Sync>;

/// The set of ops a graph may name.
#[derive(Clone)]
pub struct Registry {
    ops: HashMap<String, Op>,
}

/// A registered op: its implementation, its purity, and its documentation when it is
/// a builtin.
#[derive(Clone)]
struct Op {
    f: OpFn,
    purity: Purity,
    doc: Option<&'static OpDoc>,
}

impl Registry {
    /// A registry with no ops at all.
    pub fn empty() -> Self {
        Registry {
            ops: HashMap::new(),
        }
    }

    /// A registry with every builtin op of the graph format.
    pub fn builtins() -> Self {
        let mut registry = Registry::empty();
        arith::register(&mut registry);
        compare::register(&mut registry);
        aggregate::register(&mut registry);
        lists::register(&mut registry);
        effects::register(&mut registry);
        for doc in catalog::BUILTINS {
            if let Some(op) = registry.ops.get_mut(doc.name) {
                op.doc = Some(doc);
                op.purity = doc.purity;
            }
        }
        registry
    }

    /// Adds (or replaces) the op `name`, as an effect: its results are never
    /// checkpointed. A replaced builtin loses its documentation, which described the
    /// builtin.
    pub fn register<F>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(&[Value]) -> OpResult + Send + Sync + 'static,
    {
        self.insert(name, Arc::new(f), Purity::Effect)
    }

    /// Adds (or replaces) the op `name`, whose result depends on its arguments alone:
    /// a checkpoint keeps its results under `version`, which must change when `f`
    /// comes to compute something else.
    pub fn register_pure<F>(&mut self, name: &str, version: u32, f: F) -> &mut Self
    where
        F: Fn(&[Value]) -> OpResult + Send + Sync + 'static,
    {
        self.insert(name, Arc::new(f), Purity::Pure { version })
    }

    fn insert(&mut self, name: &str, f: OpFn, purity: Purity) -> &mut Self {
        let op = Op {
            f,
            purity,
            doc: None,
        };
        self.ops.insert(name.to_string(), op);
        self
    }

    /// The op named `name`, if registered.
    pub fn get(&self, name: &str) -> Option<&OpFn> {
        self.ops.get(name).map(|op| &op.f)
    }

    /// The purity of the op named `name`, if registered.
    pub fn purity(&self, name: &str) -> Option<Purity> {
        self.ops.get(name).map(|op| op.purity)
    }

    /// Registered op names, sorted, for messages and listings.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.ops.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
    }

    /// Every registered op by name, sorted, with its purity and its documentation if
    /// it has any (builtins do): what `taskloom ops` lists.
    pub fn ops(&self) -> Vec<(&str, Purity, Option<&'static OpDoc>)> {
        let mut ops: Vec<_> = self
            .ops
            .iter()
            .map(|(n, op)| (n.as_str(), op.purity, op.doc))
            .collect();
        ops.sort_unstable_by_key(|&(name, _, _)| name);
        ops
    }

    /// The registered op `unknown` is most likely a misspelling of, if any.
    pub fn suggest(&self, unknown: &str) -> Option<&str> {
        suggest::nearest(unknown, self.names())
    }
}

impl Default for Registry {
    fn default() -> Self {
        Registry::builtins()
    }
}

impl fmt::Debug for Registry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registry")
            .field("ops", &self.names())
            .finish()
    }
}

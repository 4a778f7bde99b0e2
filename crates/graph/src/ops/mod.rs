//! Ops are named: a registry maps each name to a function of evaluated arguments.
//!
//! Names rather than closures are what let a task run anywhere: every worker runs the
//! same binary and so has the same registry (the SPMD model of MPI). A graph refers to
//! ops by name; binding a graph to a registry finds unknown ops before anything runs.

mod aggregate;
mod args;
mod arith;
mod compare;
mod effects;
mod lists;
mod shells;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use crate::value::Value;

pub use args::{expect_arity, float_result};
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
    ops: HashMap<String, OpFn>,
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
        registry
    }

    /// Adds (or replaces) the op `name`.
    pub fn register<F>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(&[Value]) -> OpResult + Send + Sync + 'static,
    {
        self.ops.insert(name.to_string(), Arc::new(f));
        self
    }

    /// The op named `name`, if registered.
    pub fn get(&self, name: &str) -> Option<&OpFn> {
        self.ops.get(name)
    }

    /// Registered op names, sorted, for messages and listings.
    pub fn names(&self) -> Vec<&str> {
        let mut names: Vec<&str> = self.ops.keys().map(String::as_str).collect();
        names.sort_unstable();
        names
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

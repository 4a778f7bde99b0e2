//! Building graphs in Rust: each call adds a task and returns a typed, lazy handle.
//!
//! ```
//! use taskloom::{Builder, Delayed};
//!
//! let g = Builder::new();
//! let x: Delayed<i64> = g.call("add", (2, 3));
//! let y: Delayed<i64> = g.call("add", (&x, 3));
//! assert_eq!(y.compute().unwrap(), 8);
//! ```
//!
//! Tasks name their op rather than hold a closure, so the same graph can run on any
//! executor; user ops are registered by name on a `Runtime`.

use std::marker::PhantomData;
use std::path::Path;
use std::sync::{Arc, Mutex};

use taskloom_graph::{Expr, FromValue, Graph, GraphBuilder, Value};

use crate::error::Error;
use crate::runtime::Runtime;

/// A graph under construction, shared by the handles it gave out.
#[derive(Clone, Default)]
pub struct Builder {
    inner: Arc<Mutex<GraphBuilder>>,
}

/// A task's future result of type `T`: computing it runs exactly the tasks it needs.
pub struct Delayed<T> {
    builder: Builder,
    key: String,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for Delayed<T> {
    fn clone(&self) -> Self {
        Delayed {
            builder: self.builder.clone(),
            key: self.key.clone(),
            _type: PhantomData,
        }
    }
}

/// An argument of a task: a literal, a list, or another task's result.
pub struct Arg(Expr);

impl<T> From<&Delayed<T>> for Arg {
    fn from(d: &Delayed<T>) -> Self {
        Arg(Expr::Ref(d.builder.lock().key(&d.key)))
    }
}

impl<V: Into<Value>> From<V> for Arg {
    fn from(v: V) -> Self {
        Arg(Expr::Value(v.into()))
    }
}

impl Arg {
    /// A list of arguments, evaluated element by element (e.g. the input of `sum`).
    pub fn list<A: Into<Arg>>(items: impl IntoIterator<Item = A>) -> Arg {
        Arg(Expr::List(items.into_iter().map(|a| a.into().0).collect()))
    }
}

/// The arguments of a call: a tuple or an array of things that convert to `Arg`.
pub trait IntoArgs {
    fn into_args(self) -> Vec<Arg>;
}

impl IntoArgs for () {
    fn into_args(self) -> Vec<Arg> {
        Vec::new()
    }
}

impl<A: Into<Arg>, const N: usize> IntoArgs for [A; N] {
    fn into_args(self) -> Vec<Arg> {
        self.into_iter().map(Into::into).collect()
    }
}

impl<A: Into<Arg>> IntoArgs for Vec<A> {
    fn into_args(self) -> Vec<Arg> {
        self.into_iter().map(Into::into).collect()
    }
}

macro_rules! tuple_args {
    ($($name:ident),+) => {
        impl<$($name: Into<Arg>),+> IntoArgs for ($($name,)+) {
            #[allow(non_snake_case)]
            fn into_args(self) -> Vec<Arg> {
                let ($($name,)+) = self;
                vec![$($name.into()),+]
            }
        }
    };
}
tuple_args!(A);
tuple_args!(A, B);
tuple_args!(A, B, C);
tuple_args!(A, B, C, D);

impl Builder {
    /// An empty graph.
    pub fn new() -> Self {
        Builder::default()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, GraphBuilder> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Adds a task calling `op` on `args` under a fresh key (`op-1`, `op-2`, ...).
    pub fn call<T>(&self, op: &str, args: impl IntoArgs) -> Delayed<T> {
        let args = args.into_args();
        let mut graph = self.lock();
        let key = (1..)
            .map(|n| format!("{op}-{n}"))
            .find(|k| !graph.is_defined(k))
            .expect("an unused key exists");
        let op_id = graph.op(op);
        let expr = Expr::call(op_id, args.into_iter().map(|a| a.0).collect());
        graph.define(&key, &expr).expect("the key is fresh");
        drop(graph);
        self.handle(key)
    }

    /// Adds a task calling `op` on `args` under the key `key`, which must be new.
    pub fn call_named<T>(
        &self,
        key: &str,
        op: &str,
        args: impl IntoArgs,
    ) -> Result<Delayed<T>, Error> {
        let args: Vec<Expr> = args.into_args().into_iter().map(|a| a.0).collect();
        let mut graph = self.lock();
        let op_id = graph.op(op);
        graph
            .define(key, &Expr::call(op_id, args))
            .map_err(|e| Error::Type {
                key: key.to_string(),
                message: e.to_string(),
            })?;
        drop(graph);
        Ok(self.handle(key.to_string()))
    }

    fn handle<T>(&self, key: String) -> Delayed<T> {
        Delayed {
            builder: self.clone(),
            key,
            _type: PhantomData,
        }
    }

    /// A snapshot of the graph built so far.
    pub fn graph(&self) -> Result<Graph, Error> {
        Ok(self.lock().clone().finish()?)
    }

    /// Saves the graph built so far at `path` in the binary form (`Graph::write_binary`),
    /// which `Runtime::load` and `taskloom run` read without parsing text: how a
    /// program that generates a huge graph hands it over fastest.
    pub fn save(&self, path: impl AsRef<Path>) -> Result<(), Error> {
        let graph = self.graph()?;
        let path = path.as_ref();
        std::fs::File::create(path)
            .and_then(|file| graph.write_binary(std::io::BufWriter::new(file)))
            .map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })
    }
}

impl<T: FromValue> Delayed<T> {
    /// The key this handle names in its graph.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Computes the value on a default runtime (builtin ops, one thread per core).
    pub fn compute(&self) -> Result<T, Error> {
        self.compute_on(&Runtime::new())
    }

    /// Computes the value on `runtime`, with its ops and executor.
    pub fn compute_on(&self, runtime: &Runtime) -> Result<T, Error> {
        let graph = self.builder.graph()?;
        let value = runtime
            .compute(graph, &[&self.key])?
            .pop()
            .expect("one value per requested key");
        T::from_value(value).map_err(|message| Error::Type {
            key: self.key.clone(),
            message,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskloom_exec::Sequential;

    #[test]
    fn the_lecture_example_in_code() {
        let g = Builder::new();
        let x: Delayed<i64> = g.call("add", (2, 3));
        let y: Delayed<i64> = g.call("add", (&x, 3));
        assert_eq!(x.key(), "add-1");
        assert_eq!(y.compute().unwrap(), 8);
        assert_eq!(x.compute().unwrap(), 5);
    }

    #[test]
    fn user_ops_lists_and_named_keys() {
        let mut rt = Runtime::new().with_executor(Sequential::default());
        rt.register_fn1("square", |x: i64| x * x);
        let g = Builder::new();
        let squares: Vec<Delayed<i64>> = (1..=4).map(|i| g.call("square", (i,))).collect();
        let total: Delayed<i64> = g
            .call_named("total", "sum", (Arg::list(&squares),))
            .unwrap();
        assert_eq!(total.compute_on(&rt).unwrap(), 30);
        assert!(g.call_named::<i64>("total", "inc", (1,)).is_err());
    }

    #[test]
    fn a_saved_graph_loads_and_computes_the_same() {
        let g = Builder::new();
        let x: Delayed<i64> = g.call("add", (2, 3));
        let _: Delayed<Vec<Value>> = g.call("list", (&x, "s", 2.5));
        let path = std::env::temp_dir().join(format!("taskloom-save-{}.tlg", std::process::id()));
        g.save(&path).unwrap();
        let rt = Runtime::new().with_executor(Sequential::default());
        let program = rt.load(&path);
        std::fs::remove_file(&path).unwrap();
        let program = program.unwrap();
        let list = program.graph().key("list-1").unwrap();
        let values = rt.run(program.plan(vec![list])).unwrap();
        assert_eq!(values[0].to_json(), r#"[5,"s",2.5]"#);
        let err = g.save("/nonexistent/dir/g.tlg").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("cannot write /nonexistent/dir/g.tlg"),
            "{err}"
        );
    }

    #[test]
    fn a_wrong_type_or_unknown_op_is_an_error_not_a_panic() {
        let g = Builder::new();
        let s: Delayed<i64> = g.call("list", ("a", "b"));
        assert!(matches!(s.compute(), Err(Error::Type { .. })));
        let u: Delayed<i64> = g.call("nope", ());
        assert!(matches!(u.compute(), Err(Error::Graph { .. })));
    }
}

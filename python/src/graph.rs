//! Task graphs of Python callables on the engine's executors: what `taskloom.delayed`,
//! `taskloom.compute` and the Dask scheduler `taskloom.get` run on.
//!
//! - A graph arrives as a dict of key -> node, a node being what Dask's `GraphNode`
//!   is: a `dependencies` collection of keys and a call `node(values)` taking a dict of
//!   those keys' values. It is read into the engine's graph in one pass, here: each
//!   task becomes one call of a single op whose arguments are its inputs (`Ref`s), so
//!   the engine's culling, ordering and dependency counting are used as they are.
//! - Threads (and sync, one task at a time): the engine's `Threads` executor (its
//!   lock-free fast path; the scheduler core is for workers elsewhere). A task's
//!   engine value is a token (its index); the Python object lives in a list beside
//!   the run, is passed to its consumers in a dict, and is dropped when its last
//!   consumer has run. The GIL is held only while a task's node runs; each engine
//!   thread keeps its Python thread state from task to task (`attached`).
//! - Processes: the engine's `Processes` executor (the sans-IO scheduler core), its
//!   workers the Python interpreters the pool uses. The tasks reach each worker
//!   pickled together in its setup file (`_graph.py`), so a task's first argument is
//!   its index there; results are pickled bytes that stay in the worker that made
//!   them until a task elsewhere or the caller needs them.
//! - The caller waits with the GIL released (`wait.rs`): a KeyboardInterrupt stops
//!   the run (ending its workers) and goes on.
//! - A failed run raises `RunFailed(kind, key, cause)`, which the Python layer turns
//!   into the task's own exception, `WorkerDiedError` or `KeyboardInterrupt`; a
//!   task's exception in this process is kept and raised as it is.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use pyo3::create_exception;
use pyo3::exceptions::{PyException, PyKeyError, PyRuntimeError, PyTypeError, PyValueError};
use pyo3::ffi;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyList, PyString};
use taskloom_exec::{Executor, Limits, Processes, RunError, Sequential, Stop, Threads};
use taskloom_graph::{
    validate, Expr, Graph, GraphBuilder, KeyId, OpError, OpId, OpResult, Registry, Value,
};
use taskloom_sched::Plan;

use crate::wait::interruptible;

/// The op of a task run in this process: its arguments are its own index, then its
/// inputs' indices (tokens: the values live in the run's list of results).
const IN_PROCESS_OP: &str = "python";

/// The op of a task run by a worker process: its arguments are its index among the
/// tasks the worker's setup holds, then its inputs' pickled values. The workers
/// register it (`lib.rs`).
pub const IN_WORKER_OP: &str = "python-task";

create_exception!(
    _core,
    RunFailed,
    PyException,
    "A graph's run failed: args are (kind, key, cause), kind one of \"task\", \"died\", \"stopped\", \"error\"."
);

/// A graph read from Python: its tasks by index, in the dict's order.
struct Tasks {
    /// The engine's name of each key: its `str` if a string, else its `repr`.
    names: Vec<String>,
    keys: Vec<Py<PyAny>>,
    nodes: Vec<Py<PyAny>>,
    /// Each task's distinct inputs, in the order its node lists them.
    inputs: Vec<Vec<u32>>,
    /// The requested keys' indices, as requested (repeats allowed).
    targets: Vec<u32>,
}

impl Tasks {
    /// Reads `graph` (key -> node) and the `targets` keys; unknown keys are `KeyError`s.
    fn read(graph: &Bound<'_, PyDict>, targets: &Bound<'_, PyAny>) -> PyResult<Tasks> {
        let py = graph.py();
        let n = graph.len();
        let index = PyDict::new(py);
        let mut tasks = Tasks {
            names: Vec::with_capacity(n),
            keys: Vec::with_capacity(n),
            nodes: Vec::with_capacity(n),
            inputs: Vec::with_capacity(n),
            targets: Vec::new(),
        };
        for (i, (key, node)) in graph.iter().enumerate() {
            index.set_item(&key, i)?;
            tasks.names.push(key_name(&key)?);
            tasks.keys.push(key.unbind());
            tasks.nodes.push(node.unbind());
        }
        for (i, node) in tasks.nodes.iter().enumerate() {
            let node = node.bind(py);
            let dependencies = node.getattr("dependencies").map_err(|_| {
                PyTypeError::new_err(format!(
                    "task {} is not a graph node (it has no `dependencies`): {}",
                    tasks.names[i],
                    describe(node)
                ))
            })?;
            let mut inputs = Vec::new();
            for dep in dependencies.try_iter()? {
                let dep = dep?;
                let Some(at) = index.get_item(&dep)? else {
                    return Err(PyKeyError::new_err(format!(
                        "task {} needs {}, which is not in the graph",
                        tasks.names[i],
                        describe(&dep)
                    )));
                };
                let at: u32 = at.extract()?;
                if !inputs.contains(&at) {
                    inputs.push(at);
                }
            }
            tasks.inputs.push(inputs);
        }
        for target in targets.try_iter()? {
            let target = target?;
            let Some(at) = index.get_item(&target)? else {
                return Err(PyKeyError::new_err(target.unbind()));
            };
            tasks.targets.push(at.extract()?);
        }
        Ok(tasks)
    }

    /// The engine's graph: task `i` is a call of the op `call(builder, i)` gives, on
    /// the value it gives (if any), then on its inputs. Returns the keys' ids by index.
    fn graph(
        &self,
        mut call: impl FnMut(&mut GraphBuilder, usize) -> (OpId, Option<Value>),
    ) -> PyResult<(Graph, Vec<KeyId>)> {
        let mut builder = GraphBuilder::with_capacity(self.names.len(), 3 * self.names.len());
        let mut ids = Vec::with_capacity(self.names.len());
        for (i, name) in self.names.iter().enumerate() {
            let mut id = builder.key(name);
            if id.index() != i {
                // Two keys of the same text (a string and an object that prints as it).
                id = builder.key(&format!("{name}#{i}"));
            }
            ids.push(id);
        }
        for (i, inputs) in self.inputs.iter().enumerate() {
            let (op, first) = call(&mut builder, i);
            let mut args = Vec::with_capacity(inputs.len() + 1);
            args.extend(first.map(Expr::Value));
            args.extend(inputs.iter().map(|&d| Expr::Ref(ids[d as usize])));
            let start = builder.arena().position();
            builder.arena().push_expr(&Expr::call(op, args));
            let span = builder.arena().span_from(start);
            builder
                .bind(ids[i], span)
                .map_err(|e| PyValueError::new_err(format!("the graph cannot run: {e}")))?;
        }
        let graph = builder.finish().map_err(|e| internal(e.to_string()))?;
        Ok((graph, ids))
    }

    /// The requested keys' ids.
    fn target_ids(&self, ids: &[KeyId]) -> Vec<KeyId> {
        self.targets.iter().map(|&t| ids[t as usize]).collect()
    }

    /// The engine's plan: task `i` is a call of `op` on its own index, then its
    /// inputs (the index finds the task's node, here or in a worker's setup).
    fn plan(
        &self,
        op: &str,
        run: impl Fn(&[Value]) -> OpResult + Send + Sync + 'static,
    ) -> PyResult<Plan> {
        let (graph, ids) = self.graph(|builder, i| (builder.op(op), Some(Value::Int(i as i64))))?;
        let mut registry = Registry::empty();
        registry.register(op, run);
        let ops = validate(&graph, &registry)
            .map_err(|e| PyValueError::new_err(format!("the graph cannot run: {e}")))?;
        let targets = self.target_ids(&ids);
        Ok(Plan::new(Arc::new(graph), ops, targets))
    }
}

/// The engine's name of `key`.
fn key_name(key: &Bound<'_, PyAny>) -> PyResult<String> {
    if let Ok(text) = key.cast::<PyString>() {
        return Ok(text.to_cow()?.into_owned());
    }
    Ok(key.repr()?.to_cow()?.into_owned())
}

/// A short description of `obj` for messages.
fn describe(obj: &Bound<'_, PyAny>) -> String {
    obj.repr()
        .map_or_else(|_| "<unprintable>".to_owned(), |r| r.to_string())
}

fn internal(message: String) -> PyErr {
    PyRuntimeError::new_err(format!("internal error: {message}"))
}

/// The state of a run in this process that its tasks share; see the module header.
struct InProcess {
    keys: Vec<Py<PyAny>>,
    nodes: Vec<Py<PyAny>>,
    /// Each task's result, until its last consumer has run (a requested one, to the end).
    results: Py<PyList>,
    /// Consumers yet to run, per task: set from the plan before the run starts.
    left: Box<[AtomicU32]>,
    requested: Box<[bool]>,
    /// The first task exception, raised as it is to the caller.
    failure: Mutex<Option<PyErr>>,
}

impl InProcess {
    /// Runs task `index` on its inputs' tokens; returns its own token.
    fn call(&self, py: Python<'_>, index: usize, inputs: &[Value]) -> OpResult {
        let results = self.results.bind(py);
        let values = PyDict::new(py);
        for input in inputs {
            let d = token(input)?;
            let value = results
                .get_item(d)
                .map_err(|e| OpError::new(e.to_string()))?;
            values
                .set_item(self.keys[d].bind(py), value)
                .map_err(|e| OpError::new(e.to_string()))?;
        }
        let outcome = self.nodes[index]
            .call1(py, (values,))
            .and_then(|out| results.set_item(index, out));
        if let Err(error) = outcome {
            let cause = error.to_string();
            let mut failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
            failure.get_or_insert(error);
            return Err(OpError::new(cause));
        }
        for input in inputs {
            let d = token(input)?;
            if self.left[d].fetch_sub(1, Ordering::Relaxed) == 1 && !self.requested[d] {
                results
                    .set_item(d, py.None())
                    .map_err(|e| OpError::new(e.to_string()))?;
            }
        }
        Ok(Value::Int(index as i64))
    }
}

/// This thread's Python thread state, made on its first task and kept until the
/// thread ends.
struct KeptState {
    gil: ffi::PyGILState_STATE,
    saved: *mut ffi::PyThreadState,
}

thread_local! {
    static KEPT: RefCell<Option<KeptState>> = const { RefCell::new(None) };
}

impl Drop for KeptState {
    fn drop(&mut self) {
        // SAFETY: `saved` is this thread's state, released by `PyEval_SaveThread` in
        // `attached`; it is taken back and let go once, here, while the interpreter
        // lives (after it is finalized, the state is left: the process is ending).
        unsafe {
            if ffi::Py_IsInitialized() != 0 {
                ffi::PyEval_RestoreThread(self.saved);
                ffi::PyGILState_Release(self.gil);
            }
        }
    }
}

/// Runs `f` holding the GIL. `Python::attach` alone, on a thread Python did not start,
/// makes a thread state and frees it again on every call, which costs more than a
/// small task: the first call on a thread makes one that the thread keeps.
fn attached<R>(f: impl FnOnce(Python<'_>) -> R) -> R {
    KEPT.with(|kept| {
        let mut kept = kept.borrow_mut();
        if kept.is_none() {
            // SAFETY: called outside any `attach` on this thread (the engine's worker
            // loop holds no GIL), with the interpreter running (a run is under way):
            // `PyGILState_Ensure` makes this thread's state and takes the GIL, which
            // `PyEval_SaveThread` releases at once, keeping the state for `attach`.
            unsafe {
                let gil = ffi::PyGILState_Ensure();
                let saved = ffi::PyEval_SaveThread();
                *kept = Some(KeptState { gil, saved });
            }
        }
    });
    Python::attach(f)
}

/// The task index a token stands for.
fn token(value: &Value) -> Result<usize, OpError> {
    match value {
        Value::Int(i) if *i >= 0 => Ok(*i as usize),
        other => Err(OpError::new(format!(
            "a task's input is a {} instead of a token",
            other.type_name()
        ))),
    }
}

/// Runs `graph`'s `targets` in this process and returns their values: on `workers`
/// threads, or one at a time when `workers` is None.
#[pyfunction]
#[pyo3(signature = (graph, targets, workers=None))]
pub fn run_in_process(
    py: Python<'_>,
    graph: &Bound<'_, PyDict>,
    targets: &Bound<'_, PyAny>,
    workers: Option<usize>,
) -> PyResult<Vec<Py<PyAny>>> {
    let tasks = Tasks::read(graph, targets)?;
    let n = tasks.names.len();
    let state = Arc::new(InProcess {
        results: PyList::new(py, (0..n).map(|_| py.None()))?.unbind(),
        left: (0..n).map(|_| AtomicU32::new(0)).collect(),
        requested: {
            let mut requested = vec![false; n].into_boxed_slice();
            for &t in &tasks.targets {
                requested[t as usize] = true;
            }
            requested
        },
        failure: Mutex::new(None),
        keys: tasks.keys.iter().map(|k| k.clone_ref(py)).collect(),
        nodes: tasks.nodes.iter().map(|k| k.clone_ref(py)).collect(),
    });
    let shared = Arc::clone(&state);
    let plan = tasks.plan(IN_PROCESS_OP, move |args: &[Value]| {
        let (index, inputs) = args
            .split_first()
            .ok_or_else(|| OpError::new("a task without its index"))?;
        let index = token(index)?;
        attached(|py| shared.call(py, index, inputs))
    })?;
    for key in plan.graph().keys() {
        state.left[key.index()].store(plan.consumers(key), Ordering::Relaxed);
    }
    let plan = Arc::new(plan);
    let stop = Stop::new();
    let outcome = match workers {
        // One task at a time, in the engine's order (Sequential runs them on a thread
        // of its own, so the caller waits without the GIL as for threads).
        None => wait(
            py,
            Sequential::default().limited(stopped_by(&stop)),
            plan,
            stop,
        )?,
        Some(workers) => {
            let threads = Threads::new(workers).limited(stopped_by(&stop));
            wait(py, threads, plan, stop)?
        }
    };
    let failure = state
        .failure
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    match (outcome, failure) {
        (Ok(values), _) => {
            let results = state.results.bind(py);
            values
                .iter()
                .map(|v| {
                    Ok(results
                        .get_item(token(v).map_err(|e| internal(e.0))?)?
                        .unbind())
                })
                .collect()
        }
        (Err(RunError::Task { .. }), Some(error)) => Err(error),
        (Err(error), _) => Err(run_failed(error)),
    }
}

/// Runs `graph`'s `targets` in `workers` processes started as `program args...` (the
/// pool's Python workers, whose setup holds the graph's tasks by index) and returns
/// their pickled values.
#[pyfunction]
pub fn run_in_workers(
    py: Python<'_>,
    graph: &Bound<'_, PyDict>,
    targets: &Bound<'_, PyAny>,
    workers: usize,
    program: std::path::PathBuf,
    args: Vec<String>,
) -> PyResult<Vec<Py<PyBytes>>> {
    let tasks = Tasks::read(graph, targets)?;
    let plan = tasks.plan(IN_WORKER_OP, |_: &[Value]| {
        Err(OpError::new("a Python task runs in a worker process"))
    })?;
    drop(tasks);
    let stop = Stop::new();
    let processes = Processes::new(workers)
        .executable(program)
        .args(args)
        .limited(stopped_by(&stop));
    match wait(py, processes, Arc::new(plan), stop)? {
        Ok(values) => values
            .iter()
            .map(|v| match v {
                Value::Bytes(bytes) => Ok(PyBytes::new(py, bytes).unbind()),
                other => Err(internal(format!("a worker sent a {}", other.type_name()))),
            })
            .collect(),
        Err(error) => Err(run_failed(error)),
    }
}

/// The SVG picture of `graph`'s `targets` and what they need, each task labelled with
/// its key and `labels[i]` (its function's name, say).
#[pyfunction]
pub fn draw(
    graph: &Bound<'_, PyDict>,
    targets: &Bound<'_, PyAny>,
    labels: Vec<String>,
) -> PyResult<String> {
    let tasks = Tasks::read(graph, targets)?;
    if labels.len() != tasks.names.len() {
        return Err(PyValueError::new_err("one label per task is needed"));
    }
    // A graph drawn, never run: each task's op is its label.
    let (graph, ids) = tasks.graph(|builder, i| (builder.op(&labels[i]), None))?;
    let keys = taskloom_graph::cull(&graph, &tasks.target_ids(&ids));
    Ok(taskloom_analysis::dag_svg::to_svg(
        &graph,
        &keys,
        "compute fewer values",
    ))
}

/// Limits that only stop on request.
fn stopped_by(stop: &Stop) -> Limits {
    Limits {
        stop: Some(stop.clone()),
        ..Limits::default()
    }
}

/// Runs `plan` on `executor` while the caller waits without the GIL; Ctrl-C stops the
/// run (its workers end) and raises KeyboardInterrupt.
fn wait(
    py: Python<'_>,
    executor: impl Executor + Send + 'static,
    plan: Arc<Plan>,
    stop: Stop,
) -> PyResult<Result<Vec<Value>, RunError>> {
    interruptible(py, "taskloom-graph", &stop, move || executor.run(plan))
}

/// The Python error of a failed run; see the module header.
fn run_failed(error: RunError) -> PyErr {
    match error {
        RunError::Task { key, cause, .. } => RunFailed::new_err(("task", key, cause)),
        RunError::WorkerDied { key, cause } => RunFailed::new_err(("died", key, cause)),
        RunError::Stopped { .. } => RunFailed::new_err(("stopped", "", error.to_string())),
        other => RunFailed::new_err(("error", "", other.to_string())),
    }
}

//! `taskloom._core`: the engine's side of the Python package. The package's Python
//! layer (`taskloom/`) pickles and unpickles; this module runs opaque payloads on the
//! engine's process pool and brings their results back.
//!
//! - A `Pool` is the engine's `ProcessPool` (its supervisor, pipes and crash blame)
//!   whose workers are Python interpreters serving the engine's worker loop
//!   (`serve_worker`) with one op, `OP`: a payload of pickled bytes in, the pickled
//!   outcome out. A worker that dies fails only the payload it ran alone.
//! - Results reach Python through a callback, called from a thread of the job's
//!   own (the one that waits for its results), which holds the GIL only while it
//!   calls: the engine's scheduling never holds the GIL.
//! - Every wait (starting workers, ending them, a worker's loop) releases the GIL.
//! - Arguments and results whose large buffers went to shared memory (the package's
//!   `_shared.py`) name the file their buffers are in; the result thread removes an
//!   argument's file once its payload's outcome is reported (the engine reruns a
//!   payload whose worker died before that), and a result's once `on_result`, which
//!   reads it, has returned.
//! - Task graphs of Python callables (`delayed`, Dask's scheduler protocol) run on
//!   the engine's executors: see `graph.rs`. The workers serve their tasks with a
//!   second op, `graph::IN_WORKER_OP`.
//! - `array`: the array library's lazy arrays, for `taskloom.array`.
//! - No Rust panic crosses into Python: the engine turns a panicking op into its
//!   item's error, and a panic in this module becomes pyo3's `PanicException`.

mod array;
mod graph;
mod wait;

use std::num::NonZeroUsize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyString, PyTuple};
use taskloom_exec::{Chunking, Pool as EnginePool, PoolError, ProcessPool};
use taskloom_graph::{OpError, Registry, Value};

/// The one op a Python worker serves: calls the worker's `run(payload) -> bytes`.
const OP: &str = "python";

/// Starts a message whose buffers are in a shared-memory file, followed by the file's
/// path and a newline: `MAGIC` in the package's `_shared.py`.
const SHARED_MAGIC: &[u8] = b"\0taskloom-shm\0";

/// Stack of a job's result thread: it only waits and calls back into Python, whose
/// frames live on the interpreter's own stack, not this one.
const RESULT_THREAD_STACK: usize = 256 * 1024;

/// Worker processes running Python payloads; see the module header.
#[pyclass(frozen, module = "taskloom._core")]
struct Pool {
    /// `None` once terminated.
    engine: Mutex<Option<ProcessPool>>,
    workers: usize,
}

#[pymethods]
impl Pool {
    /// Starts `workers` processes as `program args...` and waits until they serve;
    /// with `renew_after`, each is replaced after running that many payloads.
    #[new]
    #[pyo3(signature = (workers, program, args, renew_after=None))]
    fn new(
        py: Python<'_>,
        workers: usize,
        program: PathBuf,
        args: Vec<String>,
        renew_after: Option<NonZeroUsize>,
    ) -> PyResult<Self> {
        if workers == 0 {
            return Err(PyValueError::new_err("a pool needs at least one worker"));
        }
        let engine = py
            .detach(|| EnginePool::processes_running(workers, program, args, renew_after))
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
        Ok(Pool {
            engine: Mutex::new(Some(engine)),
            workers,
        })
    }

    /// The number of worker processes.
    #[getter]
    fn workers(&self) -> usize {
        self.workers
    }

    /// Runs every payload in a worker and calls `on_result(index, kind, data)` once
    /// per payload, in the order they finish: kind "ok" with the worker's bytes, or
    /// "died", "closed" or "error" with the reason. `grouped` sends many payloads per
    /// message (a map's chunks); otherwise each goes alone (a single call, at once).
    fn submit(
        &self,
        payloads: Vec<Bound<'_, PyBytes>>,
        grouped: bool,
        on_result: Py<PyAny>,
    ) -> PyResult<()> {
        let items: Vec<Value> = payloads
            .iter()
            .map(|p| Value::Bytes(Arc::from(p.as_bytes())))
            .collect();
        let mut shared: Vec<Option<PathBuf>> =
            payloads.iter().map(|p| shared_file(p.as_bytes())).collect();
        let chunking = if grouped {
            Chunking::Auto
        } else {
            Chunking::Dynamic(1)
        };
        let results = {
            let engine = self.engine.lock().unwrap_or_else(PoisonError::into_inner);
            let submitted = match engine.as_ref() {
                Some(engine) => engine
                    .map_unordered(OP, items, chunking)
                    .map_err(|e| PyRuntimeError::new_err(e.to_string())),
                None => Err(PyValueError::new_err("the pool is terminated")),
            };
            match submitted {
                Ok(results) => results,
                Err(error) => {
                    shared.iter().flatten().for_each(|f| remove(f));
                    return Err(error);
                }
            }
        };
        thread::Builder::new()
            .name("taskloom-results".into())
            .stack_size(RESULT_THREAD_STACK)
            .spawn(move || {
                // Attached once for the whole job, detached while it waits: entering
                // Python anew for every result would make and unmake a thread state.
                Python::attach(|py| {
                    let mut results = results;
                    let mut handle = |(index, result): (usize, Result<Value, PoolError>)| {
                        let result_file = match &result {
                            Ok(Value::Bytes(bytes)) => shared_file(bytes),
                            _ => None,
                        };
                        report(py, &on_result, index, result);
                        let argument_file = shared.get_mut(index).and_then(Option::take);
                        [result_file, argument_file]
                            .iter()
                            .flatten()
                            .for_each(|f| remove(f));
                    };
                    // Detached only to wait: the results of a batch that came at once
                    // are handed over without giving up the GIL between them.
                    while let Some(first) = py.detach(|| results.next()) {
                        handle(first);
                        while let Some(next) = results.try_next() {
                            handle(next);
                        }
                    }
                    // Released attached, so that the job (and the values it holds)
                    // goes now rather than when some thread next enters Python.
                    drop(on_result);
                });
            })
            .map_err(|e| PyRuntimeError::new_err(format!("cannot start a thread: {e}")))?;
        Ok(())
    }

    /// Ends every worker now: what runs or waits is reported "closed". Idempotent.
    fn terminate(&self, py: Python<'_>) {
        let engine = self
            .engine
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        // Dropping the engine's pool kills and reaps its workers: a wait.
        py.detach(move || drop(engine));
    }
}

/// The shared-memory file a message's large buffers are in, if it has one.
fn shared_file(message: &[u8]) -> Option<PathBuf> {
    use std::os::unix::ffi::OsStrExt;

    let rest = message.strip_prefix(SHARED_MAGIC)?;
    let end = rest.iter().position(|&b| b == b'\n')?;
    Some(PathBuf::from(std::ffi::OsStr::from_bytes(&rest[..end])))
}

/// Removes a shared-memory file no one reads any more. Best effort: a file already
/// gone (or never made, its worker having died first) is nothing to report.
fn remove(file: &Path) {
    let _ = std::fs::remove_file(file);
}

/// Hands one payload's outcome to the Python layer. The callback's own exception
/// cannot reach a caller: Python reports it as unraisable, as it does for `__del__`.
fn report(py: Python<'_>, on_result: &Py<PyAny>, index: usize, result: Result<Value, PoolError>) {
    let called = match result {
        Ok(Value::Bytes(ref bytes)) => on_result.call1(py, (index, "ok", PyBytes::new(py, bytes))),
        Ok(other) => on_result.call1(
            py,
            (
                index,
                "error",
                format!("the worker sent a {} instead of bytes", other.type_name()),
            ),
        ),
        Err(PoolError::WorkerDied { cause, .. }) => on_result.call1(py, (index, "died", cause)),
        Err(PoolError::Closed { .. }) => {
            on_result.call1(py, (index, "closed", "the pool was terminated"))
        }
        Err(PoolError::Item { cause, .. }) => on_result.call1(py, (index, "error", cause)),
        Err(other) => on_result.call1(py, (index, "error", other.to_string())),
    };
    if let Err(error) = called {
        error.write_unraisable(py, Some(on_result.bind(py)));
    }
}

/// Serves the engine's worker loop on stdin and stdout until stdin closes, calling
/// `run(payload) -> bytes` for each payload and `run_task(index, *inputs)` for each
/// graph task (bytes, or the failure's text as a str); returns the exit code. Neither
/// should raise: an exception let through fails its payload with the exception's text.
#[pyfunction]
fn serve_worker(py: Python<'_>, run: Py<PyAny>, run_task: Py<PyAny>) -> i32 {
    let mut registry = Registry::empty();
    registry.register(OP, move |args: &[Value]| {
        let Some(Value::Bytes(payload)) = args.first() else {
            return Err(OpError::new("a Python worker takes one payload of bytes"));
        };
        Python::attach(|py| {
            let out = run
                .call1(py, (PyBytes::new(py, payload),))
                .map_err(|e| OpError::new(e.to_string()))?;
            let out = out
                .bind(py)
                .cast::<PyBytes>()
                .map_err(|e| OpError::new(e.to_string()))?;
            Ok(Value::Bytes(Arc::from(out.as_bytes())))
        })
    });
    registry.register(graph::IN_WORKER_OP, move |args: &[Value]| {
        let Some((Value::Int(index), inputs)) = args.split_first() else {
            return Err(OpError::new("a graph task starts with its index"));
        };
        Python::attach(|py| {
            let mut call = Vec::with_capacity(args.len());
            call.push(
                index
                    .into_pyobject(py)
                    .map_err(|e| OpError::new(e.to_string()))?
                    .into_any(),
            );
            for input in inputs {
                let Value::Bytes(bytes) = input else {
                    return Err(OpError::new("a graph task's inputs are bytes"));
                };
                call.push(PyBytes::new(py, bytes).into_any());
            }
            let call = PyTuple::new(py, call).map_err(|e| OpError::new(e.to_string()))?;
            let out = run_task
                .call1(py, call)
                .map_err(|e| OpError::new(e.to_string()))?;
            let out = out.bind(py);
            if let Ok(failure) = out.cast::<PyString>() {
                return Err(OpError::new(failure.to_string()));
            }
            let out = out
                .cast::<PyBytes>()
                .map_err(|e| OpError::new(e.to_string()))?;
            Ok(Value::Bytes(Arc::from(out.as_bytes())))
        })
    });
    py.detach(|| taskloom_exec::serve_worker(&registry))
}

/// The extension module.
#[pymodule]
fn _core(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add_class::<Pool>()?;
    module.add_function(wrap_pyfunction!(serve_worker, module)?)?;
    module.add_class::<array::ArrayExpr>()?;
    module.add_class::<array::Values>()?;
    module.add_function(wrap_pyfunction!(graph::run_in_process, module)?)?;
    module.add_function(wrap_pyfunction!(graph::run_in_workers, module)?)?;
    module.add_function(wrap_pyfunction!(graph::draw, module)?)?;
    module.add("RunFailed", module.py().get_type::<graph::RunFailed>())?;
    Ok(())
}

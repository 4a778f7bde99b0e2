//! A worker process: evaluates the tasks the driver sends and keeps their results
//! until told to release them.
//!
//! - A task may arrive before its inputs: it waits until they are all here
//!   (`tasks.rs`, shared with MPI worker ranks).
//! - One task at a time, on the thread that reads the requests: a task that crashes
//!   takes only this process down, and the driver knows which tasks it held.
//! - A failure is reported at once, not batched behind the next task (which may run
//!   long): the driver stops the run on it.
//! - A terminating signal (the driver ending this worker, Ctrl-C at the terminal)
//!   ends the shell commands this worker started, then the worker, with 128 + N: a
//!   thread of its own does it while a task runs.

use std::io::{self, BufReader, BufWriter, Write};

use taskloom_graph::ops::Shells;
use taskloom_graph::{OpFn, Registry, Value};

use crate::stop::on_signals;

use super::protocol::{receive, send, send_with, Program, Reply, Request};
use super::tasks::{bind, evaluate, Tasks};

/// Serves the driver on stdin/stdout until stdin closes; returns the exit code.
///
/// Programs that use the process executor call this (through
/// `serve_worker_if_requested`) first thing in `main`, with the same registry as the
/// driver: workers are the same binary, so they know the same ops.
pub fn serve(registry: &Registry) -> i32 {
    let shells = Shells::new();
    let _entered = shells.enter();
    let ending = on_signals(move |signal| {
        shells.stop();
        std::process::exit(128 + signal)
    });
    let _catching = match ending {
        Ok(catching) => catching,
        Err(e) => {
            eprintln!("taskloom worker: cannot catch signals: {e}");
            return 1;
        }
    };
    let stdin = io::stdin();
    let stdout = io::stdout();
    let mut input = BufReader::with_capacity(1 << 16, stdin.lock());
    let mut output = BufWriter::with_capacity(1 << 16, stdout.lock());
    match serve_on(registry, &mut input, &mut output) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("taskloom worker: {e}");
            1
        }
    }
}

fn serve_on<R: std::io::Read>(
    registry: &Registry,
    input: &mut BufReader<R>,
    output: &mut impl Write,
) -> io::Result<()> {
    send(output, &Reply::Ready)?;
    output.flush()?;
    let mut buf = Vec::new();
    // The graph program and its ops, once loaded (a pool's worker never loads one).
    let mut program = Program::default();
    let mut ops: Vec<OpFn> = Vec::new();
    let mut tasks = Tasks::default();
    let mut scratch = Vec::new();
    loop {
        // Messages already read come first (a `Store` may make a task runnable, a
        // `Fetch` is another worker waiting); then a task that can run; replies go out
        // in batches, flushed before the next read may block.
        if input.buffer().is_empty() {
            if let Some(taken) = tasks.take_runnable() {
                let reply = match taken {
                    Ok((key, inputs)) => {
                        let done = evaluate(&program, &ops, key, &inputs);
                        drop(inputs);
                        tasks.conclude(done, &program)
                    }
                    Err(failed) => failed,
                };
                send(output, &reply)?;
                if let Some(spilled) = tasks.spilled() {
                    send(output, &spilled)?;
                }
                if matches!(reply, Reply::Failed { .. }) {
                    output.flush()?;
                }
                continue;
            }
            output.flush()?;
        }
        let Some(request) = receive::<Request>(input, &mut buf)? else {
            return output.flush();
        };
        match request {
            Request::Load(loaded) => match bind(registry, &loaded) {
                Ok(bound) => {
                    ops = bound;
                    tasks.held.limit(loaded.limit.clone());
                    program = loaded;
                    send(output, &Reply::Loaded)?;
                }
                Err(op) => {
                    send(output, &Reply::UnknownOp { op })?;
                    return output.flush();
                }
            },
            Request::Run { key } => tasks
                .give(key, &program)
                .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?,
            Request::Store { key, value } => {
                tasks.held.insert(key, value);
            }
            Request::Fetch { keys } => {
                send(output, &tasks.fetch(keys))?;
            }
            Request::Cancel { key } => tasks.cancel(key),
            Request::Release { key } => tasks.held.remove(key),
            Request::Map {
                batch,
                op,
                spread,
                items,
            } => {
                let results = map_items(registry, &op, spread, &items);
                send_with(output, &Reply::Mapped { batch, results }, &mut scratch)?;
                // A chunk is much work: its results go out at once, so that a crash in
                // the next chunk cannot lose them (and before the items are freed).
                output.flush()?;
                drop(items);
            }
            Request::Send { .. }
            | Request::Drain { .. }
            | Request::Shutdown
            | Request::Timeout { .. } => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "an MPI request reached a worker process",
                ))
            }
        }
    }
}

/// Calls op `op` on each item: errors (and panics) fail their item only.
pub(crate) fn map_items(
    registry: &Registry,
    op: &str,
    spread: bool,
    items: &[Value],
) -> Vec<Result<Value, String>> {
    let Some(f) = registry.get(op) else {
        let cause = format!("op '{op}' is not registered in the worker processes");
        return items.iter().map(|_| Err(cause.clone())).collect();
    };
    items.iter().map(|item| call_op(f, item, spread)).collect()
}

/// Calls `f` on one item: the item is the one argument, or, when `spread`, a list of
/// the arguments. A panic becomes the item's error.
pub(crate) fn call_op(f: &OpFn, item: &Value, spread: bool) -> Result<Value, String> {
    let args: &[Value] = if spread {
        match item {
            Value::List(args) => args,
            other => {
                return Err(format!(
                    "the arguments must be a list, got {}",
                    other.type_name()
                ))
            }
        }
    } else {
        std::slice::from_ref(item)
    };
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(args))) {
        Ok(result) => result.map_err(|e| e.0),
        Err(panic) => Err(format!("op panicked: {}", panic_text(&*panic))),
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> &str {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s
    } else {
        "(no message)"
    }
}

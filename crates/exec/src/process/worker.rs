//! A worker process: evaluates the tasks the driver sends and keeps their results
//! until told to release them.
//!
//! - A task may arrive before its inputs: it waits in order until they are all here
//!   (stored by the driver, or made here by an earlier task), then runs. The scheduler
//!   core sends a task only where its inputs are or are on their way, and cancels it
//!   when one will not come, so nothing waits forever.
//! - One task at a time, on the thread that reads the requests: a task that crashes
//!   takes only this process down, and the driver knows which tasks it held.
//! - A failure is reported at once, not batched behind the next task (which may run
//!   long): the driver stops the run on it.
//! - A checkpointed run's results are kept by the worker that made them, as each task
//!   finishes (`Checkpoint::keep`), and stored results are read by the op the
//!   checkpoint binds (`Checkpoint::op`).
//! - A terminating signal (the driver ending this worker, Ctrl-C at the terminal)
//!   ends the shell commands this worker started, then the worker, with 128 + N: a
//!   thread of its own does it while a task runs.

use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Write};

use taskloom_checkpoint::CHECKPOINT_OP;
use taskloom_graph::ops::Shells;
use taskloom_graph::{evaluate_span, EvalError, KeyId, Node, OpFn, OpId, Registry, Value};

use crate::stop::on_signals;
use crate::trace::monotonic_ns;

use super::protocol::{receive, send, send_with, Program, Reply, Request};

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
            if let Some(index) = tasks.next_runnable() {
                let reply = tasks.run(index, &program, &ops);
                send(output, &reply)?;
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
            Request::Load(loaded) => {
                ops.clear();
                for (id, name) in loaded.ops.iter().enumerate() {
                    let checkpoint_op = || loaded.checkpoint.as_ref()?.op(OpId(id as u32));
                    match checkpoint_op().or_else(|| registry.get(name).cloned()) {
                        Some(f) => ops.push(f),
                        None => {
                            send(output, &Reply::UnknownOp { op: name.clone() })?;
                            return output.flush();
                        }
                    }
                }
                program = loaded;
                send(output, &Reply::Loaded)?;
            }
            Request::Run { key } => {
                let Some(&span) = program.spans.get(key.index()) else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("task {} is not in the loaded program", key.index()),
                    ));
                };
                tasks.give(key, program.arena.nodes(span));
            }
            Request::Store { key, value } => {
                tasks.held.insert(key, value);
            }
            Request::Fetch { keys } => {
                let values = keys
                    .into_iter()
                    .map(|k| (k, tasks.held.get(&k).cloned()))
                    .collect();
                send(output, &Reply::Values { values })?;
            }
            Request::Cancel { key } => tasks.queue.retain(|(k, _)| *k != key),
            Request::Release { key } => {
                tasks.held.remove(&key);
            }
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
        }
    }
}

/// A worker's tasks and results: each task given waits until every input it refers to
/// is held here, then runs, the oldest runnable first.
#[derive(Default)]
struct Tasks {
    held: HashMap<KeyId, Value>,
    /// Tasks given and not yet run, in order, with the inputs each refers to.
    queue: Vec<(KeyId, Vec<KeyId>)>,
}

impl Tasks {
    fn give(&mut self, key: KeyId, nodes: &[Node]) {
        let mut inputs: Vec<KeyId> = nodes
            .iter()
            .filter_map(|n| match n {
                Node::Ref(k) => Some(*k),
                _ => None,
            })
            .collect();
        inputs.sort_unstable();
        inputs.dedup();
        self.queue.push((key, inputs));
    }

    fn next_runnable(&self) -> Option<usize> {
        self.queue
            .iter()
            .position(|(_, inputs)| inputs.iter().all(|k| self.held.contains_key(k)))
    }

    /// Runs the queued task at `index` and keeps its result; returns the reply.
    fn run(&mut self, index: usize, program: &Program, ops: &[OpFn]) -> Reply {
        let (key, _) = self.queue.remove(index);
        let started_ns = monotonic_ns();
        let lookup = |k: KeyId| self.held.get(&k).cloned();
        let result = evaluate_span(&program.arena, program.spans[key.index()], ops, &lookup);
        let kept = match (&result, &program.checkpoint) {
            (Ok(value), Some(checkpoint)) => checkpoint.keep(key, value),
            _ => Ok(()),
        };
        if let Err(cause) = kept {
            return Reply::Failed {
                key,
                op: CHECKPOINT_OP.into(),
                cause,
            };
        }
        match result {
            Ok(value) => {
                let bytes = approximate_size(&value);
                self.held.insert(key, value);
                Reply::Finished {
                    key,
                    bytes,
                    started_ns,
                    ended_ns: monotonic_ns(),
                }
            }
            Err(EvalError::Op { op, cause }) => Reply::Failed {
                key,
                op: program.ops[op.index()].clone(),
                cause: cause.0,
            },
            // `next_runnable` saw every input here: this is a bug, reported as the
            // task's failure rather than a wrong value.
            Err(EvalError::MissingInput(input)) => Reply::Failed {
                key,
                op: "(input)".into(),
                cause: format!("input {input:?} is not in this worker (a bug in taskloom)"),
            },
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

/// About how many bytes a value takes: what placement weighs when it decides where a
/// task's inputs already are.
fn approximate_size(value: &Value) -> u64 {
    // A stack, not recursion: values may be nested a million deep.
    let mut total = 0;
    let mut todo = vec![value];
    while let Some(v) = todo.pop() {
        total += 16;
        match v {
            Value::Str(s) => total += s.len() as u64,
            Value::Bytes(b) => total += b.len() as u64,
            Value::Chunk(c) => total += c.nbytes() as u64,
            Value::List(items) => todo.extend(items.iter()),
            _ => {}
        }
    }
    total
}

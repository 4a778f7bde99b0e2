//! A worker process: evaluates the tasks the driver sends and keeps their results
//! until told to release them.

use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Write};

use taskloom_graph::{evaluate_span, KeyId, OpFn, Registry, Value};

use crate::trace::monotonic_ns;

use super::protocol::{receive, send, send_with, Program, Reply, Request};

/// Serves the driver on stdin/stdout until stdin closes; returns the exit code.
///
/// Programs that use the process executor call this (through
/// `serve_worker_if_requested`) first thing in `main`, with the same registry as the
/// driver: workers are the same binary, so they know the same ops.
pub fn serve(registry: &Registry) -> i32 {
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
    let mut held: HashMap<KeyId, Value> = HashMap::new();
    let mut scratch = Vec::new();
    loop {
        // Reply in batches: flush when no request is waiting in the buffer, before the
        // next read may block.
        if input.buffer().is_empty() {
            output.flush()?;
        }
        let Some(request) = receive::<Request>(input, &mut buf)? else {
            return output.flush();
        };
        match request {
            Request::Load(loaded) => {
                ops.clear();
                for name in &loaded.ops {
                    match registry.get(name) {
                        Some(f) => ops.push(f.clone()),
                        None => {
                            send(output, &Reply::UnknownOp { op: name.clone() })?;
                            return output.flush();
                        }
                    }
                }
                program = loaded;
                send(output, &Reply::Loaded)?;
            }
            Request::Run { key, inputs } => {
                let Some(&span) = program.spans.get(key.index()) else {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("task {} is not in the loaded program", key.index()),
                    ));
                };
                held.extend(inputs);
                // An input that is not here (its producer failed) must not pass as null.
                let missing = std::cell::Cell::new(false);
                let lookup = |k: KeyId| {
                    held.get(&k).cloned().unwrap_or_else(|| {
                        missing.set(true);
                        Value::Null
                    })
                };
                let started_ns = monotonic_ns();
                let result = evaluate_span(&program.arena, span, &ops, &lookup);
                let reply = match result {
                    _ if missing.get() => Reply::Skipped { key },
                    Ok(value) => {
                        let bytes = approximate_size(&value);
                        held.insert(key, value);
                        Reply::Finished {
                            key,
                            bytes,
                            started_ns,
                            ended_ns: monotonic_ns(),
                        }
                    }
                    Err(e) => Reply::Failed {
                        key,
                        op: program.ops[e.op.index()].clone(),
                        cause: e.cause.0,
                    },
                };
                send(output, &reply)?;
            }
            Request::Fetch { keys } => {
                let values = keys
                    .into_iter()
                    .map(|k| (k, held.get(&k).cloned().unwrap_or_default()))
                    .collect();
                send(output, &Reply::Values { values })?;
            }
            Request::Release { key } => {
                held.remove(&key);
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

//! A worker process: evaluates the tasks the driver sends and keeps their results
//! until told to release them.

use std::collections::HashMap;
use std::io::{self, BufReader, BufWriter, Write};

use taskloom_graph::{evaluate_span, KeyId, OpFn, Registry, Value};

use super::protocol::{receive, send, Program, Reply, Request};

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
    let mut buf = Vec::new();
    let Some(program) = receive::<Program>(input, &mut buf)? else {
        return Ok(());
    };
    let mut ops: Vec<OpFn> = Vec::with_capacity(program.ops.len());
    for name in &program.ops {
        match registry.get(name) {
            Some(f) => ops.push(f.clone()),
            None => {
                send(output, &Reply::UnknownOp { op: name.clone() })?;
                return output.flush();
            }
        }
    }
    send(output, &Reply::Loaded)?;
    output.flush()?;
    let mut held: HashMap<KeyId, Value> = HashMap::new();
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
            Request::Run { key, inputs } => {
                held.extend(inputs);
                let lookup = |k: KeyId| held.get(&k).cloned().unwrap_or_default();
                let reply = match evaluate_span(
                    &program.arena,
                    program.spans[key.index()],
                    &ops,
                    &lookup,
                ) {
                    Ok(value) => {
                        let bytes = approximate_size(&value);
                        held.insert(key, value);
                        Reply::Finished { key, bytes }
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
        }
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
            Value::List(items) => todo.extend(items.iter()),
            _ => {}
        }
    }
    total
}

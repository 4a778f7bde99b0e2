//! A worker's tasks and results, shared by worker processes and MPI worker ranks: the
//! one place a task given to a worker waits for its inputs, is evaluated, and has its
//! result kept and reported.
//!
//! - A task may arrive before its inputs: it waits in order until they are all held
//!   here (stored by the driver or a peer, or made here by an earlier task), then
//!   runs, the oldest runnable first. The scheduler core sends a task only where its
//!   inputs are or are on their way, and cancels it when one will not come.
//! - Results are kept within the worker's share of the run's memory limit
//!   (`results.rs`): a task's inputs are gathered when it is taken, read back from
//!   scratch files if need be; a failed read fails the run (`Reply::Unreadable`).
//! - [`evaluate`] computes a task from its inputs, and saves its result in the run's
//!   checkpoint when there is one, and may run on any thread; [`Tasks::conclude`] keeps
//!   a finished task's value and makes its reply, on the thread that owns the results.

use taskloom_checkpoint::CHECKPOINT_OP;
use taskloom_graph::{evaluate_span, EvalError, KeyId, Node, OpFn, OpId, Registry, Value};

use super::protocol::{Program, Reply};
use super::results::{Counts, Results};
use crate::trace::monotonic_ns;

/// A task's evaluation and when it ran, on the machine's monotonic clock.
pub struct Evaluated {
    pub key: KeyId,
    result: Result<Value, EvalError>,
    /// Whether the result is saved in the checkpoint (or needs not be): a result that
    /// cannot be saved fails its task.
    kept: Result<(), String>,
    started_ns: u64,
    ended_ns: u64,
}

/// Evaluates task `key` of `program` from its `inputs` (as `Tasks::take_runnable`
/// gathers them).
pub fn evaluate(
    program: &Program,
    ops: &[OpFn],
    key: KeyId,
    inputs: &[(KeyId, Value)],
) -> Evaluated {
    let started_ns = monotonic_ns();
    let lookup = |k: KeyId| {
        let at = inputs.binary_search_by_key(&k, |(i, _)| *i).ok()?;
        Some(inputs[at].1.clone())
    };
    let result = evaluate_span(&program.arena, program.spans[key.index()], ops, &lookup);
    let kept = match (&result, &program.checkpoint) {
        (Ok(value), Some(checkpoint)) => checkpoint.keep(key, value),
        _ => Ok(()),
    };
    Evaluated {
        key,
        result,
        kept,
        started_ns,
        ended_ns: monotonic_ns(),
    }
}

/// Binds a loaded program's op names to `registry`'s functions (the op that reads a
/// stored result is the checkpoint's, bound by id); `Err` names the first op the
/// registry lacks.
pub fn bind(registry: &Registry, program: &Program) -> Result<Vec<OpFn>, String> {
    let checkpoint_op = |id: usize| program.checkpoint.as_ref()?.op(OpId(id as u32));
    program
        .ops
        .iter()
        .enumerate()
        .map(|(id, name)| {
            checkpoint_op(id)
                .or_else(|| registry.get(name).cloned())
                .ok_or_else(|| name.clone())
        })
        .collect()
}

/// A task taken to run, and its inputs' values in key order.
pub type Runnable = (KeyId, Vec<(KeyId, Value)>);

/// See the module header.
#[derive(Default)]
pub struct Tasks {
    pub held: Results,
    /// Tasks given and not yet run, in order, with the inputs each refers to.
    queue: Vec<(KeyId, Vec<KeyId>)>,
}

impl Tasks {
    /// Queues task `key` of `program`; `Err` when the program has no such task.
    pub fn give(&mut self, key: KeyId, program: &Program) -> Result<(), String> {
        let Some(&span) = program.spans.get(key.index()) else {
            return Err(format!("task {} is not in the loaded program", key.index()));
        };
        let mut inputs: Vec<KeyId> = program
            .arena
            .nodes(span)
            .iter()
            .filter_map(|n| match n {
                Node::Ref(k) => Some(*k),
                _ => None,
            })
            .collect();
        inputs.sort_unstable();
        inputs.dedup();
        self.queue.push((key, inputs));
        Ok(())
    }

    /// Forgets a queued task: an input it waits for will not come.
    pub fn cancel(&mut self, key: KeyId) {
        self.queue.retain(|(k, _)| *k != key);
    }

    /// Forgets every queued task (an MPI rank whose run ended early).
    pub fn cancel_all(&mut self) {
        self.queue.clear();
    }

    /// Takes the oldest task whose inputs are all here, with their values in key
    /// order; or the reply that fails the run, when an input cannot be read back.
    pub fn take_runnable(&mut self) -> Option<Result<Runnable, Reply>> {
        let index = self.runnable()?;
        let (key, inputs) = self.queue.remove(index);
        let mut values = Vec::with_capacity(inputs.len());
        for input in inputs {
            match self.held.get(input) {
                Some(Ok(value)) => values.push((input, value)),
                Some(Err(e)) => {
                    return Some(Err(Reply::Unreadable {
                        key: input,
                        cause: e.to_string(),
                    }))
                }
                None => unreachable!("a runnable task's inputs are here"),
            }
        }
        Some(Ok((key, values)))
    }

    /// Whether a queued task has all its inputs here (another thread may take it).
    pub fn has_runnable(&self) -> bool {
        self.runnable().is_some()
    }

    /// Where the oldest task whose inputs are all here is in the queue.
    fn runnable(&self) -> Option<usize> {
        self.queue
            .iter()
            .position(|(_, inputs)| inputs.iter().all(|&k| self.held.contains(k)))
    }

    /// The results of `keys` for the driver (`None` for one not here); or the reply
    /// that fails the run, when one cannot be read back.
    pub fn fetch(&mut self, keys: Vec<KeyId>) -> Reply {
        let mut values = Vec::with_capacity(keys.len());
        for key in keys {
            match self.held.get(key).transpose() {
                Ok(value) => values.push((key, value)),
                Err(e) => {
                    return Reply::Unreadable {
                        key,
                        cause: e.to_string(),
                    }
                }
            }
        }
        Reply::Values { values }
    }

    /// The reply that tells the driver what was spilled since the last one, if any
    /// was (sent after a task's end).
    pub fn spilled(&mut self) -> Option<Reply> {
        let counts = self.held.take_counts();
        (counts != Counts::default()).then_some(Reply::Spilled {
            written: counts.written,
            read_back: counts.read_back,
            over: counts.over,
        })
    }

    /// Keeps a finished task's value; returns the reply that reports its end.
    pub fn conclude(&mut self, done: Evaluated, program: &Program) -> Reply {
        let key = done.key;
        if let Err(cause) = done.kept {
            return Reply::Failed {
                key,
                op: CHECKPOINT_OP.into(),
                cause,
            };
        }
        match done.result {
            Ok(value) => {
                // Its own `Value` too: a number costs something to move.
                let bytes = std::mem::size_of::<Value>() as u64 + value.heap_bytes();
                self.held.insert(key, value);
                Reply::Finished {
                    key,
                    bytes,
                    started_ns: done.started_ns,
                    ended_ns: done.ended_ns,
                }
            }
            Err(EvalError::Op { op, cause }) => Reply::Failed {
                key,
                op: program.ops[op.index()].clone(),
                cause: cause.0,
            },
            // `take_runnable` saw every input here: this is a bug, reported as the
            // task's failure rather than a wrong value.
            Err(EvalError::MissingInput(input)) => Reply::Failed {
                key,
                op: "(input)".into(),
                cause: format!("input {input:?} is not in this worker (a bug in taskloom)"),
            },
        }
    }
}

//! What the driver and a worker process say to each other over the worker's stdin and
//! stdout: postcard-encoded messages, each framed by its length (a little-endian u32).
//!
//! postcard is compact (varints, no field names) and fast, and serde keeps the message
//! types plain Rust enums.

use std::io::{self, Read, Write};

use serde::{Deserialize, Serialize};
use taskloom_checkpoint::Checkpoint;
use taskloom_graph::{ExprArena, KeyId, Span, Value};

pub use super::results::WorkerLimit;

/// The environment variable that makes a program started by the process executor
/// serve as a worker instead of doing its usual work.
pub const WORKER_ENV: &str = "TASKLOOM_WORKER";

/// What a worker evaluates: every expression of the graph and the names of its ops
/// (bound to the worker's own registry, which is the driver's: same binary), the
/// run's checkpoint, if any (where the worker keeps its results and reads stored ones),
/// and the worker's share of the run's memory limit, if any.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Program {
    pub arena: ExprArena,
    pub spans: Vec<Span>,
    pub ops: Vec<String>,
    pub checkpoint: Option<Checkpoint>,
    pub limit: Option<WorkerLimit>,
}

/// `Program`, borrowed, for the driver to send without copying the graph.
#[derive(Serialize)]
pub struct ProgramRef<'a> {
    pub arena: &'a ExprArena,
    pub spans: &'a [Span],
    pub ops: &'a [String],
    pub checkpoint: Option<&'a Checkpoint>,
    pub limit: Option<&'a WorkerLimit>,
}

/// `Request::Load`, borrowed: encoded once by the driver for every worker.
pub struct LoadRef<'a>(pub ProgramRef<'a>);

/// `Request::Load` of `plan`'s graph (and checkpoint, and each worker's share of the
/// memory limit), encoded once by a driver for every worker it starts or rank it
/// serves.
pub fn encode_load(
    plan: &taskloom_sched::Plan,
    limit: Option<&WorkerLimit>,
) -> Result<Vec<u8>, crate::error::RunError> {
    let graph = plan.graph();
    postcard::to_stdvec(&LoadRef(ProgramRef {
        arena: graph.arena(),
        spans: graph.spans(),
        ops: graph.op_names(),
        checkpoint: plan.checkpoint(),
        limit,
    }))
    .map_err(|e| crate::error::RunError::Internal(format!("cannot encode the graph: {e}")))
}

impl Serialize for LoadRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // `Load` is `Request`'s seventh variant (the test below checks the encoding).
        serializer.serialize_newtype_variant("Request", 6, "Load", &self.0)
    }
}

/// Driver to worker.
#[derive(Debug, Serialize, Deserialize)]
pub enum Request {
    /// Run the task once every input it refers to is here (sent by `Store`, or made
    /// here by a task given earlier), and keep its result.
    Run { key: KeyId },
    /// Keep this value: a result made by another worker, for tasks given here.
    Store { key: KeyId, value: Value },
    /// Send the results of these keys.
    Fetch { keys: Vec<KeyId> },
    /// Forget a task given here that has not started: an input it waits for will not
    /// come.
    Cancel { key: KeyId },
    /// Forget the result of this key.
    Release { key: KeyId },
    /// Pool API: call op `op` on each item (with the item as its one argument, or,
    /// when `spread`, with the item's list elements as its arguments) and reply with
    /// `Mapped`. Independent of any loaded program: ops are looked up by name.
    Map {
        batch: u64,
        op: String,
        spread: bool,
        items: Vec<Value>,
    },
    /// Load this graph program (a graph run's first request); the worker replies
    /// `Loaded`, or `UnknownOp` and exits.
    Load(Program),
    /// MPI: send the results of these keys to worker rank `to`, peer to peer (as
    /// `Store`s); a key not held here is reported `Unsent`.
    Send { keys: Vec<KeyId>, to: u32 },
    /// MPI: the run ends early; forget queued tasks and reply `Drained` once the
    /// running ones have ended (at once when `stop_shells`: their shell commands are
    /// ended, as a failed run's are).
    Drain { stop_shells: bool },
    /// MPI: end the shell commands started here, and serve no more.
    Shutdown,
    /// MPI: a task that runs longer than `limit` is reported `TimedOut` (each run's
    /// limit, sent before its program).
    Timeout { limit: Option<std::time::Duration> },
}

/// Worker to driver.
#[derive(Debug, Serialize, Deserialize)]
pub enum Reply {
    /// The worker serves: its first message, sent before it reads anything.
    Ready,
    /// The program is loaded and every op is known here.
    Loaded,
    /// The program names an op this worker's registry lacks.
    UnknownOp { op: String },
    /// Task `key` ran from `started_ns` to `ended_ns` on the machine's monotonic clock
    /// (one clock for every process, so the driver's trace can place it exactly).
    Finished {
        key: KeyId,
        bytes: u64,
        started_ns: u64,
        ended_ns: u64,
    },
    Failed {
        key: KeyId,
        op: String,
        cause: String,
    },
    /// The results a `Fetch` asked for, in order; `None` for one not held here.
    Values { values: Vec<(KeyId, Option<Value>)> },
    /// The results of a `Map` request, one per item in order: an op error (or an
    /// unknown op) fails its item only.
    Mapped {
        batch: u64,
        results: Vec<Result<Value, String>>,
    },
    /// MPI: a result sent by a peer rank is held here now.
    Arrived { key: KeyId },
    /// MPI: a `Send` of `key` to rank `to` was not made: it is not held here.
    Unsent { key: KeyId, to: u32 },
    /// MPI: the `Drain` is done: no task runs here.
    Drained,
    /// MPI: task `key` has run longer than the task timeout (and still runs).
    TimedOut { key: KeyId },
    /// The result of `key`, written to a scratch file past the worker's memory limit,
    /// cannot be read back (for a task, a `Fetch` or a `Send`): the run fails, naming
    /// it, rather than wait for a result nobody holds any more.
    Unreadable { key: KeyId, cause: String },
    /// Bytes of results written to scratch files past the worker's memory limit, and
    /// read back, since the last such reply; `over` is the most bytes held past the
    /// limit when nothing could be written out (0: within it).
    Spilled {
        written: u64,
        read_back: u64,
        over: u64,
    },
}

/// `Request::Map`, borrowed: the driver sends a chunk of a pool map without copying
/// its items. Encodes exactly as `Request::Map` does.
pub struct MapRef<'a> {
    pub batch: u64,
    pub op: &'a str,
    pub spread: bool,
    pub items: &'a [Value],
}

impl Serialize for MapRef<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStructVariant;
        // `Map` is `Request`'s sixth variant (the test below checks the encoding).
        let mut map = serializer.serialize_struct_variant("Request", 5, "Map", 4)?;
        map.serialize_field("batch", &self.batch)?;
        map.serialize_field("op", self.op)?;
        map.serialize_field("spread", &self.spread)?;
        map.serialize_field("items", self.items)?;
        map.end()
    }
}

/// The largest message either side accepts: 1 GiB.
pub const MAX_MESSAGE: usize = 1 << 30;

/// Writes one framed message; returns its size in bytes.
pub fn send<T: Serialize + ?Sized>(out: &mut impl Write, message: &T) -> io::Result<usize> {
    let bytes = postcard::to_stdvec(message).map_err(io::Error::other)?;
    send_encoded(out, &bytes)?;
    Ok(bytes.len())
}

/// Like `send`, encoding into `scratch` (kept between calls, so that large messages
/// such as pool chunks do not grow a fresh buffer each time).
pub fn send_with<T: Serialize + ?Sized>(
    out: &mut impl Write,
    message: &T,
    scratch: &mut Vec<u8>,
) -> io::Result<usize> {
    scratch.clear();
    let bytes = postcard::to_extend(message, std::mem::take(scratch)).map_err(io::Error::other)?;
    let sent = send_encoded(out, &bytes).map(|()| bytes.len());
    *scratch = bytes;
    sent
}

/// Writes one message encoded already (to send the same program to many workers).
pub fn send_encoded(out: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| io::Error::other("message over 4 GiB"))?;
    out.write_all(&len.to_le_bytes())?;
    out.write_all(bytes)
}

/// Reads one framed message; `Ok(None)` at a clean end of stream.
pub fn receive<T: for<'de> Deserialize<'de>>(
    input: &mut impl Read,
    buf: &mut Vec<u8>,
) -> io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match input.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_le_bytes(len) as usize;
    if len > MAX_MESSAGE {
        // Garbage, not a message: refuse it at once rather than wait for gigabytes.
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (the limit is {MAX_MESSAGE})"),
        ));
    }
    buf.resize(len, 0);
    input.read_exact(buf)?;
    postcard::from_bytes(buf)
        .map(Some)
        .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_round_trip_through_frames() {
        let mut wire = Vec::new();
        let run = Request::Store {
            key: KeyId(7),
            value: Value::list([Value::Int(1), Value::str("x")]),
        };
        send(&mut wire, &run).unwrap();
        send(&mut wire, &Request::Release { key: KeyId(1) }).unwrap();
        let mut input = &wire[..];
        let mut buf = Vec::new();
        let got: Request = receive(&mut input, &mut buf).unwrap().unwrap();
        assert_eq!(format!("{got:?}"), format!("{run:?}"));
        assert!(matches!(
            receive::<Request>(&mut input, &mut buf).unwrap(),
            Some(Request::Release { .. })
        ));
        assert!(receive::<Request>(&mut input, &mut buf).unwrap().is_none());
    }

    #[test]
    fn map_requests_and_replies_round_trip() {
        let mut wire = Vec::new();
        let map = Request::Map {
            batch: 3,
            op: "inc".into(),
            spread: false,
            items: vec![Value::Int(1), Value::Int(-2)],
        };
        send(&mut wire, &map).unwrap();
        let mapped = Reply::Mapped {
            batch: 3,
            results: vec![Ok(Value::Int(2)), Err("overflow".into())],
        };
        send(&mut wire, &mapped).unwrap();
        let mut input = &wire[..];
        let mut buf = Vec::new();
        let got: Request = receive(&mut input, &mut buf).unwrap().unwrap();
        assert_eq!(format!("{got:?}"), format!("{map:?}"));
        let got: Reply = receive(&mut input, &mut buf).unwrap().unwrap();
        assert_eq!(format!("{got:?}"), format!("{mapped:?}"));
    }

    fn encode<T: Serialize>(message: &T) -> Vec<u8> {
        postcard::to_stdvec(message).unwrap()
    }

    #[test]
    fn borrowed_requests_encode_as_their_owned_forms() {
        let items = vec![Value::Int(5), Value::str("a")];
        let map = Request::Map {
            batch: 9,
            op: "inc".into(),
            spread: true,
            items: items.clone(),
        };
        let map_ref = MapRef {
            batch: 9,
            op: "inc",
            spread: true,
            items: &items,
        };
        assert_eq!(encode(&map), encode(&map_ref));
        let ops = vec!["inc".to_string()];
        let limit = WorkerLimit {
            bytes: 1 << 20,
            scratch: Some("/scratch".into()),
        };
        let load = Request::Load(Program {
            arena: ExprArena::default(),
            spans: Vec::new(),
            ops: ops.clone(),
            checkpoint: None,
            limit: Some(limit.clone()),
        });
        let load_ref = LoadRef(ProgramRef {
            arena: &ExprArena::default(),
            spans: &[],
            ops: &ops,
            checkpoint: None,
            limit: Some(&limit),
        });
        assert_eq!(encode(&load), encode(&load_ref));
    }

    #[test]
    fn a_program_carries_its_checkpoint() {
        use std::sync::Arc;
        use taskloom_checkpoint::{resume, Store};
        use taskloom_graph::{parse, validate, Registry};

        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let registry = Registry::builtins();
        let graph = Arc::new(parse("a = inc(1)\n").unwrap());
        let ops = validate(&graph, &registry).unwrap();
        let purity = [registry.purity("inc").unwrap()];
        let target = graph.key("a").unwrap();
        let checkpoint = resume(&store, &graph, &ops, &purity, &[target]).checkpoint;
        let names = graph.op_names().to_vec();
        let load_ref = LoadRef(ProgramRef {
            arena: graph.arena(),
            spans: graph.spans(),
            ops: &names,
            checkpoint: Some(&checkpoint),
            limit: None,
        });
        let Request::Load(program) = postcard::from_bytes(&encode(&load_ref)).unwrap() else {
            panic!("a load request");
        };
        // The worker keeps what it computes where the driver said.
        let received = program.checkpoint.expect("the checkpoint travels");
        received.keep(target, &Value::Int(2)).unwrap();
        assert_eq!(store.stats().unwrap().entries, 1);
    }

    #[test]
    fn bytes_encode_as_a_length_then_each_byte_as_before() {
        use std::sync::Arc;
        let bytes = Value::Bytes(Arc::from(&[0u8, 255, 7][..]));
        // `Bytes` is `Value`'s seventh variant; then the length and the bytes, as a
        // sequence of u8 was written: stored checkpoints read the same.
        assert_eq!(encode(&bytes), [6, 3, 0, 255, 7]);
        let back: Value = postcard::from_bytes(&encode(&bytes)).unwrap();
        assert_eq!(back, bytes);
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let mut input: &[u8] = &[3, 0, 0, 0, 0xff, 0xff, 0xff];
        assert!(receive::<Request>(&mut input, &mut Vec::new()).is_err());
        let mut truncated: &[u8] = &[9, 0, 0, 0, 1];
        assert!(receive::<Request>(&mut truncated, &mut Vec::new()).is_err());
    }
}

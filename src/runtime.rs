//! A runtime: the ops a graph may call, the executor that runs it, and the checkpoint
//! it resumes from, if any.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use taskloom_checkpoint::{resume, Store};
use taskloom_exec::{Executor, Threads};
use taskloom_graph::ops::Purity;
use taskloom_graph::parse::MAX_SOURCE_BYTES;
use taskloom_graph::{
    parse_bytes_releasing, validate, FromValue, Graph, GraphError, KeyId, OpFn, OpResult, Registry,
    Value,
};
use taskloom_sched::Plan;

use crate::error::Error;

/// Computes keys of graphs: owns the op registry (builtins plus user ops) and the
/// executor. Cheap to share; one per program is usual.
pub struct Runtime {
    registry: Registry,
    executor: Box<dyn Executor + Send + Sync>,
    /// The most bytes a graph is read from.
    source_limit: u64,
    /// Where pure results are kept and read from.
    checkpoint: Option<Store>,
}

impl Runtime {
    /// Builtin ops, a thread pool with one worker per core.
    pub fn new() -> Self {
        Runtime {
            registry: Registry::builtins(),
            executor: Box::new(Threads::per_core()),
            source_limit: MAX_SOURCE_BYTES,
            checkpoint: None,
        }
    }

    /// Keeps the result of every pure task in the checkpoint store `dir` (made there
    /// if `dir` is new or empty), and reads from it every result stored already, so
    /// that computing the same keys again runs only the tasks whose results are
    /// missing. A directory that holds anything but a store is refused.
    pub fn with_checkpoint(mut self, dir: impl Into<PathBuf>) -> Result<Self, Error> {
        self.checkpoint = Some(Store::open(dir)?);
        Ok(self)
    }

    /// Refuses graphs read from more than `bytes` bytes (at most, and by default,
    /// `MAX_SOURCE_BYTES`): for a program that loads graphs it did not write and wants
    /// to bound the memory one may take.
    pub fn with_source_limit(mut self, bytes: u64) -> Self {
        self.source_limit = bytes.min(MAX_SOURCE_BYTES);
        self
    }

    /// Runs graphs on `executor` instead.
    pub fn with_executor(self, executor: impl Executor + Send + Sync + 'static) -> Self {
        self.with_boxed_executor(Box::new(executor))
    }

    /// Runs graphs on `executor` instead, chosen at run time.
    pub fn with_boxed_executor(mut self, executor: Box<dyn Executor + Send + Sync>) -> Self {
        self.executor = executor;
        self
    }

    /// Adds the `array.*` ops, so that array graphs (`taskloom::array`) can run on
    /// this runtime, and in its worker processes when they serve its registry.
    pub fn with_array_ops(mut self) -> Self {
        taskloom_array::ops::register(&mut self.registry);
        self
    }

    /// Registers op `name` over dynamic values. Ops are found by name, so a graph
    /// naming `name` can run wherever this runtime's registry is.
    pub fn register<F>(&mut self, name: &str, f: F) -> &mut Self
    where
        F: Fn(&[Value]) -> OpResult + Send + Sync + 'static,
    {
        self.registry.register(name, f);
        self
    }

    /// Registers op `name`, whose result depends on its arguments alone: with a
    /// checkpoint, its results are kept under `version` and reused. Change `version`
    /// when `f` comes to compute something else. (Ops registered with `register` are
    /// never checkpointed.)
    pub fn register_pure<F>(&mut self, name: &str, version: u32, f: F) -> &mut Self
    where
        F: Fn(&[Value]) -> OpResult + Send + Sync + 'static,
    {
        self.registry.register_pure(name, version, f);
        self
    }

    /// Registers a one-argument op over Rust types: argument conversion and arity
    /// errors become task errors naming the op.
    pub fn register_fn1<A, R, F>(&mut self, name: &str, f: F) -> &mut Self
    where
        A: FromValue,
        R: Into<Value>,
        F: Fn(A) -> R + Send + Sync + 'static,
    {
        self.register(name, move |args| {
            taskloom_graph::ops::expect_arity(args, 1, 1)?;
            let a = A::from_value(args[0].clone()).map_err(taskloom_graph::OpError)?;
            Ok(f(a).into())
        })
    }

    /// The ops graphs may call.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Reads and validates a graph file (JSON, text or binary form).
    pub fn load(&self, path: &Path) -> Result<Program, Error> {
        let source = Source::open(path, self.source_limit).map_err(|e| self.error(e, path))?;
        self.load_source(source, path)
    }

    /// Reads and validates a graph from `reader` (standard input, a pipe), which
    /// `name` stands for in messages. Like [`Runtime::load`], it stops at the source
    /// limit, so an endless reader is an error rather than a hang.
    pub fn load_from(&self, reader: impl Read, name: &Path) -> Result<Program, Error> {
        let source = Source::read(reader, self.source_limit).map_err(|e| self.error(e, name))?;
        self.load_source(source, name)
    }

    fn error(&self, error: SourceError, path: &Path) -> Error {
        match error {
            SourceError::Io(source) => Error::Read {
                path: path.to_path_buf(),
                source,
            },
            SourceError::TooLarge => Error::Graph {
                file: Some(path.to_path_buf()),
                source: GraphError::TooLarge {
                    limit: self.source_limit,
                },
            },
        }
    }

    fn load_source(&self, source: Source, path: &Path) -> Result<Program, Error> {
        let in_file = |source| Error::Graph {
            file: Some(path.to_path_buf()),
            source,
        };
        let graph = parse_bytes_releasing(source.bytes(), &|passed| source.release(passed))
            .map_err(in_file)?;
        drop(source);
        self.check(graph).map_err(|e| match e {
            Error::Graph { source, .. } => in_file(source),
            other => other,
        })
    }

    /// Validates a graph against this runtime's ops.
    pub fn check(&self, graph: Graph) -> Result<Program, Error> {
        let ops = validate(&graph, &self.registry)?;
        let checkpoint = self.checkpoint.clone().map(|store| {
            let purity = graph
                .op_names()
                .iter()
                .map(|name| self.registry.purity(name).unwrap_or(Purity::Effect));
            (store, purity.collect())
        });
        Ok(Program {
            graph: Arc::new(graph),
            ops,
            checkpoint,
        })
    }

    /// Computes the keys named `keys` of `graph`, running only the tasks they need.
    pub fn compute(&self, graph: Graph, keys: &[&str]) -> Result<Vec<Value>, Error> {
        let program = self.check(graph)?;
        let targets = program.graph().keys_named(keys)?;
        self.run(program.plan(targets))
    }

    /// Runs a plan on this runtime's executor.
    pub fn run(&self, plan: Plan) -> Result<Vec<Value>, Error> {
        Ok(self.executor.run(Arc::new(plan))?)
    }
}

/// A validated graph with its ops bound: ready to be planned for any of its keys.
pub struct Program {
    graph: Arc<Graph>,
    ops: Vec<OpFn>,
    /// The store to resume from, and the purity of each op (by `OpId`).
    checkpoint: Option<(Store, Vec<Purity>)>,
}

impl Program {
    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Plans the computation of `targets`: only the tasks they need, in priority order.
    /// With a checkpoint, results stored already are read instead of computed, and
    /// nothing upstream of them runs.
    pub fn plan(&self, targets: Vec<KeyId>) -> Plan {
        let Some((store, purity)) = &self.checkpoint else {
            return Plan::new(Arc::clone(&self.graph), self.ops.clone(), targets);
        };
        let resumed = resume(store, &self.graph, &self.ops, purity, &targets);
        Plan::new(resumed.graph, resumed.ops, targets).with_checkpoint(resumed.checkpoint)
    }
}

/// A graph file's bytes: mapped when it is a large regular file, so that loading a
/// million-task file neither copies it nor touches fresh memory for it; read otherwise
/// (small files, pipes, devices), never more than the runtime's source limit.
enum Source {
    Mapped(memmap2::Mmap),
    Read(Vec<u8>),
}

/// Why a source could not be had.
enum SourceError {
    Io(std::io::Error),
    /// Longer than the limit (a regular file's size, or what a stream gave).
    TooLarge,
}

impl Source {
    const MAP_ABOVE: u64 = 1 << 20;

    /// What a stream is read in: growing one buffer by doubling would copy everything
    /// read so far at each step (reading 4 GiB of `/dev/zero` that way took 55 s and
    /// 8 GiB of memory); blocks are joined once, at the end.
    const BLOCK: u64 = 64 << 20;

    fn open(path: &Path, limit: u64) -> Result<Source, SourceError> {
        let file = std::fs::File::open(path).map_err(SourceError::Io)?;
        let meta = file.metadata().map_err(SourceError::Io)?;
        if meta.is_file() && meta.len() > limit {
            return Err(SourceError::TooLarge);
        }
        if meta.is_file() && meta.len() > Self::MAP_ABOVE {
            // SAFETY: the map is read-only and lives only while parsing; a file changed
            // under us at that moment can at worst fail to parse, as a torn read would
            // (and one grown past the limit is refused by the parser).
            if let Ok(map) = unsafe { memmap2::Mmap::map(&file) } {
                return Ok(Source::Mapped(map));
            }
        }
        Source::read(file, limit)
    }

    /// Reads `reader` to its end, or fails as soon as it has given more than `limit`
    /// bytes: an endless device or pipe is refused, not read forever.
    fn read(mut reader: impl Read, limit: u64) -> Result<Source, SourceError> {
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        // One byte beyond the limit is what tells a source that is too long.
        let mut left = limit + 1;
        loop {
            let want = left.min(Self::BLOCK);
            // A small input (the usual pipe) takes only what it needs.
            let mut block = if blocks.is_empty() {
                Vec::new()
            } else {
                Vec::with_capacity(want as usize)
            };
            let got = (&mut reader)
                .take(want)
                .read_to_end(&mut block)
                .map_err(SourceError::Io)? as u64;
            left -= got;
            if left == 0 {
                return Err(SourceError::TooLarge);
            }
            blocks.push(block);
            if got < want {
                break;
            }
        }
        Ok(Source::Read(match blocks.len() {
            1 => blocks.pop().unwrap_or_default(),
            _ => blocks.concat(),
        }))
    }

    /// Gives back the memory of the bytes `passed` of a mapped file, which a parser
    /// has read: a 65 MB file then takes a few MiB of memory at a time, not 65 MB.
    fn release(&self, passed: std::ops::Range<usize>) {
        if let Source::Mapped(map) = self {
            // SAFETY: the map is a read-only map of a file, so dropping its pages loses
            // nothing: a page read again is read from the file (the page cache).
            // Failing to give memory back is harmless, so an error is ignored.
            let _ = unsafe {
                map.unchecked_advise_range(
                    memmap2::UncheckedAdvice::DontNeed,
                    passed.start,
                    passed.len(),
                )
            };
        }
    }

    fn bytes(&self) -> &[u8] {
        match self {
            Source::Mapped(map) => map,
            Source::Read(bytes) => bytes,
        }
    }
}

/// Serves as a worker process and exits, when this program was started as one by the
/// process executor; otherwise returns at once.
///
/// Call it first thing in `main`, after registering your ops on `runtime`: workers are
/// this same binary, and must know the same ops (the SPMD model of MPI).
pub fn serve_worker_if_requested(runtime: &Runtime) {
    if std::env::var_os(taskloom_exec::WORKER_ENV).is_some() {
        // The supervisor started us to get SIGTERM when it dies (`taskloom_child::Group::
        // Parent`), on which we end our shell commands and exit.
        std::process::exit(taskloom_exec::serve_worker(runtime.registry()));
    }
}

/// On every MPI rank but 0, serves rank 0 with `runtime`'s ops and exits; on rank 0
/// returns `mpi`, the executor for `Runtime::with_executor`.
///
/// Call it first thing in `main`, after registering your ops: every rank is this same
/// program started by the MPI launcher, and the worker ranks must know the same ops.
#[cfg(feature = "mpi")]
pub fn serve_mpi_worker_if_rank_nonzero(
    runtime: &Runtime,
    mpi: taskloom_mpi::Mpi,
) -> taskloom_mpi::Mpi {
    if mpi.rank() != 0 {
        std::process::exit(mpi.serve(runtime.registry()));
    }
    mpi
}

impl Default for Runtime {
    fn default() -> Self {
        Runtime::new()
    }
}

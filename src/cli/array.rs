//! `taskloom array`: chunked arrays on disk (Zarr), computed chunk by chunk as task
//! graphs within a memory limit.
//!
//! - Every run stops at a terminating signal (those the engine catches): what it wrote
//!   is removed and the command exits 128 + the signal's number.
//! - `--trace` and `--profile` are written after every run, a failed or interrupted
//!   one too.
//! - `--executor processes`: chunks travel as values between worker processes (this
//!   same program, serving the `array.*` ops); the graph is the one threads run.
//! - `--executor mpi` (under `mpirun -n K`): MPI starts before any array is opened;
//!   ranks 1..K-1 serve the `array.*` ops and exit there, rank 0 does all the rest
//!   (reads metadata, plans, prints, commits), and every rank reads and writes its
//!   chunks, so arrays must be on a filesystem every rank sees.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;
use taskloom::array::store::Compression;
use taskloom::array::{
    normalize_axis_index, Array, ArrayError, BinaryOp, CompareOp, Engine, Job, Reduction, UnaryOp,
    WriteOptions,
};
use taskloom::exec::{Observers, Progress, Trace};
use taskloom::graph::{Chunk, ChunkJson, DType, Value};
use taskloom::Processes;

use super::mpi::{self, Mpi};
use super::progress::{ProgressFlags, TaskBar};
use super::size::parse_size;
use super::timeline::TimelineArgs;
use super::{json, CommandError, Outcome};

/// Results with more elements than this are not printed: write them with `--out`.
const PRINT_LIMIT: usize = 1_000_000;

#[derive(Args)]
pub struct ArrayArgs {
    #[command(subcommand)]
    command: ArrayCommand,
    #[command(flatten)]
    common: Common,
}

/// Options every array command takes.
#[derive(Args)]
struct Common {
    /// Threads computing chunks [default: number of cores].
    #[arg(long, global = true, value_parser = clap::value_parser!(u64).range(1..))]
    workers: Option<u64>,
    /// Bound on memory held by chunks in flight (`512MiB`, `2GiB`): fewer tasks run at
    /// once when chunks are large, and under threads the chunks waiting for their
    /// consumers past it go to scratch files in $TMPDIR [default: a quarter of RAM].
    #[arg(long, global = true, value_name = "SIZE", value_parser = parse_size)]
    memory_limit: Option<u64>,
    /// Fan-in of reduction trees: partial results merged per task.
    #[arg(long, global = true, default_value_t = 8)]
    fan_in: usize,
    /// Replace OUT if it is a Zarr array (only once the new array is complete).
    #[arg(long, global = true)]
    overwrite: bool,
    /// How written chunks are encoded: zstd (zarr-python's default) or none.
    #[arg(long, global = true, default_value = "zstd", value_parser = Compression::parse)]
    compression: Compression,
    /// Where chunks are computed: threads of this process, worker processes (chunks
    /// travel between them as values), or MPI ranks under `mpirun -n K` (rank 0 plans
    /// and prints; every rank reads and writes chunks, so arrays must be on a shared
    /// filesystem). mpi needs a build with `--features mpi`.
    #[arg(long, global = true, value_enum, default_value_t = ArrayExecutor::Threads)]
    executor: ArrayExecutor,
    /// Rank 0's MPI executor under `--executor mpi`: started before any array is read,
    /// taken by the command's one run (boxed: the options stay small).
    #[arg(skip)]
    mpi: Cell<Option<Box<Mpi>>>,
    #[command(flatten)]
    progress: ProgressFlags,
    #[command(flatten)]
    timeline: TimelineArgs,
}

/// Where array tasks run.
#[derive(Clone, Copy, Debug, PartialEq, ValueEnum)]
enum ArrayExecutor {
    /// A pool of threads (--workers).
    Threads,
    /// A pool of worker processes (--workers).
    Processes,
    /// MPI ranks, --workers threads each.
    Mpi,
}

#[derive(Subcommand)]
enum ArrayCommand {
    /// Create an array filled with zeros, ones, a value, a range or random numbers.
    Create(CreateArgs),
    /// Print shape, chunks, dtype, Zarr format and size as JSON.
    Info { path: PathBuf },
    /// Reduce over all elements (prints the scalar) or along --axis.
    Reduce {
        path: PathBuf,
        #[arg(long, value_parser = Reduction::parse)]
        op: Reduction,
        /// The axis to reduce along; negative counts from the last.
        #[arg(long, allow_hyphen_values = true)]
        axis: Option<i64>,
        #[command(flatten)]
        out: Out,
    },
    /// Apply an elementwise function.
    Map {
        path: PathBuf,
        #[arg(long, value_parser = UnaryOp::parse)]
        op: UnaryOp,
        #[command(flatten)]
        out: Out,
    },
    /// Elementwise arithmetic of two arrays, broadcasting as NumPy does.
    Binary {
        a: PathBuf,
        b: PathBuf,
        #[arg(long, value_parser = BinaryOp::parse)]
        op: BinaryOp,
        #[command(flatten)]
        out: Out,
    },
    /// Elementwise comparison of two arrays, broadcasting: a bool array.
    Compare {
        a: PathBuf,
        b: PathBuf,
        #[arg(long, value_parser = CompareOp::parse)]
        op: CompareOp,
        #[command(flatten)]
        out: Out,
    },
    /// Elements of A where COND is true (nonzero), else of B, broadcasting all three.
    Where {
        cond: PathBuf,
        a: PathBuf,
        b: PathBuf,
        #[command(flatten)]
        out: Out,
    },
    /// Running sum along --axis (ints and bools sum to int64).
    Cumsum {
        path: PathBuf,
        /// The axis to sum along; negative counts from the last.
        #[arg(long, allow_hyphen_values = true)]
        axis: i64,
        #[command(flatten)]
        out: Out,
    },
    /// x * BY + ADD.
    Scale {
        path: PathBuf,
        #[arg(long, value_parser = parse_number, allow_hyphen_values = true)]
        by: Value,
        #[arg(long, value_parser = parse_number, allow_hyphen_values = true, default_value = "0")]
        add: Value,
        #[command(flatten)]
        out: RequiredOut,
    },
    /// Transpose a 2-D array.
    Transpose {
        path: PathBuf,
        #[command(flatten)]
        out: RequiredOut,
    },
    /// Matrix product of two 2-D arrays.
    Matmul {
        a: PathBuf,
        b: PathBuf,
        #[command(flatten)]
        out: RequiredOut,
    },
    /// Re-cut an array into chunks of another shape.
    Rechunk {
        path: PathBuf,
        #[arg(long, value_parser = parse_dims)]
        chunks: Dims,
        #[arg(long)]
        out: PathBuf,
    },
    /// Basic indexing (`10:20,5`): writes OUT, or prints JSON when small.
    Slice {
        path: PathBuf,
        #[arg(long, allow_hyphen_values = true)]
        index: String,
        #[command(flatten)]
        out: Out,
    },
    /// The k largest (or smallest) elements, over all elements.
    Topk {
        path: PathBuf,
        #[arg(short = 'k')]
        k: usize,
        #[arg(long)]
        smallest: bool,
    },
    /// Sort a 1-D array (out of core).
    Sort {
        path: PathBuf,
        #[arg(long)]
        descending: bool,
        #[command(flatten)]
        out: RequiredOut,
    },
    /// Print elements as JSON: the whole array, or what --index selects.
    Get {
        path: PathBuf,
        #[arg(long, allow_hyphen_values = true)]
        index: Option<String>,
    },
}

#[derive(Args)]
#[command(group(clap::ArgGroup::new("fill_kind").required(true).multiple(false)))]
struct CreateArgs {
    path: PathBuf,
    #[arg(long, value_parser = parse_dims)]
    shape: Dims,
    #[arg(long, value_parser = parse_dims)]
    chunks: Dims,
    #[arg(long, default_value = "float64", value_parser = parse_dtype)]
    dtype: DType,
    #[arg(long, group = "fill_kind")]
    zeros: bool,
    #[arg(long, group = "fill_kind")]
    ones: bool,
    #[arg(long, group = "fill_kind", value_parser = parse_number, allow_hyphen_values = true)]
    fill: Option<Value>,
    #[arg(long, group = "fill_kind")]
    arange: bool,
    #[arg(long, group = "fill_kind")]
    random: bool,
    /// Seed of --random.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u8).range(2..=3))]
    zarr_format: u8,
}

/// Where a result goes: OUT, or stdout as JSON.
#[derive(Args)]
struct Out {
    /// Write the result to this Zarr array instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Chunk shape of OUT [default: the input's].
    #[arg(long = "chunks", value_parser = parse_dims)]
    chunks: Option<Dims>,
}

/// Where a result goes: OUT.
#[derive(Args)]
struct RequiredOut {
    /// The Zarr array to write.
    #[arg(long)]
    out: PathBuf,
    /// Chunk shape of OUT [default: the input's].
    #[arg(long = "chunks", value_parser = parse_dims)]
    chunks: Option<Dims>,
}

/// What `array info` prints.
#[derive(Serialize)]
struct Info<'a> {
    shape: &'a [usize],
    chunks: &'a [usize],
    dtype: &'static str,
    zarr_format: u8,
    nbytes: u64,
}

pub fn array(args: ArrayArgs) -> Outcome {
    let common = &args.common;
    if common.executor == ArrayExecutor::Mpi {
        let workers = common.workers.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        );
        let mpi = mpi::rank_zero(workers, taskloom::array::ops::registry())?;
        common.mpi.set(Some(Box::new(mpi)));
    }
    let open = |p: &Path| Array::open(p).map_err(CommandError::from);
    match args.command {
        ArrayCommand::Create(create) => {
            let array = created(&create)?;
            let options = WriteOptions {
                overwrite: common.overwrite,
                zarr_format: create.zarr_format,
                compression: common.compression,
            };
            write(common, &array, &create.path, None, options)
        }
        ArrayCommand::Info { path } => {
            let array = open(&path)?;
            let info = Info {
                shape: array.shape(),
                chunks: array.chunks(),
                dtype: array.dtype().name(),
                zarr_format: array.zarr_format().unwrap_or(3),
                nbytes: array.nbytes(),
            };
            Ok(json::spaced(&info) + "\n")
        }
        ArrayCommand::Reduce {
            path,
            op,
            axis,
            out,
        } => {
            let x = open(&path)?;
            let axis = axis.map(|k| axis_of(op.name(), k, &x)).transpose()?;
            let result = x.reduce(op, axis)?;
            deliver(common, &result, &path, out.out, out.chunks)
        }
        ArrayCommand::Map { path, op, out } => {
            let result = open(&path)?.map(op)?;
            deliver(common, &result, &path, out.out, out.chunks)
        }
        ArrayCommand::Binary { a, b, op, out } => {
            let result = open(&a)?.binary(op, &open(&b)?)?;
            deliver(common, &result, &a, out.out, out.chunks)
        }
        ArrayCommand::Compare { a, b, op, out } => {
            let result = open(&a)?.compare(op, &open(&b)?)?;
            deliver(common, &result, &a, out.out, out.chunks)
        }
        ArrayCommand::Where { cond, a, b, out } => {
            let result = open(&cond)?.select(&open(&a)?, &open(&b)?)?;
            deliver(common, &result, &a, out.out, out.chunks)
        }
        ArrayCommand::Cumsum { path, axis, out } => {
            let x = open(&path)?;
            let result = x.cumsum(axis_of("cumsum", axis, &x)?)?;
            deliver(common, &result, &path, out.out, out.chunks)
        }
        ArrayCommand::Scale { path, by, add, out } => {
            let result = open(&path)?.scale(by, add)?;
            deliver(common, &result, &path, Some(out.out), out.chunks)
        }
        ArrayCommand::Transpose { path, out } => {
            let x = open(&path)?;
            if x.ndim() != 2 {
                return Err(CommandError::Usage(format!(
                    "transpose needs a 2-D array; {} has shape {:?}",
                    path.display(),
                    x.shape()
                )));
            }
            deliver(common, &x.t(), &path, Some(out.out), out.chunks)
        }
        ArrayCommand::Matmul { a, b, out } => {
            let result = open(&a)?.matmul(&open(&b)?)?;
            deliver(common, &result, &a, Some(out.out), out.chunks)
        }
        ArrayCommand::Rechunk { path, chunks, out } => {
            let x = open(&path)?;
            deliver(common, &x, &path, Some(out), Some(chunks))
        }
        ArrayCommand::Slice { path, index, out } => {
            let result = open(&path)?.index(&index)?;
            deliver(common, &result, &path, out.out, out.chunks)
        }
        ArrayCommand::Topk { path, k, smallest } => {
            let result = open(&path)?.topk(k, !smallest)?;
            deliver(common, &result, &path, None, None)
        }
        ArrayCommand::Sort {
            path,
            descending,
            out,
        } => {
            let result = open(&path)?.sort(descending)?;
            deliver(common, &result, &path, Some(out.out), out.chunks)
        }
        ArrayCommand::Get { path, index } => {
            let x = open(&path)?;
            let result = match index {
                Some(index) => x.index(&index)?,
                None => x,
            };
            deliver(common, &result, &path, None, None)
        }
    }
}

/// Axis `k` of `x` (negative counts from the last), or an error naming `op`.
fn axis_of(op: &str, k: i64, x: &Array) -> Result<usize, CommandError> {
    normalize_axis_index(k, x.ndim())
        .map_err(|e| CommandError::Array(ArrayError::invalid(format!("{op}: {e}"))))
}

fn created(create: &CreateArgs) -> Result<Array, CommandError> {
    let (shape, chunks, dtype) = (&create.shape.0[..], &create.chunks.0[..], create.dtype);
    let array = if create.ones {
        Array::ones(shape, chunks, dtype)
    } else if let Some(value) = &create.fill {
        Array::full(shape, chunks, dtype, value.clone())
    } else if create.arange {
        Array::arange(shape, chunks, dtype)
    } else if create.random {
        Array::random_of(shape, chunks, create.seed, dtype)
    } else {
        Array::zeros(shape, chunks, dtype)
    };
    Ok(array?)
}

/// Writes `result` to `out` (in the Zarr format of `input`), or prints it as JSON.
fn deliver(
    common: &Common,
    result: &Array,
    input: &Path,
    out: Option<PathBuf>,
    chunks: Option<Dims>,
) -> Outcome {
    match out {
        Some(out) => {
            // Opened already (Array::open): a lookup, not a second parse.
            let format =
                taskloom::array::store::open_shared(input).map_or(3, |s| s.meta().zarr_format);
            let options = WriteOptions {
                overwrite: common.overwrite,
                zarr_format: format,
                compression: common.compression,
            };
            write(
                common,
                result,
                &out,
                chunks.as_ref().map(|c| &c.0[..]),
                options,
            )
        }
        None => {
            if chunks.is_some() {
                return Err(CommandError::Usage(
                    "--chunks applies to --out only".to_string(),
                ));
            }
            let n = result.grid().len();
            if n > PRINT_LIMIT {
                return Err(CommandError::Usage(format!(
                    "the result has {n} elements, too many to print (more than {PRINT_LIMIT}); write it with --out"
                )));
            }
            let job = engine(common).compute_job(result)?;
            let chunk = run(common, job)?.expect("a compute job yields a chunk");
            Ok(
                serde_json::to_string(&ChunkJson(&chunk)).expect("serializing numbers cannot fail")
                    + "\n",
            )
        }
    }
}

fn write(
    common: &Common,
    array: &Array,
    out: &Path,
    chunks: Option<&[usize]>,
    options: WriteOptions,
) -> Outcome {
    let array = match chunks {
        Some(chunks) => array.rechunk(chunks)?,
        None => array.clone(),
    };
    let job = engine(common).write_job(&array, out, &options)?;
    run(common, job)?;
    Ok(String::new())
}

fn engine(common: &Common) -> Engine {
    let mut engine = Engine::new().fan_in(common.fan_in).stop_on_signals();
    if let Some(limit) = common.memory_limit {
        engine = engine.memory_limit(limit);
    }
    if let Some(workers) = common.workers {
        engine = engine.workers(workers as usize);
    }
    engine
}

fn run(common: &Common, job: Job) -> Result<Option<Chunk>, CommandError> {
    let timeline = common.timeline.check()?;
    let progress = common.progress.enabled().then(Progress::new);
    let trace = timeline.wanted().then(Trace::new);
    let plan = Arc::clone(job.plan());
    let spill = Some(job.memory_limit().counts().clone());
    let bar = progress
        .clone()
        .map(|p| TaskBar::start(p, job.tasks() as u64, spill.clone()));
    let started = Instant::now();
    let observers = Observers {
        progress,
        trace: trace.clone(),
    };
    let result = match (common.mpi.take(), common.executor) {
        (Some(mpi), _) => mpi::run_array_job(*mpi, job, observers),
        (None, ArrayExecutor::Processes) => {
            let processes = Processes::new(job.workers())
                .observed(observers)
                .limited(job.limits())
                .memory_limit(job.memory_limit().clone());
            job.run_on(&processes)
        }
        (None, _) => job.run(observers),
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    if let Some(bar) = bar {
        bar.finish();
    }
    let written = match &trace {
        Some(trace) => {
            let notes = spill.as_ref().map(super::memory::notes).unwrap_or_default();
            timeline.write_trace(&title(), plan.graph(), trace, wall_seconds, &notes)
        }
        None => Ok(()),
    };
    // A failed run's own error comes first; its timeline was still written.
    match (result, written) {
        (Ok(chunk), written) => written.map(|()| chunk),
        (Err(error), written) => {
            if let Err(unwritten) = written {
                super::exit::stderr_line(format_args!("taskloom: warning: {unwritten}"));
            }
            Err(error.into())
        }
    }
}

/// The command line, which heads the profile.
fn title() -> String {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    format!("taskloom {}", args.join(" "))
}

/// A shape or chunk shape: `1000,2000`.
#[derive(Clone, Debug)]
struct Dims(Vec<usize>);

fn parse_dims(text: &str) -> Result<Dims, String> {
    text.split(',')
        .map(|part| {
            part.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{part}' in '{text}' is not a non-negative integer"))
        })
        .collect::<Result<_, _>>()
        .map(Dims)
}

fn parse_dtype(text: &str) -> Result<DType, String> {
    DType::parse(text)
}

fn parse_number(text: &str) -> Result<Value, String> {
    if let Ok(i) = text.parse::<i64>() {
        return Ok(Value::Int(i));
    }
    match text.parse::<f64>() {
        Ok(f) if f.is_finite() => Ok(Value::Float(f)),
        _ => Err(format!("'{text}' is not a finite number")),
    }
}

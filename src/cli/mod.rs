//! Subcommands: each parses its options, runs the library and returns an [`Outcome`],
//! which `exit` turns into output and an exit code.

mod array;
mod batch;
mod checkpoint;
mod convert;
mod duration;
mod exit;
mod graph;
mod input;
mod jobs;
mod json;
mod map;
mod map_ranks;
mod memory;
mod mpi;
mod ops;
mod output;
mod plan;
mod progress;
mod run;
mod scale;
mod simulate;
mod size;
mod submit;
mod timeline;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};
use taskloom::exec::{Limits, MemoryLimit, Observers, Stop};
use taskloom::graph::{Graph, KeyId};
use taskloom::{Error, Executor, Processes, Runtime, Sequential, Threads};

use exit::{CommandError, Outcome};
use output::OutputFile;

/// Run task graphs in parallel.
#[derive(Parser)]
#[command(name = "taskloom", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Compute keys of a graph file and print their values as JSON.
    Run(run::RunArgs),
    /// Print the graph (culled to the requested keys) as Graphviz dot or an SVG picture.
    Graph(graph::GraphArgs),
    /// List the ops a graph can call, with their arguments and meaning.
    Ops,
    /// Run a command over many inputs in parallel.
    Map(map::MapArgs),
    /// How many cores finish N tasks of T seconds within a deadline.
    Plan(plan::PlanArgs),
    /// Measure speed-up over worker counts and fit Amdahl's law.
    Scale(scale::ScaleArgs),
    /// Chunked arrays on disk (Zarr), computed chunk by chunk within a memory limit.
    Array(array::ArrayArgs),
    /// Run the scheduler on a simulated clock: makespan and memory of each policy.
    Simulate(simulate::SimulateArgs),
    /// Submit a taskloom command as a batch job (Slurm, LSF or PBS) and print its id.
    Submit(submit::SubmitArgs),
    /// List the jobs submitted from this directory, with their state and progress.
    Jobs,
    /// Print a job's output so far, then its state and progress.
    Peek(jobs::PeekArgs),
    /// End a job, pending or running.
    Cancel(jobs::JobArgs),
    /// Wait until a job is over, and exit with its exit code.
    #[command(after_help = "\
Exit status: the job's own exit code; 143 for a job that was cancelled; 1 for a job that
ended without an exit code (a time limit, a node failure); 2 for an id not submitted
from this directory.")]
    Wait(jobs::JobArgs),
    /// Inspect or empty a checkpoint store (see run --checkpoint).
    Checkpoint(checkpoint::CheckpointArgs),
    /// Write a graph file in the binary form, which loads several times faster.
    Convert(convert::ConvertArgs),
}

/// Where tasks run.
#[derive(Clone, Copy, Debug, ValueEnum)]
enum ExecutorKind {
    /// One thread, tasks in priority order: deterministic, for debugging.
    Sync,
    /// A work-stealing pool of threads.
    Threads,
    /// A pool of worker processes: a task that crashes takes only its worker down.
    Processes,
    /// MPI ranks, under `mpirun -n K` or `srun --mpi=pmix`: rank 0 schedules and
    /// prints, ranks 1..K-1 run tasks (--workers threads each); alone, rank 0 runs
    /// them. Needs a build with `--features mpi`.
    Mpi,
}

impl GraphFile {
    /// The keys named by `--get`, in order; `None` when there are none.
    fn requested(&self, graph: &Graph) -> Result<Option<Vec<KeyId>>, Error> {
        if self.keys.is_empty() {
            return Ok(None);
        }
        Ok(Some(graph.keys_named(&self.keys)?))
    }

    /// The keys to compute: those named by `--get`, or every output (every key that
    /// no other key refers to).
    fn targets(&self, graph: &Graph) -> Result<Vec<KeyId>, Error> {
        Ok(self.requested(graph)?.unwrap_or_else(|| graph.outputs()))
    }
}

/// Options shared by commands that execute graphs.
#[derive(clap::Args)]
struct ExecOptions {
    /// Where tasks run.
    #[arg(long, value_enum, default_value_t = ExecutorKind::Threads)]
    executor: ExecutorKind,
    /// Worker threads [default: number of cores].
    #[arg(long, short = 'w', value_parser = clap::value_parser!(u32).range(1..=4096))]
    workers: Option<u32>,
    /// Run a failed task up to N more times (processes: crashes and timeouts too).
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// Fail a task that runs longer, ending its shell commands (processes: its worker,
    /// and the task is retried; threads and sync: the run ends at once).
    #[arg(long, value_name = "DURATION", value_parser = run::parse_task_timeout)]
    task_timeout: Option<std::time::Duration>,
}

impl ExecOptions {
    /// A runtime with the chosen executor, reporting to `observers`, ended early by
    /// `stop`, holding results within `memory` (sync, which holds every result,
    /// refuses one). Under MPI,
    /// every rank but 0 serves rank 0 here and exits.
    fn runtime(
        &self,
        observers: Observers,
        stop: Stop,
        memory: Option<MemoryLimit>,
    ) -> Result<Runtime, CommandError> {
        if memory.is_some() && matches!(self.executor, ExecutorKind::Sync) {
            // Before any MPI start: every rank refuses alike, none waits for another.
            return Err(CommandError::Usage(
                "--memory-limit runs with --executor threads, processes or mpi, not sync".into(),
            ));
        }
        let workers = self.workers.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            |n| n as usize,
        );
        let limits = Limits {
            retries: self.retries,
            task_timeout: self.task_timeout,
            stop: Some(stop),
        };
        let executor: Box<dyn Executor + Send + Sync> = match self.executor {
            ExecutorKind::Sync => {
                Box::new(Sequential::default().observed(observers).limited(limits))
            }
            ExecutorKind::Threads => {
                let threads = Threads::new(workers).observed(observers).limited(limits);
                Box::new(match memory {
                    Some(memory) => threads.memory_limit(memory),
                    None => threads,
                })
            }
            ExecutorKind::Processes => {
                let processes = Processes::new(workers).observed(observers).limited(limits);
                Box::new(match memory {
                    Some(memory) => processes.memory_limit(memory),
                    None => processes,
                })
            }
            ExecutorKind::Mpi => mpi::executor(workers, observers, limits, memory)?,
        };
        Ok(Runtime::new().with_boxed_executor(executor))
    }
}

/// A graph file argument.
#[derive(clap::Args)]
struct GraphFile {
    /// The graph file, or - for standard input: JSON (first non-blank character `{`),
    /// the binary form (see taskloom convert) or the text form.
    file: PathBuf,
    /// A key to compute (repeatable) [default: every key no other key refers to].
    #[arg(long = "get", value_name = "KEY")]
    keys: Vec<String>,
}

pub fn main() -> ! {
    let cli = Cli::try_parse().unwrap_or_else(|refused| {
        mpi::leave_refusal_to_rank_zero();
        std::process::exit(exit::refused(refused))
    });
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Graph(args) => graph::graph(args),
        Command::Ops => ops::ops(),
        Command::Map(args) => map::map(args),
        Command::Plan(args) => plan::plan(args),
        Command::Scale(args) => scale::scale(args),
        Command::Array(args) => array::array(args),
        Command::Simulate(args) => simulate::simulate(args),
        Command::Submit(args) => submit::submit(args),
        Command::Jobs => jobs::jobs(),
        Command::Peek(args) => jobs::peek(args),
        Command::Cancel(args) => jobs::cancel(args),
        Command::Wait(args) => jobs::wait(args),
        Command::Checkpoint(args) => checkpoint::checkpoint(args),
        Command::Convert(args) => convert::convert(args),
    };
    let code = exit::finish(outcome);
    // Exit without tearing down large graphs (and without waiting for workers still
    // finishing a task after an error): the output is flushed and nothing else is owed.
    std::process::exit(code)
}

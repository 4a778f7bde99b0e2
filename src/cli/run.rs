//! `taskloom run`: compute keys and print them as JSON.

use std::path::PathBuf;

use taskloom::graph::Value;

use super::output::OutputFile;
use super::progress::{ProgressFile, ProgressFlags, TaskBar};
use super::timeline::TimelineArgs;
use super::{ExecOptions, GraphFile, Outcome};
use taskloom::exec::{MemoryLimit, Observers, Progress, RunError, Stop, Trace};

#[derive(clap::Args)]
#[command(after_help = "The ops a graph can call, with their arguments: taskloom ops")]
pub struct RunArgs {
    #[command(flatten)]
    graph: GraphFile,
    #[command(flatten)]
    exec: ExecOptions,
    #[command(flatten)]
    progress: ProgressFlags,
    /// Parse, validate, cull and order, then stop without running anything.
    #[arg(long)]
    dry_run: bool,
    /// Keep `DONE TOTAL` (tasks finished, tasks to run) in FILE, replaced every second:
    /// how `taskloom jobs` follows a batch job.
    #[arg(long, value_name = "FILE")]
    progress_file: Option<PathBuf>,
    /// Keep the result of every pure task in DIR, and read the results stored there
    /// already: the same command run again computes only what is missing, and a
    /// changed input recomputes only what depends on it. DIR must be new, empty or a
    /// checkpoint store (else exit 2). Effects (shell, sleep, fail, crash: see
    /// taskloom ops) and what is computed from them are never kept.
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,
    /// Hold at most SIZE (`512MiB`, `2GiB`) of results waiting for their consumers:
    /// past it the coldest (those needed last) go to scratch files in the system's
    /// temporary directory and are read back when needed; the files are removed when
    /// the run ends. Sizes count strings, bytes, lists and arrays; numbers count
    /// nothing. Processes: each worker holds its share; MPI: each rank holds at most
    /// SIZE. Not with --executor sync (exit 2).
    #[arg(long, value_name = "SIZE", value_parser = super::size::parse_size)]
    memory_limit: Option<u64>,
    #[command(flatten)]
    timeline: TimelineArgs,
}

pub fn run(args: RunArgs) -> Outcome {
    let shown = args.progress.enabled();
    let progress = (shown || args.progress_file.is_some()).then(Progress::new);
    let trace = args.timeline.wanted().then(Trace::new);
    let stop = Stop::new();
    let memory = args.memory_limit.map(MemoryLimit::new);
    let spill = memory.as_ref().map(|m| m.counts().clone());
    // First: under MPI, the worker ranks serve from here on and check nothing else.
    let runtime = args.exec.runtime(
        Observers {
            progress: progress.clone(),
            trace: trace.clone(),
        },
        stop.clone(),
        memory,
    )?;
    let timeline = args.timeline.check()?;
    let progress_file = args
        .progress_file
        .as_deref()
        .map(OutputFile::check)
        .transpose()?;
    let runtime = match &args.checkpoint {
        Some(dir) => runtime.with_checkpoint(dir)?,
        None => runtime,
    };
    let program = args.graph.load(&runtime)?;
    let graph = program.graph();
    let targets = args.graph.targets(graph)?;
    let names: Vec<String> = targets.iter().map(|&k| graph.name(k).to_string()).collect();
    let plan = program.plan(targets);
    if args.dry_run {
        super::exit::stderr_line(format_args!(
            "taskloom: {} of {} tasks would run",
            plan.len(),
            graph.len()
        ));
        return Ok(String::new());
    }
    // Loading and planning freed their scratch tables (names' hash table, cull and
    // order arrays): gone now, they are not part of the run's peak.
    taskloom::allocator::return_freed_memory();
    let tasks = plan.len() as u64;
    let bar = progress
        .clone()
        .filter(|_| shown)
        .map(|p| TaskBar::start(p, tasks, spill.clone()));
    let progress_file =
        (progress.clone().zip(progress_file)).map(|(p, file)| ProgressFile::start(p, tasks, file));
    let started = std::time::Instant::now();
    // A terminating signal stops the run, which ends its shell commands and workers:
    // the command then exits with 128 + N.
    let catching = stop
        .on_signals()
        .map_err(|e| RunError::Internal(format!("cannot catch signals: {e}")))?;
    let values = runtime.run(plan);
    drop(catching);
    let wall_seconds = started.elapsed().as_secs_f64();
    if let Some(bar) = bar {
        bar.finish();
    }
    if let Some(progress_file) = progress_file {
        progress_file.finish();
    }
    // Written whatever became of the run: a failed one is when it is wanted most.
    let written = match &trace {
        Some(trace) => {
            let title = args.graph.name().display().to_string();
            let notes = spill.as_ref().map(super::memory::notes).unwrap_or_default();
            timeline.write_trace(&title, graph, trace, wall_seconds, &notes)
        }
        None => Ok(()),
    };
    let values = match (values, written) {
        (Ok(values), Ok(())) => values,
        (Ok(values), Err(unwritten)) => {
            let text = render(&names, &values, args.graph.keys.len() == 1);
            return Err(unwritten.after_results(text));
        }
        (Err(error), written) => {
            if let Err(unwritten) = written {
                super::exit::stderr_line(format_args!("taskloom: warning: {unwritten}"));
            }
            return Err(error.into());
        }
    };
    let text = render(&names, &values, args.graph.keys.len() == 1);
    // The process exits next: freeing a million tasks one by one would only delay it.
    std::mem::forget((program, values));
    Ok(text)
}

/// `--task-timeout`: a duration, more than zero (a zero timeout would fail every task).
pub fn parse_task_timeout(text: &str) -> Result<std::time::Duration, String> {
    match super::duration::parse_duration(text)? {
        std::time::Duration::ZERO => Err("the task timeout must be more than 0".into()),
        timeout => Ok(timeout),
    }
}

/// One requested key prints its value; otherwise an object of key to value, in the
/// order requested (repeats once).
fn render(names: &[String], values: &[Value], single: bool) -> String {
    if single {
        return values[0].to_json() + "\n";
    }
    let mut out = String::from("{");
    let mut seen = std::collections::HashSet::new();
    for (name, value) in names.iter().zip(values) {
        if !seen.insert(name) {
            continue;
        }
        if seen.len() > 1 {
            out.push(',');
        }
        out.push_str(&Value::str(name).to_json());
        out.push(':');
        out.push_str(&value.to_json());
    }
    out.push_str("}\n");
    out
}

//! `taskloom run`: compute keys and print them as JSON.

use taskloom::graph::Value;

use super::progress::{ProgressFlags, TaskBar};
use super::{CommandError, ExecOptions, GraphFile, Outcome};
use taskloom::exec::{Observers, Progress, RunError, Stop, Trace};
use taskloom::graph::Graph;
use taskloom_analysis::timeline;

#[derive(clap::Args)]
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
    /// Write when and on which worker each task ran as a Chrome trace (Perfetto,
    /// chrome://tracing).
    #[arg(long, value_name = "FILE.json")]
    trace: Option<std::path::PathBuf>,
    /// Write an HTML profile of the run: a timeline lane per worker, a summary and the
    /// slowest tasks.
    #[arg(long, value_name = "FILE.html")]
    profile: Option<std::path::PathBuf>,
}

pub fn run(args: RunArgs) -> Outcome {
    let progress = args.progress.enabled().then(Progress::new);
    let trace = (args.trace.is_some() || args.profile.is_some()).then(Trace::new);
    let stop = Stop::new();
    let runtime = args.exec.runtime(
        Observers {
            progress: progress.clone(),
            trace: trace.clone(),
        },
        stop.clone(),
    );
    let program = runtime.load(&args.graph.file)?;
    let graph = program.graph();
    let targets = args.graph.targets(graph)?;
    let names: Vec<String> = targets.iter().map(|&k| graph.name(k).to_string()).collect();
    let plan = program.plan(targets);
    if args.dry_run {
        eprintln!(
            "taskloom: {} of {} tasks would run",
            plan.len(),
            graph.len()
        );
        return Ok(String::new());
    }
    let bar = progress.map(|p| TaskBar::start(p, plan.len() as u64));
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
    let values = values?;
    if let Some(trace) = &trace {
        write_timeline(&args, graph, trace, wall_seconds)?;
    }
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

/// Writes the `--trace` and `--profile` files of a finished run.
fn write_timeline(
    args: &RunArgs,
    graph: &Graph,
    trace: &Trace,
    wall_seconds: f64,
) -> Result<(), CommandError> {
    let spans = trace.take_spans();
    if let Some(path) = &args.trace {
        super::write_file(path, timeline::chrome_trace(graph, &spans).as_bytes())?;
    }
    if let Some(path) = &args.profile {
        // Every worker has a lane, those that ran no task too.
        let workers = spans
            .iter()
            .map(|t| t.worker as usize + 1)
            .chain([trace.workers(), 1])
            .max()
            .unwrap_or(1);
        let title = args.graph.file.display().to_string();
        let html = timeline::profile_html(&title, graph, &spans, workers, wall_seconds);
        super::write_file(path, html.as_bytes())?;
    }
    Ok(())
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

//! `taskloom run`: compute keys and print them as JSON.

use taskloom::graph::Value;

use super::progress::{ProgressFlags, TaskBar};
use super::{CommandError, ExecOptions, GraphFile, Outcome, OutputFile};
use taskloom::exec::{Observers, Progress, Trace};
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
    let trace_file = args.trace.as_deref().map(OutputFile::check).transpose()?;
    let profile_file = args.profile.as_deref().map(OutputFile::check).transpose()?;
    let progress = args.progress.enabled().then(Progress::new);
    let trace = (args.trace.is_some() || args.profile.is_some()).then(Trace::new);
    let runtime = args.exec.runtime(Observers {
        progress: progress.clone(),
        trace: trace.clone(),
    });
    let program = runtime.load(&args.graph.file)?;
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
    let bar = progress.map(|p| TaskBar::start(p, plan.len() as u64));
    let started = std::time::Instant::now();
    let values = runtime.run(plan);
    let wall_seconds = started.elapsed().as_secs_f64();
    if let Some(bar) = bar {
        bar.finish();
    }
    let values = values?;
    let text = render(&names, &values, args.graph.keys.len() == 1);
    if let Some(trace) = &trace {
        let files = [trace_file.as_ref(), profile_file.as_ref()];
        if let Err(error) = write_timeline(&args, files, graph, trace, wall_seconds) {
            return Err(error.after_results(text));
        }
    }
    // The process exits next: freeing a million tasks one by one would only delay it.
    std::mem::forget((program, values));
    Ok(text)
}

/// Writes the `--trace` and `--profile` files of a finished run.
fn write_timeline(
    args: &RunArgs,
    [trace_file, profile_file]: [Option<&OutputFile>; 2],
    graph: &Graph,
    trace: &Trace,
    wall_seconds: f64,
) -> Result<(), CommandError> {
    let spans = trace.take_spans();
    if let Some(file) = trace_file {
        file.write(timeline::chrome_trace(graph, &spans).as_bytes())?;
    }
    if let Some(file) = profile_file {
        let workers = spans
            .iter()
            .map(|t| t.worker as usize + 1)
            .max()
            .unwrap_or(1);
        let title = args.graph.file.display().to_string();
        let html = timeline::profile_html(&title, graph, &spans, workers, wall_seconds);
        file.write(html.as_bytes())?;
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

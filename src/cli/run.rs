//! `taskloom run`: compute keys and print them as JSON.

use taskloom::graph::Value;

use super::observe::TimelineFlags;
use super::progress::{ProgressFlags, TaskBar};
use super::{ExecOptions, GraphFile, Outcome};
use taskloom::exec::{Observers, Progress};

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
    #[command(flatten)]
    timeline: TimelineFlags,
}

pub fn run(args: RunArgs) -> Outcome {
    let progress = args.progress.enabled().then(Progress::new);
    let trace = args.timeline.trace();
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
        eprintln!(
            "taskloom: {} of {} tasks would run",
            plan.len(),
            graph.len()
        );
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
    if let Some(trace) = &trace {
        let title = args.graph.file.display().to_string();
        args.timeline.write(&title, graph, trace, wall_seconds)?;
    }
    let text = render(&names, &values, args.graph.keys.len() == 1);
    // The process exits next: freeing a million tasks one by one would only delay it.
    std::mem::forget((program, values));
    Ok(text)
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

//! `taskloom scale`: measures a graph at several worker counts
//! (`taskloom_analysis::measure`, whose header states the protocol) and reports
//! speed-up, efficiency, Karp–Flatt fractions and the Amdahl fit, optionally as a plot.

use std::num::{NonZeroU32, NonZeroUsize};
use std::path::PathBuf;
use std::sync::Arc;

use clap::builder::TypedValueParser;
use taskloom::Runtime;
use taskloom_analysis::human::counted;
use taskloom_analysis::{measure, plot, Measurement};

use super::{CommandError, GraphFile, Outcome, OutputFile};

/// Arguments of `taskloom scale`.
#[derive(clap::Args)]
pub struct ScaleArgs {
    #[command(flatten)]
    graph: GraphFile,
    /// Worker counts to measure, comma-separated, e.g. 1,2,4 (1 is always measured).
    #[arg(long, short = 'w', value_name = "LIST", value_parser = parse_workers)]
    workers: WorkerCounts,
    /// Runs per worker count; the median is reported.
    #[arg(long, default_value = "3",
          value_parser = clap::value_parser!(u32).range(1..=1000).try_map(NonZeroU32::try_from))]
    repeat: NonZeroU32,
    /// Print JSON with unrounded numbers.
    #[arg(long)]
    json: bool,
    /// Also draw the speed-up plot to this file (.svg, or .png without text).
    #[arg(long, value_name = "OUT.svg|OUT.png", value_parser = parse_plot)]
    plot: Option<PathBuf>,
}

/// Distinct worker counts, in the order given.
#[derive(Clone, Debug)]
struct WorkerCounts(Vec<NonZeroUsize>);

pub fn scale(args: ScaleArgs) -> Outcome {
    let plot_file = args.plot.as_deref().map(OutputFile::check).transpose()?;
    let program = args.graph.load(&Runtime::new())?;
    let targets = args.graph.targets(program.graph())?;
    let plan = Arc::new(program.plan(targets));
    let measured = measure(&plan, &args.workers.0, args.repeat)?;
    let (scaling, cores) = (&measured.scaling, measured.cores);

    let mut text = if args.json {
        scaling.to_json()
    } else {
        text(&args, plan.len(), &measured)
    };
    // The measurements print even when the plot cannot be drawn or written.
    if let Some(file) = &plot_file {
        let bytes = match extension(file.path()).as_deref() {
            Some("png") => plot::png(scaling, cores),
            _ => plot::svg(scaling, cores).map(String::into_bytes),
        };
        let written = bytes
            .map_err(CommandError::from)
            .and_then(|bytes| file.write(&bytes));
        if let Err(error) = written {
            return Err(error.after_results(text));
        }
        if !args.json {
            text.push_str(&format!("plot: {}\n", file.path().display()));
        }
    }
    Ok(text)
}

/// The human report.
fn text(args: &ScaleArgs, tasks: usize, measured: &Measurement) -> String {
    let (scaling, cores) = (&measured.scaling, measured.cores);
    let mut out = format!(
        "{}: {}, median of {} per worker count, timing the run only (not loading or \
         planning); {} present\n",
        args.graph.name().display(),
        counted(tasks as u128, "task"),
        counted(args.repeat.get().into(), "run"),
        counted(cores as u128, "core"),
    );
    if measured.added_baseline {
        out.push_str("1 worker added to the list: T(1) is the baseline of the speed-up\n");
    }
    out.push_str(&scaling.to_text(cores));
    out
}

/// Parses `--workers`: distinct whole numbers from 1 to 4096, at least one above 1.
fn parse_workers(text: &str) -> Result<WorkerCounts, String> {
    if text.trim().is_empty() {
        return Err("empty list (write e.g. 1,2,4)".to_string());
    }
    let mut counts = Vec::new();
    for item in text.split(',').map(str::trim) {
        if item.is_empty() {
            return Err(format!("empty item in '{text}' (write e.g. 1,2,4)"));
        }
        let p: usize = item
            .parse()
            .map_err(|_| format!("'{item}' is not a whole number of workers"))?;
        let Some(p) = NonZeroUsize::new(p) else {
            return Err("0 workers cannot run anything: counts start at 1".to_string());
        };
        if p.get() > 4096 {
            return Err(format!("{p} workers: at most 4096"));
        }
        if counts.contains(&p) {
            return Err(format!("{p} is listed twice"));
        }
        counts.push(p);
    }
    if counts.iter().all(|p| p.get() == 1) {
        return Err("a speed-up needs a worker count above 1 (e.g. 1,2)".to_string());
    }
    Ok(WorkerCounts(counts))
}

/// Parses `--plot`: a file ending in .svg or .png.
fn parse_plot(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    match extension(&path).as_deref() {
        Some("svg" | "png") => Ok(path),
        _ => Err(format!("'{text}' must end in .svg or .png")),
    }
}

fn extension(path: &std::path::Path) -> Option<String> {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
}

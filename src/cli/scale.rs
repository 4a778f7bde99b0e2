//! `taskloom scale`: runs a graph at several worker counts and reports speed-up,
//! efficiency, Karp–Flatt fractions and the Amdahl fit (computed by
//! `taskloom_analysis::scaling`), optionally as a plot.
//!
//! One worker is always measured, because T(1) is the baseline of every speed-up: when
//! the list leaves it out it is added (and reported). Repetitions go round the worker
//! counts in turn rather than one count after another, so slow drift on a noisy machine
//! spreads over every count instead of biasing one. The clock covers `Runtime::run`
//! only (starting and joining the worker threads included): the graph is loaded once
//! and each run's plan is made before the clock starts.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use taskloom::{Error, Runtime, Threads};
use taskloom_analysis::human::counted;
use taskloom_analysis::{laws, plot, Scaling};

use super::GraphFile;

/// Arguments of `taskloom scale`.
#[derive(clap::Args)]
pub struct ScaleArgs {
    #[command(flatten)]
    graph: GraphFile,
    /// Worker counts to measure, comma-separated, e.g. 1,2,4 (1 is always measured).
    #[arg(long, short = 'w', value_name = "LIST", value_parser = parse_workers)]
    workers: WorkerCounts,
    /// Runs per worker count; the median is reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=1000))]
    repeat: u32,
    /// Print JSON with unrounded numbers.
    #[arg(long)]
    json: bool,
    /// Also draw the speed-up plot to this file (.svg, or .png without text).
    #[arg(long, value_name = "OUT.svg|OUT.png", value_parser = parse_plot)]
    plot: Option<PathBuf>,
}

/// Distinct worker counts, in the order given.
#[derive(Clone, Debug)]
struct WorkerCounts(Vec<usize>);

pub fn main(args: ScaleArgs) -> ExitCode {
    match scale(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("taskloom: error: {message}");
            ExitCode::from(message.exit_code())
        }
    }
}

/// Why `scale` stopped: the library's errors, or a plot that could not be drawn.
#[derive(Debug, thiserror::Error)]
enum Failure {
    #[error(transparent)]
    Taskloom(#[from] Error),
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
}

impl Failure {
    fn exit_code(&self) -> u8 {
        match self {
            Failure::Taskloom(e) => e.exit_code(),
            Failure::Plot(_) => 1,
        }
    }
}

fn scale(args: ScaleArgs) -> Result<(), Failure> {
    let mut counts = args.workers.0;
    let added_baseline = !counts.contains(&1);
    if added_baseline {
        counts.insert(0, 1);
    }
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let runtimes: Vec<Runtime> = counts
        .iter()
        .map(|&p| Runtime::new().with_executor(Threads::new(p)))
        .collect();
    // Plans hold their ops, so one loaded program serves every runtime.
    let program = runtimes[0].load(&args.graph.file)?;
    let graph = program.graph();
    let targets = args.graph.targets(graph)?;
    let tasks = program.plan(targets.clone()).len();

    let mut seconds: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    for _ in 0..args.repeat {
        for (runtime, times) in runtimes.iter().zip(&mut seconds) {
            let plan = program.plan(targets.clone());
            let start = Instant::now();
            let values = runtime.run(plan)?;
            times.push(start.elapsed().as_secs_f64());
            drop(values);
        }
    }
    let medians: Vec<(usize, f64)> = counts
        .iter()
        .zip(&seconds)
        .map(|(&p, times)| (p, laws::median(times)))
        .collect();
    let scaling = Scaling::new(&medians, cores).expect("one worker is always measured");

    if let Some(path) = &args.plot {
        let bytes = match extension(path).as_deref() {
            Some("png") => plot::png(&scaling, cores)?,
            _ => plot::svg(&scaling, cores)?.into_bytes(),
        };
        super::write_file(path, &bytes)?;
    }
    if args.json {
        print!("{}", scaling.to_json());
    } else {
        println!(
            "{}: {}, median of {} per worker count, timing the run only (not loading or \
             planning); {} present",
            args.graph.file.display(),
            counted(tasks as u128, "task"),
            counted(args.repeat.into(), "run"),
            counted(cores as u128, "core"),
        );
        if added_baseline {
            println!("1 worker added to the list: T(1) is the baseline of the speed-up");
        }
        print!("{}", scaling.to_text(cores));
        if let Some(path) = &args.plot {
            println!("plot: {}", path.display());
        }
    }
    Ok(())
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
        if p == 0 {
            return Err("0 workers cannot run anything: counts start at 1".to_string());
        }
        if p > 4096 {
            return Err(format!("{p} workers: at most 4096"));
        }
        if counts.contains(&p) {
            return Err(format!("{p} is listed twice"));
        }
        counts.push(p);
    }
    if counts.iter().all(|&p| p == 1) {
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

//! `taskloom map`: run a command over many items in parallel. Options become a
//! [`Map`]; this file only parses, prints, draws the progress bar and records the
//! items' spans for `--trace` and `--profile` (a lane per job, a bar per item). The
//! contract is `docs/spec/map-cli.md`.

use std::ffi::OsString;
use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use indicatif::ProgressBar;
use taskloom::exec::Span;
use taskloom::graph::{Expr, GraphBuilder};
use taskloom_map::runner::signal_name;
use taskloom_map::{
    Error, Finished, Grid, Halt, Local, Map, MapFile, Observer, Options, Place, Report, Source,
    Stop,
};

use super::duration::parse_duration;
use super::progress::ProgressFlags;
use super::timeline::{TimelineArgs, TimelineFiles};
use super::{CommandError, Outcome};

/// Arguments of `taskloom map`, taken as they are: [`MapOptions`] parses them, so that
/// a malformed option is reported like every other map error (`taskloom: error: ...`,
/// exit 2). They are bytes, not text: an item may be any file name.
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct MapArgs {
    /// [OPTIONS] -- COMMAND [ARG]... [::: ITEM...]   (see `taskloom map --help`)
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<OsString>,
}

/// Run a command over many items in parallel.
#[derive(clap::Parser)]
#[command(
    name = "taskloom map",
    max_term_width = 100,
    after_help = "\
Items come from exactly one of: `::: ITEM...` after the command, --input or --grid.
Placeholders: {} the item, {#} its number, {NAME} a grid parameter; with none, the item
is appended as a last argument. Items are bytes: any file name runs unchanged.
With --shell each substituted value is quoted for the shell (one word, taken literally,
as GNU parallel does); {!} and {!NAME} substitute it raw, to be run as shell code.
Without --shell nothing is interpreted, `$` included.

Examples:
  taskloom map -j 4 -- gzip -k {} ::: *.log
  taskloom map --shell -- 'convert {} {#}.png' ::: *.svg
  taskloom map --grid lr=0.1,0.01 --grid depth=3,5 --results r.jsonl -- python train.py --lr {lr} --depth {depth}"
)]
struct MapOptions {
    /// How many items run at once [default: number of cores].
    #[arg(short = 'j', long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=65536))]
    jobs: Option<u32>,
    /// Print each item's output as soon as it ends (default: in input order).
    #[arg(long)]
    unordered: bool,
    /// Items from FILE, one per line (`-`: stdin); empty lines are skipped.
    #[arg(long, value_name = "FILE")]
    input: Option<String>,
    /// A parameter grid (repeatable); items are every combination, the first grid
    /// varying slowest.
    #[arg(long, value_name = "NAME=V1,V2,...")]
    grid: Vec<Grid>,
    /// Join the words with spaces and run them with `sh -c`, each substituted value
    /// quoted ({!} and {!NAME}: raw).
    #[arg(long)]
    shell: bool,
    /// Append one JSON line per finished item to FILE.
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
    /// Skip the items that the --results file records as succeeded (matched by the
    /// item itself, byte for byte, so an extended list or grid resumes too).
    #[arg(long)]
    resume: bool,
    /// Run a failed item up to N more times.
    #[arg(long, value_name = "N", default_value_t = 0)]
    retries: u32,
    /// Stop an item after DURATION (30s, 5m, 1h30m): SIGTERM to its process group,
    /// SIGKILL 2 s later.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// On the first failure: kill running items and stop (now), start no new ones
    /// (soon), or go on (never).
    #[arg(long, value_enum, value_name = "WHEN", default_value_t = HaltArg::Never)]
    halt: HaltArg,
    #[command(flatten)]
    progress: ProgressFlags,
    /// Print a summary on stderr at the end.
    #[arg(long)]
    stats: bool,
    #[command(flatten)]
    timeline: TimelineArgs,
    /// Where items run: as child processes of this one (local), or spread over the
    /// ranks of an MPI job (mpi: start with `mpirun -n K taskloom map ...`; rank 0
    /// hands out the items and prints, each other rank runs up to -j of them at once;
    /// with one rank, rank 0 runs them).
    #[arg(long, value_enum, value_name = "WHERE", default_value_t = MapExecutor::Local)]
    executor: MapExecutor,
    /// The command and its arguments, then `:::` and the items.
    #[arg(value_name = "COMMAND [ARG]... [::: ITEM...]", trailing_var_arg = true)]
    command: Vec<OsString>,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum MapExecutor {
    Local,
    Mpi,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum HaltArg {
    Now,
    Soon,
    Never,
}

pub fn map(args: MapArgs) -> Outcome {
    let words = std::iter::once(OsString::from("taskloom map")).chain(as_typed(args.args));
    let args = match <MapOptions as clap::Parser>::try_parse_from(words) {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
            if matches!(e.kind(), DisplayHelp | DisplayVersion) {
                return Ok(e.to_string());
            }
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
            return Err(on_rank_zero(CommandError::Usage(text.to_string())));
        }
    };
    let print_stats = args.stats;
    let executor = args.executor;
    let (map, progress, timeline) =
        build(args).map_err(|why| on_rank_zero(CommandError::Usage(why)))?;
    let mut place: Box<dyn Place> = match executor {
        MapExecutor::Local => Box::new(Local),
        // A worker rank runs its share of the items in here, and exits.
        MapExecutor::Mpi => super::map_ranks::place(&map)?,
    };
    let timeline = timeline.check()?;
    let mut terminal = Terminal::new(progress, timeline.wanted());
    let report = taskloom_map::run(&map, place.as_mut(), &mut terminal);
    terminal.finish();
    // Written whatever became of the run: a failed or interrupted one is when the
    // timeline is wanted most.
    let written = terminal.write_timeline(&map, &timeline);
    let report = match (report, written) {
        (Err(error), Err(unwritten)) => {
            terminal.warn(&unwritten.to_string());
            return Err(error.into());
        }
        (report, written) => {
            written?;
            report?
        }
    };
    if print_stats {
        // A stderr that cannot be written is no reason to fail the run.
        let _ = write!(std::io::stderr().lock(), "{}", report.stats);
    }
    match report.stop {
        // Stdout's reader is gone: end quietly, as a pipeline's writers do; the log
        // records what was not delivered.
        Stop::Abandoned => Ok(String::new()),
        Stop::Interrupted(_) => Err(CommandError::Unfinished(Box::new(report))),
        Stop::Done | Stop::Halted if !report.failures.is_empty() => {
            Err(CommandError::Unfinished(Box::new(report)))
        }
        Stop::Done | Stop::Halted => Ok(String::new()),
    }
}

/// `error`, which every rank of an MPI job meets alike, for rank 0 alone to say.
fn on_rank_zero(error: CommandError) -> CommandError {
    super::mpi::leave_refusal_to_rank_zero();
    error
}

/// The words after `map` as typed. The outer parser drops a leading `--`, which
/// [`MapOptions`] needs to see so that `-- -cmd` stays a command.
fn as_typed(parsed: Vec<OsString>) -> Vec<OsString> {
    let all: Vec<OsString> = std::env::args_os().skip(1).collect();
    if let Some(at) = all.iter().position(|a| a == "map") {
        let typed = &all[at + 1..];
        if typed.first().is_some_and(|w| w == "--") && typed[1..] == parsed[..] {
            return typed.to_vec();
        }
    }
    parsed
}

/// The run the options describe, whether to draw a progress bar, and the timeline
/// files to write.
fn build(args: MapOptions) -> Result<(Map, bool, TimelineArgs), String> {
    let mut command = args.command;
    let words = match command.iter().position(|w| w == ":::") {
        Some(at) => {
            let words = command.split_off(at + 1);
            command.pop();
            if words.iter().any(|w| w == ":::") {
                return Err(
                    "':::' is given more than once (use --grid for combinations)".to_string(),
                );
            }
            Some(words)
        }
        None => None,
    };
    let mut sources = Vec::new();
    if let Some(words) = words {
        sources.push(Source::Words(words));
    }
    if let Some(path) = args.input {
        sources.push(Source::Input(path));
    }
    if !args.grid.is_empty() {
        sources.push(Source::Grids(args.grid));
    }
    if sources.len() > 1 {
        return Err("give items in one way only: ::: ITEM..., --input FILE or --grid".to_string());
    }
    let source = sources.pop().ok_or(
        "no items (give them after ':::', with --input FILE or with --grid NAME=V1,V2,...)",
    )?;
    if args.timeout == Some(Duration::ZERO) {
        return Err("--timeout must be more than 0".to_string());
    }
    let jobs = match args.jobs {
        Some(n) => n as usize,
        None => std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let progress = args.progress.enabled();
    let map = Map {
        source,
        command,
        shell: args.shell,
        options: Options {
            jobs,
            retries: args.retries,
            timeout: args.timeout,
            halt: match args.halt {
                HaltArg::Now => Halt::Now,
                HaltArg::Soon => Halt::Soon,
                HaltArg::Never => Halt::Never,
            },
        },
        unordered: args.unordered,
        results: args.results,
        resume: args.resume,
    };
    Ok((map, progress, args.timeline))
}

/// What a map that cannot start is told, naming the option at fault: the library's
/// errors name files and values only.
pub fn message(error: &Error) -> String {
    match error {
        Error::NoCommand => {
            "no command (write: taskloom map [OPTIONS] -- COMMAND [ARG]... ::: ITEM...)".to_string()
        }
        Error::NoItems(Source::Words(_)) => "no items after ':::'".to_string(),
        Error::NoItems(Source::Input(path)) => {
            format!("no items in {}", option(&MapFile::Input(path.clone())))
        }
        Error::NoItems(Source::Grids(_)) => "no items in --grid".to_string(),
        Error::RepeatedGrid(name) => format!("--grid '{name}' is given more than once"),
        Error::TooManyCombinations => "--grid: too many combinations".to_string(),
        Error::ResumeWithoutResults => "--resume needs --results FILE".to_string(),
        Error::File { file, source } => format!("{}: {source}", option(file)),
        Error::Usage(_) | Error::Spawn { .. } | Error::Io(_) => error.to_string(),
    }
}

/// The option that names `file`, with the file: `--input items.txt`.
fn option(file: &MapFile) -> String {
    match file {
        MapFile::Input(_) => format!("--input {file}"),
        MapFile::Results(_) => format!("--results {file}"),
    }
}

/// What a run that did not succeed is told: the signal that stopped it, or how many
/// items failed and the first few of them.
pub fn summary(report: &Report) -> String {
    let stats = &report.stats;
    if let Stop::Interrupted(signal) = report.stop {
        return format!(
            "interrupted by {}; running items were killed \
             ({} succeeded, {} failed or killed, {} not run)",
            signal_name(signal),
            stats.succeeded,
            stats.failed,
            stats.not_run()
        );
    }
    const SHOWN: usize = 5;
    let mut list: Vec<String> = report
        .failures
        .iter()
        .take(SHOWN)
        .map(|f| format!("#{} '{}' ({})", f.seq, f.item, f.cause))
        .collect();
    if report.failures.len() > SHOWN {
        list.push("...".to_string());
    }
    let mut message = format!(
        "{} of {} items failed: {}",
        stats.failed,
        stats.items,
        list.join(", ")
    );
    if stats.not_run() > 0 {
        message.push_str(&format!("; {} not run (--halt)", stats.not_run()));
    }
    message
}

/// Prints items' output as whole blocks, below a progress bar if there is one, and
/// records when each item ran for the timeline files.
struct Terminal {
    bar: Option<ProgressBar>,
    failed: usize,
    /// When the first item was about to start; `None` before.
    epoch: Option<Instant>,
    /// Each ended item's span, when timeline files are wanted.
    spans: Option<Vec<ItemSpan>>,
}

/// When and in which lane one item ran.
struct ItemSpan {
    seq: usize,
    item: String,
    lane: usize,
    start: Duration,
    end: Duration,
}

impl Terminal {
    fn new(progress: bool, timeline: bool) -> Self {
        let bar = progress.then(|| super::progress::bar(0, "items"));
        Terminal {
            bar,
            failed: 0,
            epoch: None,
            spans: timeline.then(Vec::new),
        }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn print<R>(&self, write: impl FnOnce() -> R) -> R {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }

    /// Writes the `--trace` and `--profile` files of a run that started: an item is a
    /// task named `#SEQ ITEM`, whose op is the command's program, and a job is a
    /// worker.
    fn write_timeline(&self, map: &Map, files: &TimelineFiles) -> Result<(), CommandError> {
        let (Some(epoch), Some(items)) = (self.epoch, &self.spans) else {
            return Ok(());
        };
        let wall_seconds = epoch.elapsed().as_secs_f64();
        let mut builder = GraphBuilder::with_capacity(items.len(), items.len());
        let program = map.command.first().map(|p| p.to_string_lossy());
        let op = builder.op(program.as_deref().unwrap_or(""));
        let mut spans = Vec::with_capacity(items.len());
        for span in items {
            let name = format!("#{} {}", span.seq, span.item);
            let key = builder
                .define(&name, &Expr::call(op, Vec::new()))
                .expect("sequence numbers make names unique and non-empty");
            spans.push(Span {
                key,
                worker: span.lane as u32,
                start_ns: span.start.as_nanos() as u64,
                end_ns: span.end.as_nanos() as u64,
            });
        }
        let graph = builder
            .finish()
            .expect("a graph of items refers to no other key");
        let words: Vec<_> = map.command.iter().map(|w| w.to_string_lossy()).collect();
        let title = format!("taskloom map {}", words.join(" "));
        // Items that ran on MPI ranks have a lane per job of every rank.
        let lanes = items.iter().map(|s| s.lane + 1).chain([map.options.jobs]);
        files.write(
            &title,
            &graph,
            &spans,
            lanes.max().unwrap_or(1),
            wall_seconds,
            &[],
        )
    }
}

impl Observer for Terminal {
    fn start(&mut self, items: usize) {
        self.epoch = Some(Instant::now());
        if let Some(bar) = &self.bar {
            bar.set_length(items as u64);
        }
    }

    fn ended(&mut self, finished: &Finished) {
        let ended = finished.ended;
        if let (Some(spans), Some(epoch)) = (&mut self.spans, self.epoch) {
            let start = ended.started.saturating_duration_since(epoch);
            spans.push(ItemSpan {
                seq: finished.item.seq,
                item: finished.item.display(),
                lane: ended.lane,
                start,
                end: start + Duration::from_secs_f64(ended.seconds),
            });
        }
        if !ended.succeeded() {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            if !ended.succeeded() {
                bar.set_message(format!("({} failed)", self.failed));
            }
            bar.inc(1);
        }
    }

    fn output(&mut self, stdout: &[u8], stderr: &[u8]) -> io::Result<()> {
        if stdout.is_empty() && stderr.is_empty() {
            return Ok(());
        }
        self.print(|| {
            let delivered = match stdout.is_empty() {
                true => Ok(()),
                false => {
                    let mut out = io::stdout().lock();
                    out.write_all(stdout).and_then(|()| out.flush())
                }
            };
            // Stderr is where an error would be told: nowhere to report its own.
            if !stderr.is_empty() {
                let _ = io::stderr().lock().write_all(stderr);
            }
            delivered
        })
    }

    fn warn(&mut self, message: &str) {
        self.print(|| super::exit::stderr_line(format_args!("taskloom: warning: {message}")));
    }
}

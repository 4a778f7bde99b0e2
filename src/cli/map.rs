//! `taskloom map`: run a command over many items in parallel. Options become a
//! [`Map`]; this file only parses, prints and draws the progress bar. The contract is
//! `../shared/spec/map-cli.md`.

use std::io::Write;
use std::path::PathBuf;
use std::time::Duration;

use indicatif::ProgressBar;
use taskloom_map::runner::signal_name;
use taskloom_map::{
    Error, Finished, Grid, Halt, Map, MapFile, Observer, Options, Report, Source, Stop,
};

use super::duration::parse_duration;
use super::progress::ProgressFlags;
use super::{CommandError, Outcome};

/// Arguments of `taskloom map`, taken as they are: [`MapOptions`] parses them, so that
/// a malformed option is reported like every other map error (`taskloom: error: ...`,
/// exit 2).
#[derive(clap::Args)]
#[command(disable_help_flag = true)]
pub struct MapArgs {
    /// [OPTIONS] -- COMMAND [ARG]... [::: ITEM...]   (see `taskloom map --help`)
    #[arg(
        value_name = "ARGS",
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    args: Vec<String>,
}

/// Run a command over many items in parallel.
#[derive(clap::Parser)]
#[command(
    name = "taskloom map",
    max_term_width = 100,
    after_help = "\
Items come from exactly one of: `::: ITEM...` after the command, --input or --grid.
Placeholders: {} the item, {#} its number, {NAME} a grid parameter; with none, the item
is appended as a last argument.

Examples:
  taskloom map -j 4 -- gzip -k {} ::: *.log
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
    /// Join the substituted words with spaces and run them with `sh -c`.
    #[arg(long)]
    shell: bool,
    /// Append one JSON line per finished item to FILE.
    #[arg(long, value_name = "FILE")]
    results: Option<PathBuf>,
    /// Skip the items that the --results file records as succeeded (matched by the
    /// item's text, so an extended list or grid resumes too).
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
    /// The command and its arguments, then `:::` and the items.
    #[arg(value_name = "COMMAND [ARG]... [::: ITEM...]", trailing_var_arg = true)]
    command: Vec<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum HaltArg {
    Now,
    Soon,
    Never,
}

pub fn map(args: MapArgs) -> Outcome {
    let words = std::iter::once("taskloom map".to_string()).chain(as_typed(args.args));
    let args = match <MapOptions as clap::Parser>::try_parse_from(words) {
        Ok(args) => args,
        Err(e) => {
            use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
            if matches!(e.kind(), DisplayHelp | DisplayVersion) {
                return Ok(e.to_string());
            }
            let text = e.render().to_string();
            let text = text.strip_prefix("error: ").unwrap_or(&text).trim_end();
            return Err(CommandError::Usage(text.to_string()));
        }
    };
    let print_stats = args.stats;
    let (map, progress) = build(args).map_err(CommandError::Usage)?;
    let mut terminal = Terminal::new(progress);
    let report = taskloom_map::run(&map, &mut terminal);
    terminal.finish();
    let report = report?;
    if print_stats {
        // A stderr that cannot be written is no reason to fail the run.
        let _ = write!(std::io::stderr().lock(), "{}", report.stats);
    }
    if matches!(report.stop, Stop::Interrupted(_)) || !report.failures.is_empty() {
        return Err(CommandError::Unfinished(Box::new(report)));
    }
    Ok(String::new())
}

/// The words after `map` as typed. The outer parser drops a leading `--`, which
/// [`MapOptions`] needs to see so that `-- -cmd` stays a command.
fn as_typed(parsed: Vec<String>) -> Vec<String> {
    let all: Vec<String> = std::env::args().skip(1).collect();
    if let Some(at) = all.iter().position(|a| a == "map") {
        let typed = &all[at + 1..];
        if typed.first().is_some_and(|w| w == "--") && typed[1..] == parsed[..] {
            return typed.to_vec();
        }
    }
    parsed
}

/// The run the options describe, and whether to draw a progress bar.
fn build(args: MapOptions) -> Result<(Map, bool), String> {
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
    Ok((map, progress))
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
        Error::NotUtf8 { file, line } => {
            format!("{}: line {line} is not valid UTF-8", option(file))
        }
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

/// Prints items' output as whole blocks, below a progress bar if there is one.
struct Terminal {
    bar: Option<ProgressBar>,
    failed: usize,
}

impl Terminal {
    fn new(progress: bool) -> Self {
        let bar = progress.then(|| super::progress::bar(0, "items"));
        Terminal { bar, failed: 0 }
    }

    fn finish(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    fn print(&self, write: impl FnOnce()) {
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl Observer for Terminal {
    fn start(&mut self, items: usize) {
        if let Some(bar) = &self.bar {
            bar.set_length(items as u64);
        }
    }

    fn ended(&mut self, finished: &Finished) {
        if !finished.ended.succeeded() {
            self.failed += 1;
        }
        if let Some(bar) = &self.bar {
            if !finished.ended.succeeded() {
                bar.set_message(format!("({} failed)", self.failed));
            }
            bar.inc(1);
        }
    }

    fn output(&mut self, stdout: &[u8], stderr: &[u8]) {
        if stdout.is_empty() && stderr.is_empty() {
            return;
        }
        self.print(|| {
            // A closed stdout (`| head`) must not stop the run or its log.
            if !stdout.is_empty() {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(stdout).and_then(|()| out.flush());
            }
            if !stderr.is_empty() {
                let _ = std::io::stderr().lock().write_all(stderr);
            }
        });
    }

    fn warn(&mut self, message: &str) {
        self.print(|| super::exit::stderr_line(format_args!("taskloom: warning: {message}")));
    }
}

//! A whole run: load the items, skip what a previous run finished, run the rest, and
//! log, order and count what ends.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::items::{Item, Source};
use crate::order::Reorder;
use crate::results::{self, Log, Params, Record};
use crate::runner::{self, signal_name, Ended, Options};
use crate::stats::Stats;
use crate::template::Template;
use crate::Error;

pub use crate::runner::Stop;

/// Everything a run needs; the command line fills it from its options.
#[derive(Clone, Debug)]
pub struct Map {
    /// Where the items come from.
    pub source: Source,
    /// The command and its arguments, with placeholders.
    pub command: Vec<String>,
    /// Run the substituted words with `sh -c`.
    pub shell: bool,
    /// Jobs, retries, timeout and halt policy.
    pub options: Options,
    /// Release each item's output as soon as it ends, not in input order.
    pub unordered: bool,
    /// Append one JSON line per ended item here.
    pub results: Option<PathBuf>,
    /// Skip the items `results` records as succeeded.
    pub resume: bool,
}

/// What the caller shows while the run goes on (output, progress, warnings).
pub trait Observer {
    /// Before the first item starts: how many items will run.
    fn start(&mut self, _items: usize) {}
    /// An item ended; called in the order items end.
    fn ended(&mut self, _finished: &Finished) {}
    /// An item's output is due: its whole stdout, then its whole stderr.
    fn output(&mut self, stdout: &[u8], stderr: &[u8]);
    /// Something the user should know that does not stop the run.
    fn warn(&mut self, message: &str);
}

/// An item that ended, as observers see it.
#[allow(missing_docs)]
pub struct Finished<'a> {
    pub item: &'a Item,
    pub ended: &'a Ended,
}

/// An item that did not succeed, for the final message.
#[derive(Clone, Debug)]
pub struct Failure {
    /// The item's `{#}`.
    pub seq: usize,
    /// The item's text.
    pub item: String,
    /// `exit 3`, `killed by SIGSEGV`, `timed out (SIGTERM)`, ...
    pub cause: String,
}

/// How a run went.
#[derive(Debug)]
pub struct Report {
    /// Counts and times, for `--stats`.
    pub stats: Stats,
    /// Whether every item ran, or why not.
    pub stop: Stop,
    /// Every item that did not succeed, by sequence number.
    pub failures: Vec<Failure>,
}

/// Runs `map`, telling `observer` as items end. Usage errors (no items, no command, an
/// unknown placeholder, a command that does not exist) are found before or at the
/// first start, so nothing runs for them.
pub fn run(map: &Map, observer: &mut dyn Observer) -> Result<Report, Error> {
    if map.resume && map.results.is_none() {
        return Err(Error::ResumeWithoutResults);
    }
    let template = Template::parse(&map.command, &map.source.param_names(), map.shell)?;
    let items = map.source.load()?;
    let mut skipped = 0;
    let todo: Vec<&Item> = match (&map.results, map.resume) {
        (Some(path), true) => {
            let (mut done, malformed) = results::succeeded(path)?;
            if malformed > 0 {
                observer.warn(&format!(
                    "results log {}: skipped {malformed} line(s) that are not results",
                    path.display()
                ));
            }
            items
                .iter()
                .filter(|item| match done.get_mut(&item.text) {
                    Some(n) if *n > 0 => {
                        *n -= 1;
                        skipped += 1;
                        false
                    }
                    _ => true,
                })
                .collect()
        }
        _ => items.iter().collect(),
    };
    let mut log = map.results.as_deref().map(Log::open).transpose()?;

    let mut stats = Stats {
        items: todo.len(),
        skipped,
        jobs: map.options.jobs,
        ..Stats::default()
    };
    let mut failures = Vec::new();
    let mut log_error = None;
    let mut reorder = Reorder::default();
    observer.start(todo.len());
    let start = Instant::now();
    let outcome = runner::run(
        todo.len(),
        |i| template.command_line(todo[i]),
        &map.options,
        |ended| {
            let item = todo[ended.index];
            stats.item_seconds += ended.seconds;
            if ended.succeeded() {
                stats.succeeded += 1;
            } else {
                stats.failed += 1;
                failures.push(Failure {
                    seq: item.seq,
                    item: item.text.clone(),
                    cause: cause(&ended, map.options.timeout),
                });
            }
            if let (Some(log), None) = (&mut log, &log_error) {
                let record = Record {
                    seq: item.seq,
                    item: &item.text,
                    params: Params(&item.params),
                    exit: ended.exit,
                    signal: ended.signal.map(signal_name),
                    stdout: &String::from_utf8_lossy(&ended.stdout),
                    stderr: &String::from_utf8_lossy(&ended.stderr),
                    seconds: (ended.seconds * 1e6).round() / 1e6,
                    attempts: ended.attempts,
                };
                if let Err(e) = log.append(&record) {
                    log_error = Some(e);
                }
            }
            observer.ended(&Finished {
                item,
                ended: &ended,
            });
            let index = ended.index;
            let block = (ended.stdout, ended.stderr);
            let due = if map.unordered {
                vec![block]
            } else {
                reorder.push(index, block)
            };
            for (stdout, stderr) in due {
                observer.output(&stdout, &stderr);
            }
        },
    );
    // A run that stopped early still shows what did end, in order, gaps skipped.
    for (stdout, stderr) in reorder.drain() {
        observer.output(&stdout, &stderr);
    }
    let stop = outcome?;
    if let Some(error) = log_error {
        return Err(error);
    }
    stats.wall = start.elapsed();
    failures.sort_by_key(|f| f.seq);
    Ok(Report {
        stats,
        stop,
        failures,
    })
}

fn cause(ended: &Ended, timeout: Option<Duration>) -> String {
    match (ended.exit, ended.signal) {
        (Some(code), _) if ended.timed_out => format!("exit {code} after the timeout"),
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => {
            let name = signal_name(signal);
            match timeout {
                Some(t) if ended.timed_out => format!("timed out after {t:?}, {name}"),
                _ if ended.cancelled => format!("stopped by {name}"),
                _ => format!("killed by {name}"),
            }
        }
        (None, None) => "ended without a status".to_string(),
    }
}

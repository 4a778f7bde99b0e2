//! A whole run: load the items, skip what a previous run finished, run the rest, and
//! deliver, log and count what ends.
//!
//! - An item is settled when its output is delivered (at once in unordered mode, in
//!   input order otherwise): only then is it logged and counted, so an item whose
//!   output never reached its reader is never logged as succeeded.
//! - Output waiting for its turn is held in a [`Spool`], within a memory bound.
//! - A write error on stdout fails the items it concerns (the halt policy applies);
//!   a closed stdout abandons the run: running items are stopped, nothing more starts,
//!   and what was not delivered is logged as undelivered.

use std::ffi::OsString;
use std::io::{self, ErrorKind};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use crate::items::{Item, Source};
use crate::order::Reorder;
use crate::place::Place;
use crate::results::{self, Log, LoggedItem, Params, Reason, Record};
use crate::runner::{signal_name, Ended, Flow, Options, Stopped};
use crate::spawn;
use crate::spool::{Held, Spool};
use crate::stats::Stats;
use crate::template::Template;
use crate::Error;

pub use crate::runner::Stop;

/// Everything a run needs; the command line fills it from its options.
#[derive(Clone, Debug)]
pub struct Map {
    /// Where the items come from.
    pub source: Source,
    /// The command and its arguments, with placeholders; bytes, as `argv` is.
    pub command: Vec<OsString>,
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
    /// An item's output is due: its whole stdout, then its whole stderr. An error
    /// writing stdout means the output did not reach its reader: `BrokenPipe` when
    /// the reader is gone (the run stops quietly), anything else fails the item.
    fn output(&mut self, stdout: &[u8], stderr: &[u8]) -> io::Result<()>;
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
    /// The item as messages show it ([`Item::display`]).
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

/// Runs `map` at `place`, telling `observer` as items end. Usage errors (no items, no command, an
/// unknown placeholder, a program that is the same for every item and does not
/// exist) are found before the first start, so nothing runs for them; a command line
/// that only some items make unrunnable fails those items alone.
pub fn run(map: &Map, place: &mut dyn Place, observer: &mut dyn Observer) -> Result<Report, Error> {
    if map.resume && map.results.is_none() {
        return Err(Error::ResumeWithoutResults);
    }
    let template = Template::parse(&map.command, &map.source.param_names(), map.shell)?;
    if let Some(program) = template.program() {
        spawn::check(&program)?;
    }
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
                .filter(|item| match done.get_mut(&item.bytes) {
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
    let log = map.results.as_deref().map(Log::open).transpose()?;

    let mut settle = Settle {
        todo: &todo,
        timeout: map.options.timeout,
        log,
        log_error: None,
        spool: Spool::default(),
        closed: false,
        stats: Stats {
            items: todo.len(),
            skipped,
            jobs: map.options.jobs,
            ..Stats::default()
        },
        failures: Vec::new(),
    };
    let mut reorder = Reorder::default();
    observer.start(todo.len());
    let start = Instant::now();
    let outcome = place.run(
        todo.len(),
        &mut |i| template.command_line(todo[i]),
        &map.options,
        &mut |mut ended| {
            observer.ended(&Finished {
                item: todo[ended.index],
                ended: &ended,
            });
            let waits = !map.unordered && !reorder.is_next(ended.index);
            let mut hold = |bytes| match waits {
                true => settle.spool.hold(bytes),
                false => Held::Due(bytes),
            };
            let stdout = hold(std::mem::take(&mut ended.stdout));
            let stderr = hold(std::mem::take(&mut ended.stderr));
            let waiting = Waiting {
                ended,
                stdout,
                stderr,
            };
            let due = if map.unordered {
                vec![waiting]
            } else {
                reorder.push(waiting.ended.index, waiting)
            };
            due.into_iter()
                .map(|waiting| settle.settle(waiting, observer))
                .max()
                .unwrap_or(Flow::Go)
        },
    );
    // A run that stopped early still delivers what did end, in order, gaps skipped.
    for waiting in reorder.drain() {
        settle.settle(waiting, observer);
    }
    let stop = outcome?;
    if let Some(error) = settle.log_error {
        return Err(error);
    }
    let mut stats = settle.stats;
    stats.wall = start.elapsed();
    let mut failures = settle.failures;
    failures.sort_by_key(|f| f.seq);
    Ok(Report {
        stats,
        stop,
        failures,
    })
}

/// An ended item whose output waits for its turn.
struct Waiting {
    /// How it ended (its output moved into the two blocks).
    ended: Ended,
    stdout: Held,
    stderr: Held,
}

/// Delivers, logs and counts items as their turn comes.
struct Settle<'a> {
    todo: &'a [&'a Item],
    timeout: Option<Duration>,
    log: Option<Log>,
    /// The first failure to append to the log; nothing more is appended after it.
    log_error: Option<Error>,
    spool: Spool,
    /// Stdout's reader is gone: nothing more is delivered.
    closed: bool,
    stats: Stats,
    failures: Vec<Failure>,
}

impl Settle<'_> {
    /// Delivers `waiting`'s output, then logs and counts it; says how the run goes on.
    fn settle(&mut self, waiting: Waiting, observer: &mut dyn Observer) -> Flow {
        let Waiting {
            ended,
            stdout,
            stderr,
        } = waiting;
        let (stdout, stderr, delivered) = self.deliver(stdout, stderr, observer);
        let item = self.todo[ended.index];
        self.stats.item_seconds += ended.seconds;
        let cause = match &delivered {
            Err(Some(e)) => Some(format!("output not delivered to stdout: {e}")),
            // The reader is gone: nobody to tell; the log says it.
            Err(None) => None,
            Ok(()) if ended.succeeded() => None,
            Ok(()) => Some(cause(&ended, self.timeout)),
        };
        if delivered.is_ok() && ended.succeeded() {
            self.stats.succeeded += 1;
        } else {
            self.stats.failed += 1;
        }
        if let Some(cause) = cause {
            self.failures.push(Failure {
                seq: item.seq,
                item: item.display(),
                cause,
            });
        }
        let reason = match (&delivered, ended.stopped) {
            (Err(_), _) | (Ok(()), Some(Stopped::Abandon)) => Some(Reason::Undelivered),
            (Ok(()), Some(Stopped::Timeout)) => Some(Reason::Timeout),
            (Ok(()), Some(Stopped::Halt)) => Some(Reason::Halt),
            (Ok(()), Some(Stopped::Interrupt)) => Some(Reason::Interrupt),
            (Ok(()), None) => None,
        };
        if let (Some(log), None) = (&mut self.log, &self.log_error) {
            let record = Record {
                seq: item.seq,
                item: LoggedItem(&item.bytes),
                params: Params(&item.params),
                exit: ended.exit,
                signal: ended.signal.map(signal_name),
                stdout: &String::from_utf8_lossy(&stdout),
                stderr: &String::from_utf8_lossy(&stderr),
                seconds: (ended.seconds * 1e6).round() / 1e6,
                attempts: ended.attempts,
                failure: reason,
            };
            if let Err(e) = log.append(&record) {
                self.log_error = Some(e);
            }
        }
        match delivered {
            Ok(()) => Flow::Go,
            Err(Some(_)) => Flow::Failed,
            Err(None) => Flow::Abandon,
        }
    }

    /// Gives the output back from the spool and writes it. The output comes back even
    /// when it could not be written (the log still keeps it), with why: `Some(error)`,
    /// or `None` when stdout's reader is gone.
    fn deliver(
        &mut self,
        stdout: Held,
        stderr: Held,
        observer: &mut dyn Observer,
    ) -> (Vec<u8>, Vec<u8>, Result<(), Option<io::Error>>) {
        let (stdout, stderr) = match (self.spool.release(stdout), self.spool.release(stderr)) {
            (Ok(stdout), Ok(stderr)) => (stdout, stderr),
            (Err(e), _) | (_, Err(e)) => return (Vec::new(), Vec::new(), Err(Some(e))),
        };
        let delivered = if self.closed {
            Err(None)
        } else {
            match observer.output(&stdout, &stderr) {
                Ok(()) => Ok(()),
                Err(e) if e.kind() == ErrorKind::BrokenPipe => {
                    self.closed = true;
                    Err(None)
                }
                Err(e) => Err(Some(e)),
            }
        };
        (stdout, stderr, delivered)
    }
}

fn cause(ended: &Ended, timeout: Option<Duration>) -> String {
    if let Some(why) = &ended.unstartable {
        return why.clone();
    }
    let status = match (ended.exit, ended.signal) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(signal)) => format!("killed by {}", signal_name(signal)),
        (None, None) => "ended without a status".to_string(),
    };
    match (ended.stopped, timeout) {
        (Some(Stopped::Timeout), Some(t)) => format!("timed out after {t:?}, then {status}"),
        (Some(_), _) => format!("stopped, then {status}"),
        (None, _) => status,
    }
}

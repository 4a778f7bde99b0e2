//! Progress bars on stderr, never stdout: shown when stderr is a terminal, forced with
//! `--progress`, hidden with `--no-progress`.

use std::io::{IsTerminal, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle, TermLike};
use taskloom::exec::{Progress, SpillCounts};

use super::output::OutputFile;

/// `--progress` / `--no-progress` (the last one given wins).
#[derive(clap::Args, Clone, Copy, Debug)]
pub struct ProgressFlags {
    /// Show a progress bar on stderr [default: when stderr is a terminal].
    #[arg(long, global = true, overrides_with = "no_progress")]
    progress: bool,
    /// Never show a progress bar.
    #[arg(long, global = true, overrides_with = "progress")]
    no_progress: bool,
}

impl ProgressFlags {
    /// Whether to show a bar.
    pub fn enabled(&self) -> bool {
        self.progress || (!self.no_progress && std::io::stderr().is_terminal())
    }
}

/// A bar counting `len` `unit`s, with rate, elapsed time and ETA.
pub fn bar(len: u64, unit: &str) -> ProgressBar {
    let target = if std::io::stderr().is_terminal() {
        ProgressDrawTarget::stderr()
    } else {
        // Asked for with --progress: draw even into a file or pipe.
        ProgressDrawTarget::term_like_with_hz(Box::new(PlainStderr), 10)
    };
    let bar = ProgressBar::with_draw_target(Some(len), target);
    let template = format!(
        "{{bar:30}} {{pos}}/{{len}} {unit} {{msg}} [{{per_sec}}, {{elapsed}}, ETA {{eta}}]"
    );
    bar.set_style(
        ProgressStyle::with_template(&template).unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar.enable_steady_tick(Duration::from_millis(250));
    bar
}

/// A bar that follows an executor's count of finished tasks from a thread of its own,
/// so that the executor never waits for the terminal.
pub struct TaskBar(Ticker);

impl TaskBar {
    /// Shows `tasks` tasks, polling `progress`, and the bytes written out past the
    /// memory limit when the run has one (`spill`).
    pub fn start(progress: Progress, tasks: u64, spill: Option<SpillCounts>) -> TaskBar {
        let bar = bar(tasks, "tasks");
        TaskBar(Ticker::start(Duration::from_millis(100), move |last| {
            bar.set_position(progress.done());
            if let Some(spill) = &spill {
                bar.set_message(super::memory::message(spill));
            }
            // A terminal's bar makes way for the results; a file or pipe keeps the
            // final count, drawn even when the run ended before the first tick.
            if last && std::io::stderr().is_terminal() {
                bar.finish_and_clear();
            } else if last {
                bar.finish();
            }
        }))
    }

    /// Clears the bar before the results are printed.
    pub fn finish(self) {
        self.0.finish();
    }
}

/// How often `--progress-file` is rewritten: often enough for `taskloom jobs`, rarely
/// enough to cost nothing on a shared filesystem.
const PROGRESS_FILE_PERIOD: Duration = Duration::from_secs(1);

/// `--progress-file FILE`: `DONE TOTAL` (tasks finished, tasks to run) and a newline,
/// replaced atomically every second and once at the end, for whoever watches a run it
/// cannot see (`taskloom jobs` and `peek` for a batch job). A hint only: a write that
/// fails (the path was checked before the run) never fails the run.
pub struct ProgressFile(Ticker);

impl ProgressFile {
    /// Writes `tasks` tasks' progress to `file`, polling `progress`.
    pub fn start(progress: Progress, tasks: u64, file: OutputFile) -> ProgressFile {
        ProgressFile(Ticker::start(PROGRESS_FILE_PERIOD, move |_| {
            let _ = file.write(format!("{} {tasks}\n", progress.done()).as_bytes());
        }))
    }

    /// Writes the final count.
    pub fn finish(self) {
        self.0.finish();
    }
}

/// A thread that calls `tick(false)` every period until [`Ticker::finish`], then
/// `tick(true)` once.
struct Ticker {
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

impl Ticker {
    fn start(period: Duration, mut tick: impl FnMut(bool) + Send + 'static) -> Ticker {
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                tick(false);
                // Woken early by `finish`.
                std::thread::park_timeout(period);
            }
            tick(true);
        });
        Ticker { stop, thread }
    }

    fn finish(self) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread.thread().unpark();
        let _ = self.thread.join();
    }
}

/// stderr as a terminal for indicatif, when it is not one but --progress asks for a bar.
#[derive(Debug)]
pub struct PlainStderr;

impl TermLike for PlainStderr {
    fn width(&self) -> u16 {
        80
    }
    fn move_cursor_up(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}A"))
    }
    fn move_cursor_down(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}B"))
    }
    fn move_cursor_right(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}C"))
    }
    fn move_cursor_left(&self, n: usize) -> std::io::Result<()> {
        self.write_str(&format!("\x1b[{n}D"))
    }
    fn write_line(&self, s: &str) -> std::io::Result<()> {
        self.write_str(&format!("{s}\n"))
    }
    fn write_str(&self, s: &str) -> std::io::Result<()> {
        std::io::stderr().lock().write_all(s.as_bytes())
    }
    fn clear_line(&self) -> std::io::Result<()> {
        self.write_str("\r\x1b[2K")
    }
    fn flush(&self) -> std::io::Result<()> {
        std::io::stderr().lock().flush()
    }
}

//! `--trace` and `--profile`, the same for every command that runs tasks (`run`,
//! `map`, `array`): the options, and writing the files from a run's spans.
//!
//! - The analysis crate draws; this file only names the files and writes them.
//! - The paths are checked before the work ([`TimelineArgs::check`]): a typo costs
//!   nothing, not a whole run.
//! - A run that failed or was interrupted still writes its files: that is when they
//!   are wanted most.

use std::path::PathBuf;

use taskloom::exec::{Span, Trace};
use taskloom::graph::Graph;
use taskloom_analysis::timeline;

use super::output::OutputFile;
use super::CommandError;

/// The timeline files a run is asked to write, as given on the command line. Global,
/// so that commands with subcommands take them after the subcommand too.
#[derive(clap::Args)]
pub struct TimelineArgs {
    /// Write when and on which worker each task ran as a Chrome trace (Perfetto,
    /// chrome://tracing).
    #[arg(long, global = true, value_name = "FILE.json")]
    pub trace: Option<PathBuf>,
    /// Write an HTML profile of the run: a timeline lane per worker, a summary and the
    /// slowest tasks.
    #[arg(long, global = true, value_name = "FILE.html")]
    pub profile: Option<PathBuf>,
}

impl TimelineArgs {
    /// Whether any file is asked for (before they are checked: an MPI worker rank
    /// records nothing and checks nothing).
    pub fn wanted(&self) -> bool {
        self.trace.is_some() || self.profile.is_some()
    }

    /// The files, each checked to be writable, before any work.
    pub fn check(&self) -> Result<TimelineFiles, CommandError> {
        let check = |path: &Option<PathBuf>| path.as_deref().map(OutputFile::check).transpose();
        Ok(TimelineFiles {
            trace: check(&self.trace)?,
            profile: check(&self.profile)?,
        })
    }
}

/// The timeline files of a run, checked to be writable.
pub struct TimelineFiles {
    trace: Option<OutputFile>,
    profile: Option<OutputFile>,
}

impl TimelineFiles {
    /// Whether any file is asked for: only then are spans recorded.
    pub fn wanted(&self) -> bool {
        self.trace.is_some() || self.profile.is_some()
    }

    /// Writes the files asked for, of `spans` (keys of `graph`) run on `workers` lanes
    /// in `wall_seconds`; `title` heads the profile, `notes` join its summary.
    pub fn write(
        &self,
        title: &str,
        graph: &Graph,
        spans: &[Span],
        workers: usize,
        wall_seconds: f64,
        notes: &[(&str, String)],
    ) -> Result<(), CommandError> {
        if let Some(file) = &self.trace {
            file.write(timeline::chrome_trace(graph, spans).as_bytes())?;
        }
        if let Some(file) = &self.profile {
            let html = timeline::profile_html(title, graph, spans, workers, wall_seconds, notes);
            file.write(html.as_bytes())?;
        }
        Ok(())
    }

    /// Writes the files asked for of the spans `trace` recorded of a run of `graph`
    /// that took `wall_seconds`: a lane for every worker of the run, those that ran no
    /// task too; `notes` join the profile's summary.
    pub fn write_trace(
        &self,
        title: &str,
        graph: &Graph,
        trace: &Trace,
        wall_seconds: f64,
        notes: &[(&str, String)],
    ) -> Result<(), CommandError> {
        let spans = trace.take_spans();
        let workers = spans
            .iter()
            .map(|t| t.worker as usize + 1)
            .chain([trace.workers(), 1])
            .max()
            .unwrap_or(1);
        self.write(title, graph, &spans, workers, wall_seconds, notes)
    }
}

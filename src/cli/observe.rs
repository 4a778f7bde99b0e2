//! `--trace` and `--profile`: when and on which worker each task ran, as a Chrome
//! trace and as an HTML profile, declared and written one way for every command that
//! runs a graph.

use std::path::PathBuf;

use taskloom::exec::Trace;
use taskloom::graph::Graph;
use taskloom_analysis::timeline;

use super::CommandError;

/// The timeline files a run writes. Global, so that commands with subcommands take
/// them after the subcommand too.
#[derive(clap::Args)]
pub struct TimelineFlags {
    /// Write when and on which worker each task ran as a Chrome trace (Perfetto,
    /// chrome://tracing).
    #[arg(long, global = true, value_name = "FILE.json")]
    trace: Option<PathBuf>,
    /// Write an HTML profile of the run: a timeline lane per worker, a summary and the
    /// slowest tasks.
    #[arg(long, global = true, value_name = "FILE.html")]
    profile: Option<PathBuf>,
}

impl TimelineFlags {
    /// What the run must record: spans, when either file is asked for.
    pub fn trace(&self) -> Option<Trace> {
        (self.trace.is_some() || self.profile.is_some()).then(Trace::new)
    }

    /// Writes the files asked for from the spans `trace` recorded of a run of `graph`
    /// that took `wall_seconds`; `title` heads the profile.
    pub fn write(
        &self,
        title: &str,
        graph: &Graph,
        trace: &Trace,
        wall_seconds: f64,
    ) -> Result<(), CommandError> {
        let spans = trace.take_spans();
        if let Some(path) = &self.trace {
            super::write_file(path, timeline::chrome_trace(graph, &spans).as_bytes())?;
        }
        if let Some(path) = &self.profile {
            let workers = spans
                .iter()
                .map(|t| t.worker as usize + 1)
                .max()
                .unwrap_or(1);
            let html = timeline::profile_html(title, graph, &spans, workers, wall_seconds);
            super::write_file(path, html.as_bytes())?;
        }
        Ok(())
    }
}

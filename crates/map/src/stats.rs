//! The summary `--stats` prints: how many items ran and how well the run used its jobs.

use std::fmt;
use std::time::Duration;

/// Counts and times of one run.
#[derive(Clone, Debug, Default)]
pub struct Stats {
    /// Items this run was to run (after `--resume` skipped some).
    pub items: usize,
    /// Ended with status 0 (after retries).
    pub succeeded: usize,
    /// Ended otherwise, including items stopped by a halt or a signal, and items whose
    /// output could not be delivered.
    pub failed: usize,
    /// Items skipped because the results log records them as succeeded.
    pub skipped: usize,
    /// From the first start to the last end.
    pub wall: Duration,
    /// The sum of the items' own times (first start to last end, retries included).
    pub item_seconds: f64,
    /// The `-j` the run had, which efficiency is relative to.
    pub jobs: usize,
}

impl Stats {
    /// Items that never ran because the run halted or was interrupted.
    pub fn not_run(&self) -> usize {
        self.items.saturating_sub(self.succeeded + self.failed)
    }

    /// Summed item seconds over wall seconds: how many items ran at once on average.
    pub fn speedup(&self) -> f64 {
        let wall = self.wall.as_secs_f64();
        if wall > 0.0 {
            self.item_seconds / wall
        } else {
            0.0
        }
    }

    /// Speed-up per job: 1.0 means every job was busy all the time.
    pub fn efficiency(&self) -> f64 {
        self.speedup() / self.jobs.max(1) as f64
    }
}

impl fmt::Display for Stats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "items:        {}", self.items)?;
        writeln!(f, "succeeded:    {}", self.succeeded)?;
        writeln!(f, "failed:       {}", self.failed)?;
        if self.not_run() > 0 {
            writeln!(f, "not run:      {}", self.not_run())?;
        }
        if self.skipped > 0 {
            writeln!(
                f,
                "skipped:      {} (succeeded in an earlier run)",
                self.skipped
            )?;
        }
        writeln!(f, "wall seconds: {:.3}", self.wall.as_secs_f64())?;
        writeln!(f, "item seconds: {:.3}", self.item_seconds)?;
        writeln!(f, "speed-up:     {:.2}", self.speedup())?;
        writeln!(
            f,
            "efficiency:   {:.2} ({} jobs)",
            self.efficiency(),
            self.jobs
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speedup_and_efficiency() {
        let stats = Stats {
            items: 4,
            succeeded: 3,
            failed: 1,
            skipped: 0,
            wall: Duration::from_secs(2),
            item_seconds: 3.0,
            jobs: 2,
        };
        assert_eq!(stats.speedup(), 1.5);
        assert_eq!(stats.efficiency(), 0.75);
        let text = stats.to_string();
        assert!(text.contains("speed-up:     1.50\n"), "{text}");
        assert!(text.contains("efficiency:   0.75 (2 jobs)\n"), "{text}");
        assert!(!text.contains("not run"));
    }
}

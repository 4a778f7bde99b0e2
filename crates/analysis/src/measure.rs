//! How a scaling study is measured: the protocol behind `taskloom scale`.
//!
//! - One worker is always measured, because T(1) is the baseline of every speed-up:
//!   when the counts leave it out it is added first, and the measurement says so.
//! - Repetitions go round the worker counts in turn rather than one count after
//!   another, so slow drift on a noisy machine spreads over every count instead of
//!   biasing one.
//! - The clock covers the executor's run only, starting and joining its worker
//!   threads included: the plan is made by the caller, before any clock starts, and a
//!   run's values are dropped after its clock stops.
//! - A count's time is the median of its runs, so one run slowed by something else on
//!   the machine does not move it.

use std::num::{NonZeroU32, NonZeroUsize};
use std::sync::Arc;
use std::time::Instant;

use taskloom_exec::{Executor, RunError, Threads};
use taskloom_sched::Plan;

use crate::{laws, Scaling};

/// A measured study, with what its report must say about how it was taken.
#[derive(Clone, Debug, PartialEq)]
pub struct Measurement {
    pub scaling: Scaling,
    /// One worker was not among the counts asked for, and was measured first.
    pub added_baseline: bool,
    /// Cores present; the study marks the counts above it.
    pub cores: usize,
}

/// Runs `plan` `repeat` times on a pool of each of the `workers` thread counts (in the
/// order given, after one worker when it is not listed) and fits the study to the
/// medians. The first failed run stops the measurement.
pub fn measure(
    plan: &Arc<Plan>,
    workers: &[NonZeroUsize],
    repeat: NonZeroU32,
) -> Result<Measurement, RunError> {
    let mut counts: Vec<usize> = workers.iter().map(|p| p.get()).collect();
    let added_baseline = !counts.contains(&1);
    if added_baseline {
        counts.insert(0, 1);
    }
    let executors: Vec<Threads> = counts.iter().map(|&p| Threads::new(p)).collect();
    let mut seconds: Vec<Vec<f64>> = vec![Vec::new(); counts.len()];
    for _ in 0..repeat.get() {
        for (executor, times) in executors.iter().zip(&mut seconds) {
            let start = Instant::now();
            let values = executor.run(Arc::clone(plan))?;
            times.push(start.elapsed().as_secs_f64());
            drop(values);
        }
    }
    let medians: Vec<(usize, f64)> = counts
        .iter()
        .zip(&seconds)
        .map(|(&p, times)| (p, laws::median(times)))
        .collect();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let scaling = Scaling::new(&medians, cores).expect("one worker is always measured");
    Ok(Measurement {
        scaling,
        added_baseline,
        cores,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskloom_graph::{parse, validate, Registry};

    fn plan(text: &str) -> Arc<Plan> {
        let graph = parse(text).unwrap();
        let ops = validate(&graph, &Registry::builtins()).unwrap();
        let targets = graph.outputs();
        Arc::new(Plan::new(Arc::new(graph), ops, targets))
    }

    fn counts(list: &[usize]) -> Vec<NonZeroUsize> {
        list.iter()
            .map(|&p| NonZeroUsize::new(p).unwrap())
            .collect()
    }

    #[test]
    fn one_worker_is_measured_first_when_not_listed() {
        let plan = plan("a = inc(1)\nb = inc(a)\n");
        let m = measure(&plan, &counts(&[4, 2]), NonZeroU32::new(2).unwrap()).unwrap();
        assert!(m.added_baseline);
        let workers: Vec<usize> = m.scaling.points.iter().map(|p| p.workers).collect();
        assert_eq!(workers, [1, 4, 2]);
        assert_eq!(m.scaling.points[0].speedup, 1.0);
        assert!(m.scaling.points.iter().all(|p| p.seconds > 0.0));

        let listed = measure(&plan, &counts(&[2, 1]), NonZeroU32::MIN).unwrap();
        assert!(!listed.added_baseline);
        let workers: Vec<usize> = listed.scaling.points.iter().map(|p| p.workers).collect();
        assert_eq!(workers, [2, 1]);
    }

    #[test]
    fn the_clock_times_the_run() {
        // A 50 ms task cannot run faster on more workers; the median sees the sleep.
        let plan = plan("a = sleep(50, 1)\n");
        let m = measure(&plan, &counts(&[2]), NonZeroU32::new(3).unwrap()).unwrap();
        assert!(m.scaling.points.iter().all(|p| p.seconds >= 0.05), "{m:?}");
    }

    #[test]
    fn a_failed_run_is_the_error() {
        let plan = plan("a = fail(\"boom\")\n");
        let err = measure(&plan, &counts(&[2]), NonZeroU32::MIN).unwrap_err();
        assert!(err.to_string().contains("boom"), "{err}");
    }
}

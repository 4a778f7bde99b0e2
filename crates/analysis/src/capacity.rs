//! Capacity planning: the fewest cores that finish N indivisible tasks of T seconds,
//! after S seconds of serial work, within a deadline D.
//!
//! With c cores the tasks run in ceil(N/c) waves, so the wall time is
//! S + ceil(N/c)·T. The answer is found exactly, in integers: at most
//! w = floor((D − S)/T) waves fit, so c = ceil(N/w) (no smaller c runs N tasks in w
//! waves), and the waves actually needed are ceil(N/c) ≤ w.

use std::time::Duration;

use serde::Serialize;

/// What to plan for.
#[derive(Clone, Debug)]
pub struct Request {
    /// Independent tasks to run.
    pub tasks: u64,
    /// Time each task takes on one core.
    pub task: Duration,
    /// Time spent before the tasks can start, on one core.
    pub serial: Duration,
    /// When everything must be done.
    pub deadline: Duration,
    /// Price of one core for an hour, if a cost is wanted.
    pub price_per_core_hour: Option<f64>,
}

/// The plan: the `--json` form of `taskloom plan`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Capacity {
    pub cores: u64,
    pub waves: u64,
    pub wall_seconds: f64,
    /// Cores left without a task in the last wave, times the task time.
    pub idle_core_seconds: f64,
    /// cores · wall/3600 · price, when a price was given.
    pub cost: Option<f64>,
}

impl Capacity {
    /// The `--json` text: unrounded numbers, `null` cost without a price.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain numbers always serialise") + "\n"
    }
}

/// Why no plan exists.
#[derive(Clone, Debug, PartialEq)]
pub enum PlanError {
    /// Not even one task fits after the serial part: `smallest` is the deadline S + T.
    Impossible { smallest: Duration },
    /// Zero tasks or zero-length tasks: there is nothing to size cores for.
    NothingToRun,
}

/// Plans `request`; see the module notes for why the answer is exact.
pub fn plan(request: &Request) -> Result<Capacity, PlanError> {
    let task = request.task.as_nanos();
    if request.tasks == 0 || task == 0 {
        return Err(PlanError::NothingToRun);
    }
    let serial = request.serial.as_nanos();
    let deadline = request.deadline.as_nanos();
    let max_waves = deadline.saturating_sub(serial) / task;
    if serial + task > deadline || max_waves == 0 {
        return Err(PlanError::Impossible {
            smallest: request.serial.saturating_add(request.task),
        });
    }
    let tasks = u128::from(request.tasks);
    let cores = tasks.div_ceil(max_waves);
    let waves = tasks.div_ceil(cores);
    let wall_seconds = (serial + waves * task) as f64 / 1e9;
    let idle_core_seconds = (cores * waves - tasks) as f64 * request.task.as_secs_f64();
    // cores <= tasks and waves <= tasks, both of which are u64.
    let cores = cores as u64;
    Ok(Capacity {
        cores,
        waves: waves as u64,
        wall_seconds,
        idle_core_seconds,
        cost: request
            .price_per_core_hour
            .map(|price| cores as f64 * wall_seconds / 3600.0 * price),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(tasks: u64, task: f64, deadline: f64, serial: f64) -> Request {
        Request {
            tasks,
            task: Duration::from_secs_f64(task),
            serial: Duration::from_secs_f64(serial),
            deadline: Duration::from_secs_f64(deadline),
            price_per_core_hour: None,
        }
    }

    #[test]
    fn the_contract_example() {
        // 125 tasks of 70 s within 20 minutes: 17 waves fit, ceil(125/17) = 8 cores,
        // which need ceil(125/8) = 16 waves = 1,120 s; 8·16 − 125 = 3 idle slots.
        let plan = plan(&request(125, 70.0, 1200.0, 0.0)).unwrap();
        assert_eq!(
            plan,
            Capacity {
                cores: 8,
                waves: 16,
                wall_seconds: 1120.0,
                idle_core_seconds: 210.0,
                cost: None
            }
        );
        // Seven cores would need 18 waves = 1,260 s > 1,200 s.
        let json: serde_json::Value = serde_json::from_str(&plan.to_json()).unwrap();
        assert_eq!(json["cores"], 8);
        assert_eq!(json["wall_seconds"], 1120.0);
        assert_eq!(json["cost"], serde_json::Value::Null);
    }

    #[test]
    fn serial_time_price_and_exact_boundaries() {
        // 100 s serial leaves 1,100 s: 15 waves of 70 s, ceil(125/15) = 9 cores,
        // ceil(125/9) = 14 waves; wall 100 + 980 = 1,080 s; idle (126 − 125)·70.
        let mut r = request(125, 70.0, 1200.0, 100.0);
        r.price_per_core_hour = Some(0.5);
        let plan = plan(&r).unwrap();
        assert_eq!((plan.cores, plan.waves), (9, 14));
        assert_eq!(plan.wall_seconds, 1080.0);
        assert_eq!(plan.idle_core_seconds, 70.0);
        assert!((plan.cost.unwrap() - 9.0 * 1080.0 / 3600.0 * 0.5).abs() < 1e-12);
        // A deadline met exactly counts: 10 tasks of 0.1 s in 1 s is one core.
        let one = super::plan(&request(10, 0.1, 1.0, 0.0)).unwrap();
        assert_eq!((one.cores, one.waves), (1, 10));
        // Every task at once: 10 tasks of 60 s in 60 s need 10 cores and no idle time.
        let wide = super::plan(&request(10, 60.0, 60.0, 0.0)).unwrap();
        assert_eq!(
            (wide.cores, wide.waves, wide.idle_core_seconds),
            (10, 1, 0.0)
        );
    }

    #[test]
    fn impossible_deadlines_say_the_smallest_possible() {
        assert_eq!(
            plan(&request(5, 70.0, 60.0, 0.0)),
            Err(PlanError::Impossible {
                smallest: Duration::from_secs(70)
            })
        );
        assert_eq!(
            plan(&request(5, 70.0, 100.0, 40.0)),
            Err(PlanError::Impossible {
                smallest: Duration::from_secs(110)
            })
        );
        assert_eq!(
            plan(&request(0, 1.0, 10.0, 0.0)),
            Err(PlanError::NothingToRun)
        );
        assert_eq!(
            plan(&request(3, 0.0, 10.0, 0.0)),
            Err(PlanError::NothingToRun)
        );
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let plan = plan(&request(u64::MAX, 1.0, 1.0, 0.0)).unwrap();
        assert_eq!((plan.cores, plan.waves), (u64::MAX, 1));
    }
}

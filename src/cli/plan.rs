//! `taskloom plan`: the fewest cores that finish N indivisible tasks within a deadline
//! (the arithmetic is `taskloom_analysis::capacity`).

use std::time::Duration;

use taskloom_analysis::capacity::{self, Capacity, PlanError, Request};
use taskloom_analysis::human::{count, duration, number, seconds};

use super::duration::parse_duration;
use super::{CommandError, Outcome};

/// Arguments of `taskloom plan`.
#[derive(clap::Args)]
pub struct PlanArgs {
    /// Independent tasks to run.
    #[arg(long, value_name = "N", value_parser = parse_tasks)]
    tasks: u64,
    /// How long one task takes on one core (e.g. 70s, 1.5s, 2m).
    #[arg(long, value_name = "T", value_parser = positive_duration)]
    task_seconds: Duration,
    /// When all tasks must be done (e.g. 900s, 20m, 1h30m).
    #[arg(long, value_name = "D", value_parser = parse_duration)]
    deadline: Duration,
    /// Serial work before the tasks can start.
    #[arg(long, value_name = "S", value_parser = parse_duration, default_value = "0s")]
    serial_seconds: Duration,
    /// Price of one core for one hour, to print the cost.
    #[arg(long, value_name = "P", value_parser = parse_price)]
    price_per_core_hour: Option<f64>,
    /// Cores of one node of the cluster, to print the `taskloom submit` line
    /// [default: this machine's cores].
    #[arg(long, value_name = "C", value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    cores_per_node: Option<u64>,
    /// Print JSON with unrounded numbers.
    #[arg(long)]
    json: bool,
}

pub fn plan(args: PlanArgs) -> Outcome {
    let request = Request {
        tasks: args.tasks,
        task: args.task_seconds,
        serial: args.serial_seconds,
        deadline: args.deadline,
        price_per_core_hour: args.price_per_core_hour,
    };
    match capacity::plan(&request) {
        Ok(plan) if args.json => Ok(plan.to_json()),
        Ok(plan) => {
            let cores_per_node = args.cores_per_node.unwrap_or_else(|| {
                std::thread::available_parallelism().map_or(1, |n| n.get() as u64)
            });
            Ok(text(&request, &plan) + &submit_line(&plan, cores_per_node))
        }
        Err(PlanError::Impossible { smallest }) => {
            let deadline = request.deadline.as_secs_f64();
            let smallest = smallest.as_secs_f64();
            Err(CommandError::Usage(format!(
                "--deadline {} ({}) cannot be met: one task takes {} after {} of serial \
                 work; the smallest deadline that can be met is {} ({})",
                duration(deadline),
                seconds(deadline),
                seconds(request.task.as_secs_f64()),
                seconds(request.serial.as_secs_f64()),
                seconds(smallest),
                duration(smallest),
            )))
        }
        // Ruled out by the option parsers (--tasks >= 1, --task-seconds > 0).
        Err(PlanError::NothingToRun) => Err(CommandError::Usage(
            "--tasks and --task-seconds must be above zero".to_string(),
        )),
    }
}

/// The human report, rounded.
fn text(request: &Request, plan: &Capacity) -> String {
    let busy_last = request.tasks - (plan.waves - 1) * plan.cores;
    let mut out = format!(
        "cores              {}\n\
         waves              {} ({} tasks of {}, {} at a time; the last wave runs {})\n\
         wall time          {} ({}; deadline {})\n\
         idle core-seconds  {} (in the last wave)\n",
        count(plan.cores.into()),
        count(plan.waves.into()),
        count(request.tasks.into()),
        seconds(request.task.as_secs_f64()),
        count(plan.cores.into()),
        count(busy_last.into()),
        seconds(plan.wall_seconds),
        duration(plan.wall_seconds),
        duration(request.deadline.as_secs_f64()),
        number(plan.idle_core_seconds, 3)
            .trim_end_matches('0')
            .trim_end_matches('.'),
    );
    if let (Some(cost), Some(price)) = (plan.cost, request.price_per_core_hour) {
        out.push_str(&format!(
            "cost               {} ({} cores for {} h at {} per core-hour)\n",
            number(cost, 2),
            count(plan.cores.into()),
            number(plan.wall_seconds / 3600.0, 3),
            price
        ));
    }
    out
}

/// The `taskloom submit` line that gets the plan's cores for its wall time: one rank
/// per node, the cores spread evenly over the fewest nodes, and the time limit the
/// wall time plus the warning `submit` gives before the limit, so that a run on
/// schedule is never stopped.
fn submit_line(plan: &Capacity, cores_per_node: u64) -> String {
    let nodes = plan.cores.div_ceil(cores_per_node);
    let time = (plan.wall_seconds + super::submit::GRACE.as_secs_f64()).ceil();
    format!(
        "submit             taskloom submit --nodes {nodes} --cores-per-rank {} --time {} -- run FILE\n",
        plan.cores.div_ceil(nodes),
        duration(time),
    )
}

/// A task count: a whole number, at least one.
fn parse_tasks(text: &str) -> Result<u64, String> {
    match text.trim().parse::<u64>() {
        Ok(0) => Err("there must be at least one task".to_string()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("'{text}' is not a whole number of tasks")),
    }
}

/// A task length: a duration above zero (zero-length tasks need no cores).
fn positive_duration(text: &str) -> Result<Duration, String> {
    let d = parse_duration(text)?;
    if d.is_zero() {
        return Err("a task must take some time (above zero)".to_string());
    }
    Ok(d)
}

/// A price: a finite number, zero or more.
fn parse_price(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(p) if p.is_finite() && p >= 0.0 => Ok(p),
        _ => Err(format!("invalid price '{text}' (write e.g. 0.05)")),
    }
}

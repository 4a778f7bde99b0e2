//! `taskloom simulate`: runs the scheduler core on a simulated clock, once per policy
//! (`taskloom::sched::simulate`), and reports makespan against the lower bound, peak
//! memory and transfers. Nothing runs: durations come from the graph's `sleep`/`busy`
//! calls, so a policy can be judged on any number of workers in milliseconds.

use std::sync::Arc;

use taskloom::sched::{simulate as run_simulation, Machine, Outcome, Policy, Workload};
use taskloom::Runtime;
use taskloom_analysis::human::{count, counted, number};

use super::GraphFile;

/// Arguments of `taskloom simulate`.
#[derive(clap::Args)]
pub struct SimulateArgs {
    #[command(flatten)]
    graph: GraphFile,
    /// Simulated workers, each running one task at a time.
    #[arg(long, short = 'w', value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=65536))]
    workers: u32,
    /// A policy to simulate (repeatable), or `all` [default: all]: default (the
    /// threaded executor's), fifo, random, critical-path, depth-first.
    #[arg(long = "policy", value_name = "NAME", value_parser = parse_policy)]
    policies: Vec<PolicyChoice>,
    /// Seed of the `random` policy.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Duration of a task with no literal `sleep`/`busy` milliseconds.
    #[arg(long, value_name = "D", default_value_t = 1.0, value_parser = parse_ms)]
    duration_ms: f64,
    /// Cost of moving one input between workers.
    #[arg(long, value_name = "T", value_parser = parse_ms)]
    transfer_ms: Option<f64>,
    /// The driver's time per task it gives out (rank 0's scheduler cost per task, as
    /// `bench/sched/run.sh` measures it; e.g. 0.001 for 1 µs); reports wait while it
    /// decides [default: 0].
    #[arg(long, value_name = "T", value_parser = parse_ms)]
    decision_ms: Option<f64>,
    /// One-way latency of each message between the driver and a worker (e.g. 0.04 for
    /// 40 µs) [default: 0].
    #[arg(long, value_name = "T", value_parser = parse_ms)]
    latency_ms: Option<f64>,
    /// Units of memory a result of OP holds [default: 1 for every op] (repeatable).
    #[arg(long, value_name = "OP=UNITS", value_parser = parse_size_of)]
    size_of: Vec<(String, u64)>,
    /// Print JSON with unrounded numbers.
    #[arg(long)]
    json: bool,
}

/// A `--policy` value.
#[derive(Clone, Debug)]
enum PolicyChoice {
    One(String),
    All,
}

/// One policy's simulated run.
struct Row {
    policy: Policy,
    outcome: Outcome,
}

pub fn simulate(args: SimulateArgs) -> super::Outcome {
    let program = args.graph.load(&Runtime::new())?;
    let graph = program.graph();
    let targets = args.graph.targets(graph)?;
    let plan = program.plan(targets);
    let workload = Workload::new(graph, args.duration_ms, &args.size_of);
    let ns = |ms: Option<f64>| ms.map_or(0, |ms| (ms * 1e6).round() as u64);
    let machine = Machine {
        workers: args.workers as usize,
        transfer_ns: ns(args.transfer_ms),
        decision_ns: ns(args.decision_ms),
        latency_ns: ns(args.latency_ms),
    };
    let rows: Vec<Row> = policies(&args.policies, args.seed)
        .into_iter()
        .map(|policy| {
            let ordered = Arc::new(plan.with_order(policy.order(&plan, &workload)));
            let outcome = run_simulation(ordered, &workload, machine);
            Row { policy, outcome }
        })
        .collect();
    let show_transfers = machine.workers > 1 && args.transfer_ms.is_some();
    Ok(if args.json {
        json(plan.len(), machine, &rows)
    } else {
        text(&args, plan.len(), machine, &rows, show_transfers)
    })
}

/// The policies asked for, each once, in the order first named (all when none).
fn policies(choices: &[PolicyChoice], seed: u64) -> Vec<Policy> {
    let mut names: Vec<&str> = Vec::new();
    for choice in choices {
        match choice {
            PolicyChoice::All => names.extend(Policy::NAMES),
            PolicyChoice::One(name) => names.push(name),
        }
    }
    if names.is_empty() {
        names.extend(Policy::NAMES);
    }
    let mut out: Vec<Policy> = Vec::new();
    for name in names {
        // Names were checked when parsed.
        if let Some(p) = Policy::parse(name, seed).filter(|p| !out.contains(p)) {
            out.push(p);
        }
    }
    out
}

fn ms(ns: u64) -> f64 {
    ns as f64 / 1e6
}

/// The human report: one line of bounds, then a row per policy.
fn text(
    args: &SimulateArgs,
    tasks: usize,
    machine: Machine,
    rows: &[Row],
    show_transfers: bool,
) -> String {
    let Some(first) = rows.first() else {
        return String::new();
    };
    let workers = machine.workers;
    let o = &first.outcome;
    let mut out = format!(
        "{}: {} on {}; lower bound {} ms = max(critical path {} ms, work {} ms / {})",
        args.graph.name().display(),
        counted(tasks as u128, "task"),
        counted(workers as u128, "worker"),
        number(ms(o.lower_bound_ns(workers)), 1),
        number(ms(o.critical_path_ns), 1),
        number(ms(o.work_ns), 1),
        workers,
    );
    if machine.decision_ns > 0 || machine.latency_ns > 0 {
        out.push_str(&format!(
            "; driver {} ms per task, latency {} ms",
            ms(machine.decision_ns),
            ms(machine.latency_ns)
        ));
    }
    out.push('\n');
    out.push_str(&format!(
        "{:<14} {:>14} {:>7} {:>12}",
        "policy", "makespan", "ratio", "peak memory"
    ));
    if show_transfers {
        out.push_str(&format!(" {:>10}", "transfers"));
    }
    out.push('\n');
    for row in rows {
        let o = &row.outcome;
        out.push_str(&format!(
            "{:<14} {:>14} {:>7} {:>12}",
            row.policy.name(),
            format!("{} ms", number(ms(o.makespan_ns), 1)),
            number(o.ratio(workers), 3),
            count(o.peak_memory.into()),
        ));
        if show_transfers {
            out.push_str(&format!(" {:>10}", count(o.transfers.into())));
        }
        out.push('\n');
    }
    out
}

/// The machine report: bounds once, then per policy, unrounded.
fn json(tasks: usize, machine: Machine, rows: &[Row]) -> String {
    let workers = machine.workers;
    let policies: Vec<String> = rows
        .iter()
        .map(|row| {
            let o = &row.outcome;
            format!(
                "{{\"policy\":\"{}\",\"makespan_ms\":{},\"ratio\":{},\"peak_memory\":{},\
                 \"transfers\":{},\"completed\":{}}}",
                row.policy.name(),
                ms(o.makespan_ns),
                o.ratio(workers),
                o.peak_memory,
                o.transfers,
                o.completed(),
            )
        })
        .collect();
    let (critical, work, bound) = rows.first().map_or((0, 0, 0), |r| {
        let o = &r.outcome;
        (o.critical_path_ns, o.work_ns, o.lower_bound_ns(workers))
    });
    format!(
        "{{\"tasks\":{tasks},\"workers\":{workers},\"transfer_ms\":{},\
         \"decision_ms\":{},\"latency_ms\":{},\"critical_path_ms\":{},\"work_ms\":{},\
         \"lower_bound_ms\":{},\"policies\":[{}]}}\n",
        ms(machine.transfer_ns),
        ms(machine.decision_ns),
        ms(machine.latency_ns),
        ms(critical),
        ms(work),
        ms(bound),
        policies.join(",")
    )
}

/// Parses `--policy`: a known name or `all`.
fn parse_policy(text: &str) -> Result<PolicyChoice, String> {
    if text == "all" {
        return Ok(PolicyChoice::All);
    }
    match Policy::parse(text, 0) {
        Some(_) => Ok(PolicyChoice::One(text.to_string())),
        None => Err(format!(
            "unknown policy '{text}' (one of {}, all)",
            Policy::NAMES.join(", ")
        )),
    }
}

/// Parses a number of milliseconds: finite, zero or more.
fn parse_ms(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(ms) if ms.is_finite() && (0.0..1e12).contains(&ms) => Ok(ms),
        _ => Err(format!(
            "'{text}' is not a number of milliseconds (write e.g. 1 or 0.5)"
        )),
    }
}

/// Parses `--size-of OP=UNITS`.
fn parse_size_of(text: &str) -> Result<(String, u64), String> {
    let Some((op, units)) = text.split_once('=') else {
        return Err(format!("'{text}' is not OP=UNITS (write e.g. matmul=16)"));
    };
    let op = op.trim();
    if op.is_empty() {
        return Err(format!("'{text}' names no op (write e.g. matmul=16)"));
    }
    match units.trim().parse::<u64>() {
        Ok(units) => Ok((op.to_string(), units)),
        Err(_) => Err(format!("'{units}' is not a whole number of units")),
    }
}

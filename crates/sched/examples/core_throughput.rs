//! The scheduler core's own throughput: how many task decisions per second one driver
//! (rank 0 of an MPI run, the process executor's parent) can make, with no I/O at all.
//!
//! - A simulated pool of workers answers every `Run` with `Finished` and every
//!   `Transfer` with `Arrived`, in the order the core decided them (a FIFO of events):
//!   each event is handled as a driver would, one `Scheduler::handle` call each.
//! - The time measured is the core's: `Scheduler::new` (ready tasks queued) and the
//!   event loop. Parsing, culling and ordering the graph (`Plan::new`) are not counted:
//!   they are loading, which the run benchmarks measure.
//! - Shapes: `tree`, the fan-in-32 `sum` tree of bench/gen_graphs.py; `map`, pairs
//!   `a = inc(i)`, `b = inc(a)` whose every `b` is requested, as `taskloom map` runs items
//!   (each `b` follows its `a` to the same worker by pipelining).
//!
//! Usage: `cargo run --release -p taskloom-sched --example core_throughput --
//! [--tasks N] [--workers 10,100,1000,10000] [--shapes tree,map] [--slots S]
//! [--repeat R] [--json]`. It prints a table, or one JSON line per run with `--json`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use taskloom_graph::{parse, validate, Registry};
use taskloom_sched::{Decision, Event, Plan, Scheduler, Status};

/// The fan-in of the `sum` tree, as in bench/gen_graphs.py.
const FAN_IN: usize = 32;
/// The bytes every simulated result reports: locality then weighs inputs equally.
const RESULT_BYTES: u64 = 8;

struct Options {
    tasks: usize,
    workers: Vec<usize>,
    shapes: Vec<String>,
    slots: usize,
    repeat: usize,
    json: bool,
}

/// What one run of the core decided, and how long it took.
#[derive(Default)]
struct Counts {
    runs: u64,
    transfers: u64,
    releases: u64,
    events: u64,
    seconds: f64,
}

fn main() -> ExitCode {
    let options = match parse_options(std::env::args().skip(1)) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("core_throughput: {e}");
            return ExitCode::from(2);
        }
    };
    for shape in &options.shapes {
        let started = Instant::now();
        let plan = Arc::new(build(shape, options.tasks));
        let load = started.elapsed().as_secs_f64();
        if !options.json {
            println!(
                "{shape}: {} tasks (graph built, culled and ordered in {load:.2} s, not counted)",
                plan.len()
            );
            println!(
                "{:>8} {:>10} {:>10} {:>10} {:>10} {:>14} {:>16}",
                "workers", "runs", "transfers", "releases", "core s", "runs/s", "decisions/s"
            );
        }
        for &workers in &options.workers {
            for rep in 0..options.repeat {
                let c = drive(&plan, workers, options.slots);
                let decisions = c.runs + c.transfers + c.releases;
                if options.json {
                    println!(
                        "{{\"shape\":\"{shape}\",\"tasks\":{},\"workers\":{workers},\
                         \"slots\":{},\"rep\":{rep},\"runs\":{},\"transfers\":{},\
                         \"releases\":{},\"events\":{},\"seconds\":{}}}",
                        plan.len(),
                        options.slots,
                        c.runs,
                        c.transfers,
                        c.releases,
                        c.events,
                        c.seconds
                    );
                } else {
                    println!(
                        "{workers:>8} {:>10} {:>10} {:>10} {:>10.3} {:>14.0} {:>16.0}",
                        c.runs,
                        c.transfers,
                        c.releases,
                        c.seconds,
                        c.runs as f64 / c.seconds,
                        decisions as f64 / c.seconds
                    );
                }
            }
        }
    }
    ExitCode::SUCCESS
}

/// Runs `plan` to the end on `workers` simulated workers with `slots` tasks each.
///
/// # Panics
/// If the core does not finish the run with every task run once (a bug in the core).
fn drive(plan: &Arc<Plan>, workers: usize, slots: usize) -> Counts {
    let mut counts = Counts::default();
    let mut events = VecDeque::new();
    let mut decisions = Vec::new();
    let started = Instant::now();
    let mut core = Scheduler::new(Arc::clone(plan), slots, 0);
    for _ in 0..workers {
        core.add_worker();
    }
    core.assign(&mut decisions);
    loop {
        for decision in decisions.drain(..) {
            match decision {
                Decision::Run { key, worker } => {
                    counts.runs += 1;
                    events.push_back(Event::Finished {
                        key,
                        worker,
                        bytes: RESULT_BYTES,
                    });
                }
                Decision::Transfer { key, to, .. } => {
                    counts.transfers += 1;
                    events.push_back(Event::Arrived { key, worker: to });
                }
                Decision::Release { .. } => counts.releases += 1,
                Decision::Cancel { .. } => panic!("a run without failures cancelled a task"),
            }
        }
        let Some(event) = events.pop_front() else {
            break;
        };
        counts.events += 1;
        core.handle(event, &mut decisions);
    }
    counts.seconds = started.elapsed().as_secs_f64();
    assert_eq!(core.status(), Status::Finished, "the run did not finish");
    assert_eq!(counts.runs, plan.len() as u64, "a task ran twice or never");
    counts
}

/// The plan of `shape` with about `tasks` tasks, every output requested.
fn build(shape: &str, tasks: usize) -> Plan {
    let mut src = String::with_capacity(tasks * 24);
    match shape {
        "tree" => {
            // Leaves so that leaves plus sums make about `tasks`: a sum per 31 leaves.
            let leaves = (tasks * (FAN_IN - 1) / FAN_IN).max(1);
            let mut level: Vec<String> = (0..leaves).map(|j| format!("i{j}")).collect();
            for (j, name) in level.iter().enumerate() {
                writeln!(src, "{name} = inc({j})").unwrap();
            }
            let mut depth = 0;
            while level.len() > 1 {
                depth += 1;
                let next: Vec<String> = (0..level.len().div_ceil(FAN_IN))
                    .map(|j| format!("s{depth}_{j}"))
                    .collect();
                for (name, group) in next.iter().zip(level.chunks(FAN_IN)) {
                    writeln!(src, "{name} = sum([{}])", group.join(", ")).unwrap();
                }
                level = next;
            }
        }
        "map" => {
            for j in 0..(tasks / 2).max(1) {
                writeln!(src, "a{j} = inc({j})\nb{j} = inc(a{j})").unwrap();
            }
        }
        _ => unreachable!("shapes are checked when parsed"),
    }
    let graph = parse(&src).expect("the generated graph parses");
    let ops = validate(&graph, &Registry::builtins()).expect("the generated graph is valid");
    let targets = graph.outputs();
    Plan::new(Arc::new(graph), ops, targets)
}

fn parse_options(mut args: impl Iterator<Item = String>) -> Result<Options, String> {
    let mut o = Options {
        tasks: 1_000_000,
        workers: vec![10, 100, 1_000, 10_000],
        shapes: vec!["tree".into(), "map".into()],
        slots: 2,
        repeat: 1,
        json: false,
    };
    let number = |flag: &str, text: Option<String>| -> Result<usize, String> {
        let text = text.ok_or(format!("{flag} needs a value"))?;
        match text.parse::<usize>() {
            Ok(n) if n > 0 => Ok(n),
            _ => Err(format!("{flag}: '{text}' is not a positive whole number")),
        }
    };
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--tasks" => o.tasks = number("--tasks", args.next())?,
            "--slots" => o.slots = number("--slots", args.next())?,
            "--repeat" => o.repeat = number("--repeat", args.next())?,
            "--json" => o.json = true,
            "--workers" => {
                let list = args.next().ok_or("--workers needs a value")?;
                o.workers = list
                    .split(',')
                    .map(|w| number("--workers", Some(w.to_string())))
                    .collect::<Result<_, _>>()?;
            }
            "--shapes" => {
                let list = args.next().ok_or("--shapes needs a value")?;
                o.shapes = list.split(',').map(str::to_string).collect();
                if let Some(bad) = o
                    .shapes
                    .iter()
                    .find(|s| !matches!(s.as_str(), "tree" | "map"))
                {
                    return Err(format!("--shapes: unknown shape '{bad}' (tree, map)"));
                }
            }
            _ => {
                return Err(format!(
                    "unknown argument '{arg}' (--tasks N, --workers LIST, --shapes LIST, \
                     --slots S, --repeat R, --json)"
                ))
            }
        }
    }
    Ok(o)
}

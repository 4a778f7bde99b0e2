//! Times each step of loading a graph file, for bench/load: read, parse (with the
//! edges `finish` computes), validate, cull, order.
//!
//! - Usage: `load_phases FILE KEY [REPEAT] [PIECES]`; prints one JSON object per line,
//!   the median seconds of each step over REPEAT runs (default 5), the CPU seconds of
//!   parsing (every thread's), and the task counts. With PIECES, the source is parsed
//!   in at most that many pieces at once (1: one parser), else as `taskloom` parses it.
//! - Peak RSS is the process's, loading included (the system allocator, not the
//!   binary's mimalloc).
//! - Reading copies the file from the page cache into memory (`std::fs::read`):
//!   the first part of the bound every loader pays, whatever it parses with.

use std::time::Instant;

use taskloom_graph::{cull, parse_bytes, parse_bytes_in_parts, priority_order, validate, Registry};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 3 {
        eprintln!("usage: load_phases FILE KEY [REPEAT] [PIECES]");
        std::process::exit(2);
    }
    let repeat: usize = args.get(3).map_or(5, |r| r.parse().expect("REPEAT"));
    let pieces: Option<usize> = args.get(4).map(|p| p.parse().expect("PIECES"));
    let registry = Registry::builtins();
    let mut times: [Vec<f64>; 5] = Default::default();
    let mut parse_cpu = Vec::new();
    let mut tasks = (0, 0);
    for _ in 0..repeat {
        let mut lap = Lap(Instant::now());
        let bytes = std::fs::read(&args[1]).expect("read the file");
        times[0].push(lap.next());
        let cpu = cpu_seconds();
        let graph = match pieces {
            Some(pieces) => parse_bytes_in_parts(&bytes, pieces),
            None => parse_bytes(&bytes),
        }
        .expect("a valid graph");
        times[1].push(lap.next());
        parse_cpu.push(cpu_seconds() - cpu);
        validate(&graph, &registry).expect("a valid graph");
        times[2].push(lap.next());
        let targets = [graph.key(&args[2]).expect("the key")];
        let culled = cull(&graph, &targets);
        times[3].push(lap.next());
        let order = priority_order(&graph, &targets, &culled);
        times[4].push(lap.next());
        tasks = (graph.len(), order.len());
    }
    let names = ["read", "parse", "validate", "cull", "order"];
    let fields: Vec<String> = names
        .iter()
        .zip(&mut times)
        .map(|(name, t)| format!("\"{name}\": {:.6}", median(t)))
        .collect();
    println!(
        "{{{}, \"parse_cpu\": {:.6}, \"keys\": {}, \"tasks\": {}, \"peak_rss\": {}}}",
        fields.join(", "),
        median(&mut parse_cpu),
        tasks.0,
        tasks.1,
        peak_rss()
    );
}

/// The process's peak resident memory so far, in bytes.
fn peak_rss() -> u64 {
    usage().ru_maxrss as u64 * 1024
}

/// The CPU time every thread of the process has used so far (user and system).
fn cpu_seconds() -> f64 {
    let usage = usage();
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 * 1e-6;
    seconds(usage.ru_utime) + seconds(usage.ru_stime)
}

fn usage() -> libc::rusage {
    // SAFETY: getrusage writes the struct it is given, which is valid for writing.
    unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    }
}

/// Seconds since the last lap.
struct Lap(Instant);

impl Lap {
    fn next(&mut self) -> f64 {
        let now = Instant::now();
        let seconds = (now - self.0).as_secs_f64();
        self.0 = now;
        seconds
    }
}

fn median(t: &mut [f64]) -> f64 {
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

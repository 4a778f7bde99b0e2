//! Where the time went in one run: the tasks' spans as a Chrome trace (for Perfetto or
//! chrome://tracing) and as a self-contained HTML profile (a lane per worker, a bar per
//! task, a summary and the slowest tasks). The profile is SVG with `<title>` tooltips,
//! no script and no network, so it opens anywhere; beyond `MAX_BARS` tasks each lane is
//! drawn as occupancy per time bucket, so a million-task run still gives a small page.

use std::fmt::Write;

use serde_json::json;
use taskloom_exec::Span;
use taskloom_graph::Graph;

use crate::dag_svg::escape;

/// Seconds from nanoseconds.
fn s(ns: u64) -> f64 {
    ns as f64 * 1e-9
}

fn seconds(span: &Span) -> f64 {
    s(span.end_ns.saturating_sub(span.start_ns))
}

/// The Chrome trace event format: one complete ("X") event per task, times in µs.
pub fn chrome_trace(graph: &Graph, spans: &[Span]) -> String {
    let events: Vec<serde_json::Value> = spans
        .iter()
        .map(|t| {
            json!({
                "name": graph.name(t.key), "cat": graph.label(t.key), "ph": "X", "pid": 1,
                "tid": t.worker, "ts": s(t.start_ns) * 1e6, "dur": seconds(t) * 1e6,
            })
        })
        .collect();
    json!({"traceEvents": events, "displayTimeUnit": "ms"}).to_string()
}

/// The numbers of a profile's summary.
#[derive(Clone, Debug, PartialEq)]
pub struct Summary {
    pub tasks: usize,
    pub wall_seconds: f64,
    pub task_seconds: f64,
    /// Busy time / wall time, per worker.
    pub utilisation: Vec<f64>,
    /// Summed task seconds / wall seconds.
    pub speedup: f64,
}

/// Sums up `spans` run by `workers` workers in `wall_seconds`.
pub fn summarise(spans: &[Span], workers: usize, wall_seconds: f64) -> Summary {
    let mut busy = vec![0.0; workers.max(1)];
    for t in spans {
        if let Some(b) = busy.get_mut(t.worker as usize) {
            *b += seconds(t);
        }
    }
    let task_seconds: f64 = busy.iter().sum();
    let wall = wall_seconds.max(f64::MIN_POSITIVE);
    Summary {
        tasks: spans.len(),
        wall_seconds,
        task_seconds,
        utilisation: busy.iter().map(|b| b / wall).collect(),
        speedup: task_seconds / wall,
    }
}

/// Tasks drawn one bar each up to this many; beyond, lanes show occupancy.
pub const MAX_BARS: usize = 5_000;
const BUCKETS: usize = 600;
const SLOWEST: usize = 20;

/// The HTML profile of a run of `graph` titled `title`; `notes` are rows the run adds
/// to the summary, of what spans do not show (bytes written out past a memory limit).
pub fn profile_html(
    title: &str,
    graph: &Graph,
    spans: &[Span],
    workers: usize,
    wall_seconds: f64,
    notes: &[(&str, String)],
) -> String {
    let summary = summarise(spans, workers, wall_seconds);
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>taskloom profile: {t}</title>\n\
         <style>body{{font:14px sans-serif;margin:24px;color:#222}}table{{border-collapse:collapse}}\
         td,th{{padding:2px 10px;text-align:right;border-bottom:1px solid #ddd}}th{{background:#f4f4f4}}\
         td:first-child,th:first-child{{text-align:left}}svg{{border:1px solid #ccc;background:#fff}}</style>\n\
         </head><body>\n<h1>taskloom profile: {t}</h1>\n",
        t = escape(title)
    );
    write_summary(&mut html, &summary, notes);
    write_timeline(
        &mut html,
        graph,
        spans,
        summary.utilisation.len(),
        wall_seconds,
    );
    write_slowest(&mut html, graph, spans);
    html.push_str("</body></html>\n");
    html
}

fn write_summary(html: &mut String, s: &Summary, notes: &[(&str, String)]) {
    let _ = write!(
        html,
        "<h2>Summary</h2>\n<table id=\"summary\">\
         <tr><th>tasks</th><td>{}</td></tr>\
         <tr><th>wall seconds</th><td>{:.3}</td></tr>\
         <tr><th>summed task seconds</th><td>{:.3}</td></tr>\
         <tr><th>achieved speed-up (task seconds / wall)</th><td>{:.2}</td></tr>",
        s.tasks, s.wall_seconds, s.task_seconds, s.speedup
    );
    for (w, u) in s.utilisation.iter().enumerate() {
        let _ = write!(
            html,
            "<tr><th>worker {w} utilisation</th><td>{:.0}%</td></tr>",
            u * 100.0
        );
    }
    for (name, value) in notes {
        let _ = write!(
            html,
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(value)
        );
    }
    html.push_str("</table>\n");
}

fn write_timeline(
    html: &mut String,
    graph: &Graph,
    tasks: &[Span],
    workers: usize,
    wall_seconds: f64,
) {
    const WIDTH: f64 = 1000.0;
    const LANE: f64 = 28.0;
    const LEFT: f64 = 90.0;
    let span = tasks
        .iter()
        .map(|t| s(t.end_ns))
        .fold(wall_seconds, f64::max)
        .max(1e-9);
    let x = |s: f64| LEFT + s / span * WIDTH;
    let height = workers as f64 * LANE + 30.0;
    let _ = write!(
        html,
        "<h2>Timeline</h2>\n<p>{}</p>\n<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" \
         width=\"{w}\" height=\"{height}\" viewBox=\"0 0 {w} {height}\">\n",
        if tasks.len() > MAX_BARS {
            format!(
                "{} tasks: each lane shows how busy its worker was over time (hover for counts).",
                tasks.len()
            )
        } else {
            "One bar per task; hover for key, op, start and duration.".to_string()
        },
        w = LEFT + WIDTH + 10.0,
    );
    for w in 0..workers {
        let y = w as f64 * LANE + 4.0;
        let _ = writeln!(
            html,
            "<g class=\"lane\" data-worker=\"{w}\"><text x=\"4\" y=\"{:.1}\">worker {w}</text>\
             <rect x=\"{LEFT}\" y=\"{y:.1}\" width=\"{WIDTH}\" height=\"{:.1}\" fill=\"#f6f6f6\"/></g>",
            y + LANE * 0.6,
            LANE - 6.0
        );
    }
    if tasks.len() <= MAX_BARS {
        for t in tasks {
            let y = t.worker as f64 * LANE + 4.0;
            let width = (x(s(t.end_ns)) - x(s(t.start_ns))).max(0.5);
            let _ = writeln!(
                html,
                "<rect class=\"task\" x=\"{:.2}\" y=\"{y:.1}\" width=\"{width:.2}\" height=\"{:.1}\" fill=\"{}\" \
                 stroke=\"#fff\" stroke-width=\"0.75\">\
                 <title>{} ({}) start {:.6} s, {:.6} s</title></rect>",
                x(s(t.start_ns)),
                LANE - 6.0,
                colour(graph.label(t.key)),
                escape(graph.name(t.key)),
                escape(graph.label(t.key)),
                s(t.start_ns),
                seconds(t)
            );
        }
    } else {
        write_occupancy(html, tasks, workers, span, x, LANE);
    }
    let _ = writeln!(
        html,
        "<text x=\"{LEFT}\" y=\"{:.1}\">0 s</text><text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{span:.3} s</text>\n</svg>",
        height - 6.0,
        LEFT + WIDTH,
        height - 6.0
    );
}

/// Per lane and time bucket, the fraction of the bucket its worker was busy.
fn write_occupancy(
    html: &mut String,
    tasks: &[Span],
    workers: usize,
    span: f64,
    x: impl Fn(f64) -> f64,
    lane: f64,
) {
    let bucket = span / BUCKETS as f64;
    let mut busy = vec![vec![0.0f64; BUCKETS]; workers];
    let mut count = vec![vec![0usize; BUCKETS]; workers];
    for t in tasks {
        let Some(row) = busy.get_mut(t.worker as usize) else {
            continue;
        };
        let (start, end) = (s(t.start_ns), s(t.end_ns));
        let first = ((start / bucket) as usize).min(BUCKETS - 1);
        let last = ((end / bucket) as usize).min(BUCKETS - 1);
        count[t.worker as usize][first] += 1;
        for (b, cell) in row.iter_mut().enumerate().take(last + 1).skip(first) {
            let lo = (b as f64 * bucket).max(start);
            let hi = ((b + 1) as f64 * bucket).min(end);
            *cell += (hi - lo).max(0.0);
        }
    }
    for (w, row) in busy.iter().enumerate() {
        let y = w as f64 * lane + 4.0;
        for (b, &seconds) in row.iter().enumerate() {
            let fraction = (seconds / bucket).min(1.0);
            if fraction <= 0.0 {
                continue;
            }
            let _ = writeln!(
                html,
                "<rect class=\"busy\" x=\"{:.2}\" y=\"{y:.1}\" width=\"{:.2}\" height=\"{:.1}\" fill=\"#3b7dd8\" \
                 fill-opacity=\"{fraction:.2}\"><title>{} tasks started, {:.0}% busy</title></rect>",
                x(b as f64 * bucket),
                (x((b + 1) as f64 * bucket) - x(b as f64 * bucket)).max(0.5),
                lane - 6.0,
                count[w][b],
                fraction * 100.0
            );
        }
    }
}

/// The `n` longest spans, longest first (ties: the earlier in `tasks`). One pass with
/// a small heap: a million-task profile needs no sorted copy of its spans.
fn slowest(tasks: &[Span], n: usize) -> Vec<&Span> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let mut heap = BinaryHeap::with_capacity(n + 1);
    for (i, t) in tasks.iter().enumerate() {
        let entry = Reverse((t.end_ns.saturating_sub(t.start_ns), Reverse(i)));
        // The heap's top is the shortest kept (then the latest): the one to drop, and
        // what most spans of a large run are no longer than.
        if heap.len() == n && heap.peek().is_none_or(|top| entry >= *top) {
            continue;
        }
        heap.push(entry);
        if heap.len() > n {
            heap.pop();
        }
    }
    let mut kept: Vec<_> = heap.into_iter().map(|Reverse(k)| k).collect();
    kept.sort_unstable_by(|a, b| b.cmp(a));
    kept.into_iter().map(|(_, Reverse(i))| &tasks[i]).collect()
}

fn write_slowest(html: &mut String, graph: &Graph, tasks: &[Span]) {
    let order = slowest(tasks, SLOWEST);
    html.push_str("<h2>Slowest tasks</h2>\n<table id=\"slowest\"><tr><th>key</th><th>op</th><th>worker</th><th>start s</th><th>seconds</th></tr>\n");
    for t in order {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{:.6}</td><td>{:.6}</td></tr>",
            escape(graph.name(t.key)),
            escape(graph.label(t.key)),
            t.worker,
            s(t.start_ns),
            seconds(t)
        );
    }
    html.push_str("</table>\n");
}

/// A stable colour per op, so that the same op looks the same across lanes.
fn colour(op: &str) -> String {
    let hash = op
        .bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619));
    format!("hsl({}, 55%, 55%)", hash % 360)
}

#[cfg(test)]
mod tests {
    use super::*;
    use taskloom_graph::{parse, KeyId};

    /// `a<1>` (to check escaping), then `t0`, `t1`, ... (JSON: any string is a key).
    fn graph(keys: usize) -> Graph {
        let tasks: String = (0..keys)
            .map(|i| format!(", \"t{i}\": {{\"op\": \"busy\", \"args\": [1, {i}]}}"))
            .collect();
        parse(&format!(
            "{{\"a<1>\": {{\"op\": \"inc\", \"args\": [1]}}{tasks}}}"
        ))
        .unwrap()
    }

    fn span(key: u32, worker: u32, start_s: f64, end_s: f64) -> Span {
        Span {
            key: KeyId(key),
            worker,
            start_ns: (start_s * 1e9) as u64,
            end_ns: (end_s * 1e9) as u64,
        }
    }

    #[test]
    fn the_summary_adds_up() {
        let spans = [
            span(0, 0, 0.0, 1.0),
            span(1, 1, 0.0, 0.5),
            span(2, 1, 0.5, 1.0),
        ];
        let s = summarise(&spans, 2, 1.0);
        assert_eq!(s.tasks, 3);
        assert!((s.task_seconds - 2.0).abs() < 1e-9);
        assert!((s.speedup - 2.0).abs() < 1e-9);
        assert_eq!(s.utilisation, vec![1.0, 1.0]);
    }

    #[test]
    fn a_small_run_draws_one_bar_per_task_in_its_lane() {
        let g = graph(1);
        let html = profile_html(
            "g.tl",
            &g,
            &[span(0, 0, 0.0, 0.2), span(1, 1, 0.1, 0.3)],
            2,
            0.3,
            &[("bytes spilled", "1 KiB".to_string())],
        );
        assert_eq!(html.matches("class=\"task\"").count(), 2);
        assert_eq!(html.matches("class=\"lane\"").count(), 2);
        assert!(html.contains("a&lt;1&gt; (inc)"), "keys are escaped");
        assert!(!html.contains("<script"), "self-contained, no script");
        assert!(html.contains("<tr><th>bytes spilled</th><td>1 KiB</td></tr>"));
    }

    #[test]
    fn the_slowest_are_the_longest_first_earliest_on_ties() {
        let lengths = [3.0, 1.0, 5.0, 3.0, 0.5, 5.0, 2.0];
        let spans: Vec<Span> = lengths
            .iter()
            .enumerate()
            .map(|(i, &len)| span(i as u32, 0, 10.0, 10.0 + len))
            .collect();
        let keys = |n| -> Vec<u32> { slowest(&spans, n).iter().map(|t| t.key.0).collect() };
        assert_eq!(keys(4), [2, 5, 0, 3]);
        assert_eq!(keys(20), [2, 5, 0, 3, 6, 1, 4]);
        assert!(keys(0).is_empty());
    }

    #[test]
    fn a_huge_run_draws_occupancy_not_bars() {
        let g = graph(20_000);
        let spans: Vec<Span> = (0..20_000u32)
            .map(|i| span(i + 1, i % 2, i as f64 * 1e-4, (i + 1) as f64 * 1e-4))
            .collect();
        let html = profile_html("big", &g, &spans, 2, 2.0, &[]);
        assert_eq!(html.matches("class=\"task\"").count(), 0);
        assert!(html.matches("class=\"busy\"").count() <= 2 * BUCKETS);
        assert!(html.len() < 400_000, "{} bytes", html.len());
    }

    #[test]
    fn the_chrome_trace_has_one_complete_event_per_task() {
        let g = graph(1);
        let trace: serde_json::Value =
            serde_json::from_str(&chrome_trace(&g, &[span(1, 1, 0.5, 0.75)])).unwrap();
        let e = &trace["traceEvents"][0];
        assert_eq!((e["ph"].as_str(), e["tid"].as_u64()), (Some("X"), Some(1)));
        assert_eq!(
            (e["name"].as_str(), e["cat"].as_str()),
            (Some("t0"), Some("busy"))
        );
        assert_eq!(
            (e["ts"].as_f64(), e["dur"].as_f64()),
            (Some(500_000.0), Some(250_000.0))
        );
    }
}

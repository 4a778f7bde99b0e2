//! Recording when and where each task ran: the raw material of timelines (`--trace`,
//! `--profile`). Only when asked for: workers keep their spans to themselves and hand
//! them over when they stop, so a traced run takes no lock per task either.

use std::sync::{Arc, Mutex};

use taskloom_graph::KeyId;

/// One task's run: on which worker, from when to when (nanoseconds since the trace
/// began).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    pub key: KeyId,
    pub worker: u32,
    pub start_ns: u64,
    pub end_ns: u64,
}

/// The spans of one run, shared between its executor and whoever draws them.
#[derive(Clone, Debug)]
pub struct Trace(Arc<Inner>);

#[derive(Debug)]
struct Inner {
    /// `monotonic_ns` when the trace began.
    epoch: u64,
    spans: Mutex<Vec<Span>>,
    /// What in-process workers recorded, still in their compact form.
    marks: Mutex<Vec<WorkerMarks>>,
}

/// One worker's record of its run, compact (16 bytes a task rather than a `Span`'s 24,
/// and one clock read a task): a task that follows another at once on its worker
/// starts when that one ended, so only its end is kept. `GAP` marks say when a worker
/// started again after waiting for work.
#[derive(Debug)]
struct WorkerMarks {
    worker: u32,
    tasks: usize,
    marks: Vec<Mark>,
}

#[derive(Clone, Copy, Debug)]
struct Mark {
    /// The task that ended at `ns`, or `GAP`: the next task started at `ns`.
    key: KeyId,
    ns: u64,
}

/// Not a key (graphs have fewer than 2^32 - 1 keys).
const GAP: KeyId = KeyId(u32::MAX);

impl WorkerMarks {
    /// Appends this worker's spans, in the order it ran them, to `out`.
    fn expand_into(&self, out: &mut Vec<Span>) {
        let mut start_ns = 0;
        for mark in &self.marks {
            if mark.key != GAP {
                out.push(Span {
                    key: mark.key,
                    worker: self.worker,
                    start_ns,
                    end_ns: mark.ns,
                });
            }
            start_ns = mark.ns;
        }
    }
}

/// The machine's monotonic clock in nanoseconds: the same clock in every process, so
/// worker processes can report when their tasks ran.
pub fn monotonic_ns() -> u64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid timespec to write to; CLOCK_MONOTONIC always exists.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

impl Trace {
    /// An empty trace whose clock starts now.
    pub fn new() -> Self {
        Trace(Arc::new(Inner {
            epoch: monotonic_ns(),
            spans: Mutex::new(Vec::new()),
            marks: Mutex::new(Vec::new()),
        }))
    }

    /// Nanoseconds since the trace began.
    #[inline]
    pub fn now(&self) -> u64 {
        self.since(monotonic_ns())
    }

    /// A `monotonic_ns` time as nanoseconds since the trace began.
    #[inline]
    pub fn since(&self, monotonic: u64) -> u64 {
        monotonic.saturating_sub(self.0.epoch)
    }

    /// The spans recorded so far (moved out: the trace is empty afterwards), each
    /// worker's in the order it ran them.
    pub fn take_spans(&self) -> Vec<Span> {
        let mut spans = std::mem::take(&mut *lock(&self.0.spans));
        let marks = std::mem::take(&mut *lock(&self.0.marks));
        // One allocation of the final size: a million spans are written once.
        spans.reserve_exact(marks.iter().map(|m| m.tasks).sum());
        for worker in &marks {
            worker.expand_into(&mut spans);
        }
        spans
    }

    pub(crate) fn extend(&self, spans: &mut Vec<Span>) {
        lock(&self.0.spans).append(spans);
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|e| e.into_inner())
}

/// A worker's spans, handed to the trace when the worker stops.
pub(crate) struct LocalSpans<'a> {
    trace: Option<&'a Trace>,
    record: WorkerMarks,
    /// When the last task ended, if the worker went straight on to another.
    chained: Option<u64>,
}

impl<'a> LocalSpans<'a> {
    /// Spans for `worker`, with room for `expected` of them.
    pub fn new(trace: Option<&'a Trace>, worker: usize, expected: usize) -> Self {
        LocalSpans {
            trace,
            record: WorkerMarks {
                worker: worker as u32,
                tasks: 0,
                // And the first task's start.
                marks: Vec::with_capacity(if trace.is_some() { expected + 1 } else { 0 }),
            },
            chained: None,
        }
    }

    /// The start of a task, if tracing: when the previous one ended if the worker
    /// went straight on, else now.
    #[inline]
    pub fn start(&self) -> u64 {
        match self.trace {
            Some(trace) => self.chained.unwrap_or_else(|| trace.now()),
            None => 0,
        }
    }

    /// The worker waited for work: its next task starts when it finds one.
    #[inline]
    pub fn idle(&mut self) {
        self.chained = None;
    }

    /// Task `key`, started at `start_ns`, has just ended.
    #[inline]
    pub fn record(&mut self, key: KeyId, start_ns: u64) {
        if let Some(trace) = self.trace {
            if self.chained != Some(start_ns) {
                self.record.marks.push(Mark {
                    key: GAP,
                    ns: start_ns,
                });
            }
            let end_ns = trace.now();
            self.record.marks.push(Mark { key, ns: end_ns });
            self.record.tasks += 1;
            self.chained = Some(end_ns);
        }
    }
}

impl Drop for LocalSpans<'_> {
    fn drop(&mut self) {
        if let Some(trace) = self.trace {
            let empty = WorkerMarks {
                worker: self.record.worker,
                tasks: 0,
                marks: Vec::new(),
            };
            lock(&trace.0.marks).push(std::mem::replace(&mut self.record, empty));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chained_tasks_start_when_the_previous_ended_and_waits_leave_gaps() {
        let trace = Trace::new();
        let mut local = LocalSpans::new(Some(&trace), 3, 4);
        for (i, wait) in [(0, false), (1, false), (2, true), (3, false)] {
            if wait {
                local.idle();
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            let start = local.start();
            local.record(KeyId(i), start);
        }
        let mut handed = vec![Span {
            key: KeyId(9),
            worker: 0,
            start_ns: 1,
            end_ns: 2,
        }];
        trace.extend(&mut handed);
        drop(local);
        let spans = trace.take_spans();
        let keys: Vec<u32> = spans.iter().map(|s| s.key.0).collect();
        assert_eq!(keys, [9, 0, 1, 2, 3]);
        assert!(spans[1..]
            .iter()
            .all(|s| s.worker == 3 && s.start_ns <= s.end_ns));
        assert_eq!(spans[2].start_ns, spans[1].end_ns);
        assert!(
            spans[3].start_ns >= spans[2].end_ns + 2_000_000,
            "the wait is no task's"
        );
        assert_eq!(spans[4].start_ns, spans[3].end_ns);
        assert!(trace.take_spans().is_empty());
    }

    #[test]
    fn nothing_is_recorded_without_a_trace() {
        let mut local = LocalSpans::new(None, 0, 1_000_000);
        local.record(KeyId(0), local.start());
        assert!(local.record.marks.is_empty() && local.record.marks.capacity() == 0);
    }
}

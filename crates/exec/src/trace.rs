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
        std::mem::take(&mut *self.0.spans.lock().unwrap_or_else(|e| e.into_inner()))
    }

    pub(crate) fn extend(&self, spans: &mut Vec<Span>) {
        self.0
            .spans
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .append(spans);
    }
}

impl Default for Trace {
    fn default() -> Self {
        Trace::new()
    }
}

/// A worker's spans, handed to the trace when the worker stops.
pub(crate) struct LocalSpans<'a> {
    trace: Option<&'a Trace>,
    worker: u32,
    spans: Vec<Span>,
}

impl<'a> LocalSpans<'a> {
    /// Spans for `worker`, with room for `expected` of them.
    pub fn new(trace: Option<&'a Trace>, worker: usize, expected: usize) -> Self {
        LocalSpans {
            trace,
            worker: worker as u32,
            spans: Vec::with_capacity(if trace.is_some() { expected } else { 0 }),
        }
    }

    /// The start of a task, if tracing.
    #[inline]
    pub fn start(&self) -> u64 {
        self.trace.map_or(0, Trace::now)
    }

    /// Task `key`, started at `start_ns`, has just ended.
    #[inline]
    pub fn record(&mut self, key: KeyId, start_ns: u64) {
        if let Some(trace) = self.trace {
            self.spans.push(Span {
                key,
                worker: self.worker,
                start_ns,
                end_ns: trace.now(),
            });
        }
    }
}

impl Drop for LocalSpans<'_> {
    fn drop(&mut self) {
        if let Some(trace) = self.trace {
            trace.extend(&mut self.spans);
        }
    }
}

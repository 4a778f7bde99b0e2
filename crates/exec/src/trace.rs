//! Recording when and where each task ran: the raw material of timelines (`--trace`,
//! `--profile`). Only when asked for: workers keep their spans to themselves and hand
//! them over when they stop, so a traced run takes no lock per task either.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use taskloom_graph::KeyId;

mod room;

pub(crate) use room::Room as SpanRoom;

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
    /// How many workers the runs traced had, the idle ones included.
    workers: AtomicUsize,
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
            workers: AtomicUsize::new(0),
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
        std::mem::take(&mut *lock(&self.0.spans))
    }

    /// How many workers the traced runs had, those that ran no task included: the
    /// lanes of a timeline.
    pub fn workers(&self) -> usize {
        self.0.workers.load(Ordering::Relaxed)
    }

    /// A traced run had `workers` workers.
    pub fn note_workers(&self, workers: usize) {
        self.0.workers.fetch_max(workers, Ordering::Relaxed);
    }

    /// Adds `spans` (emptying it): the first list is moved in, not copied.
    pub fn extend(&self, spans: &mut Vec<Span>) {
        let mut all = lock(&self.0.spans);
        if all.is_empty() {
            std::mem::swap(&mut *all, spans);
        } else {
            all.append(spans);
        }
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

/// A worker's spans, handed to the trace when the worker stops. A task that follows
/// another at once on its worker starts when that one ended: one clock read per task.
pub(crate) struct LocalSpans<'a> {
    trace: Option<&'a Trace>,
    worker: u32,
    store: Store<'a>,
    /// When the last task ended, if the worker went straight on to another.
    chained: Option<u64>,
}

enum Store<'a> {
    /// This worker's own list (a run with one worker).
    Own(Vec<Span>),
    /// Its part of a room shared with the run's other workers, and what did not fit.
    Shared(room::Writer<'a>, Vec<Span>),
}

impl<'a> LocalSpans<'a> {
    /// Spans for `worker`, with room for `expected` of them.
    pub fn new(trace: Option<&'a Trace>, worker: usize, expected: usize) -> Self {
        let own = Vec::with_capacity(if trace.is_some() { expected } else { 0 });
        LocalSpans::with(trace, worker, Store::Own(own))
    }

    /// Spans for `worker`, written into `room` with those of the run's other workers.
    ///
    /// # Safety
    /// At most as many `LocalSpans` are made for `room` as it was made for writers.
    pub unsafe fn in_room(
        trace: Option<&'a Trace>,
        worker: usize,
        room: Option<&'a SpanRoom>,
    ) -> Self {
        match room {
            Some(room) => {
                // SAFETY: one writer per `LocalSpans` (by the caller).
                let writer = unsafe { room::Writer::new(room) };
                LocalSpans::with(trace, worker, Store::Shared(writer, Vec::new()))
            }
            None => LocalSpans::new(trace, worker, 0),
        }
    }

    fn with(trace: Option<&'a Trace>, worker: usize, store: Store<'a>) -> Self {
        LocalSpans {
            trace,
            worker: worker as u32,
            store,
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
            let end_ns = trace.now();
            let span = Span {
                key,
                worker: self.worker,
                start_ns,
                end_ns,
            };
            match &mut self.store {
                Store::Own(spans) => spans.push(span),
                Store::Shared(writer, overflow) => {
                    if let Err(span) = writer.push(span) {
                        overflow.push(span);
                    }
                }
            }
            self.chained = Some(end_ns);
        }
    }
}

impl Drop for LocalSpans<'_> {
    fn drop(&mut self) {
        let Some(trace) = self.trace else { return };
        match std::mem::replace(&mut self.store, Store::Own(Vec::new())) {
            Store::Own(mut spans) => trace.extend(&mut spans),
            Store::Shared(writer, mut overflow) => {
                if let Some(mut spans) = writer.stop() {
                    trace.extend(&mut spans);
                }
                trace.extend(&mut overflow);
            }
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

    /// `writers` threads each record `each` spans into one room made for `tasks`.
    fn record_in_room(tasks: usize, writers: usize, each: u32) -> Vec<Span> {
        let trace = Trace::new();
        let room = SpanRoom::new(tasks, writers);
        std::thread::scope(|scope| {
            for w in 0..writers {
                let (trace, room) = (&trace, &room);
                scope.spawn(move || {
                    // SAFETY: one for each of the room's `writers`.
                    let mut local = unsafe { LocalSpans::in_room(Some(trace), w, Some(room)) };
                    for i in 0..each {
                        // Waits now and then leave partly filled blocks between others.
                        if i % 1000 == 999 {
                            local.idle();
                        }
                        local.record(KeyId(w as u32 * 1_000_000 + i), local.start());
                    }
                });
            }
        });
        trace.take_spans()
    }

    #[test]
    fn workers_sharing_a_room_hand_over_every_span_in_their_order() {
        let spans = record_in_room(3 * 10_000, 3, 10_000);
        assert_eq!(spans.len(), 30_000);
        for w in 0..3u32 {
            let keys: Vec<u32> = spans
                .iter()
                .filter(|s| s.worker == w)
                .map(|s| s.key.0)
                .collect();
            let expected: Vec<u32> = (0..10_000).map(|i| w * 1_000_000 + i).collect();
            assert_eq!(keys, expected, "worker {w}");
        }
    }

    #[test]
    fn spans_beyond_a_full_room_are_kept_too() {
        let spans = record_in_room(10, 1, 9_000);
        let keys: Vec<u32> = spans.iter().map(|s| s.key.0).collect();
        let mut sorted = keys.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..9_000).collect::<Vec<u32>>());
    }

    #[test]
    fn nothing_is_recorded_without_a_trace() {
        let mut local = LocalSpans::new(None, 0, 1_000_000);
        local.record(KeyId(0), local.start());
        assert!(matches!(&local.store, Store::Own(v) if v.is_empty() && v.capacity() == 0));
    }
}

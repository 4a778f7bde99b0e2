//! Model checks of the lock-free pieces of the thread pool, under loom: each test runs
//! a few threads through every interleaving of up to two preemptions, with every value
//! the C11 memory model lets each atomic load return, and fails on a deadlock (a lost
//! wake-up), a data race on a slot, or a wrong result. Run them (the `loom` feature swaps
//! the crate's primitives for loom's; about 10 s once built):
//!
//! ```text
//! cargo test -p taskloom-exec --features loom --lib -- model::
//! ```
//!
//! - `Idle`: a worker that goes to sleep while work is published wakes to take it, and
//!   the end of a run wakes every sleeper.
//! - `Slots`: the last consumer of a result empties its slot only after every other
//!   consumer's read, and a target's slot is never emptied.
//! - The span room: every span recorded is handed over exactly once, each worker's in
//!   the order it recorded them, and writers never write the same slot.
//!
//! Loom regards `SeqCst` accesses as `AcqRel`, so it checks only protocols that rely
//! on acquire/release (or on `SeqCst` fences); these do.

use std::sync::Arc as StdArc;

use loom::sync::atomic::{AtomicBool, AtomicUsize, Ordering::Relaxed};
use loom::sync::Arc;
use loom::thread;
use taskloom_graph::{parse, validate, KeyId, Registry, Value};
use taskloom_sched::Plan;

use crate::idle::Idle;
use crate::slots::Slots;
use crate::trace::{LocalSpans, SpanRoom, Trace};

/// Checks `f` in every interleaving with up to `PREEMPTIONS` preemptions: bugs need
/// few, and the tests of three or more threads then finish in seconds.
fn check(f: impl Fn() + Sync + Send + 'static) {
    /// Loom's suggested bound: two or three find what exhaustive runs find.
    const PREEMPTIONS: usize = 2;
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(PREEMPTIONS);
    builder.check(f);
}

/// Work items that producers publish and workers take. Relaxed: only `Idle` may order
/// a publication before a sleeper's last look for work.
#[derive(Default)]
struct Work(AtomicUsize);

impl Work {
    fn publish(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    fn is_there(&self) -> bool {
        self.0.load(Relaxed) > 0
    }

    fn take(&self) -> bool {
        self.0
            .fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1))
            .is_ok()
    }
}

/// A worker that sleeps until it takes one item, as the pool's workers look for work.
fn take_one(idle: &Idle, work: &Work) {
    while !work.take() {
        idle.sleep(|| work.is_there());
    }
}

/// Runs `workers` workers that take one item each and `workers` producers that
/// publish one each: loom fails with a deadlock if a sleeper misses its wake-up.
fn every_item_is_taken(workers: usize) {
    check(move || {
        let idle = Arc::new(Idle::default());
        let work = Arc::new(Work::default());
        let mut threads = Vec::new();
        for _ in 0..workers {
            let (idle, work) = (Arc::clone(&idle), Arc::clone(&work));
            threads.push(thread::spawn(move || take_one(&idle, &work)));
        }
        for _ in 1..workers {
            let (idle, work) = (Arc::clone(&idle), Arc::clone(&work));
            threads.push(thread::spawn(move || {
                work.publish();
                idle.notify_one();
            }));
        }
        work.publish();
        idle.notify_one();
        for thread in threads {
            thread.join().unwrap();
        }
    });
}

#[test]
fn idle_a_sleeper_never_misses_published_work() {
    every_item_is_taken(1);
}

#[test]
fn idle_each_published_item_wakes_a_sleeper() {
    every_item_is_taken(2);
}

#[test]
fn idle_the_end_of_a_run_wakes_every_sleeper() {
    check(|| {
        let idle = Arc::new(Idle::default());
        let over = Arc::new(AtomicBool::new(false));
        let sleepers: Vec<_> = (0..2)
            .map(|_| {
                let (idle, over) = (Arc::clone(&idle), Arc::clone(&over));
                thread::spawn(move || {
                    while !over.load(Relaxed) {
                        idle.sleep(|| over.load(Relaxed));
                    }
                })
            })
            .collect();
        over.store(true, Relaxed);
        idle.notify_all();
        for sleeper in sleepers {
            sleeper.join().unwrap();
        }
    });
}

/// A plan where `a` has two consumers, `b` and `c`; `a` is a target if `a_is_target`.
fn fan_out_plan(a_is_target: bool) -> StdArc<Plan> {
    let graph = parse("a = inc(1)\nb = inc(a)\nc = inc(a)\n").unwrap();
    let ops = validate(&graph, &Registry::builtins()).unwrap();
    let key = |name| graph.key(name).unwrap();
    let mut targets = vec![key("b"), key("c")];
    if a_is_target {
        targets.push(key("a"));
    }
    StdArc::new(Plan::new(StdArc::new(graph), ops, targets))
}

/// Stores `a`'s result, then has its two consumers read and release it at once.
fn consume_in_parallel(a_is_target: bool) {
    let plan = fan_out_plan(a_is_target);
    check(move || {
        let a = plan.graph().key("a").unwrap();
        let slots = Arc::new(Slots::new(&plan));
        let result: StdArc<str> = StdArc::from("result of a");
        let alive = StdArc::downgrade(&result);
        // SAFETY: `a`'s task runs once, and its consumers start after it (spawned).
        unsafe { slots.put(&plan, a, Value::Str(result)) };
        let consumers: Vec<_> = (0..2)
            .map(|_| {
                let (plan, slots) = (StdArc::clone(&plan), Arc::clone(&slots));
                thread::spawn(move || {
                    // SAFETY: this consumer started after the put and releases `a` once,
                    // after its read.
                    let value = unsafe { slots.get(a) }.unwrap();
                    assert_eq!(value, Value::Str("result of a".into()));
                    drop(value);
                    unsafe { slots.release(&plan, a) };
                })
            })
            .collect();
        for consumer in consumers {
            consumer.join().unwrap();
        }
        if a_is_target {
            // SAFETY: `a` is a target and every task that uses it has completed.
            let value = unsafe { slots.target(a) };
            assert_eq!(value, Value::Str("result of a".into()));
        } else {
            assert!(
                alive.upgrade().is_none(),
                "the last consumer frees the result"
            );
        }
    });
}

#[test]
fn slots_the_last_consumer_frees_a_result_after_every_read() {
    consume_in_parallel(false);
}

#[test]
fn slots_a_target_outlives_its_consumers() {
    consume_in_parallel(true);
}

/// Two workers record `each` spans apiece into one room made for `tasks`; returns
/// what the trace was handed.
fn record_in_room(tasks: usize, each: u32) -> Vec<crate::Span> {
    const WORKERS: usize = 2;
    let trace = Trace::new();
    let room = Arc::new(SpanRoom::new(tasks, WORKERS));
    let writers: Vec<_> = (0..WORKERS)
        .map(|w| {
            let (trace, room) = (trace.clone(), Arc::clone(&room));
            thread::spawn(move || {
                // SAFETY: one for each of the room's writers.
                let mut spans = unsafe { LocalSpans::in_room(Some(&trace), w, Some(&room)) };
                for i in 0..each {
                    spans.record(KeyId(w as u32 * 100 + i), spans.start());
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().unwrap();
    }
    trace.take_spans()
}

/// The keys each of two workers recorded, in the order the trace has them.
fn keys_by_worker(spans: &[crate::Span]) -> [Vec<u32>; 2] {
    [0, 1].map(|w| {
        spans
            .iter()
            .filter(|s| s.worker == w)
            .map(|s| s.key.0)
            .collect()
    })
}

#[test]
fn room_hands_over_every_span_once_in_each_workers_order() {
    check(|| {
        // Three spans each take two blocks: one full, one left with a hole.
        let spans = record_in_room(6, 3);
        assert_eq!(spans.len(), 6);
        assert_eq!(keys_by_worker(&spans), [vec![0, 1, 2], vec![100, 101, 102]]);
    });
}

#[test]
fn room_keeps_the_spans_that_do_not_fit() {
    check(|| {
        // Room for one span and a block per worker: some of the six overflow.
        let spans = record_in_room(1, 3);
        let [mut first, mut second] = keys_by_worker(&spans);
        first.sort_unstable();
        second.sort_unstable();
        assert_eq!([first, second], [vec![0, 1, 2], vec![100, 101, 102]]);
    });
}

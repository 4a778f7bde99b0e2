//! The scheduler core, driven by hand: every decision checked, no threads or clocks.

use std::sync::Arc;

use taskloom_graph::{parse, validate, KeyId, Registry};
use taskloom_sched::{Decision, Event, Failure, Plan, Scheduler, Status, WorkerId};

fn plan(src: &str, targets: &[&str]) -> Arc<Plan> {
    let graph = parse(src).unwrap();
    let ops = validate(&graph, &Registry::builtins()).unwrap();
    let targets = targets.iter().map(|t| graph.key(t).unwrap()).collect();
    Arc::new(Plan::new(Arc::new(graph), ops, targets))
}

fn key(plan: &Plan, name: &str) -> KeyId {
    plan.graph().key(name).unwrap()
}

const W0: WorkerId = WorkerId(0);
const W1: WorkerId = WorkerId(1);

fn run(key: KeyId, worker: WorkerId, inputs: Vec<(KeyId, WorkerId)>) -> Decision {
    Decision::Run {
        key,
        worker,
        inputs,
    }
}

fn finished(key: KeyId, worker: WorkerId, bytes: u64) -> Event {
    Event::Finished { key, worker, bytes }
}

#[test]
fn the_lecture_example_runs_in_order_and_releases_x() {
    let p = plan("x = add(2, 3)\ny = add(x, 3)\n", &["y"]);
    let (x, y) = (key(&p, "x"), key(&p, "y"));
    let mut s = Scheduler::new(Arc::clone(&p), 1, 0);
    let mut out = Vec::new();
    s.add_worker(&mut out);
    assert_eq!(out, [run(x, W0, vec![])]);
    out.clear();
    s.handle(finished(x, W0, 8), &mut out);
    assert_eq!(out, [run(y, W0, vec![])]);
    out.clear();
    s.handle(finished(y, W0, 8), &mut out);
    assert_eq!(
        out,
        [Decision::Release {
            key: x,
            workers: vec![W0]
        }]
    );
    assert_eq!(s.status(), Status::Finished);
    assert_eq!(s.holders(y), &[W0]);
}

#[test]
fn a_task_goes_where_most_of_its_input_bytes_are() {
    let p = plan(
        "big = range(1000)\nsmall = 1\nc = list(big, small)\n",
        &["c"],
    );
    let (big, small, c) = (key(&p, "big"), key(&p, "small"), key(&p, "c"));
    let mut s = Scheduler::new(Arc::clone(&p), 1, 0);
    let mut out = Vec::new();
    s.add_worker(&mut out);
    s.add_worker(&mut out);
    // Priority order puts `big` first (source order), each on its own worker.
    assert_eq!(out, [run(big, W0, vec![]), run(small, W1, vec![])]);
    out.clear();
    s.handle(finished(small, W1, 8), &mut out);
    assert!(out.is_empty(), "c waits for big: {out:?}");
    s.handle(finished(big, W0, 8000), &mut out);
    // c runs beside big; only the small input moves.
    assert_eq!(out[0], run(c, W0, vec![(small, W1)]));
    out.clear();
    s.handle(finished(c, W0, 16), &mut out);
    assert!(out.contains(&Decision::Release {
        key: small,
        workers: vec![W1, W0]
    }));
    assert_eq!(s.status(), Status::Finished);
}

#[test]
fn slots_bound_what_a_worker_is_given_and_priority_picks_the_next() {
    let p = plan("a = 1\nb = 2\nc = 3\nout = list(a, b, c)\n", &["out"]);
    let [a, b, c] = ["a", "b", "c"].map(|k| key(&p, k));
    let mut s = Scheduler::new(Arc::clone(&p), 2, 0);
    let mut out = Vec::new();
    s.add_worker(&mut out);
    assert_eq!(out, [run(a, W0, vec![]), run(b, W0, vec![])]);
    out.clear();
    s.handle(finished(b, W0, 8), &mut out);
    assert_eq!(out, [run(c, W0, vec![])]);
    assert_eq!(s.running_on(W0), &[a, c]);
}

#[test]
fn a_failed_task_is_retried_then_fails_the_run() {
    let p = plan("a = 1\n", &["a"]);
    let a = key(&p, "a");
    let mut s = Scheduler::new(Arc::clone(&p), 1, 1);
    let mut out = Vec::new();
    s.add_worker(&mut out);
    let failed = || Event::Failed {
        key: a,
        worker: W0,
        op: "fail".into(),
        cause: "no".into(),
    };
    out.clear();
    s.handle(failed(), &mut out);
    assert_eq!(out, [run(a, W0, vec![])], "one retry");
    out.clear();
    s.handle(failed(), &mut out);
    assert!(out.is_empty());
    assert_eq!(
        s.status(),
        Status::Failed(Failure::Task {
            key: a,
            op: "fail".into(),
            cause: "no".into()
        })
    );
}

#[test]
fn a_dead_worker_fails_its_task_without_retries() {
    let p = plan("a = 1\nb = 2\n", &["a", "b"]);
    let a = key(&p, "a");
    let mut s = Scheduler::new(Arc::clone(&p), 1, 0);
    let mut out = Vec::new();
    s.add_worker(&mut out);
    let cause = "worker died (SIGABRT)".to_string();
    s.handle(
        Event::WorkerLost {
            worker: W0,
            cause: cause.clone(),
        },
        &mut out,
    );
    assert_eq!(
        s.status(),
        Status::Failed(Failure::WorkerDied { key: a, cause })
    );
}

#[test]
fn results_lost_with_a_worker_are_recomputed_as_far_back_as_needed() {
    // x -> y -> z: when z is about to run, y and then x were computed on W0 and x was
    // released. W0 dies holding y: y must be recomputed, and so x.
    let p = plan("x = 1\ny = inc(x)\nz = inc(y)\n", &["z"]);
    let [x, y, z] = ["x", "y", "z"].map(|k| key(&p, k));
    let mut s = Scheduler::new(Arc::clone(&p), 1, 0);
    let mut out = Vec::new();
    s.add_worker(&mut out);
    s.handle(finished(x, W0, 8), &mut out);
    out.clear();
    s.handle(finished(y, W0, 8), &mut out);
    assert_eq!(
        out,
        [
            Decision::Release {
                key: x,
                workers: vec![W0]
            },
            run(z, W0, vec![])
        ]
    );
    out.clear();
    // z was running on W0 too: with no retries that fails the run...
    let lost = Event::WorkerLost {
        worker: W0,
        cause: "killed".into(),
    };
    let mut strict = Scheduler::new(Arc::clone(&p), 1, 0);
    strict.add_worker(&mut Vec::new());
    strict.handle(lost.clone(), &mut Vec::new());
    assert!(matches!(strict.status(), Status::Failed(_)));
    // ...with one retry, z waits for y, which waits for x, on the new worker.
    let mut s = Scheduler::new(Arc::clone(&p), 1, 1);
    s.add_worker(&mut out);
    s.handle(finished(x, W0, 8), &mut out);
    s.handle(finished(y, W0, 8), &mut out);
    out.clear();
    s.handle(lost, &mut out);
    assert!(out.is_empty());
    assert_eq!(s.status(), Status::Running);
    s.add_worker(&mut out);
    assert_eq!(out, [run(x, W1, vec![])]);
    out.clear();
    s.handle(finished(x, W1, 8), &mut out);
    assert_eq!(out, [run(y, W1, vec![])]);
    out.clear();
    s.handle(finished(y, W1, 8), &mut out);
    assert_eq!(
        out,
        [
            Decision::Release {
                key: x,
                workers: vec![W1]
            },
            run(z, W1, vec![])
        ]
    );
    out.clear();
    s.handle(finished(z, W1, 8), &mut out);
    assert_eq!(s.status(), Status::Finished);
}

#[test]
fn a_late_report_from_a_lost_worker_is_ignored() {
    let p = plan("a = 1\n", &["a"]);
    let a = key(&p, "a");
    let mut s = Scheduler::new(Arc::clone(&p), 1, 1);
    let mut out = Vec::new();
    s.add_worker(&mut out);
    s.handle(
        Event::WorkerLost {
            worker: W0,
            cause: "timeout".into(),
        },
        &mut out,
    );
    s.add_worker(&mut out);
    s.handle(finished(a, W0, 8), &mut out);
    assert_eq!(
        s.status(),
        Status::Running,
        "W0's report came after it was lost"
    );
    s.handle(finished(a, W1, 8), &mut out);
    assert_eq!(s.status(), Status::Finished);
}

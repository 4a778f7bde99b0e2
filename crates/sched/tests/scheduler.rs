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
const W2: WorkerId = WorkerId(2);

fn run(key: KeyId, worker: WorkerId) -> Decision {
    Decision::Run { key, worker }
}

fn transfer(key: KeyId, from: WorkerId, to: WorkerId) -> Decision {
    Decision::Transfer { key, from, to }
}

fn release(key: KeyId, workers: &[WorkerId]) -> Decision {
    Decision::Release {
        key,
        workers: workers.to_vec(),
    }
}

fn finished(key: KeyId, worker: WorkerId, bytes: u64) -> Event {
    Event::Finished { key, worker, bytes }
}

fn lost(worker: WorkerId, cause: &str) -> Event {
    Event::WorkerLost {
        worker,
        cause: cause.into(),
    }
}

/// A scheduler with `workers` workers, all added before the first decision.
fn start(p: &Arc<Plan>, workers: usize, slots: usize, retries: u32) -> (Scheduler, Vec<Decision>) {
    let mut s = Scheduler::new(Arc::clone(p), slots, retries);
    for _ in 0..workers {
        s.add_worker();
    }
    let mut out = Vec::new();
    s.assign(&mut out);
    (s, out)
}

#[test]
fn the_lecture_example_runs_in_order_and_releases_x() {
    let p = plan("x = add(2, 3)\ny = add(x, 3)\n", &["y"]);
    let (x, y) = (key(&p, "x"), key(&p, "y"));
    let (mut s, mut out) = start(&p, 1, 1, 0);
    assert_eq!(out, [run(x, W0)]);
    out.clear();
    s.handle(finished(x, W0, 8), &mut out);
    assert_eq!(out, [run(y, W0)]);
    out.clear();
    s.handle(finished(y, W0, 8), &mut out);
    assert_eq!(out, [release(x, &[W0])]);
    assert_eq!(s.status(), Status::Finished);
    assert_eq!(s.placement(y), &[W0]);
}

#[test]
fn a_task_goes_where_most_of_its_input_bytes_are_and_only_missing_inputs_move() {
    let p = plan(
        "big = range(1000)\nsmall = 1\nc = list(big, small)\n",
        &["c"],
    );
    let (big, small, c) = (key(&p, "big"), key(&p, "small"), key(&p, "c"));
    let (mut s, mut out) = start(&p, 2, 1, 0);
    // Priority order puts `big` first (source order), each on its own worker.
    assert_eq!(out, [run(big, W0), run(small, W1)]);
    out.clear();
    s.handle(finished(small, W1, 8), &mut out);
    assert!(out.is_empty(), "c waits for big: {out:?}");
    s.handle(finished(big, W0, 8000), &mut out);
    // c runs beside big; the small input is ordered to follow it, and c is sent at
    // once: it waits there for the transfer.
    assert_eq!(out, [transfer(small, W1, W0), run(c, W0)]);
    out.clear();
    s.handle(
        Event::Arrived {
            key: small,
            worker: W0,
        },
        &mut out,
    );
    assert!(out.is_empty());
    assert_eq!(s.placement(small), &[W1, W0]);
    s.handle(finished(c, W0, 16), &mut out);
    assert!(out.contains(&release(small, &[W1, W0])), "{out:?}");
    assert!(out.contains(&release(big, &[W0])), "{out:?}");
    assert_eq!(s.status(), Status::Finished);
}

#[test]
fn ready_tasks_spread_over_idle_workers_before_a_second_goes_to_a_busy_one() {
    let p = plan(
        "a = 1\nb = 2\nc = 3\nd = 4\nout = list(a, b, c, d)\n",
        &["out"],
    );
    let [a, b, c, d] = ["a", "b", "c", "d"].map(|k| key(&p, k));
    let (_, out) = start(&p, 2, 16, 0);
    assert_eq!(out, [run(a, W0), run(b, W1), run(c, W0), run(d, W1)]);
}

#[test]
fn slots_bound_what_a_worker_is_given_and_priority_picks_the_next() {
    let p = plan("a = 1\nb = 2\nc = 3\nout = list(a, b, c)\n", &["out"]);
    let [a, b, c] = ["a", "b", "c"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 1, 2, 0);
    assert_eq!(out, [run(a, W0), run(b, W0)]);
    out.clear();
    s.handle(finished(b, W0, 8), &mut out);
    assert_eq!(out, [run(c, W0)]);
    assert_eq!(s.assigned_to(W0), &[a, c]);
}

#[test]
fn a_chain_is_pipelined_to_its_worker_in_one_go() {
    let p = plan("a = 1\nb = inc(a)\nc = inc(b)\n", &["c"]);
    let [a, b, c] = ["a", "b", "c"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 2, 16, 0);
    assert_eq!(out, [run(a, W0), run(b, W0), run(c, W0)]);
    out.clear();
    s.handle(finished(a, W0, 8), &mut out);
    s.handle(finished(b, W0, 8), &mut out);
    s.handle(finished(c, W0, 8), &mut out);
    assert_eq!(out, [release(a, &[W0]), release(b, &[W0])]);
    assert_eq!(s.status(), Status::Finished);
}

#[test]
fn a_failed_task_cancels_what_was_pipelined_behind_it_and_is_retried() {
    let p = plan("a = 1\nb = inc(a)\n", &["b"]);
    let [a, b] = ["a", "b"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 1, 16, 1);
    assert_eq!(out, [run(a, W0), run(b, W0)]);
    out.clear();
    let failed = Event::Failed {
        key: a,
        worker: W0,
        op: "fail".into(),
        cause: "no".into(),
    };
    s.handle(failed.clone(), &mut out);
    assert_eq!(
        out,
        [
            Decision::Cancel { key: b, worker: W0 },
            run(a, W0),
            run(b, W0)
        ]
    );
    out.clear();
    s.handle(failed, &mut out);
    assert_eq!(out, [Decision::Cancel { key: b, worker: W0 }]);
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
fn a_dead_worker_that_ran_one_task_fails_it() {
    let p = plan("a = 1\nb = 2\n", &["a", "b"]);
    let a = key(&p, "a");
    let (mut s, mut out) = start(&p, 1, 1, 0);
    let cause = "its worker died (killed by SIGABRT)".to_string();
    s.handle(lost(W0, &cause), &mut out);
    assert_eq!(
        s.status(),
        Status::Failed(Failure::WorkerDied { key: a, cause })
    );
}

#[test]
fn a_crash_is_blamed_on_the_task_that_crashes_alone_not_on_bystanders() {
    // `boom` and `fine` share a worker that dies: neither is charged; each runs alone on
    // a worker of its own; `boom` kills that one too and is blamed, `fine` finishes.
    let p = plan(
        "boom = 1\nfine = 2\nafter = inc(fine)\n",
        &["boom", "after"],
    );
    let [boom, fine, after] = ["boom", "fine", "after"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 1, 16, 0);
    assert_eq!(out, [run(fine, W0), run(after, W0), run(boom, W0)]);
    out.clear();
    s.handle(lost(W0, "killed by SIGABRT"), &mut out);
    assert!(out.is_empty(), "no worker: {out:?}");
    assert_eq!(s.status(), Status::Running, "nobody is charged yet");
    s.add_worker();
    s.add_worker();
    s.assign(&mut out);
    // Suspects run alone: one per worker, and nothing is pipelined behind them.
    assert_eq!(out, [run(fine, W1), run(boom, W2)]);
    out.clear();
    s.handle(finished(fine, W1, 8), &mut out);
    // `after` was a suspect too: it runs alone, on the worker `fine` left empty.
    assert_eq!(out, [run(after, W1)]);
    out.clear();
    s.handle(finished(after, W1, 8), &mut out);
    out.clear();
    let cause = "its worker died (killed by SIGABRT)".to_string();
    s.handle(lost(W2, &cause), &mut out);
    assert_eq!(
        s.status(),
        Status::Failed(Failure::WorkerDied { key: boom, cause })
    );
}

#[test]
fn a_suspect_that_finishes_alone_is_cleared_and_charged_nothing() {
    let p = plan("a = 1\nb = 2\n", &["a", "b"]);
    let [a, b] = ["a", "b"].map(|k| key(&p, k));
    // No retries at all: a bystander must still not fail the run.
    let (mut s, mut out) = start(&p, 1, 2, 0);
    out.clear();
    s.handle(lost(W0, "killed by SIGKILL"), &mut out);
    s.add_worker();
    s.assign(&mut out);
    assert_eq!(
        out,
        [run(a, W1)],
        "one suspect at a time on the only worker"
    );
    out.clear();
    s.handle(finished(a, W1, 8), &mut out);
    assert_eq!(out, [run(b, W1)]);
    out.clear();
    s.handle(finished(b, W1, 8), &mut out);
    assert_eq!(s.status(), Status::Finished);
}

#[test]
fn a_failed_transfer_is_sent_again_from_another_holder() {
    let p = plan(
        "x = 1\ny = inc(x)\nz = inc(x)\nw = inc(x)\nout = list(y, z, w)\n",
        &["out"],
    );
    let [x, y, z, w] = ["x", "y", "z", "w"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 3, 1, 0);
    assert_eq!(out, [run(x, W0)]);
    out.clear();
    s.handle(finished(x, W0, 8), &mut out);
    assert_eq!(
        out,
        [
            run(y, W0),
            transfer(x, W0, W1),
            run(z, W1),
            transfer(x, W0, W2),
            run(w, W2)
        ]
    );
    out.clear();
    s.handle(Event::Arrived { key: x, worker: W1 }, &mut out);
    s.handle(Event::TransferFailed { key: x, worker: W2 }, &mut out);
    assert_eq!(out, [transfer(x, W0, W2)]);
}

#[test]
fn a_transfer_whose_source_died_is_recomputed_and_its_waiting_task_cancelled() {
    let p = plan("x = 1\nb = 2\ny = list(x, b)\n", &["y"]);
    let [x, b, y] = ["x", "b", "y"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 2, 1, 0);
    assert_eq!(out, [run(x, W0), run(b, W1)]);
    out.clear();
    s.handle(finished(x, W0, 8), &mut out);
    assert!(out.is_empty());
    // b is the larger input: y goes to W1 and x is sent there.
    s.handle(finished(b, W1, 800), &mut out);
    assert_eq!(out, [transfer(x, W0, W1), run(y, W1)]);
    out.clear();
    // W0 dies before the bytes leave it; the driver reports the failed transfer.
    s.handle(lost(W0, "killed"), &mut out);
    assert!(out.is_empty(), "the transfer may still arrive: {out:?}");
    s.handle(Event::TransferFailed { key: x, worker: W1 }, &mut out);
    assert_eq!(
        out,
        [Decision::Cancel { key: y, worker: W1 }, run(x, W1)],
        "y waits again; x is computed again"
    );
    out.clear();
    s.handle(finished(x, W1, 8), &mut out);
    assert_eq!(out, [run(y, W1)]);
    out.clear();
    s.handle(finished(y, W1, 8), &mut out);
    assert_eq!(s.status(), Status::Finished);
}

#[test]
fn a_copy_that_arrives_after_its_release_is_released_on_arrival() {
    let p = plan("x = 1\nb = 2\ny = list(x, b)\n", &["y"]);
    let [x, b, y] = ["x", "b", "y"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 2, 1, 0);
    s.handle(finished(x, W0, 8), &mut out);
    s.handle(finished(b, W1, 800), &mut out);
    out.clear();
    // y runs on W1 (x travelling there). Say W1 reports y done before the driver
    // reports x's arrival (a relay may report late): x is released where it is...
    s.handle(finished(y, W1, 8), &mut out);
    assert!(out.contains(&release(x, &[W0])), "{out:?}");
    out.clear();
    // ...and the copy that lands afterwards is released too.
    s.handle(Event::Arrived { key: x, worker: W1 }, &mut out);
    assert_eq!(out, [release(x, &[W1])]);
}

#[test]
fn a_late_report_from_a_lost_worker_is_ignored() {
    let p = plan("a = 1\n", &["a"]);
    let a = key(&p, "a");
    let (mut s, mut out) = start(&p, 1, 1, 1);
    s.handle(lost(W0, "timeout"), &mut out);
    s.add_worker();
    s.handle(finished(a, W0, 8), &mut out);
    assert_eq!(
        s.status(),
        Status::Running,
        "W0's report came after it was lost"
    );
    s.handle(finished(a, W1, 8), &mut out);
    assert_eq!(s.status(), Status::Finished);
}

#[test]
fn results_lost_with_a_worker_are_recomputed_as_far_back_as_needed() {
    // x -> y -> z, one slot: x and y were computed on W0 and x was released when z was
    // given out. W0 dies holding y while running z: z is charged (it ran alone), and
    // with a retry it waits for y, which waits for x, on the new worker.
    let p = plan("x = 1\ny = inc(x)\nz = inc(y)\n", &["z"]);
    let [x, y, z] = ["x", "y", "z"].map(|k| key(&p, k));
    let (mut s, mut out) = start(&p, 1, 1, 1);
    s.handle(finished(x, W0, 8), &mut out);
    out.clear();
    s.handle(finished(y, W0, 8), &mut out);
    assert_eq!(out, [release(x, &[W0]), run(z, W0)]);
    out.clear();
    s.handle(lost(W0, "killed"), &mut out);
    assert!(out.is_empty());
    assert_eq!(s.status(), Status::Running);
    s.add_worker();
    s.assign(&mut out);
    assert_eq!(out, [run(x, W1)]);
    out.clear();
    s.handle(finished(x, W1, 8), &mut out);
    assert_eq!(out, [run(y, W1)]);
    out.clear();
    s.handle(finished(y, W1, 8), &mut out);
    assert_eq!(out, [release(x, &[W1]), run(z, W1)]);
    out.clear();
    s.handle(finished(z, W1, 8), &mut out);
    assert_eq!(s.status(), Status::Finished);
}

//! The Pool API over threads and processes: order, per-item errors, chunk-size edge
//! cases, crash isolation, no process left behind, and agreement with a plain loop.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::time::Duration;

use proptest::prelude::*;
use taskloom::{Chunking, Pool, PoolError, ProcessPool, Registry, Value};

const CHUNKINGS: [Chunking; 6] = [
    Chunking::Auto,
    Chunking::Fixed(1),
    Chunking::Fixed(3),
    Chunking::Fixed(1000),
    Chunking::Dynamic(1),
    Chunking::Dynamic(4),
];

/// A process pool of the `taskloom` binary, with `mark` in the workers' environment.
fn processes(workers: usize) -> ProcessPool {
    Pool::processes_of(workers, Some(env!("CARGO_BIN_EXE_taskloom"))).unwrap()
}

fn ints(values: &[i64]) -> Vec<Value> {
    values.iter().map(|&v| Value::Int(v)).collect()
}

#[test]
fn map_keeps_item_order_for_every_chunking_on_both_pool_kinds() {
    let threads = Pool::threads(3);
    let procs = processes(2);
    let items: Vec<i64> = (0..50).collect();
    let want = ints(&(1..51).collect::<Vec<_>>());
    for chunking in CHUNKINGS {
        assert_eq!(
            threads.map("inc", items.clone(), chunking),
            Ok(want.clone()),
            "{chunking:?}"
        );
        assert_eq!(
            procs.map("inc", items.clone(), chunking),
            Ok(want.clone()),
            "{chunking:?}"
        );
    }
}

#[test]
fn map_unordered_yields_every_index_once() {
    let threads = Pool::threads(2);
    let procs = processes(2);
    for chunking in CHUNKINGS {
        for results in [
            threads
                .map_unordered("inc", 0..40i64, chunking)
                .unwrap()
                .collect::<Vec<_>>(),
            procs
                .map_unordered("inc", 0..40i64, chunking)
                .unwrap()
                .collect::<Vec<_>>(),
        ] {
            assert_eq!(results.len(), 40, "{chunking:?}");
            let indices: HashSet<usize> = results.iter().map(|(i, _)| *i).collect();
            assert_eq!(indices.len(), 40);
            for (i, r) in results {
                assert_eq!(r, Ok(Value::Int(i as i64 + 1)));
            }
        }
    }
}

#[test]
fn uneven_items_finish_out_of_order_under_dynamic_chunks() {
    // Item 0 sleeps; the quick ones finish first, on the other worker, on both kinds.
    let threads = Pool::threads(2);
    let procs = processes(2);
    for results in [
        threads.map_unordered("sleep", [300i64, 0, 0, 0], Chunking::Dynamic(1)),
        procs.map_unordered("sleep", [300i64, 0, 0, 0], Chunking::Dynamic(1)),
    ] {
        let order: Vec<usize> = results
            .unwrap()
            .map(|(i, r)| {
                assert!(r.is_ok());
                i
            })
            .collect();
        assert_eq!(order.last(), Some(&0), "{order:?}");
    }
}

#[test]
fn submit_and_wait_on_both_pool_kinds() {
    let threads = Pool::threads(2);
    let procs = processes(1);
    let a = threads.submit("add", [2, 3]).unwrap();
    let b = procs.apply_async("add", [40, 2]).unwrap();
    let c = threads.submit_fn(|| 7i64).unwrap();
    assert_eq!(a.wait(), Ok(Value::Int(5)));
    assert_eq!(b.wait_as::<i64>(), Ok(42));
    assert_eq!(c.wait(), Ok(Value::Int(7)));
    let failed = procs.submit("div", [1, 0]).unwrap().wait();
    assert!(
        matches!(failed, Err(PoolError::Item { ref op, .. }) if op == "div"),
        "{failed:?}"
    );
}

#[test]
fn one_failing_item_loses_no_other_result() {
    let items = [Value::Int(1), Value::str("x"), Value::Int(3), Value::Null];
    let threads = Pool::threads(2);
    let procs = processes(2);
    for chunking in [Chunking::Auto, Chunking::Fixed(4), Chunking::Dynamic(1)] {
        let err = threads.map("inc", items.clone(), chunking).unwrap_err();
        assert!(
            matches!(err, PoolError::Item { index: 1, ref op, .. } if op == "inc"),
            "{err}"
        );
        for results in [
            threads.map_results("inc", items.clone(), chunking).unwrap(),
            procs.map_results("inc", items.clone(), chunking).unwrap(),
        ] {
            assert_eq!(results[0], Ok(Value::Int(2)));
            assert!(matches!(results[1], Err(PoolError::Item { index: 1, .. })));
            assert_eq!(results[2], Ok(Value::Int(4)));
            assert!(matches!(results[3], Err(PoolError::Item { index: 3, .. })));
        }
    }
}

/// Ten `shell` items of which `crashing` kill their worker (the shell's parent).
fn items_crashing_at(crashing: &[usize]) -> Vec<String> {
    (0..10)
        .map(|i| {
            if crashing.contains(&i) {
                "kill -ABRT $PPID".into()
            } else {
                format!("echo {i}")
            }
        })
        .collect()
}

#[test]
fn a_crashing_item_fails_alone_and_the_rest_of_its_chunk_succeeds() {
    let procs = processes(2);
    for chunking in [Chunking::Fixed(10), Chunking::Dynamic(10)] {
        for crashing in [&[6][..], &[0, 9]] {
            let results = procs
                .map_results("shell", items_crashing_at(crashing), chunking)
                .unwrap();
            assert_eq!(results.len(), 10);
            for (i, r) in results.iter().enumerate() {
                if crashing.contains(&i) {
                    let err = r.as_ref().unwrap_err();
                    assert!(
                        matches!(err, PoolError::WorkerDied { index, .. } if *index == i),
                        "{chunking:?}: {err}"
                    );
                    assert!(err.to_string().contains("killed by SIGABRT"), "{err}");
                } else {
                    assert_eq!(r, &Ok(Value::str(&i.to_string())), "{chunking:?} item {i}");
                }
            }
        }
    }
    // The pool goes on, on new workers.
    assert_eq!(
        procs
            .map("inc", 0..10i64, Chunking::Fixed(10))
            .unwrap()
            .len(),
        10
    );
}

#[test]
fn chunk_size_edge_cases() {
    let threads = Pool::threads(2);
    let procs = processes(2);
    for chunking in CHUNKINGS {
        assert_eq!(threads.map("inc", Vec::<i64>::new(), chunking), Ok(vec![]));
        assert_eq!(procs.map("inc", Vec::<i64>::new(), chunking), Ok(vec![]));
        assert_eq!(threads.map("inc", [1], chunking), Ok(ints(&[2])));
        assert_eq!(procs.map("inc", [1], chunking), Ok(ints(&[2])));
        assert_eq!(
            procs
                .map_unordered("inc", Vec::<i64>::new(), chunking)
                .unwrap()
                .count(),
            0
        );
    }
    assert_eq!(
        procs.map("inc", [1, 2, 3], Chunking::Fixed(100)),
        Ok(ints(&[2, 3, 4]))
    );
    for zero in [Chunking::Fixed(0), Chunking::Dynamic(0)] {
        assert_eq!(threads.map("inc", [1], zero), Err(PoolError::ZeroChunkSize));
        assert_eq!(procs.map("inc", [1], zero), Err(PoolError::ZeroChunkSize));
    }
}

#[test]
fn unknown_ops_are_errors_not_hangs() {
    let threads = Pool::threads(1);
    assert_eq!(
        threads.map("no_such_op", [1], Chunking::Auto),
        Err(PoolError::UnknownOp("no_such_op".into()))
    );
    let procs = processes(1);
    let err = procs.map("no_such_op", [1, 2], Chunking::Auto).unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");
}

#[test]
fn closures_run_on_thread_pools_with_their_own_registry() {
    let pool = Pool::threads(2);
    let squares = pool
        .map_fn(0..10i64, Chunking::Dynamic(3), |x: i64| x * x)
        .unwrap();
    assert_eq!(squares, ints(&[0, 1, 4, 9, 16, 25, 36, 49, 64, 81]));
    let err = pool.map_fn(["a"], Chunking::Auto, |x: i64| x).unwrap_err();
    assert!(matches!(err, PoolError::Item { index: 0, .. }), "{err}");
    let panicked = pool.map_fn([1i64], Chunking::Auto, |_: i64| -> i64 { panic!("boom") });
    assert!(panicked.unwrap_err().to_string().contains("boom"));
    let mut registry = Registry::builtins();
    registry.register("square", |args| match args {
        [Value::Int(x)] => Ok(Value::Int(x * x)),
        _ => Err(taskloom::OpError::new("square takes one int")),
    });
    let pool = pool.with_registry(registry);
    assert_eq!(
        pool.map("square", [3, 4], Chunking::Auto),
        Ok(ints(&[9, 16]))
    );
}

#[test]
fn dropping_a_pool_with_work_queued_ends_it_promptly() {
    let pool = processes(1);
    let pending = pool
        .map_unordered("sleep", [10_000i64, 10_000], Chunking::Dynamic(1))
        .unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let started = std::time::Instant::now();
    drop(pool);
    let results: Vec<_> = pending.collect();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|(_, r)| r.is_err()));
}

/// How many of `pids` each worker process ran.
fn runs_per_worker(pids: &[Value]) -> HashMap<String, usize> {
    let mut runs = HashMap::new();
    for pid in pids {
        *runs.entry(pid.to_json()).or_insert(0) += 1;
    }
    runs
}

#[test]
fn a_renewed_worker_runs_its_share_and_a_fresh_one_takes_its_slot() {
    let renew_after = NonZeroUsize::new(3);
    let pool = Pool::processes_running(
        2,
        env!("CARGO_BIN_EXE_taskloom"),
        Vec::<String>::new(),
        renew_after,
    )
    .unwrap();
    // `$PPID` of the item's shell: the worker that ran it.
    let pids = pool
        .map("shell", vec!["echo $PPID"; 30], Chunking::Dynamic(1))
        .unwrap();
    let runs = runs_per_worker(&pids);
    assert!(runs.values().all(|&n| n <= 3), "{runs:?}");
    assert!(
        runs.len() >= 10,
        "30 items on workers renewed every 3: {runs:?}"
    );
    // A batch longer than a worker's share left is cut: still 3 items a worker.
    let pids = pool
        .map("shell", vec!["echo $PPID"; 30], Chunking::Dynamic(2))
        .unwrap();
    let runs = runs_per_worker(&pids);
    assert!(runs.values().all(|&n| n <= 3), "{runs:?}");
    assert!(runs.len() >= 10, "{runs:?}");
    // A crash on a renewed pool still fails only its item.
    let results = pool
        .map_results("shell", items_crashing_at(&[4]), Chunking::Dynamic(1))
        .unwrap();
    assert_eq!(results.iter().filter(|r| r.is_err()).count(), 1);
    assert!(results[4].is_err());
}

fn arb_item() -> impl Strategy<Value = Value> {
    prop_oneof![
        (-1000i64..1000).prop_map(Value::Int),
        Just(Value::Int(i64::MAX)),
        "[a-z]{0,3}".prop_map(|s| Value::str(&s)),
    ]
}

fn arb_chunking() -> impl Strategy<Value = Chunking> {
    prop_oneof![
        Just(Chunking::Auto),
        (1usize..8).prop_map(Chunking::Fixed),
        (1usize..8).prop_map(Chunking::Dynamic),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn map_agrees_with_a_sequential_loop(
        items in prop::collection::vec(arb_item(), 0..60),
        chunking in arb_chunking(),
        workers in 1usize..4,
    ) {
        let registry = Registry::builtins();
        let inc = registry.get("inc").unwrap();
        let want: Vec<Result<Value, String>> =
            items.iter().map(|v| inc(std::slice::from_ref(v)).map_err(|e| e.0)).collect();
        let threads = Pool::threads(workers);
        let procs = processes(workers.min(2));
        for got in [
            threads.map_results("inc", items.clone(), chunking).unwrap(),
            procs.map_results("inc", items.clone(), chunking).unwrap(),
        ] {
            let got: Vec<Result<Value, String>> = got
                .into_iter()
                .map(|r| r.map_err(|e| match e {
                    PoolError::Item { cause, .. } => cause,
                    other => format!("unexpected: {other}"),
                }))
                .collect();
            prop_assert_eq!(&got, &want);
        }
    }
}

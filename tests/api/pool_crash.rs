//! A crashing item under a process pool: only that item fails, naming the signal (the
//! rest of its chunk runs again and succeeds); a new worker replaces the dead one;
//! dropping the pool leaves no process behind.
//! (The test runs in a process of its own: the environment marker must not reach
//! other tests' workers.)

use taskloom::{Chunking, Pool, PoolError, Value};

use crate::harness::process::{in_own_process, marked_processes, unique_mark, MARK};

#[test]
fn a_crash_fails_only_its_item_and_the_pool_goes_on_and_leaves_no_process() {
    let test = "a_crash_fails_only_its_item_and_the_pool_goes_on_and_leaves_no_process";
    if !in_own_process(module_path!(), test) {
        return;
    }
    // Every worker, replacements too, inherits this marker: the process running the
    // test has no other test, so only this pool's workers carry it.
    let mark = unique_mark("pool");
    std::env::set_var(MARK, &mark);
    let pool = Pool::processes_of(2, Some(env!("CARGO_BIN_EXE_taskloom"))).unwrap();
    assert_eq!(marked_processes(&mark).len(), 2);
    // Item 5 kills its worker (the shell's parent) with SIGABRT.
    let items: Vec<String> = (0..10)
        .map(|i| {
            if i == 5 {
                "kill -ABRT $PPID".into()
            } else {
                format!("echo {i}")
            }
        })
        .collect();
    let results = pool
        .map_results("shell", items, Chunking::Fixed(2))
        .unwrap();
    for (i, r) in results.iter().enumerate() {
        if i == 5 {
            let err = r.as_ref().unwrap_err();
            assert!(matches!(err, PoolError::WorkerDied { .. }), "{err}");
            assert!(err.to_string().contains("SIGABRT"), "{err}");
        } else {
            assert_eq!(r, &Ok(Value::str(&i.to_string())), "item {i}");
        }
    }
    // The op `crash` aborts its worker: the call fails naming the signal.
    let crashed = pool
        .submit("crash", Vec::<Value>::new())
        .unwrap()
        .wait()
        .unwrap_err();
    assert!(crashed.to_string().contains("SIGABRT"), "{crashed}");
    // A new worker took each dead one's place.
    assert_eq!(
        pool.map("inc", 0..100i64, Chunking::Auto).unwrap().len(),
        100
    );
    assert_eq!(marked_processes(&mark).len(), 2);
    drop(pool);
    assert_eq!(
        marked_processes(&mark),
        Vec::<String>::new(),
        "workers left behind"
    );
}

//! A result is dropped as soon as its last consumer has run: the peak memory of a wide
//! reduction does not grow with the number of leaves already consumed; and an array
//! computed into memory is held about once, not once as blocks and again assembled.
//!
//! The test runs in a process of its own: the process's peak RSS (VmHWM) is then this
//! test's alone.

use taskloom::array::{Array, Engine};
use taskloom::graph::{parse, Chunk};
use taskloom::{Executor, Runtime, Sequential, Threads};

use crate::harness::process::in_own_process;

/// Peak resident memory of this process so far, in bytes.
fn peak_rss() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("Linux /proc");
    let line = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .expect("VmHWM");
    let kib: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024
}

#[test]
fn a_wide_tree_reduction_holds_few_leaves_at_once() {
    if !in_own_process(
        module_path!(),
        "a_wide_tree_reduction_holds_few_leaves_at_once",
    ) {
        return;
    }
    // 512 leaves of 200,000 values (4.8 MB each): 2.4 GB if all were held at once.
    let leaves = 512;
    let fan_in = 8;
    let mut text = String::new();
    for i in 0..leaves {
        text.push_str(&format!("leaf{i} = range(200000)\n"));
    }
    let mut level: Vec<String> = (0..leaves).map(|i| format!("len(leaf{i})")).collect();
    let mut depth = 0;
    while level.len() > 1 {
        depth += 1;
        level = level
            .chunks(fan_in)
            .enumerate()
            .map(|(j, group)| {
                let key = format!("s{depth}_{j}");
                text.push_str(&format!("{key} = sum([{}])\n", group.join(", ")));
                key
            })
            .collect();
    }
    let root = level.pop().unwrap();

    let before = peak_rss();
    let executors: [(&str, Box<dyn Executor + Send + Sync>); 2] = [
        ("sync", Box::new(Sequential::default())),
        ("threads", Box::new(Threads::new(2))),
    ];
    for (label, executor) in executors {
        let runtime = Runtime::new().with_boxed_executor(executor);
        let total = runtime.compute(parse(&text).unwrap(), &[&root]).unwrap();
        assert_eq!(
            total[0].to_json(),
            (leaves * 200_000).to_string(),
            "{label}"
        );
    }
    let growth = peak_rss().saturating_sub(before);
    // Two workers taking leaves in batches hold a few dozen leaves at most.
    assert!(
        growth < 400 << 20,
        "peak memory grew by {} MB: consumed leaves were not freed",
        growth >> 20
    );
}

#[test]
fn an_array_computed_into_memory_is_held_about_once() {
    if !in_own_process(
        module_path!(),
        "an_array_computed_into_memory_is_held_about_once",
    ) {
        return;
    }
    // 64 MiB of float64 in 16 blocks, sorted through files (its sort in memory would
    // take three times the limit); the result is as large as the limit.
    let (values, blocks) = (8 << 20, 16);
    let bytes = 8 * values as u64;
    let x = Array::random(&[values], &[values / blocks], 7)
        .and_then(|x| x.sort(false))
        .unwrap();
    let engine = Engine::new().workers(2).memory_limit(bytes);

    let before = peak_rss();
    let Chunk::F64(sorted) = engine.compute(&x).unwrap() else {
        panic!("random values sort to float64")
    };
    let growth = peak_rss().saturating_sub(before);
    let sorted = sorted.as_slice().expect("a result in C order");
    assert_eq!(sorted.len(), values);
    assert!(sorted.windows(2).all(|w| w[0] <= w[1]), "not in order");
    // The result, and each worker's task (a bucket or an output block read back,
    // with its buffers: a few blocks of 4 MiB). The result held twice (its blocks
    // and their copy side by side) is past this.
    let bound = bytes + bytes / 2;
    assert!(
        growth <= bound,
        "peak memory grew by {} MiB for a result of {} MiB, past {} MiB",
        growth >> 20,
        bytes >> 20,
        bound >> 20
    );
}

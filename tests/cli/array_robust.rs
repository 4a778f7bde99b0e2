//! `taskloom array` in a hostile world (issue: nothing lost, nothing left behind): a
//! run stopped by a signal at any moment removes what it wrote and exits 128 + the
//! signal; what a SIGKILLed run left is removed by the next; sizes that cannot fit are
//! refused at once, naming the size, under a memory cap that turns a regression into
//! a failure rather than an OOM; an array of one value is metadata alone; `--overwrite`
//! never removes a directory that is not a Zarr array; `--profile` and `--trace` are
//! written by every run, failed and interrupted ones too.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant, SystemTime};

use crate::harness::process::wait_for;
use crate::harness::{Dir, Outcome, TASKLOOM};

/// A write that runs for a second or more, so that signals land in the middle of it.
const LONG_WRITE: [&str; 11] = [
    "create",
    "out.zarr",
    "--shape",
    "3000,3000",
    "--chunks",
    "100,100",
    "--random",
    "--workers",
    "2",
    "--compression",
    "none",
];

/// The address space a refused command gets: far less than any of the sizes it is
/// given would take, so allocating in proportion to them fails the test at once.
const MEMORY_CAP: &str = "--as=2000000000";

/// The partial (temporary) arrays in the directory: `.NAME.*.partial`.
fn partials(ws: &Dir) -> Vec<String> {
    std::fs::read_dir(ws.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with('.') && n.ends_with(".partial"))
        .collect()
}

/// Waits until the run has made its partial array (it is writing chunks).
fn wait_for_partial(ws: &Dir) {
    assert!(
        wait_for(Duration::from_secs(60), || !partials(ws).is_empty()),
        "the write never started"
    );
}

/// A pseudo-random delay below `max_ms`, from a seed shown on failure.
fn delays(seed: u64, n: usize, max_ms: u64) -> Vec<Duration> {
    let mut state = seed | 1;
    (0..n)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            Duration::from_millis((state >> 33) % max_ms)
        })
        .collect()
}

#[test]
fn a_signal_at_any_moment_leaves_no_partial_array_and_exits_128_plus_it() {
    let seed = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let moments = delays(seed, 6, 800);
    for (signal, number) in [("HUP", 1), ("INT", 2), ("QUIT", 3), ("TERM", 15)] {
        for (n, delay) in moments.iter().enumerate() {
            let ws = Dir::new();
            let run = ws.command(&["array"]).args(&LONG_WRITE).spawn();
            wait_for_partial(&ws);
            std::thread::sleep(*delay);
            run.signal(signal);
            let outcome = run.wait();
            let context = format!("SIG{signal} after {delay:?} (seed {seed}, moment {n})");
            match outcome.code {
                // Finished before the signal: the array is complete.
                Some(0) => assert!(ws.path("out.zarr").exists(), "{context}"),
                _ => {
                    let message = outcome.failure(128 + number);
                    assert!(
                        message.contains(&format!("interrupted by SIG{signal}")),
                        "{context}: {message}"
                    );
                    assert!(!ws.path("out.zarr").exists(), "{context}: OUT was written");
                }
            }
            assert_eq!(partials(&ws), Vec::<String>::new(), "{context}");
        }
    }
}

#[test]
fn an_interrupted_sort_removes_its_scratch_too() {
    let ws = Dir::new();
    ws.create_array("v.zarr", "2000000", "100000", "float64", &["--random"]);
    let scratch = ws.path("tmp");
    std::fs::create_dir(&scratch).unwrap();
    let run = ws
        .command(&[
            "array",
            "sort",
            "v.zarr",
            "--out",
            "s.zarr",
            "--workers",
            "2",
            // 16 MB of values: too many to sort in memory, so the sort uses scratch.
            "--memory-limit",
            "16MiB",
        ])
        .env("TMPDIR", &scratch.display().to_string())
        .spawn();
    wait_for_partial(&ws);
    std::thread::sleep(Duration::from_millis(300));
    run.signal("TERM");
    let outcome = run.wait();
    if outcome.code != Some(0) {
        outcome.failure(128 + 15);
    }
    assert_eq!(partials(&ws), Vec::<String>::new());
    let left: Vec<_> = std::fs::read_dir(&scratch).unwrap().collect();
    assert!(left.is_empty(), "scratch left: {left:?}");
}

#[test]
fn what_a_sigkilled_write_left_is_removed_by_the_next_run() {
    let ws = Dir::new();
    let run = ws.command(&["array"]).args(&LONG_WRITE).spawn();
    wait_for_partial(&ws);
    run.signal("KILL");
    assert_eq!(run.wait().code, None, "the write finished before SIGKILL");
    let left = partials(&ws);
    assert_eq!(left.len(), 1, "{left:?}");
    // A partial array of a live writer (this test's pid) beside it stays.
    let live = format!(".out.zarr.{}-0123456789abcdef.partial", std::process::id());
    std::fs::create_dir(ws.path(&live)).unwrap();
    ws.array_write(&[
        "create", "out.zarr", "--shape", "10,10", "--chunks", "5,5", "--ones",
    ]);
    assert_eq!(
        partials(&ws),
        vec![live],
        "the killed write's partial array stayed"
    );
    assert_eq!(
        ws.array_print(&["reduce", "out.zarr", "--op", "sum"]),
        "100.0\n"
    );
}

/// Runs `taskloom array ARGS` in `ws` with its address space capped at [`MEMORY_CAP`].
fn capped(ws: &Dir, args: &[&str]) -> Outcome {
    let output = Command::new("prlimit")
        .arg(MEMORY_CAP)
        .arg(TASKLOOM)
        .arg("array")
        .args(args)
        .current_dir(ws.root())
        .output()
        .expect("run prlimit (util-linux)");
    Outcome {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
        context: format!("prlimit {MEMORY_CAP} taskloom array {}", args.join(" ")),
    }
}

#[test]
fn sizes_that_cannot_fit_are_refused_at_once_naming_the_size() {
    let ws = Dir::new();
    let cases: [(&[&str], &[&str]); 6] = [
        (
            &[
                "create",
                "big.zarr",
                "--shape",
                "100000000000,100000000000",
                "--chunks",
                "1000,1000",
                "--zeros",
            ],
            &[
                "(100000000000, 100000000000)",
                "10000000000000000000000 elements",
            ],
        ),
        (
            &[
                "create",
                "big.zarr",
                "--shape",
                "1000000000,1000000000",
                "--chunks",
                "1000,1000",
                "--random",
            ],
            &["(1000000000, 1000000000)", "tasks"],
        ),
        (
            &[
                "create",
                "big.zarr",
                "--shape",
                "10000000,10000000",
                "--chunks",
                "10000000,10000000",
                "--arange",
            ],
            &["800000000000000 bytes"],
        ),
        (
            &[
                "create",
                "big.zarr",
                "--shape",
                "4",
                "--chunks",
                "4611686018427387904",
                "--ones",
            ],
            &["chunk shape", "4611686018427387904 elements"],
        ),
        (
            &[
                "create",
                "big.zarr",
                "--shape",
                "18446744073709551615,18446744073709551615,18446744073709551615",
                "--chunks",
                "1,1,1",
                "--ones",
            ],
            &["more than 2^128 elements"],
        ),
        (
            &[
                "create",
                "big.zarr",
                "--shape",
                "1000000000,1000000",
                "--chunks",
                "1,1",
                "--fill",
                "3",
            ],
            &[],
        ),
    ];
    for (args, names) in cases {
        let started = Instant::now();
        let outcome = capped(&ws, args);
        let took = started.elapsed();
        assert!(
            took < Duration::from_secs(10),
            "{} took {took:?}",
            outcome.context
        );
        if names.is_empty() {
            // One value: metadata alone, however many chunks.
            outcome.silent();
            let info = ws.array_print(&["info", "big.zarr"]);
            assert!(info.contains("\"nbytes\": 8000000000000000"), "{info}");
            std::fs::remove_dir_all(ws.path("big.zarr")).unwrap();
            continue;
        }
        let message = outcome.failure(2);
        for name in names {
            assert!(message.contains(name), "expected {name:?} in {message:?}");
        }
        assert_eq!(ws.listing(), Vec::<String>::new(), "{}", outcome.context);
    }
    // A huge lazy array: the reduction is refused, not attempted block by block.
    ws.array_write(&[
        "create",
        "z.zarr",
        "--shape",
        "1000000000,1000000000",
        "--chunks",
        "1000,1000",
        "--zeros",
    ]);
    for args in [
        &["reduce", "z.zarr", "--op", "sum"][..],
        &["map", "z.zarr", "--op", "neg", "--out", "n.zarr"],
    ] {
        let outcome = capped(&ws, args);
        let message = outcome.failure(2);
        assert!(message.contains("tasks"), "{message}");
    }
    assert!(!ws.path("n.zarr").exists());
    assert_eq!(partials(&ws), Vec::<String>::new());
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    out.sort();
    out
}

#[test]
fn zeros_and_fill_write_no_chunk_files_and_read_back_their_value() {
    let ws = Dir::new();
    ws.create_array("z.zarr", "100,100", "10,10", "float64", &["--zeros"]);
    ws.create_array(
        "f.zarr",
        "5,4",
        "2,3",
        "int32",
        &["--fill", "-7", "--zarr-format", "2"],
    );
    ws.create_array("h.zarr", "3", "2", "float32", &["--fill", "0.5"]);
    assert_eq!(files(&ws.path("z.zarr")), ["zarr.json"]);
    assert_eq!(files(&ws.path("f.zarr")), [".zarray", ".zattrs"]);
    assert_eq!(files(&ws.path("h.zarr")), ["zarr.json"]);
    assert_eq!(
        ws.array_print(&["get", "z.zarr", "--index", "0:2,98:"]),
        "[[0.0,0.0],[0.0,0.0]]\n"
    );
    assert_eq!(
        ws.array_print(&["reduce", "z.zarr", "--op", "sum"]),
        "0.0\n"
    );
    assert_eq!(
        ws.array_print(&["get", "f.zarr", "--index", "4,1:"]),
        "[-7,-7,-7]\n"
    );
    assert_eq!(
        ws.array_print(&["reduce", "f.zarr", "--op", "sum"]),
        "-140\n"
    );
    assert_eq!(ws.array_print(&["get", "h.zarr"]), "[0.5,0.5,0.5]\n");
}

#[test]
fn overwrite_refuses_a_directory_that_is_not_a_zarr_array_and_keeps_its_files() {
    let ws = Dir::new();
    ws.create_array("a.zarr", "4", "2", "float64", &["--arange"]);
    std::fs::create_dir(ws.path("results")).unwrap();
    ws.create("results/notes.txt", "mine");
    let before = ws.listing();
    for args in [
        &[
            "create",
            "results",
            "--shape",
            "4",
            "--chunks",
            "2",
            "--zeros",
            "--overwrite",
        ][..],
        &[
            "map",
            "a.zarr",
            "--op",
            "neg",
            "--out",
            "results",
            "--overwrite",
        ],
    ] {
        let outcome = ws.array(args);
        let message = outcome.failure(2);
        assert!(
            message.contains("results") && message.contains("not a Zarr array"),
            "{message}"
        );
        assert_eq!(ws.listing(), before, "{}", outcome.context);
    }
    assert_eq!(ws.read("results/notes.txt"), "mine");
    // A Zarr array is still replaced.
    ws.array_write(&[
        "map",
        "a.zarr",
        "--op",
        "neg",
        "--out",
        "a.zarr",
        "--overwrite",
    ]);
    assert_eq!(
        ws.array_print(&["get", "a.zarr"]),
        "[-0.0,-1.0,-2.0,-3.0]\n"
    );
}

/// The trace's events (asserting it is a JSON list) and whether the profile is HTML.
fn timeline(ws: &Dir) -> (usize, bool) {
    let trace: serde_json::Value = serde_json::from_str(&ws.read("t.json"))
        .unwrap_or_else(|e| panic!("the trace is not JSON ({e}): {:?}", ws.read("t.json")));
    let events = trace
        .as_array()
        .or_else(|| trace["traceEvents"].as_array())
        .map_or(0, Vec::len);
    (events, ws.read("p.html").contains("<html"))
}

#[test]
fn profile_and_trace_are_written_by_every_run_failed_and_interrupted_too() {
    let ws = Dir::new();
    ws.array_write(&[
        "create",
        "r.zarr",
        "--shape",
        "40,40",
        "--chunks",
        "10,10",
        "--random",
        "--profile",
        "p.html",
        "--trace",
        "t.json",
    ]);
    assert_eq!(timeline(&ws), (16, true), "a write of 16 chunks");
    let sum = ws.array(&[
        "reduce",
        "r.zarr",
        "--op",
        "sum",
        "--profile",
        "p.html",
        "--trace",
        "t.json",
    ]);
    sum.ok();
    assert!(timeline(&ws).0 >= 16);

    // A corrupt chunk fails the run (exit 1): its timeline is still written.
    std::fs::remove_file(ws.path("p.html")).unwrap();
    std::fs::remove_file(ws.path("t.json")).unwrap();
    std::fs::write(ws.path("r.zarr/c/1/1"), b"not zstd").unwrap();
    let failed = ws.array(&[
        "reduce",
        "r.zarr",
        "--op",
        "max",
        "--profile",
        "p.html",
        "--trace",
        "t.json",
    ]);
    failed.failure(1);
    assert!(timeline(&ws).1, "no profile after a failed run");

    // An interrupted one too.
    std::fs::remove_file(ws.path("p.html")).unwrap();
    std::fs::remove_file(ws.path("t.json")).unwrap();
    let mut args = LONG_WRITE.to_vec();
    args.extend(["--profile", "p.html", "--trace", "t.json"]);
    let run = ws.command(&["array"]).args(&args).spawn();
    wait_for_partial(&ws);
    std::thread::sleep(Duration::from_millis(200));
    run.signal("INT");
    let outcome = run.wait();
    if outcome.code != Some(0) {
        outcome.failure(130);
    }
    assert!(timeline(&ws).1, "no profile after an interrupted run");
}

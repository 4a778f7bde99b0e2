//! The common options of `taskloom array` (contract: `docs/spec/array-cli.md`):
//! `--memory-limit` and `--workers` change how results are computed, never what they
//! are, and a small limit keeps an array larger than it out of memory; `--progress`
//! draws on stderr and leaves stdout pure JSON.

use crate::harness::array::{np, Reference};
use crate::harness::process::{self, in_own_process};
use crate::harness::Dir;

/// Settings under which every result must be the same.
const SETTINGS: [&[&str]; 4] = [
    &[],
    &["--memory-limit", "1MiB"],
    &["--workers", "1"],
    &["--memory-limit", "1MiB", "--workers", "1"],
];

#[test]
fn memory_limit_and_one_worker_give_the_same_results() {
    let ws = Dir::new();
    // 960 KiB and 640 KiB: each close to the limit, with ragged chunks.
    ws.create_array(
        "a.zarr",
        "384,320",
        "70,50",
        "float64",
        &["--random", "--seed", "1"],
    );
    ws.create_array(
        "b.zarr",
        "320,256",
        "64,60",
        "float64",
        &["--random", "--seed", "2"],
    );
    ws.create_array(
        "v.zarr",
        "100000",
        "7000",
        "float64",
        &["--random", "--seed", "3"],
    );
    ws.create_array("row.zarr", "320", "100", "int32", &["--arange"]);
    let printing: [&[&str]; 6] = [
        &["reduce", "a.zarr", "--op", "sum"],
        &["reduce", "a.zarr", "--op", "var", "--axis", "0"],
        &["reduce", "v.zarr", "--op", "max"],
        &["topk", "v.zarr", "-k", "7"],
        &["topk", "a.zarr", "-k", "5", "--smallest"],
        &["slice", "a.zarr", "--index", "::50,-3:"],
    ];
    let expected = [
        np::reduce("sum", None, np::read("a.zarr")),
        np::reduce("var", Some(0), np::read("a.zarr")),
        np::reduce("max", None, np::read("v.zarr")),
        np::topk(7, false, np::read("v.zarr")),
        np::topk(5, true, np::read("a.zarr")),
        np::index("::50,-3:", np::read("a.zarr")),
    ];
    let mut reference = Reference::new(&ws);
    let first: Vec<String> = printing.iter().map(|args| ws.array_print(args)).collect();
    for (n, settings) in SETTINGS.iter().enumerate() {
        for ((args, expect), first) in printing.iter().zip(&expected).zip(&first) {
            let all: Vec<&str> = args.iter().chain(settings.iter()).copied().collect();
            let printed = ws.array_print(&all);
            assert_eq!(&printed, first, "{all:?} printed something else");
            reference.printed(&all.join(" "), expect.clone(), &printed);
        }
        let outputs = [
            (
                format!("mm{n}.zarr"),
                np::matmul(np::read("a.zarr"), np::read("b.zarr")),
            ),
            (
                format!("sorted{n}.zarr"),
                np::sort(true, np::read("v.zarr")),
            ),
            (format!("t{n}.zarr"), np::transpose(np::read("a.zarr"))),
            (
                format!("sum{n}.zarr"),
                np::binary("add", np::read("a.zarr"), np::read("row.zarr")),
            ),
            (format!("re{n}.zarr"), np::read("a.zarr")),
        ];
        let writing: [Vec<&str>; 5] = [
            vec!["matmul", "a.zarr", "b.zarr", "--out", &outputs[0].0],
            vec!["sort", "v.zarr", "--descending", "--out", &outputs[1].0],
            vec!["transpose", "a.zarr", "--out", &outputs[2].0],
            vec![
                "binary",
                "a.zarr",
                "row.zarr",
                "--op",
                "add",
                "--out",
                &outputs[3].0,
            ],
            vec![
                "rechunk",
                "a.zarr",
                "--chunks",
                "128,128",
                "--out",
                &outputs[4].0,
            ],
        ];
        for (mut args, (out, expect)) in writing.into_iter().zip(outputs.iter()) {
            args.extend_from_slice(settings);
            ws.array_write(&args);
            reference.stored(&args.join(" "), expect.clone(), out);
        }
    }
    reference.verify();
}

/// Runs `taskloom array ARGS...` in `dir`: its exit code and peak resident memory.
fn peak_memory(dir: &Dir, args: &[&str]) -> (i32, u64) {
    process::peak_memory(dir.command(&["array"]).args(args))
}

#[test]
fn a_memory_limit_keeps_an_array_larger_than_it_out_of_memory() {
    let test = "a_memory_limit_keeps_an_array_larger_than_it_out_of_memory";
    if !in_own_process(module_path!(), test) {
        return;
    }
    let ws = Dir::new();
    // 64 MiB in chunks of 512 KiB.
    ws.create_array("big.zarr", "8388608", "65536", "float64", &["--random"]);
    let array = 64 << 20;
    for args in [
        &["reduce", "big.zarr", "--op", "std"][..],
        &["topk", "big.zarr", "-k", "10"][..],
        &["map", "big.zarr", "--op", "exp", "--out", "exp.zarr"][..],
        &[
            "slice",
            "big.zarr",
            "--index",
            "1:",
            "--out",
            "shifted.zarr",
        ][..],
        &["scale", "big.zarr", "--by", "2", "--out", "scaled.zarr"][..],
    ] {
        let all: Vec<&str> = args
            .iter()
            .chain(&["--memory-limit", "1MiB"])
            .copied()
            .collect();
        let (code, peak) = peak_memory(&ws, &all);
        assert_eq!(code, 0, "{all:?}");
        assert!(
            peak < array * 3 / 4,
            "{all:?} held {} MiB for a 64 MiB array",
            peak >> 20
        );
    }
}

#[test]
fn progress_draws_on_stderr_and_leaves_stdout_pure_json() {
    let ws = Dir::new();
    ws.create_array("a.zarr", "300,200", "20,20", "float64", &["--random"]);
    for args in [
        &["reduce", "a.zarr", "--op", "mean"][..],
        &["reduce", "a.zarr", "--op", "sum", "--axis", "1"][..],
        &["topk", "a.zarr", "-k", "3"][..],
        &["get", "a.zarr", "--index", "5,:4"][..],
    ] {
        let quiet = ws.array_print(args);
        let mut with_bar: Vec<&str> = args.to_vec();
        with_bar.push("--progress");
        let run = ws.array(&with_bar);
        assert_eq!(run.code, Some(0), "{with_bar:?}: {}", run.stderr);
        assert_eq!(run.stdout, quiet, "{with_bar:?}: stdout changed");
        assert!(
            run.stderr.contains("tasks"),
            "{with_bar:?}: no bar in {:?}",
            run.stderr
        );
        let mut refused: Vec<&str> = args.to_vec();
        refused.push("--no-progress");
        assert_eq!(ws.array_print(&refused), quiet);
    }
    let run = ws.array(&[
        "map",
        "a.zarr",
        "--op",
        "abs",
        "--out",
        "abs.zarr",
        "--progress",
    ]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (Some(0), ""),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("tasks"), "no bar in {:?}", run.stderr);
    let mut reference = Reference::new(&ws);
    reference.stored(
        "map --progress",
        np::map("abs", np::read("a.zarr")),
        "abs.zarr",
    );
    reference.verify();
}

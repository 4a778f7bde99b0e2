//! `taskloom array --executor mpi` under a real `mpirun` with 2 and 3 ranks: the same
//! stdout, stderr and exit code as threads, and the same files written byte for byte,
//! for printed results, written arrays and errors (bad input, a corrupt chunk read on
//! a worker rank, an existing OUT); a signal forwarded by mpirun stops a write on
//! every rank, leaving nothing.

use std::time::Duration;

use crate::harness::mpi::{mpirun, Fabric};
use crate::harness::process::wait_for;
use crate::harness::Dir;

/// `r.zarr` (float64 random, 40x30 in 7x9 chunks: ragged edges), `i.zarr` (int32
/// range, same grid), `v.zarr` (float64 range, 1-D in 5 chunks), `m.zarr` (30x20).
fn workspace() -> Dir {
    let ws = Dir::new();
    ws.create_array(
        "r.zarr",
        "40,30",
        "7,9",
        "float64",
        &["--random", "--seed", "3"],
    );
    ws.create_array("i.zarr", "40,30", "7,9", "int32", &["--arange"]);
    ws.create_array("v.zarr", "23", "5", "float64", &["--random", "--seed", "5"]);
    ws.create_array(
        "m.zarr",
        "30,20",
        "8,8",
        "float64",
        &["--random", "--seed", "7"],
    );
    ws
}

#[test]
fn printed_results_match_threads() {
    let ws = workspace();
    for args in [
        &["reduce", "r.zarr", "--op", "sum"][..],
        &["reduce", "i.zarr", "--op", "sum"],
        &["reduce", "r.zarr", "--op", "mean", "--fan-in", "2"],
        &["reduce", "i.zarr", "--op", "max", "--axis", "0"],
        &["reduce", "r.zarr", "--op", "min", "--axis", "-1"],
        &["map", "v.zarr", "--op", "sqrt"],
        &["binary", "r.zarr", "i.zarr", "--op", "mul"],
        &["slice", "r.zarr", "--index", "3:17,5"],
        &["topk", "r.zarr", "-k", "5"],
        &["get", "i.zarr", "--index", "-1"],
        &["info", "r.zarr"],
    ] {
        let out = ws.array_under_mpi_too(args);
        assert!(!out.ok().is_empty(), "`{}` printed nothing", out.context);
    }
}

#[test]
fn written_arrays_match_threads_byte_for_byte() {
    let ws = workspace();
    // Each writes `OUT` (a name of its own), then replaces it with other encoding.
    for args in [
        &[
            "create", "OUT", "--shape", "50,40", "--chunks", "9,7", "--random",
        ][..],
        &[
            "create",
            "OUT",
            "--shape",
            "9",
            "--chunks",
            "4",
            "--arange",
            "--zarr-format",
            "2",
        ],
        &["map", "r.zarr", "--op", "exp", "--out", "OUT"],
        &[
            "binary", "r.zarr", "i.zarr", "--op", "add", "--out", "OUT", "--chunks", "11,4",
        ],
        &["scale", "i.zarr", "--by", "2", "--add", "1", "--out", "OUT"],
        &["transpose", "r.zarr", "--out", "OUT"],
        &["matmul", "r.zarr", "m.zarr", "--out", "OUT"],
        &["rechunk", "i.zarr", "--chunks", "13,13", "--out", "OUT"],
        &["sort", "v.zarr", "--descending", "--out", "OUT"],
        &[
            "reduce", "r.zarr", "--op", "sum", "--axis", "1", "--out", "OUT",
        ],
    ]
    .iter()
    .enumerate()
    {
        let out = format!("o{}.zarr", args.0);
        let args: Vec<&str> = args
            .1
            .iter()
            .map(|&a| if a == "OUT" { &out } else { a })
            .collect();
        ws.array_under_mpi_too(&args).silent();
        ws.array_under_mpi_too(&[&args[..], &["--overwrite", "--compression", "none"]].concat())
            .silent();
    }
}

#[test]
fn errors_match_threads_and_write_nothing() {
    let ws = workspace();
    // Refused by rank 0 before any task runs.
    ws.array_under_mpi_too(&["reduce", "nothing.zarr", "--op", "sum"])
        .error(2);
    ws.array_under_mpi_too(&["binary", "r.zarr", "v.zarr", "--op", "add"])
        .error(2);
    ws.array_under_mpi_too(&["reduce", "r.zarr", "--op", "sum", "--axis", "2"])
        .error(2);
    ws.array_under_mpi_too(&["map", "r.zarr", "--op", "abs", "--out", "i.zarr"])
        .error(2);
    // A corrupt chunk fails a task on whichever rank reads it: exit 1 naming it (which
    // task reads it first varies, on threads too), and a failed write leaves nothing.
    std::fs::write(ws.path("r.zarr").join("c/3/2"), b"garbage, not a chunk").unwrap();
    for args in [
        &["reduce", "r.zarr", "--op", "sum"][..],
        &["map", "r.zarr", "--op", "abs", "--out", "o.zarr"],
        &["rechunk", "r.zarr", "--chunks", "5,5", "--out", "o.zarr"],
    ] {
        let before = ws.listing();
        for out in [ws.array(args), ws.array_mpi(2, args), ws.array_mpi(3, args)] {
            let message = out.failure(1);
            assert!(
                message.contains("chunk [3, 2] of r.zarr is corrupt"),
                "{message}"
            );
            assert_eq!(ws.listing(), before, "`{}` left files", out.context);
        }
    }
}

#[test]
fn a_signal_forwarded_to_every_rank_stops_a_write_leaving_nothing() {
    let ws = Dir::new();
    let before = ws.listing();
    // A write of several seconds, every rank writing some: 3,600 chunks (288 MB). A
    // shorter one (900 chunks took 0.5 s) may end before the signal, which then finds
    // rank 0 past its job, where SIGUSR1 ends the process with no message.
    let run = mpirun(ws.root(), 3, Fabric::SharedMemory)
        .args(&[
            "array",
            "create",
            "out.zarr",
            "--shape",
            "6000,6000",
            "--chunks",
        ])
        .args(&[
            "100,100",
            "--random",
            "--compression",
            "none",
            "--executor",
            "mpi",
        ])
        .spawn();
    let writing = || {
        ws.listing()
            .iter()
            .any(|name| name.ends_with(".partial") && !name.contains('/'))
    };
    assert!(
        wait_for(Duration::from_secs(60), writing),
        "the write never started"
    );
    // mpirun forwards SIGUSR1 to every rank, as Slurm's `--signal` reaches them all.
    run.signal("USR1");
    let out = run.wait();
    assert!(
        out.error(138).contains("interrupted by SIGUSR1"),
        "{}",
        out.stderr
    );
    assert_eq!(ws.listing(), before, "the stopped write left files");
}

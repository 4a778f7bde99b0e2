//! Every subcommand in a hostile environment: its stdout closed by the reader or on a
//! full disk, its stderr unwritable, and its single-file outputs (`--out`, `--profile`,
//! `--trace`, `--plot`) symlinks, FIFOs, devices and paths that cannot be written.
//!
//! - Never exit 101 and never a panic: I/O failures are messages and exit codes.
//! - A stdout closed by its reader (`| head`) ends the command quietly with exit 0; any
//!   other stdout failure (`/dev/full`) is exit 1 and a message naming stdout.
//! - An output is written where the user said: a symlink's target (a dangling link
//!   creates it), a FIFO or device in place; a regular file atomically, keeping its mode,
//!   and a new one with 0666 less the umask. A path that cannot be written fails before
//!   the work (exit 2, naming the path); a write that fails after it still prints the
//!   results first (exit 1). Nothing else is left in the directory, no temporary file.

use std::fs::{self, File};
use std::io::Read;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{Dir, Outcome, TASKLOOM};

/// A graph fast enough to run many times.
const GRAPH: &str = "a = inc(1)\nb = add(a, 2)\n";

/// A graph that takes seconds: a check that comes after the work would show.
const SLOW_GRAPH: &str = "a = sleep(3000, 1)\n";

/// Under this, a command refused its output before running [`SLOW_GRAPH`].
const BEFORE_THE_WORK: Duration = Duration::from_millis(2000);

/// A workspace with the graphs and arrays every command below reads.
fn workspace() -> Dir {
    let dir = Dir::new();
    dir.create("g.tl", GRAPH);
    dir.create("slow.tl", SLOW_GRAPH);
    dir.create_array("a.zarr", "100", "10", "float64", &["--arange"]);
    dir.create_array("m.zarr", "4,4", "2,2", "float64", &["--arange"]);
    dir.taskloom(&["run", "g.tl", "--checkpoint", "ck"]).ok();
    dir
}

/// Every subcommand (from `src/cli/mod.rs`), each array command too, with options that
/// print to stdout where the command can; those that write an array print nothing.
/// `map` is here as well: its own output rules are tested in `map_*` below.
const EVERY_COMMAND: &[&[&str]] = &[
    &["--help"],
    &["--version"],
    &["run", "g.tl"],
    &[
        "run",
        "g.tl",
        "--get",
        "b",
        "--executor",
        "processes",
        "--workers",
        "2",
    ],
    &["run", "g.tl", "--checkpoint", "ck"],
    &["checkpoint", "ck", "--stats"],
    &["checkpoint", "ck", "--clear"],
    &["graph", "g.tl"],
    &["graph", "g.tl", "--format", "svg"],
    &[
        "plan",
        "--tasks",
        "125",
        "--task-seconds",
        "70s",
        "--deadline",
        "20m",
    ],
    &[
        "plan",
        "--tasks",
        "125",
        "--task-seconds",
        "70s",
        "--deadline",
        "20m",
        "--json",
    ],
    &["scale", "g.tl", "--workers", "1,2", "--repeat", "1"],
    &["simulate", "g.tl", "--workers", "2"],
    &[
        "array",
        "create",
        "c.zarr",
        "--shape",
        "10",
        "--chunks",
        "5",
        "--zeros",
        "--overwrite",
    ],
    &["array", "info", "a.zarr"],
    &["array", "reduce", "a.zarr", "--op", "sum", "--axis", "0"],
    &["array", "map", "a.zarr", "--op", "neg"],
    &["array", "binary", "a.zarr", "a.zarr", "--op", "add"],
    &[
        "array",
        "scale",
        "a.zarr",
        "--by",
        "2",
        "--out",
        "s.zarr",
        "--overwrite",
    ],
    &[
        "array",
        "transpose",
        "m.zarr",
        "--out",
        "t.zarr",
        "--overwrite",
    ],
    &[
        "array",
        "matmul",
        "m.zarr",
        "m.zarr",
        "--out",
        "mm.zarr",
        "--overwrite",
    ],
    &[
        "array",
        "rechunk",
        "a.zarr",
        "--chunks",
        "20",
        "--out",
        "r.zarr",
        "--overwrite",
    ],
    &["array", "slice", "a.zarr", "--index", "0:10"],
    &["array", "topk", "a.zarr", "-k", "3"],
    &[
        "array",
        "sort",
        "a.zarr",
        "--out",
        "sorted.zarr",
        "--overwrite",
    ],
    &["array", "get", "a.zarr", "--index", "0:100"],
    &["map", "--", "echo", "{}", ":::", "x", "y"],
];

/// `taskloom ARGS...` in `dir` with the given standard streams (stdin empty).
fn taskloom(dir: &Dir, args: &[&str], stdout: Stdio, stderr: Stdio) -> Outcome {
    let output = Command::new(TASKLOOM)
        .current_dir(dir.root())
        .args(args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .output()
        .expect("run taskloom");
    Outcome {
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        code: output.status.code(),
        context: format!("taskloom {}", args.join(" ")),
    }
}

/// `taskloom ARGS...` in `dir`, stdout and stderr captured.
fn captured(dir: &Dir, args: &[&str]) -> Outcome {
    taskloom(dir, args, Stdio::piped(), Stdio::piped())
}

/// A writer on `/dev/full`: every write fails with ENOSPC.
fn dev_full() -> Stdio {
    File::options()
        .write(true)
        .open("/dev/full")
        .expect("open /dev/full")
        .into()
}

/// Asserts the command exited with `code` (not by a signal, not 101) without a crash.
fn assert_exit(outcome: &Outcome, code: i32) {
    assert_eq!(
        outcome.code,
        Some(code),
        "exit code\n{}\nstdout: {}\nstderr: {}",
        outcome.context,
        outcome.stdout,
        outcome.stderr
    );
    outcome.assert_no_panic();
}

fn is_root() -> bool {
    rustix::process::geteuid().is_root()
}

#[test]
fn a_stdout_closed_before_the_first_write_ends_every_command_quietly() {
    let dir = workspace();
    for args in EVERY_COMMAND {
        let (reader, writer) = std::io::pipe().expect("pipe");
        drop(reader);
        let outcome = taskloom(&dir, args, writer.into(), Stdio::piped());
        assert_exit(&outcome, 0);
        assert_eq!(outcome.stderr, "", "quietly\n{}", outcome.context);
    }
}

#[test]
fn a_reader_that_stops_early_ends_the_command_quietly() {
    let dir = workspace();
    dir.create_array("big.zarr", "200000", "50000", "float64", &["--arange"]);
    let cases: &[&[&str]] = &[
        &["array", "get", "big.zarr", "--index", "0:200000"],
        &["array", "get", "big.zarr"],
        &["array", "reduce", "m.zarr", "--op", "sum", "--axis", "0"],
        &[
            "plan",
            "--tasks",
            "1",
            "--task-seconds",
            "1",
            "--deadline",
            "1",
        ],
        &["map", "--", "seq", ":::", "100000", "200000"],
    ];
    for args in cases {
        let (mut reader, writer) = std::io::pipe().expect("pipe");
        let mut command = Command::new(TASKLOOM);
        command.current_dir(dir.root()).args(*args);
        let child = command
            .stdin(Stdio::null())
            .stdout(writer)
            .stderr(Stdio::piped())
            .spawn()
            .expect("start taskloom");
        // `| head -c 5`: five bytes, then the reader is gone.
        let mut head = [0u8; 5];
        reader.read_exact(&mut head).expect("the first bytes");
        drop(reader);
        let output = child.wait_with_output().expect("wait for taskloom");
        let outcome = Outcome {
            stdout: String::new(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            code: output.status.code(),
            context: format!("taskloom {} | head -c 5", args.join(" ")),
        };
        assert_exit(&outcome, 0);
        assert_eq!(outcome.stderr, "", "quietly\n{}", outcome.context);
    }
}

#[test]
fn a_full_stdout_is_an_error_naming_stdout_for_every_command_that_prints() {
    let dir = workspace();
    for args in EVERY_COMMAND.iter().filter(|a| a[0] != "map") {
        let prints = !captured(&dir, args).stdout.is_empty();
        let outcome = taskloom(&dir, args, dev_full(), Stdio::piped());
        if prints {
            assert_exit(&outcome, 1);
            assert_eq!(
                outcome.stderr.trim_end(),
                "taskloom: error: cannot write to stdout: No space left on device (os error 28)",
                "{}",
                outcome.context
            );
        } else {
            assert_exit(&outcome, 0);
            assert_eq!(outcome.stderr, "", "{}", outcome.context);
        }
    }
}

#[test]
fn map_on_a_full_stdout_reports_the_items_it_could_not_deliver() {
    let dir = workspace();
    let outcome = taskloom(
        &dir,
        &["map", "--", "echo", "{}", ":::", "x", "y"],
        dev_full(),
        Stdio::piped(),
    );
    assert_ne!(outcome.code, Some(0), "{}", outcome.context);
    outcome.assert_no_panic();
    assert!(outcome.stderr.contains("stdout"), "{}", outcome.stderr);
}

#[test]
fn an_unwritable_stderr_loses_the_message_not_the_exit_code() {
    let dir = workspace();
    let cases: &[(&[&str], i32)] = &[
        (&["run", "missing.tl"], 2),
        (&["run", "g.tl", "--get", "nope"], 2),
        (
            &[
                "plan",
                "--tasks",
                "1",
                "--task-seconds",
                "2s",
                "--deadline",
                "1s",
            ],
            2,
        ),
        (&["array", "get", "missing.zarr"], 2),
        (&["run", "g.tl", "--dry-run"], 0),
        (&["map", "--stats", "--", "true", ":::", "a"], 0),
        (&["map", "--", "false", ":::", "a"], 1),
        (&["--bogus"], 2),
    ];
    for (args, code) in cases {
        let outcome = taskloom(&dir, args, Stdio::piped(), dev_full());
        assert_eq!(
            outcome.code,
            Some(*code),
            "taskloom {} 2>/dev/full",
            args.join(" ")
        );
    }
}

/// A command writing the single-file output `out`, and what it prints on stdout.
struct SideOutput {
    args: Vec<String>,
    /// Whether stdout carries results besides the file.
    prints: bool,
}

/// Every single-file output option, writing `out` (a name ending in `.svg`, which
/// `--plot` needs).
fn side_outputs(out: &str) -> Vec<SideOutput> {
    let case = |args: &[&str], prints| SideOutput {
        args: args.iter().map(|s| s.replace("OUT", out)).collect(),
        prints,
    };
    vec![
        case(&["run", "g.tl", "--profile", "OUT"], true),
        case(&["run", "g.tl", "--trace", "OUT"], true),
        case(
            &["run", "g.tl", "--executor", "processes", "--profile", "OUT"],
            true,
        ),
        case(&["graph", "g.tl", "--out", "OUT"], false),
        case(&["graph", "g.tl", "--format", "svg", "--out", "OUT"], false),
        case(
            &[
                "scale",
                "g.tl",
                "--workers",
                "1,2",
                "--repeat",
                "1",
                "--plot",
                "OUT",
            ],
            true,
        ),
    ]
}

impl SideOutput {
    fn run(&self, dir: &Dir) -> Outcome {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        captured(dir, &args)
    }

    /// The same command on `slow.tl`, which takes seconds to run.
    fn run_slow(&self, dir: &Dir) -> (Outcome, Duration) {
        let args: Vec<&str> = self
            .args
            .iter()
            .map(|a| if a == "g.tl" { "slow.tl" } else { a.as_str() })
            .collect();
        let started = Instant::now();
        let outcome = captured(dir, &args);
        (outcome, started.elapsed())
    }
}

#[test]
fn a_symlinked_output_writes_its_target_and_keeps_the_link_and_the_mode() {
    for case in side_outputs("link.svg") {
        let dir = workspace();
        dir.create("real.svg", "old");
        fs::set_permissions(dir.path("real.svg"), fs::Permissions::from_mode(0o640)).unwrap();
        std::os::unix::fs::symlink("real.svg", dir.path("link.svg")).unwrap();
        let before = dir.listing();
        let outcome = case.run(&dir);
        assert_exit(&outcome, 0);
        assert_eq!(outcome.stderr, "", "{}", outcome.context);
        assert_eq!(
            fs::read_link(dir.path("link.svg")).unwrap(),
            Path::new("real.svg")
        );
        let written = dir.read("real.svg");
        assert!(written.len() > 3 && written != "old", "{}", outcome.context);
        let mode = fs::metadata(dir.path("real.svg"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(
            mode & 0o777,
            0o640,
            "the target keeps its mode\n{}",
            outcome.context
        );
        assert_eq!(dir.listing(), before, "nothing else\n{}", outcome.context);
    }
}

#[test]
fn a_dangling_symlink_creates_its_target() {
    for case in side_outputs("link.svg") {
        let dir = workspace();
        fs::create_dir(dir.path("sub")).unwrap();
        std::os::unix::fs::symlink("sub/made.svg", dir.path("link.svg")).unwrap();
        let outcome = case.run(&dir);
        assert_exit(&outcome, 0);
        assert!(fs::symlink_metadata(dir.path("link.svg"))
            .unwrap()
            .is_symlink());
        assert!(!dir.read("sub/made.svg").is_empty(), "{}", outcome.context);
        assert_eq!(
            fs::read_dir(dir.path("sub")).unwrap().count(),
            1,
            "only the target\n{}",
            outcome.context
        );
    }
}

#[test]
fn a_fifo_is_written_in_place_for_its_reader() {
    for case in side_outputs("fifo.svg") {
        let dir = workspace();
        let fifo = dir.path("fifo.svg");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        let reader = {
            let fifo = fifo.clone();
            std::thread::spawn(move || fs::read(fifo).expect("read the FIFO"))
        };
        let outcome = case.run(&dir);
        // Should the command not have opened the FIFO, let the reader see an end.
        let _ = File::options()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(&fifo);
        let read = reader.join().unwrap();
        assert_exit(&outcome, 0);
        assert!(
            !read.is_empty(),
            "the reader got the output\n{}",
            outcome.context
        );
        let kind = fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(kind.is_fifo(), "still a FIFO\n{}", outcome.context);
    }
}

#[test]
fn a_device_is_written_in_place_and_a_full_one_fails_after_the_results() {
    for case in side_outputs("full.svg") {
        let dir = workspace();
        std::os::unix::fs::symlink("/dev/full", dir.path("full.svg")).unwrap();
        let before = dir.listing();
        let outcome = case.run(&dir);
        assert_exit(&outcome, 1);
        assert_eq!(
            outcome.stderr.trim_end(),
            "taskloom: error: cannot write full.svg: No space left on device (os error 28)",
            "{}",
            outcome.context
        );
        if case.prints {
            assert!(
                !outcome.stdout.is_empty(),
                "results first\n{}",
                outcome.context
            );
            if case.args[0] == "run" {
                assert_eq!(outcome.stdout, "{\"b\":4}\n", "{}", outcome.context);
            }
        }
        assert!(fs::metadata("/dev/full")
            .unwrap()
            .file_type()
            .is_char_device());
        assert_eq!(
            dir.listing(),
            before,
            "no temporary file\n{}",
            outcome.context
        );
    }
}

#[test]
fn dev_null_and_dev_stdout_are_written_in_place() {
    let dir = workspace();
    let outcome = captured(&dir, &["run", "g.tl", "--profile", "/dev/null"]);
    assert_eq!(outcome.ok(), "{\"b\":4}\n");
    assert!(fs::metadata("/dev/null")
        .unwrap()
        .file_type()
        .is_char_device());
    let dot = captured(&dir, &["graph", "g.tl"]);
    let outcome = captured(&dir, &["graph", "g.tl", "--out", "/dev/stdout"]);
    assert_eq!(outcome.ok(), dot.ok());
}

#[test]
fn a_path_that_cannot_be_written_fails_before_the_work_naming_it() {
    let mut paths = vec![
        ("missing/out.svg", "No such file or directory"),
        ("g.tl/out.svg", "Not a directory"),
        ("adir.svg", "Is a directory"),
        ("loop.svg", "Too many levels of symbolic links"),
    ];
    // Root writes whatever the permissions say.
    if !is_root() {
        paths.push(("ro/out.svg", "Permission denied"));
        paths.push(("locked.svg", "Permission denied"));
    }
    for (path, reason) in paths {
        for case in side_outputs(path) {
            let dir = workspace();
            fs::create_dir(dir.path("adir.svg")).unwrap();
            fs::create_dir(dir.path("ro")).unwrap();
            fs::set_permissions(dir.path("ro"), fs::Permissions::from_mode(0o555)).unwrap();
            dir.create("locked.svg", "keep");
            fs::set_permissions(dir.path("locked.svg"), fs::Permissions::from_mode(0o444)).unwrap();
            std::os::unix::fs::symlink("loop.svg", dir.path("loop.svg")).unwrap();
            let before = dir.listing();
            let (outcome, spent) = case.run_slow(&dir);
            let message = outcome.error(2);
            assert!(
                message.starts_with(&format!("taskloom: error: cannot write {path}: {reason}")),
                "{message}\n{}",
                outcome.context
            );
            assert!(
                spent < BEFORE_THE_WORK,
                "took {spent:?}\n{}",
                outcome.context
            );
            assert_eq!(
                dir.listing(),
                before,
                "nothing written\n{}",
                outcome.context
            );
            assert_eq!(dir.read("locked.svg"), "keep");
        }
    }
}

#[test]
fn a_new_output_gets_the_mode_the_umask_gives() {
    for (umask, mode) in [("022", 0o644), ("027", 0o640), ("000", 0o666)] {
        for case in side_outputs("new.svg") {
            let dir = workspace();
            let script = format!("umask {umask} && exec \"$0\" \"$@\"");
            let status = Command::new("sh")
                .current_dir(dir.root())
                .arg("-c")
                .arg(script)
                .arg(TASKLOOM)
                .args(&case.args)
                .stdout(Stdio::null())
                .status()
                .expect("run sh");
            assert!(status.success(), "umask {umask}: {:?}", case.args);
            let got = fs::metadata(dir.path("new.svg"))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(got & 0o777, mode, "umask {umask}: {:?}", case.args);
        }
    }
}

#[test]
fn an_existing_output_is_replaced_whole_keeping_its_mode() {
    for case in side_outputs("out.svg") {
        let dir = workspace();
        dir.create("out.svg", &"x".repeat(1 << 20));
        fs::set_permissions(dir.path("out.svg"), fs::Permissions::from_mode(0o604)).unwrap();
        let before = dir.listing();
        let outcome = case.run(&dir);
        assert_exit(&outcome, 0);
        let written = dir.read("out.svg");
        assert!(
            !written.contains("xxxx"),
            "replaced whole\n{}",
            outcome.context
        );
        let mode = fs::metadata(dir.path("out.svg"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o604, "{}", outcome.context);
        assert_eq!(dir.listing(), before, "{}", outcome.context);
    }
}

#[test]
fn an_existing_array_out_is_refused_naming_it_and_the_option_that_replaces_it() {
    let dir = workspace();
    let outcome = captured(
        &dir,
        &[
            "array", "create", "a.zarr", "--shape", "3", "--chunks", "3", "--zeros",
        ],
    );
    assert_eq!(
        outcome.failure(2).trim_end(),
        "taskloom: error: a.zarr already exists (use --overwrite)"
    );
}

//! `--memory-limit` is a bound (contract: docs/spec/array-cli.md): results waiting for
//! their consumers past it go to scratch files and come back when needed, so a run's
//! peak memory stays within the limit plus one task's working set per worker plus the
//! process's own; the same values as without a limit; the bytes written out on the
//! progress bar and in the profile; no scratch left after a success or a signal, and
//! what a run killed outright left removed by the next run (a live run's kept). For
//! `taskloom array` and for graphs (`taskloom run --memory-limit`).

use std::path::Path;
use std::time::Duration;

use crate::harness::process::{in_own_process, peak_memory, wait_for};
use crate::harness::Dir;

const MIB: u64 = 1 << 20;

/// The spill directories under `tmp` (`taskloom-spill-*`) and what they hold.
fn scratch_in(tmp: &Path) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(tmp).unwrap() {
        let entry = entry.unwrap();
        found.push(entry.file_name().to_string_lossy().into_owned());
        if entry.path().is_dir() {
            for inner in std::fs::read_dir(entry.path()).into_iter().flatten() {
                found.push(inner.unwrap().file_name().to_string_lossy().into_owned());
            }
        }
    }
    found
}

/// A summary row of a profile: the text of `<td>` after `<th>name</th>`.
fn profile_row(html: &str, name: &str) -> String {
    let head = format!("<tr><th>{name}</th><td>");
    let start = html.find(&head).unwrap_or_else(|| panic!("no row {name}")) + head.len();
    html[start..].split('<').next().unwrap().to_string()
}

/// Lists of 20,000 ints (about 480 KB held each), summed, one kept whole: a graph of
/// big values (for the MPI executor's spill test too); `tail` is more graph text.
pub(super) fn big_lists(tail: &str) -> String {
    let mut src = String::new();
    for i in 0..12 {
        src.push_str(&format!("a{i} = range({i}, {})\n", i + 20_000));
        src.push_str(&format!("s{i} = sum(a{i})\n"));
    }
    let sums: Vec<String> = (0..12).map(|i| format!("s{i}")).collect();
    src.push_str(&format!("total = sum(list({}))\n", sums.join(", ")));
    src.push_str("joined = len(concat(list(a0, a5, a11)))\n");
    src.push_str(tail);
    src
}

mod array {
    use super::*;

    /// The factors of a 4000 by 4000 product (128 MB of f64) in 64 blocks of 500 by
    /// 500: rows times columns of two thin arrays, cheap to compute; and of a product
    /// as small as its process, `small-a.zarr @ small-b.zarr` (400 by 400).
    fn thin_factors(ws: &Dir) {
        for (name, shape, chunks) in [
            ("a.zarr", "4000,100", "500,100"),
            ("b.zarr", "100,4000", "100,500"),
            ("small-a.zarr", "400,10", "50,10"),
            ("small-b.zarr", "10,400", "10,50"),
        ] {
            ws.array_write(&[
                "create",
                name,
                "--shape",
                shape,
                "--chunks",
                chunks,
                "--random",
                "--compression",
                "none",
            ]);
        }
    }

    /// `matmul a.zarr b.zarr` written in `chunks` under `limit`, with `extra` options.
    fn product<'a>(chunks: &'a str, limit: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
        factors_product("a.zarr", "b.zarr", chunks, limit, extra)
    }

    fn factors_product<'a>(
        a: &'a str,
        b: &'a str,
        chunks: &'a str,
        limit: &'a str,
        extra: &[&'a str],
    ) -> Vec<&'a str> {
        let mut args = vec![
            "matmul",
            a,
            b,
            "--out",
            "c.zarr",
            "--chunks",
            chunks,
            "--memory-limit",
            limit,
            "--workers",
            "2",
            "--compression",
            "none",
        ];
        args.extend_from_slice(extra);
        args
    }

    /// The sum and the largest element of `path`, as printed: equal for equal arrays.
    fn fingerprint(ws: &Dir, path: &str) -> (String, String) {
        (
            ws.array_print(&["reduce", path, "--op", "sum"]),
            ws.array_print(&["reduce", path, "--op", "max"]),
        )
    }

    #[test]
    fn a_product_rechunked_under_a_small_limit_spills_and_stays_within_the_bound() {
        let test = "a_product_rechunked_under_a_small_limit_spills_and_stays_within_the_bound";
        if !in_own_process(module_path!(), test) {
            return;
        }
        let ws = Dir::new();
        thin_factors(&ws);
        // The process's own (code, threads, codecs, the allocator's arenas): its
        // peak on a product a thousand times smaller.
        let small = factors_product("small-a.zarr", "small-b.zarr", "70,70", "1MiB", &[]);
        let (code, baseline) = peak_memory(ws.command(&["array"]).args(&small));
        assert_eq!(code, 0);
        std::fs::remove_dir_all(ws.path("c.zarr")).unwrap();
        // Written in bands across the product's 500 by 500 blocks (2 MB each): column
        // bands (a transpose's access) and row bands. (Squares straddling blocks,
        // `700,700`, spill too, but their tasks are too small against the noise of the
        // allocator for a bound this tight.)
        for (chunks, blocks_per_chunk) in [("4000,600", 16), ("600,4000", 16)] {
            let [rows, cols]: [u64; 2] = chunks
                .split(',')
                .map(|n| n.parse().unwrap())
                .collect::<Vec<_>>()
                .try_into()
                .unwrap();
            ws.array_write(&product(chunks, "1TiB", &[]));
            let unlimited = fingerprint(&ws, "c.zarr");
            std::fs::remove_dir_all(ws.path("c.zarr")).unwrap();
            // Processes: the peak is the largest process's, a worker's.
            for executor in ["threads", "processes"] {
                let limited = ["--profile", "p.html", "--executor", executor];
                let (code, peak) = peak_memory(
                    ws.command(&["array"])
                        .args(&product(chunks, "1MiB", &limited)),
                );
                assert_eq!(code, 0, "{chunks} {executor}");
                assert_eq!(
                    fingerprint(&ws, "c.zarr"),
                    unlimited,
                    "{chunks} {executor}: other values"
                );
                std::fs::remove_dir_all(ws.path("c.zarr")).unwrap();
                // Under 1 MiB one worker runs (each task holds more). Its largest task
                // is a write: the product's blocks it overlaps, read back, and its
                // chunk twice (assembled, then encoded); 16 MiB more are the
                // allocator's (memory it keeps a moment for reuse, pages: 11 MiB were
                // seen). Without spilling, the peak is past the whole product (128 MB)
                // plus the baseline.
                let task = blocks_per_chunk * 2 * MIB + 2 * rows * cols * 8 + 16 * MIB;
                let bound = MIB + task + baseline;
                assert!(
                    peak <= bound,
                    "{chunks} {executor}: peak {} MiB, past the bound {} MiB (limit 1 + task {} + baseline {})",
                    peak / MIB,
                    bound / MIB,
                    task / MIB,
                    baseline / MIB
                );
                let html = ws.read("p.html");
                let spilled = profile_row(&html, "bytes spilled past the memory limit");
                assert_ne!(
                    spilled, "0 B",
                    "{chunks} {executor}: nothing was written out"
                );
            }
        }
    }

    #[test]
    fn the_bytes_spilled_show_on_the_progress_bar() {
        let ws = Dir::new();
        thin_factors(&ws);
        let mut args = product("4000,600", "1MiB", &["--progress"]);
        args.insert(0, "array");
        let run = ws.taskloom(&args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(run.stderr.contains("(spilled "), "{}", run.stderr);
        assert!(run.stderr.contains("MiB, read back "), "{}", run.stderr);
        // Under a limit that holds everything, nothing is written and nothing said.
        std::fs::remove_dir_all(ws.path("c.zarr")).unwrap();
        let mut args = product("4000,600", "1GiB", &["--progress"]);
        args.insert(0, "array");
        let run = ws.taskloom(&args);
        assert_eq!(run.code, Some(0), "{}", run.stderr);
        assert!(!run.stderr.contains("spilled"), "{}", run.stderr);
    }

    #[test]
    fn an_interrupted_spilling_run_removes_its_scratch() {
        let ws = Dir::new();
        thin_factors(&ws);
        let tmp = ws.path("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let mut args = product("4000,600", "1MiB", &[]);
        args.insert(0, "array");
        let run = ws
            .command(&args)
            .env("TMPDIR", &tmp.display().to_string())
            .spawn();
        // Interrupted once results are in scratch files.
        let spilling = wait_for(Duration::from_secs(60), || scratch_in(&tmp).len() > 1);
        run.signal("INT");
        let outcome = run.wait();
        assert!(spilling, "nothing was written out");
        if outcome.code != Some(0) {
            assert!(outcome.failure(130).contains("interrupted by SIGINT"));
            assert!(!ws.path("c.zarr").exists());
        }
        assert_eq!(scratch_in(&tmp), Vec::<String>::new());
    }
}

mod run {
    use super::*;

    #[test]
    fn a_graph_of_big_values_gives_the_same_output_under_a_small_limit() {
        let ws = Dir::new();
        ws.create("g.tl", &big_lists(""));
        let get = ["--get", "total", "--get", "joined", "--get", "a3"];
        let unlimited = ws.taskloom(&[&["run", "g.tl"][..], &get].concat());
        let tmp = ws.path("tmp");
        std::fs::create_dir(&tmp).unwrap();
        for executor in ["threads", "processes"] {
            let limited = ws
                .command(
                    &[
                        &["run", "g.tl", "--memory-limit", "100KiB", "--progress"][..],
                        &["--executor", executor],
                        &get,
                    ]
                    .concat(),
                )
                .env("TMPDIR", &tmp.display().to_string())
                .output();
            assert_eq!(limited.code, Some(0), "{executor}: {}", limited.stderr);
            assert_eq!(limited.stdout, unlimited.stdout, "{executor}");
            assert!(
                limited.stderr.contains("(spilled "),
                "{executor}: {}",
                limited.stderr
            );
            assert_eq!(scratch_in(&tmp), Vec::<String>::new(), "{executor}");
        }
    }

    #[test]
    fn the_profile_says_what_was_written_out_and_what_stayed_past_the_limit() {
        let ws = Dir::new();
        ws.create("g.tl", &big_lists(""));
        // `a3` is a target: it stays in memory, past the limit.
        let run = ws.taskloom(&[
            "run",
            "g.tl",
            "--get",
            "total",
            "--get",
            "a3",
            "--memory-limit",
            "100KiB",
            "--profile",
            "p.html",
        ]);
        run.ok();
        let html = ws.read("p.html");
        assert_ne!(
            profile_row(&html, "bytes spilled past the memory limit"),
            "0 B"
        );
        assert_ne!(profile_row(&html, "bytes read back"), "0 B");
        let over = profile_row(&html, "held past the memory limit (nothing left to spill)");
        assert!(over.ends_with("KiB"), "{over}");
    }

    #[test]
    fn an_interrupted_run_removes_its_scratch() {
        let ws = Dir::new();
        ws.create(
            "g.tl",
            &big_lists("late = sleep(20000, 1)\nall = list(total, late)\n"),
        );
        for executor in ["threads", "processes"] {
            let tmp = ws.path(&format!("tmp-{executor}"));
            std::fs::create_dir(&tmp).unwrap();
            let run = ws
                .command(&[
                    "run",
                    "g.tl",
                    "--get",
                    "all",
                    "--memory-limit",
                    "100KiB",
                    "--executor",
                    executor,
                ])
                .env("TMPDIR", &tmp.display().to_string())
                .spawn();
            // Threads: the run's directory and a file; processes: the run's directory
            // and a worker's, made at its first write.
            let written = || scratch_in(&tmp).len() > 1;
            let spilling = wait_for(Duration::from_secs(60), written);
            run.signal("INT");
            let outcome = run.wait();
            assert!(spilling, "{executor}: nothing was written out");
            assert!(
                outcome.failure(130).contains("SIGINT"),
                "{executor}: {}",
                outcome.stderr
            );
            assert_eq!(scratch_in(&tmp), Vec::<String>::new(), "{executor}");
        }
    }

    #[test]
    fn a_result_whose_scratch_file_is_gone_fails_the_run_naming_it() {
        // The lists are written out while `gate` sleeps; their consumers wait for it.
        let mut src = String::from("gate = sleep(3000, 0)\n");
        for i in 0..6 {
            src.push_str(&format!("a{i} = range({i}, {})\n", i + 20_000));
            src.push_str(&format!("s{i} = add(len(a{i}), gate)\n"));
        }
        let sums: Vec<String> = (0..6).map(|i| format!("s{i}")).collect();
        src.push_str(&format!("total = sum(list({}))\n", sums.join(", ")));
        let ws = Dir::new();
        ws.create("g.tl", &src);
        for executor in ["threads", "processes"] {
            let tmp = ws.path(&format!("tmp-{executor}"));
            std::fs::create_dir(&tmp).unwrap();
            let args = ["run", "g.tl", "--memory-limit", "100KiB", "--workers", "2"];
            let run = ws
                .command(&[&args[..], &["--executor", executor]].concat())
                .env("TMPDIR", &tmp.display().to_string())
                .spawn();
            // Every scratch file (threads: in the run's directory; processes: in a
            // worker's, inside the run's) removed once some are written.
            let files = || -> Vec<std::path::PathBuf> {
                let mut found = Vec::new();
                let mut dirs = vec![tmp.clone()];
                while let Some(dir) = dirs.pop() {
                    for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                        match entry.path() {
                            p if p.is_dir() => dirs.push(p),
                            p => found.push(p),
                        }
                    }
                }
                found
            };
            assert!(
                wait_for(Duration::from_secs(60), || !files().is_empty()),
                "{executor}: nothing was written out"
            );
            for file in files() {
                let _ = std::fs::remove_file(file);
            }
            let outcome = run.wait();
            let message = outcome.error(1);
            assert!(
                message.contains("failed in op '(read back)': its result cannot be read back from its scratch file"),
                "{executor}: {message}"
            );
            assert_eq!(scratch_in(&tmp), Vec::<String>::new(), "{executor}");
        }
    }

    #[test]
    fn a_killed_runs_scratch_is_removed_by_the_next_run_and_a_live_ones_kept() {
        let ws = Dir::new();
        ws.create("g.tl", &big_lists(""));
        ws.create(
            "slow.tl",
            &big_lists("late = sleep(20000, 1)\nall = list(total, late)\n"),
        );
        let tmp = ws.path("tmp");
        std::fs::create_dir(&tmp).unwrap();
        let tmpdir = tmp.display().to_string();
        let spill_dirs = || -> Vec<String> {
            let mut dirs = scratch_in(&tmp);
            dirs.retain(|name| name.starts_with("taskloom-spill-"));
            dirs
        };
        let spilling_run = || {
            let get = ["--get", "total", "--get", "joined", "--get", "a3"];
            let run = ws
                .command(&[&["run", "g.tl", "--memory-limit", "100KiB"][..], &get].concat())
                .env("TMPDIR", &tmpdir)
                .output();
            assert_eq!(run.code, Some(0), "{}", run.stderr);
        };
        let slow = ws
            .command(&["run", "slow.tl", "--get", "all", "--memory-limit", "100KiB"])
            .env("TMPDIR", &tmpdir)
            .spawn();
        let spilling = wait_for(Duration::from_secs(60), || scratch_in(&tmp).len() > 1);
        assert!(spilling, "nothing was written out");
        let live = spill_dirs();
        assert_eq!(live.len(), 1, "{live:?}");
        spilling_run();
        assert_eq!(spill_dirs(), live, "a live run's scratch was removed");
        slow.signal("KILL");
        assert_eq!(slow.wait().code, None, "the slow run ended before its kill");
        assert_eq!(spill_dirs(), live, "a killed run removed its own scratch");
        spilling_run();
        assert_eq!(scratch_in(&tmp), Vec::<String>::new());
    }

    #[test]
    fn a_memory_limit_is_refused_by_sync_alone() {
        let ws = Dir::new();
        ws.create("g.tl", "a = range(3)\n");
        let run = ws.taskloom(&[
            "run",
            "g.tl",
            "--memory-limit",
            "1MiB",
            "--executor",
            "sync",
        ]);
        assert_eq!(
            run.error(2),
            "taskloom: error: --memory-limit runs with --executor threads, processes or mpi, not sync\n",
        );
        let run = ws.taskloom(&["run", "g.tl", "--memory-limit", "lots"]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
    }
}

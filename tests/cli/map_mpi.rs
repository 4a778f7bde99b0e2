//! `taskloom map --executor mpi`: the items spread over the ranks of `mpirun -n K`
//! give the same stdout, stderr, exit code and results log as `--executor local`
//! (order, failures, halts, timeouts, retries, resuming); a signal or a killed rank
//! stops the run within seconds and leaves no process on any rank. Without MPI in the
//! build, the option is refused before any item runs.

use crate::harness::Dir;

#[cfg(not(feature = "mpi"))]
#[test]
fn without_mpi_in_the_build_executor_mpi_is_refused_before_any_item_runs() {
    let ws = Dir::new();
    let args = ["--executor", "mpi", "--", "touch", "{}", ":::", "a", "b"];
    let out = super::map::map_command(&ws, &args).output();
    assert!(
        out.error(2).contains("this taskloom was built without MPI"),
        "{}",
        out.stderr
    );
    assert!(ws.listing().is_empty(), "an item ran: {:?}", ws.listing());
}

#[cfg(feature = "mpi")]
mod under_mpirun {
    use std::time::{Duration, Instant};

    use serde_json::Value;

    use super::Dir;
    use crate::harness::mpi::{await_running, mpirun, ranks, Fabric};
    use crate::harness::process::{assert_none_left, send_signal, unique_mark, MARK};
    use crate::harness::{Outcome, Running, TestCommand};

    /// How a run was made: on one machine, or under `mpirun -n RANKS`.
    #[derive(Clone, Copy, Debug)]
    enum Way {
        Local,
        Ranks(usize),
    }

    /// `taskloom map ARGS` in `dir`, the way `way` says.
    fn command(dir: &Dir, way: Way, args: &[&str]) -> TestCommand {
        match way {
            Way::Local => dir.command(&["map", "--executor", "local"]).args(args),
            Way::Ranks(ranks) => mpirun(dir.root(), ranks, Fabric::SharedMemory)
                .args(&["map", "--executor", "mpi"])
                .args(args),
        }
    }

    /// Runs `taskloom map ARGS` on one machine, then under `mpirun` with 2 and 3
    /// ranks, each in a fresh directory that `setup` prepares; asserts the same stdout,
    /// stderr and exit code. Returns every run, the local one first, for more checks.
    fn alike(args: &[&str], setup: impl Fn(&Dir)) -> Vec<(Way, Dir, Outcome)> {
        let runs: Vec<(Way, Dir, Outcome)> = [Way::Local, Way::Ranks(2), Way::Ranks(3)]
            .into_iter()
            .map(|way| {
                let dir = Dir::new();
                setup(&dir);
                let out = command(&dir, way, args).output();
                (way, dir, out)
            })
            .collect();
        let local = &runs[0].2;
        for (_, _, out) in &runs[1..] {
            out.assert_alike(local);
        }
        runs
    }

    /// Asserts exit `code` and a one-line error; returns stderr (stdout is the items').
    fn failed(out: &Outcome, code: i32) -> &str {
        assert_eq!(out.code, Some(code), "{}\n{}", out.context, out.stderr);
        assert!(
            out.stderr.starts_with("taskloom: error: "),
            "{}",
            out.stderr
        );
        assert_eq!(out.stderr.lines().count(), 1, "{}", out.stderr);
        &out.stderr
    }

    /// A results log without its timings, which differ from run to run.
    fn log_without_seconds(dir: &Dir, name: &str) -> Vec<Value> {
        super::super::map::read_log(dir, name)
            .into_iter()
            .map(|mut record| {
                record.as_object_mut().expect("a record").remove("seconds");
                record
            })
            .collect()
    }

    #[test]
    fn output_comes_in_input_order_whichever_rank_ran_the_item() {
        // Later items end first: only the order of the input can make the output.
        let script = "sleep 0.0{}; echo out {}; echo err {} >&2";
        let args = [
            "-j", "2", "--shell", "--", script, ":::", "4", "3", "2", "1", "0",
        ];
        let runs = alike(&args, |_| {});
        assert_eq!(runs[0].2.stdout, "out 4\nout 3\nout 2\nout 1\nout 0\n");
    }

    #[test]
    fn unordered_output_comes_as_items_end() {
        let args = [
            "-j",
            "3",
            "--unordered",
            "--",
            "sh",
            "-c",
            "sleep $0; echo $0",
        ];
        let args = [&args[..], &[":::", "0.8", "0", "0.4"]].concat();
        let runs = alike(&args, |_| {});
        assert_eq!(runs[0].2.stdout, "0\n0.4\n0.8\n");
    }

    #[test]
    fn failures_give_the_same_message_and_exit_code() {
        let args = [
            "--shell",
            "--",
            "echo {}; exit {}",
            ":::",
            "0",
            "3",
            "0",
            "1",
        ];
        let runs = alike(&args, |_| {});
        assert_eq!(runs[0].2.stdout, "0\n3\n0\n1\n");
        let message = failed(&runs[0].2, 1);
        assert!(message.contains("2 of 4 items failed"), "{message}");
    }

    #[test]
    fn items_from_stdin_are_read_by_rank_0() {
        for way in [Way::Local, Way::Ranks(3)] {
            let dir = Dir::new();
            let out = command(&dir, way, &["--input", "-", "--", "echo"])
                .stdin("a\nb\nc\n")
                .output();
            assert_eq!(out.ok(), "a\nb\nc\n", "{way:?}");
        }
    }

    #[test]
    fn errors_found_by_rank_0_are_said_once_and_run_nothing() {
        for args in [
            &["--grid", "x=1", "--", "touch", "{y}"][..],
            &["--resume", "--", "touch", ":::", "a"][..],
        ] {
            for (way, dir, out) in alike(args, |_| {}) {
                out.error(2);
                assert!(dir.listing().is_empty(), "{way:?}: an item ran");
            }
        }
    }

    #[test]
    fn halt_now_stops_the_items_on_every_rank() {
        let mark = unique_mark("map-mpi-halt");
        let args = ["-j", "2", "--halt", "now", "--shell", "--"];
        let args = [&args[..], &["sleep {}; exit 3", ":::", "0.3", "30"]].concat();
        let started = Instant::now();
        for (way, dir, out) in alike(&args, |_| {}) {
            let _ = (way, dir);
            assert!(out.error(1).contains("(exit 3)"), "{}", out.stderr);
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        // The same run, marked, leaves nothing behind.
        let dir = Dir::new();
        command(&dir, Way::Ranks(3), &args)
            .env(MARK, &mark)
            .output();
        assert_none_left(&mark);
    }

    #[test]
    fn halt_soon_starts_nothing_more() {
        // One worker rank of one job: the same sequence as `-j 1` on one machine.
        let args = [
            "-j",
            "1",
            "--halt",
            "soon",
            "--",
            "sh",
            "-c",
            "echo $0; exit $0",
        ];
        let args = [&args[..], &[":::", "0", "2", "0", "0"]].concat();
        let local = command(&Dir::new(), Way::Local, &args).output();
        let mpi = command(&Dir::new(), Way::Ranks(2), &args).output();
        mpi.assert_alike(&local);
        assert_eq!(local.stdout, "0\n2\n");
        let message = failed(&local, 1);
        assert!(message.contains("2 not run (--halt)"), "{message}");
    }

    #[test]
    fn timeouts_and_retries_run_where_the_item_runs() {
        let script = "echo try >> {}.log; sleep {}";
        let args = [
            "--timeout",
            "300ms",
            "--retries",
            "2",
            "--results",
            "r.jsonl",
        ];
        let args = [&args[..], &["--shell", "--", script, ":::", "0", "5"]].concat();
        let runs = alike(&args, |_| {});
        let message = runs[0].2.error(1);
        assert!(message.contains("timed out after 300ms"), "{message}");
        let local_log = log_without_seconds(&runs[0].1, "r.jsonl");
        for (way, dir, _) in &runs {
            assert_eq!(dir.read("5.log"), "try\ntry\ntry\n", "{way:?}");
            assert_eq!(dir.read("0.log"), "try\n", "{way:?}");
            assert_eq!(log_without_seconds(dir, "r.jsonl"), local_log, "{way:?}");
        }
    }

    #[test]
    fn resume_runs_again_only_what_did_not_succeed() {
        // Each item fails the first time it runs in a directory, then succeeds.
        let script = "echo {}; test -e {}.ran || { touch {}.ran; test {} = b && exit 1; }; true";
        let first = [
            "--results",
            "r.jsonl",
            "--shell",
            "--",
            script,
            ":::",
            "a",
            "b",
            "c",
        ];
        let runs = alike(&first, |_| {});
        assert!(
            failed(&runs[0].2, 1).contains("#2 'b' (exit 1)"),
            "{}",
            runs[0].2.stderr
        );
        let resume = [&["--resume"][..], &first[..]].concat();
        let local = command(&runs[0].1, Way::Local, &resume).output();
        assert_eq!(local.ok(), "b\n");
        let expected = log_without_seconds(&runs[0].1, "r.jsonl");
        for (way, dir, _) in &runs[1..] {
            let out = command(dir, *way, &resume).output();
            assert_eq!(out.ok(), "b\n", "{way:?}");
            assert_eq!(log_without_seconds(dir, "r.jsonl"), expected, "{way:?}");
        }
    }

    #[test]
    fn one_rank_runs_the_items_itself() {
        let args = [
            "-j",
            "2",
            "--shell",
            "--",
            "echo {}; exit {}",
            ":::",
            "0",
            "4",
        ];
        let local = command(&Dir::new(), Way::Local, &args).output();
        let alone = command(&Dir::new(), Way::Ranks(1), &args).output();
        alone.assert_alike(&local);
    }

    /// Starts 4 long items (`sleep 30`, 2 per worker rank of 3 ranks), marked, and
    /// waits until every one runs.
    fn started() -> (Running, String) {
        let mark = unique_mark("map-mpi-stop");
        let dir = Dir::new();
        let run = command(&dir, Way::Ranks(3), &["-j", "2", "--", "sleep"])
            .args(&[":::", "30", "30.1", "30.2", "30.3", "30.4"])
            .env(MARK, &mark)
            .spawn();
        await_running(&mark, "sleep", 4, "the items did not start");
        // The directory must outlive the run.
        std::mem::forget(dir);
        (run, mark)
    }

    /// Signals a run of long items with `send`; asserts that it stops within seconds
    /// with `code`, saying so, and leaves no process.
    fn stops_on(send: impl FnOnce(&Running, &str), code: i32, signal: &str) {
        let (run, mark) = started();
        let out = run.stopped_by(|run| send(run, &mark));
        let message = out.error(code);
        assert!(
            message.contains(&format!(
                "interrupted by {signal}; running items were killed"
            )),
            "{message}"
        );
        assert!(
            message.contains("4 failed or killed, 1 not run"),
            "{message}"
        );
        assert_none_left(&mark);
    }

    #[test]
    fn sigusr1_to_mpirun_stops_the_items_on_every_rank() {
        stops_on(|run, _| run.signal("USR1"), 138, "SIGUSR1");
    }

    #[test]
    fn sigterm_to_every_rank_stops_the_items_on_every_rank() {
        let every_rank = |_: &Running, mark: &str| {
            for (pid, _) in ranks(mark) {
                send_signal("TERM", pid);
            }
        };
        stops_on(every_rank, 143, "SIGTERM");
    }

    #[test]
    fn a_worker_rank_killed_outright_ends_the_run_and_leaves_nothing() {
        let (run, mark) = started();
        let (victim, _) = ranks(&mark)
            .into_iter()
            .find(|&(_, rank)| rank == 2)
            .expect("rank 2 runs");
        let out = run.stopped_by(|_| send_signal("KILL", victim));
        assert_ne!(out.code, Some(0), "{}", out.stderr);
        assert_none_left(&mark);
    }
}

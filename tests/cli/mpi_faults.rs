//! Faults under `mpirun`: a rank killed outright (a worker rank, or rank 0) ends the
//! run promptly and non-zero, leaving no process; SIGUSR1 (forwarded by mpirun to every rank) and
//! SIGTERM to every rank (as a batch system sends it) stop the run with 128 + N and
//! end its shell commands; a signal that reaches the worker ranks alone changes
//! nothing (they follow rank 0).

use std::time::Duration;

use crate::harness::graph::GraphFile;
use crate::harness::mpi::{await_running, ranks, Fabric, STOP_LIMIT};
use crate::harness::process::{assert_none_left, send_signal, unique_mark, wait_for, MARK};

/// Whether rank `pid` serves already: its task threads are up (it catches signals
/// from before it starts them).
fn serving(pid: u32) -> bool {
    std::fs::read_dir(format!("/proc/{pid}/task")).is_ok_and(|tasks| {
        tasks.filter_map(|t| t.ok()).any(|t| {
            std::fs::read_to_string(t.path().join("comm"))
                .is_ok_and(|c| c.trim() == "taskloom-task")
        })
    })
}

/// Pure busy tasks (kept in a checkpoint): about a second of work on 2 worker ranks
/// of 2 threads.
const TASKS: u64 = 100;

fn long_graph() -> GraphFile {
    let mut source = String::new();
    for i in 0..TASKS {
        source.push_str(&format!("t{i} = busy(20, {i})\n"));
    }
    let all: Vec<String> = (0..TASKS).map(|i| format!("t{i}")).collect();
    source.push_str(&format!("total = sum(list({}))\n", all.join(", ")));
    GraphFile::text(&source)
}

/// The fault drill, 20 times at moments spread over the run: the job ends
/// promptly and non-zero, nothing is left, and the same command run again with the same
/// checkpoint prints the right result.
#[test]
fn a_rank_killed_at_any_moment_ends_the_run_promptly_and_the_rerun_resumes() {
    let file = long_graph();
    let expected = format!("{}\n", (0..TASKS).sum::<u64>());
    // A fixed sequence of moments over the run (a small LCG: no randomness crate).
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for attempt in 0..20 {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let delay = Duration::from_millis(50 + (seed >> 33) % 1200);
        // Worker ranks mostly, rank 0 too.
        let victim = [1, 2, 1, 2, 0][attempt % 5];
        let checkpoint = format!("ck{attempt}");
        let args = [
            "--workers",
            "2",
            "--checkpoint",
            &checkpoint,
            "--get",
            "total",
        ];
        let mark = unique_mark("mpi-kill");
        // A rank killed inside MPI_Init can leave the others waiting there, which
        // mpirun does not always end: the ranks give up on a start that takes longer.
        let run = file
            .mpi_command(3, Fabric::SharedMemory, &args)
            .env(MARK, &mark)
            .env("TASKLOOM_MPI_START_TIMEOUT", "4")
            .spawn();
        assert!(wait_for(Duration::from_secs(20), || ranks(&mark).len() == 3));
        std::thread::sleep(delay);
        let Some(&(pid, _)) = ranks(&mark).iter().find(|(_, r)| *r == victim) else {
            // The run ended before the moment came: nothing to kill this time.
            assert_eq!(run.wait().stdout, expected);
            continue;
        };
        // Shown if the test fails: which rank, and when.
        eprintln!("rank {victim} killed {delay:?} after the ranks started");
        let out = run.stopped_by(|_| send_signal("KILL", pid));
        assert_ne!(
            out.code,
            Some(0),
            "rank {victim} killed at {delay:?}: {}",
            out.stdout
        );
        assert_none_left(&mark);
        let rerun = file.mpi_command(3, Fabric::SharedMemory, &args).output();
        assert_eq!(
            (rerun.stdout.as_str(), rerun.code),
            (expected.as_str(), Some(0)),
            "the rerun after rank {victim} was killed at {delay:?}: {}",
            rerun.stderr
        );
    }
}

/// A start that takes longer than the ranks' limit ends the job with a clear error, not
/// a hang: what the ranks of a job do whose peer was killed inside `MPI_Init`. A bad
/// limit is an error too.
#[test]
fn a_start_longer_than_the_limit_gives_up_with_an_error() {
    let file = GraphFile::text("a = add(1, 2)\n");
    let mark = unique_mark("mpi-start");
    let started = std::time::Instant::now();
    let out = file
        .mpi_command(2, Fabric::SharedMemory, &["--get", "a"])
        .env(MARK, &mark)
        .env("TASKLOOM_MPI_START_TIMEOUT", "0.001")
        .output();
    assert!(started.elapsed() < STOP_LIMIT, "{:?}", started.elapsed());
    let message = out.multiline_error(1);
    assert!(
        message.contains("MPI did not finish starting within 1ms"),
        "{message}"
    );
    assert!(message.contains("TASKLOOM_MPI_START_TIMEOUT"), "{message}");
    assert_none_left(&mark);
    let out = file
        .mpi_command(2, Fabric::SharedMemory, &["--get", "a"])
        .env("TASKLOOM_MPI_START_TIMEOUT", "soon")
        .output();
    let message = out.multiline_error(1);
    assert!(
        message.contains("TASKLOOM_MPI_START_TIMEOUT must be a positive number of seconds"),
        "{message}"
    );
    assert!(!message.contains("internal error"), "{message}");
}

/// A run whose shell commands are up, with its marker.
fn started_with_shells() -> (crate::harness::Running, String) {
    let mut source = String::new();
    for i in 0..4 {
        source.push_str(&format!("s{i} = shell(\"sleep 45; echo {i}\")\n"));
    }
    source.push_str("out = list(s0, s1, s2, s3)\n");
    let file = GraphFile::text(&source);
    let mark = unique_mark("mpi-signal");
    let run = file
        .mpi_command(3, Fabric::SharedMemory, &["--workers", "2"])
        .env(MARK, &mark)
        .spawn();
    await_running(&mark, "sleep", 4, "the shell commands did not start");
    // The file must outlive the run: its directory is the run's.
    std::mem::forget(file);
    (run, mark)
}

/// Starts a run with shell commands, signals it with `send`, and checks that it stops
/// within seconds with `code`, naming `signal`, and leaves nothing.
fn stops_on(send: impl FnOnce(&crate::harness::Running, &str), code: i32, signal: &str) {
    let (run, mark) = started_with_shells();
    let out = run.stopped_by(|run| send(run, &mark));
    assert!(
        out.error(code).contains(&format!("stopped by {signal}")),
        "{}",
        out.stderr
    );
    assert_none_left(&mark);
}

#[test]
fn sigusr1_to_mpirun_stops_the_run_with_138() {
    stops_on(|run, _| run.signal("USR1"), 138, "SIGUSR1");
}

#[test]
fn sigterm_to_every_rank_stops_the_run_with_143() {
    stops_on(
        |_, mark| {
            for (pid, _) in ranks(mark) {
                send_signal("TERM", pid);
            }
        },
        143,
        "SIGTERM",
    );
}

#[test]
fn worker_ranks_follow_rank_zero_not_their_own_signals() {
    let mut source = String::new();
    for i in 0..120 {
        source.push_str(&format!("t{i} = sleep(30, {i})\n"));
    }
    let all: Vec<String> = (0..120).map(|i| format!("t{i}")).collect();
    source.push_str(&format!("total = sum(list({}))\n", all.join(", ")));
    let file = GraphFile::text(&source);
    let mark = unique_mark("mpi-follow");
    let run = file
        .mpi_command(3, Fabric::SharedMemory, &["--workers", "2"])
        .env(MARK, &mark)
        .spawn();
    let workers = || -> Vec<u32> {
        let all = ranks(&mark);
        all.iter()
            .filter(|(_, r)| *r != 0)
            .map(|(p, _)| *p)
            .collect()
    };
    let up = || workers().len() == 2 && workers().into_iter().all(serving);
    assert!(wait_for(Duration::from_secs(20), up));
    for pid in workers() {
        send_signal("TERM", pid);
    }
    assert_eq!(run.wait().ok(), "{\"total\":7140}\n");
    assert_none_left(&mark);
}

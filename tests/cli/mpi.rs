//! `taskloom run --executor mpi` under a real `mpirun` with 2 and 3 ranks: the same
//! stdout, stderr and exit code as threads for successes, culling, graph errors and
//! task failures; rank 0 alone prints.

use crate::harness::graph::GraphFile;
use crate::harness::mpi::{mpirun, Fabric};
use crate::harness::Dir;

#[test]
fn results_match_threads() {
    // A tree of reductions wide enough that every rank runs tasks and sends results.
    let mut source = String::new();
    for i in 0..64 {
        source.push_str(&format!("leaf{i} = busy(1, {i})\n"));
    }
    for i in 0..16 {
        let leaves: Vec<String> = (0..4).map(|j| format!("leaf{}", i * 4 + j)).collect();
        source.push_str(&format!("mid{i} = sum(list({}))\n", leaves.join(", ")));
    }
    let mids: Vec<String> = (0..16).map(|i| format!("mid{i}")).collect();
    source.push_str(&format!("total = sum(list({}))\n", mids.join(", ")));
    source.push_str("words = concat(list(\"a\", \"b\"))\n");
    let file = GraphFile::text(&source);
    assert_eq!(
        file.run_under_mpi_too(&[]).ok(),
        "{\"total\":2016,\"words\":\"ab\"}\n"
    );
    assert_eq!(
        file.run_under_mpi_too(&["--get", "mid3", "--get", "total"])
            .ok(),
        "{\"mid3\":54,\"total\":2016}\n"
    );
}

#[test]
fn culling_runs_only_what_the_keys_need() {
    // `broken` fails if it runs: asking for `fine` alone must not run it.
    let file = GraphFile::text("fine = add(1, 2)\nbroken = fail(\"ran\")\n");
    assert_eq!(file.run_under_mpi_too(&["--get", "fine"]).ok(), "3\n");
    file.run_under_mpi_too(&["--dry-run", "--get", "fine"]);
}

#[test]
fn graph_errors_are_reported_once() {
    for source in [
        "a = add(1\n",
        "a = nosuchop(1)\n",
        "a = add(b, 1)\nb = add(a, 1)\n",
    ] {
        let file = GraphFile::text(source);
        let out = file.run_under_mpi_too(&[]);
        let message = out.error(2);
        assert_eq!(out.stderr.matches("error").count(), 1, "{message}");
    }
    let file = GraphFile::text("a = add(1, 2)\n");
    file.run_under_mpi_too(&["--get", "nokey"]).error(2);
}

#[test]
fn task_failures_match_threads() {
    let file = GraphFile::text(
        "a = busy(1, 2)\nb = fail(\"boom\")\nc = add(a, b)\nd = div(a, 0)\nout = list(c, d)\n",
    );
    let out = file.run_under_mpi_too(&["--get", "c"]);
    assert!(
        out.error(1).contains("task 'b' failed in op 'fail': boom"),
        "{}",
        out.stderr
    );
    file.run_under_mpi_too(&["--get", "d"]).error(1);
    // Retries rerun a failing task on the ranks too, then fail the same way.
    file.run_under_mpi_too(&["--get", "c", "--retries", "2"])
        .error(1);
}

#[test]
fn one_rank_runs_the_tasks_itself() {
    let file = GraphFile::text("a = add(1, 2)\nb = mul(a, 5)\n");
    let out = file.mpi_command(1, Fabric::SharedMemory, &[]).output();
    assert_eq!(out.ok(), "{\"b\":15}\n");
}

#[test]
fn a_refused_command_line_is_reported_by_rank_zero_alone() {
    let dir = Dir::new();
    let out = mpirun(dir.root(), 3, Fabric::SharedMemory)
        .args(&["run", "--executor", "mpi", "--workers", "0", "x.tl"])
        .output();
    assert_eq!(out.code, Some(2), "{}", out.stderr);
    assert_eq!(out.stderr.matches("error:").count(), 1, "{}", out.stderr);
}

#[test]
fn a_task_timeout_ends_the_run_as_under_threads() {
    let file =
        GraphFile::text("slow = sleep(30000, 1)\nquick = sleep(10, 2)\nout = list(slow, quick)\n");
    let out = file.run_under_mpi_too(&["--task-timeout", "300ms"]);
    assert!(
        out.error(1)
            .contains("task 'slow' failed: it ran longer than the task timeout (300ms)"),
        "{}",
        out.stderr
    );
}

/// The worker ranks keep the results they compute in the checkpoint themselves: after
/// a run under MPI, the same command reads the target and runs nothing else, under MPI
/// and under threads, and prints the same.
#[test]
fn worker_ranks_keep_a_checkpoint_that_any_executor_resumes_from() {
    let mut source = String::new();
    for i in 0..20 {
        source.push_str(&format!("leaf{i} = busy(1, {i})\n"));
    }
    let leaves: Vec<String> = (0..20).map(|i| format!("leaf{i}")).collect();
    source.push_str(&format!("total = sum(list({}))\n", leaves.join(", ")));
    let file = GraphFile::text(&source);
    let args = ["--checkpoint", "ck", "--get", "total"];
    let first = file.mpi_command(3, Fabric::SharedMemory, &args).output();
    assert_eq!(first.ok(), "190\n");
    let dry_args = [&args[..], &["--dry-run"]].concat();
    let dry = file
        .mpi_command(3, Fabric::SharedMemory, &dry_args)
        .output();
    assert_eq!(dry.stderr, "taskloom: 1 of 21 tasks would run\n");
    assert_eq!(file.run(&dry_args).stderr, dry.stderr);
    assert_eq!(file.run_under_mpi_too(&args).ok(), "190\n");
}

#[test]
fn ranks_hold_results_within_the_memory_limit_and_leave_no_scratch() {
    // Lists of about 480 KB held each, past a 100 KiB limit.
    let file = GraphFile::text(&super::spill::big_lists(""));
    let expected = file.run_under_mpi_too(&[]).ok().to_string();
    let tmp = file.root().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let limited = ["--memory-limit", "100KiB", "--progress"];
    let out = file
        .mpi_command(3, Fabric::SharedMemory, &limited)
        .env("TMPDIR", &tmp.display().to_string())
        .output();
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    assert_eq!(out.stdout, expected);
    assert!(out.stderr.contains("(spilled "), "{}", out.stderr);
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
    assert!(left.is_empty(), "scratch left: {left:?}");
}

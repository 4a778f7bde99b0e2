//! `taskloom submit`, `jobs`, `peek`, `cancel` and `wait` on a real Slurm: the
//! single-node cluster of `scripts/slurm.sh` (see `crate::harness::batch`). A trivial
//! job costs about a second, so these tests submit few.

use std::time::Duration;

use crate::harness::assert_contains_all;
use crate::harness::batch::BatchDir;
use crate::harness::process::{assert_none_left, unique_mark, wait_for, MARK};

/// One core per rank (the cluster has two) and five minutes: room for a small job to
/// finish on a loaded machine.
const SMALL_JOB: &[&str] = &["--cores-per-rank", "1", "--time", "00:05:00"];

#[test]
fn submit_jobs_peek_and_wait() {
    let slurm = BatchDir::slurm();
    slurm
        .dir
        .create("g.tl", "a = sleep(1500, 41)\nb = inc(a)\n");
    let id = slurm.submit(&[SMALL_JOB, &["--", "run", "g.tl"]].concat());
    assert!(id.bytes().all(|b| b.is_ascii_digit()), "sbatch's id: {id}");
    let row = slurm.row(&id);
    assert_eq!(row[1..3], ["taskloom", "slurm"]);
    assert!(["pending", "running"].contains(&row[3].as_str()), "{row:?}");
    // peek -f follows the job to its end.
    let peek = slurm.taskloom(&["peek", &id, "-f"]);
    assert_eq!((peek.code, peek.stdout.as_str()), (Some(0), "{\"b\":42}\n"));
    assert_eq!(peek.stderr, format!("taskloom: job {id} done, 2/2 tasks\n"));
    slurm.taskloom(&["wait", &id]).silent();
    let row = slurm.row(&id);
    assert_eq!(row[3..5], ["done", "2/2"], "{row:?}");
    // Once Slurm has forgotten the job (MinJobAge), its own record still tells.
    assert!(wait_for(Duration::from_secs(30), || {
        !std::process::Command::new("squeue")
            .args(["-h", "-j", &id])
            .env("SLURM_CONF", crate::harness::batch::slurm_conf())
            .output()
            .is_ok_and(|o| o.status.success())
    }));
    assert_eq!(slurm.row(&id)[3], "done");
    slurm.taskloom(&["wait", &id]).silent();
}

#[test]
fn wait_gives_a_failed_jobs_exit_code() {
    let slurm = BatchDir::slurm();
    slurm.dir.create("f.tl", "a = fail(\"boom\")\n");
    let id = slurm.submit(&[
        "--cores-per-rank",
        "1",
        "--name",
        "failing",
        "--",
        "run",
        "f.tl",
    ]);
    let wait = slurm.taskloom(&["wait", &id]);
    assert_eq!(
        wait.error(1),
        format!("taskloom: error: job {id} failed with exit code 1\n")
    );
    assert_eq!(slurm.row(&id)[1..4], ["failing", "slurm", "failed(1)"]);
    let peek = slurm.taskloom(&["peek", &id]);
    assert_contains_all(&peek.stderr, &["task 'a' failed in op 'fail': boom"]);
}

#[test]
fn cancel_ends_a_running_job_and_leaves_no_process() {
    let slurm = BatchDir::slurm();
    slurm.dir.create("s.tl", "a = sleep(60000, 1)\n");
    let mark = unique_mark("slurm-cancel");
    let submitted = slurm
        .command(&["submit", "--cores-per-rank", "1", "--", "run", "s.tl"])
        .env(MARK, &mark)
        .output();
    let id = submitted.ok().trim().to_string();
    assert!(
        wait_for(Duration::from_secs(30), || slurm.row(&id)[3] == "running"),
        "{:?}",
        slurm.row(&id)
    );
    slurm.taskloom(&["cancel", &id]).silent();
    let wait = slurm.taskloom(&["wait", &id]);
    assert_eq!(
        wait.error(143),
        format!("taskloom: error: job {id} was cancelled\n")
    );
    assert_none_left(&mark);
}

/// The requeue: a 1-minute limit, warned 30 s before it, stops the run, which
/// requeues the job; the next start finishes from the checkpoint.
#[test]
fn a_job_warned_before_its_limit_is_requeued_and_finishes_from_its_checkpoint() {
    let slurm = BatchDir::slurm();
    // 30 busy tasks of 1.5 s on one core: 45 s, more than the 17 to 30 s the job runs
    // before Slurm's warning, and short enough that the requeued rest ends within the
    // harness's timeout.
    let cells: String = (0..30)
        .map(|i| format!("c{i} = busy(1500, {i})\n"))
        .collect();
    let total = (0..30)
        .map(|i| format!("c{i}"))
        .collect::<Vec<_>>()
        .join(", ");
    slurm
        .dir
        .create("g.tl", &format!("{cells}total = sum(list({total}))\n"));
    let id = slurm.submit(&[
        "--cores-per-rank",
        "1",
        "--time",
        "00:01:00",
        "--checkpoint",
        "ck",
        "--",
        "run",
        "g.tl",
        "--get",
        "total",
    ]);
    // Two starts and a requeue: minutes on a loaded machine.
    let wait = slurm
        .command(&["wait", &id])
        .patience(Duration::from_secs(300))
        .output();
    assert_eq!(wait.ok(), "");
    let peek = slurm.taskloom(&["peek", &id]);
    assert_eq!(peek.stdout, format!("{}\n", (0..30).sum::<i64>()));
    assert_contains_all(&peek.stderr, &["stopped by SIGUSR1"]);
}

/// Two ranks on the real Slurm, started by the job's `srun --mpi=pmix` and wired by
/// PMIx: the tasks run on rank 1 (rank 0 only drives), and the job prints what threads
/// print, once.
#[cfg(feature = "mpi")]
#[test]
fn a_two_rank_job_is_wired_by_srun_and_pmix() {
    let slurm = BatchDir::slurm();
    let graph = "rank = shell(\"echo $PMIX_RANK\")\na = busy(5, 2)\n";
    slurm.dir.create("g.tl", graph);
    let command = [
        "--",
        "run",
        "g.tl",
        "--executor",
        "mpi",
        "--get",
        "rank",
        "--get",
        "a",
    ];
    let id = slurm.submit(&[SMALL_JOB, &["--ranks-per-node", "2"], &command].concat());
    assert_eq!(slurm.command(&["wait", &id]).output().ok(), "");
    let peek = slurm.taskloom(&["peek", &id]);
    assert_eq!(peek.stdout, "{\"rank\":\"1\",\"a\":2}\n");
}

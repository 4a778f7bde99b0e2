//! `taskloom submit`, `jobs`, `peek`, `cancel` and `wait` on LSF and PBS, through the
//! stand-ins in `tests/stand-ins/` (see `crate::harness::batch`): they check every
//! argument and directive and answer in the formats LSF and PBS document.

use std::time::Duration;

use crate::harness::assert_contains_all;
use crate::harness::batch::BatchDir;
use crate::harness::process::{assert_none_left, unique_mark, wait_for, MARK};

const SYSTEMS: [&str; 2] = ["lsf", "pbs"];

#[test]
fn a_job_runs_and_reports_its_output_progress_and_exit_code() {
    for system in SYSTEMS {
        let batch = BatchDir::stand_in(system);
        batch.dir.create("g.tl", "a = sleep(300, 41)\nb = inc(a)\n");
        let id = batch.submit(&[
            "--batch", system, "--time", "10m", "--name", "sum", "--", "run", "g.tl",
        ]);
        let wait = batch.taskloom(&["wait", &id]);
        assert_eq!(wait.ok(), "", "{system}");
        let row = batch.row(&id);
        assert_eq!(
            row[1..5],
            ["sum", system, "done", "2/2"],
            "{system}: {row:?}"
        );
        let peek = batch.taskloom(&["peek", &id]);
        assert_eq!(
            (peek.code, peek.stdout.as_str()),
            (Some(0), "{\"b\":42}\n"),
            "{system}"
        );
        assert_eq!(
            peek.stderr,
            format!("taskloom: job {id} done, 2/2 tasks\n"),
            "{system}"
        );
    }
}

#[test]
fn wait_exits_with_the_jobs_exit_code() {
    for system in SYSTEMS {
        let batch = BatchDir::stand_in(system);
        batch.dir.create("f.tl", "a = fail(\"boom\")\n");
        let id = batch.submit(&["--batch", system, "--", "run", "f.tl"]);
        let wait = batch.taskloom(&["wait", &id]);
        assert_eq!(
            wait.error(1),
            format!("taskloom: error: job {id} failed with exit code 1\n"),
            "{system}"
        );
        assert_eq!(batch.row(&id)[3], "failed(1)", "{system}");
        let peek = batch.taskloom(&["peek", &id]);
        assert_contains_all(
            &peek.stderr,
            &["task 'a' failed in op 'fail': boom", "failed(1)"],
        );
    }
}

#[test]
fn a_cancelled_job_ends_and_leaves_no_process() {
    for system in SYSTEMS {
        let batch = BatchDir::stand_in(system);
        batch.dir.create("s.tl", "a = sleep(60000, 1)\n");
        let mark = unique_mark("batch-cancel");
        let submitted = batch
            .command(&["submit", "--batch", system, "--", "run", "s.tl"])
            .env(MARK, &mark)
            .output();
        let id = submitted.ok().trim().to_string();
        assert!(
            wait_for(Duration::from_secs(10), || batch.row(&id)[3] == "running"),
            "{system}: {:?}",
            batch.row(&id)
        );
        batch.taskloom(&["cancel", &id]).silent();
        let wait = batch.taskloom(&["wait", &id]);
        assert_eq!(
            wait.error(143),
            format!("taskloom: error: job {id} was cancelled\n")
        );
        assert_eq!(batch.row(&id)[3], "cancelled", "{system}");
        assert_none_left(&mark);
        // Cancelling a job that is over changes nothing.
        batch.taskloom(&["cancel", &id]).silent();
    }
}

#[test]
fn jobs_lists_every_job_even_when_one_system_does_not_answer() {
    let batch = BatchDir::stand_in("lsf");
    batch.dir.create("g.tl", "a = inc(1)\n");
    let first = batch.submit(&["--batch", "lsf", "--", "run", "g.tl"]);
    batch.taskloom(&["wait", &first]).ok();
    // A job of a system whose commands are not on PATH here.
    let other = batch.dir.path(".taskloom/jobs/0-1");
    std::fs::create_dir_all(&other).unwrap();
    std::fs::write(
        other.join("record.json"),
        r#"{"id":"7.server","batch":"pbs","name":"x","submitted":0,"command":[]}"#,
    )
    .unwrap();
    let jobs = batch
        .command(&["jobs"])
        .env(
            "PATH",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/stand-ins/lsf:/usr/bin:/bin"
            ),
        )
        .output();
    assert_eq!(jobs.code, Some(0));
    let lines: Vec<&str> = jobs.stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{}", jobs.stdout);
    assert!(
        lines[1].starts_with("7.server ") && lines[1].contains(" unknown "),
        "{}",
        jobs.stdout
    );
    assert!(
        lines[2].starts_with(&format!("{first} ")) && lines[2].contains(" done "),
        "{}",
        jobs.stdout
    );
    assert_contains_all(
        &jobs.stderr,
        &["taskloom: warning: job 7.server: qstat failed"],
    );
}

#[test]
fn a_refused_submission_is_exit_1_quoting_the_batch_system_and_leaves_no_job() {
    let batch = BatchDir::stand_in("pbs");
    batch.dir.create("g.tl", "a = inc(1)\n");
    // The stand-in refuses to work without its state directory.
    let outcome = batch
        .command(&["submit", "--batch", "pbs", "--", "run", "g.tl"])
        .env("STANDIN_STATE", "/nonexistent")
        .output();
    assert_contains_all(
        outcome.error(1),
        &[
            "taskloom: error: qsub failed: stand-in qsub: unexpected environment",
            "(exit status: 99)",
        ],
    );
    let jobs = std::fs::read_dir(batch.dir.path(".taskloom/jobs"))
        .unwrap()
        .count();
    assert_eq!(jobs, 0, "no job directory left");
    assert_eq!(batch.taskloom(&["jobs"]).ok().lines().count(), 1);
}

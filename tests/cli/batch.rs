//! `taskloom submit` without a batch system: the scripts it writes (`--dry-run`), the
//! errors of every job command, `plan`'s submit line and `run --progress-file`.
//! Submitting for real is in `batch_slurm` and `batch_stand_ins`.

use crate::harness::{assert_contains_all, Dir};

/// A directory holding a trivial graph.
fn graph_dir() -> Dir {
    let dir = Dir::new();
    dir.create("g.tl", "a = inc(1)\n");
    dir
}

/// The script `submit --dry-run` prints for `args`, checking that nothing was written.
fn dry_run(dir: &Dir, args: &[&str]) -> String {
    let before = dir.listing();
    let outcome = dir.taskloom(&[&["submit", "--dry-run"], args].concat());
    let script = outcome.ok().to_string();
    assert_eq!(dir.listing(), before, "a dry run writes nothing");
    assert!(script.starts_with("#!/bin/bash\n"), "{script}");
    script
}

#[test]
fn one_rank_runs_the_command_itself_with_its_progress_file() {
    let dir = graph_dir();
    let script = dry_run(
        &dir,
        &["--batch", "slurm", "--", "run", "g.tl", "--get", "a"],
    );
    assert_contains_all(
        &script,
        &[
            "#SBATCH --job-name=taskloom\n",
            "#SBATCH --nodes=1\n",
            "#SBATCH --ntasks-per-node=1\n",
            "#SBATCH --exclusive\n",
            "#SBATCH --no-requeue\n",
            " run --progress-file ",
            "/.taskloom/jobs/DRY-RUN/progress g.tl --get a &\n",
        ],
    );
    assert!(!script.contains("srun"), "{script}");
    assert!(!script.contains("--executor"), "{script}");
    assert!(!script.contains("--time"), "no limit, no warning: {script}");
}

#[test]
fn many_ranks_run_under_each_systems_launcher_with_the_mpi_executor() {
    let dir = graph_dir();
    let args = |batch| {
        [
            "--batch",
            batch,
            "--nodes",
            "2",
            "--ranks-per-node",
            "3",
            "--cores-per-rank",
            "4",
            "--",
            "run",
            "g.tl",
        ]
    };
    let slurm = dry_run(&dir, &args("slurm"));
    assert_contains_all(
        &slurm,
        &[
            "#SBATCH --nodes=2\n",
            "#SBATCH --ntasks-per-node=3\n",
            "#SBATCH --cpus-per-task=4\n",
            "\nsrun --mpi=pmix ",
            " run --executor mpi --workers 4 --progress-file ",
        ],
    );
    let lsf = dry_run(&dir, &args("lsf"));
    assert_contains_all(
        &lsf,
        &[
            "#BSUB -n 6\n",
            "#BSUB -R \"span[ptile=3]\"\n",
            "#BSUB -R \"affinity[core(4)]\"\n",
            "\nmpirun -n 6 ",
        ],
    );
    let pbs = dry_run(&dir, &args("pbs"));
    assert_contains_all(
        &pbs,
        &[
            "#PBS -l select=2:ncpus=12:mpiprocs=3\n",
            "\nmpirun -n 6 ",
            " run --executor mpi --workers 4 ",
        ],
    );
    // The user's own choices stay as written.
    let own = dry_run(
        &dir,
        &[
            "--batch",
            "slurm",
            "--nodes",
            "2",
            "--cores-per-rank",
            "4",
            "--",
            "run",
            "--executor=processes",
            "-w",
            "2",
            "g.tl",
        ],
    );
    assert_contains_all(&own, &[" run --progress-file "]);
    assert!(
        !own.contains("--executor mpi") && !own.contains("--workers"),
        "{own}"
    );
    let map = dry_run(
        &dir,
        &[
            "--batch",
            "pbs",
            "--cores-per-rank",
            "3",
            "--",
            "map",
            "--",
            "echo",
            "--workers",
            ":::",
            "a",
        ],
    );
    assert_contains_all(&map, &[" map -j 3 -- echo --workers ':::' a &\n"]);
}

#[test]
fn time_limits_in_both_forms_and_the_warning_before_them() {
    let dir = graph_dir();
    for time in ["1-00:00:01", "24h1s", "86401"] {
        let slurm = dry_run(
            &dir,
            &["--batch", "slurm", "--time", time, "--", "run", "g.tl"],
        );
        assert_contains_all(
            &slurm,
            &[
                "#SBATCH --time=1-00:00:01\n",
                "#SBATCH --signal=B:USR1@60\n",
            ],
        );
        let lsf = dry_run(
            &dir,
            &["--batch", "lsf", "--time", time, "--", "run", "g.tl"],
        );
        assert_contains_all(
            &lsf,
            &["#BSUB -W 1441\n", "#BSUB -wa USR1\n", "#BSUB -wt 1\n"],
        );
        let pbs = dry_run(
            &dir,
            &["--batch", "pbs", "--time", time, "--", "run", "g.tl"],
        );
        // PBS has no warning of its own: the script's timer sends it.
        assert_contains_all(
            &pbs,
            &[
                "#PBS -l walltime=24:00:01\n",
                "sleep 86341 & ",
                "kill -USR1 \"$run\"",
            ],
        );
    }
    // A short limit is warned at half of it.
    let short = dry_run(
        &dir,
        &[
            "--batch", "slurm", "--time", "00:01:00", "--", "run", "g.tl",
        ],
    );
    assert_contains_all(
        &short,
        &["#SBATCH --time=00:01:00\n", "#SBATCH --signal=B:USR1@30\n"],
    );
}

#[test]
fn a_checkpoint_requeues_a_job_stopped_by_the_warning() {
    let dir = graph_dir();
    let args = |batch| {
        [
            "--batch",
            batch,
            "--time",
            "1h",
            "--checkpoint",
            "ck",
            "--",
            "run",
            "g.tl",
        ]
    };
    let slurm = dry_run(&dir, &args("slurm"));
    assert_contains_all(
        &slurm,
        &[
            "#SBATCH --requeue\n",
            " run --checkpoint ck --progress-file ",
            "if [ \"$code\" -eq 138 ] && scontrol requeue \"$SLURM_JOB_ID\"; then\n",
        ],
    );
    assert_contains_all(&dry_run(&dir, &args("lsf")), &["#BSUB -Q \"138\"\n"]);
    assert_contains_all(
        &dry_run(&dir, &args("pbs")),
        &["#PBS -r y\n", "&& qrerun \"$PBS_JOBID\"; then\n"],
    );
}

#[test]
fn the_batch_system_is_found_on_path() {
    let dir = graph_dir();
    let stand_ins = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/stand-ins");
    for (system, line) in [
        ("pbs", "#PBS -N taskloom\n"),
        ("lsf", "#BSUB -J taskloom\n"),
    ] {
        let path = format!("{stand_ins}/{system}");
        let outcome = dir
            .command(&["submit", "--dry-run", "--", "run", "g.tl"])
            .env("PATH", &path)
            .output();
        assert_contains_all(outcome.ok(), &[line]);
    }
    let empty = Dir::new();
    let outcome = dir
        .command(&["submit", "--", "run", "g.tl"])
        .env("PATH", &empty.root().display().to_string())
        .output();
    assert_contains_all(
        outcome.error(2),
        &[
            "no batch system found",
            "sbatch (Slurm)",
            "bsub (LSF)",
            "qsub (PBS)",
        ],
    );
    assert_eq!(dir.listing(), vec!["g.tl"], "nothing written");
}

#[test]
fn bad_submissions_are_refused_with_exit_2() {
    let dir = graph_dir();
    for (args, message) in [
        (vec!["--time", "0"], "must be at least 1s"),
        (vec!["--time", "1:60:00"], "invalid time '1:60:00'"),
        (vec!["--time", "ten"], "invalid duration 'ten'"),
        (vec!["--name", "two words"], "invalid job name"),
        (vec!["--nodes", "0"], "--nodes"),
        (vec!["--batch", "sge"], "'sge'"),
    ] {
        let outcome = dir.taskloom(&[&["submit"], &args[..], &["--", "run", "g.tl"]].concat());
        assert_contains_all(outcome.failure(2), &[message]);
    }
    let outcome = dir.taskloom(&["submit", "--batch", "slurm", "--", "graph", "g.tl"]);
    assert_contains_all(
        outcome.error(2),
        &["a job runs taskloom run, map or array, not 'graph'"],
    );
    // What the job could not do: a checkpoint outside run.
    for (args, message) in [
        (
            vec!["--checkpoint", "ck", "--", "map", "--", "echo", ":::", "a"],
            "--checkpoint: only run keeps a checkpoint, not map (map resumes from its own log",
        ),
        (
            vec!["--checkpoint", "ck", "--", "array", "info", "a.zarr"],
            "--checkpoint: only run keeps a checkpoint, not array",
        ),
    ] {
        let outcome =
            dir.taskloom(&[&["submit", "--batch", "slurm", "--dry-run"], &args[..]].concat());
        assert_contains_all(outcome.error(2), &[message]);
    }
    // Map on several ranks spreads its items over them.
    let args = ["--nodes", "2", "--", "map", "--", "echo", ":::", "a"];
    let outcome = dir.taskloom(&[&["submit", "--batch", "slurm", "--dry-run"], &args[..]].concat());
    assert_contains_all(outcome.ok(), &[" map --executor mpi -- echo ':::' a"]);
    let outcome = dir.taskloom(&["submit", "--batch", "slurm"]);
    assert_contains_all(outcome.failure(2), &["<COMMAND>"]);
    assert_eq!(dir.listing(), vec!["g.tl"], "nothing written");
}

#[test]
fn job_commands_refuse_an_unknown_id_with_exit_2() {
    let dir = graph_dir();
    for command in ["peek", "cancel", "wait"] {
        let outcome = dir.taskloom(&[command, "4242"]);
        assert_contains_all(
            outcome.error(2),
            &["no job '4242' was submitted from this directory (see taskloom jobs)"],
        );
    }
    assert_eq!(
        dir.taskloom(&["jobs"]).ok(),
        "ID  NAME  BATCH  STATE  PROGRESS  ELAPSED\n"
    );
}

#[test]
fn plan_prints_the_matching_submit_line() {
    let dir = Dir::new();
    let plan = |cores_per_node: &str| {
        dir.taskloom(&[
            "plan",
            "--tasks",
            "125",
            "--task-seconds",
            "70s",
            "--deadline",
            "20m",
            "--cores-per-node",
            cores_per_node,
        ])
        .ok()
        .to_string()
    };
    // 8 cores for 1,120 s; the limit adds the minute of warning before it.
    assert_contains_all(
        &plan("32"),
        &["\nsubmit             taskloom submit --nodes 1 --cores-per-rank 8 --time 19m40s -- run FILE\n"],
    );
    assert_contains_all(
        &plan("3"),
        &["taskloom submit --nodes 3 --cores-per-rank 3 --time 19m40s -- run FILE\n"],
    );
}

#[test]
fn run_keeps_its_progress_in_a_file() {
    let dir = Dir::new();
    dir.create("g.tl", "a = sleep(1500, 1)\nb = inc(a)\nc = inc(b)\n");
    let running = dir
        .command(&["run", "g.tl", "--progress-file", "p"])
        .spawn();
    assert!(
        crate::harness::process::wait_for(std::time::Duration::from_secs(10), || {
            dir.read("p") == "0 3\n"
        }),
        "progress while running: {:?}",
        dir.read("p")
    );
    assert_eq!(running.wait().ok(), "{\"c\":3}\n");
    assert_eq!(dir.read("p"), "3 3\n");
    let outcome = dir.taskloom(&["run", "g.tl", "--progress-file", "missing/p"]);
    assert_contains_all(outcome.error(2), &["cannot write missing/p"]);
}

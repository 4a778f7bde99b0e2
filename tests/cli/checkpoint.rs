//! `taskloom run --checkpoint DIR` and `taskloom checkpoint DIR --stats/--clear`:
//! pure results are kept, a rerun reads them and runs nothing upstream of them, a
//! changed input recomputes only what depends on it, effects are never kept, a damaged
//! store is computed again, a stopped run keeps what it finished, and a directory that
//! is not a store is refused.

use std::time::Duration;

use crate::harness::graph::GraphFile;
use crate::harness::process::wait_for;

/// Every executor, each with the options a test gives it.
const EXECUTORS: [&[&str]; 4] = [
    &["--executor", "sync"],
    &["--executor", "threads", "--workers", "1"],
    &["--workers", "4"],
    &["--executor", "processes", "--workers", "2"],
];

/// Three pure tasks (`a`, `b`, `c`), an effect (`s`) and a task on both (`d`).
const MIXED: &str = "\
a = busy(1, 5)
b = inc(a)
c = mul(b, 2)
s = shell(\"echo 12\")
d = add(c, len(s))
";

fn run_with(file: &GraphFile, args: &[&str], executor: &[&str]) -> String {
    let all: Vec<&str> = args.iter().chain(executor).copied().collect();
    file.run(&all).ok().to_string()
}

/// What `--dry-run` says would run: "N of M".
fn would_run(file: &GraphFile, args: &[&str]) -> String {
    let all: Vec<&str> = args.iter().chain(&["--dry-run"]).copied().collect();
    let run = file.run(&all);
    assert_eq!(run.code, Some(0), "{}\n{}", run.context, run.stderr);
    run.stderr
        .trim_end()
        .strip_prefix("taskloom: ")
        .and_then(|s| s.strip_suffix(" tasks would run"))
        .unwrap_or_else(|| panic!("dry run: {:?}", run.stderr))
        .to_string()
}

fn stats(file: &GraphFile, store: &str) -> (u64, u64, u64) {
    let out = file.invoke(&["checkpoint", store, "--stats"]);
    let field = |name: &str| -> u64 {
        out.ok()
            .lines()
            .find_map(|l| l.strip_prefix(name)?.strip_prefix(": "))
            .unwrap_or_else(|| panic!("no {name} in {:?}", out.stdout))
            .parse()
            .unwrap()
    };
    (field("entries"), field("bytes"), field("temporary files"))
}

#[test]
fn a_rerun_reads_stored_results_and_runs_nothing_upstream_of_them() {
    for executor in EXECUTORS {
        let file = GraphFile::text(MIXED);
        let with = ["--checkpoint", "store"];
        assert_eq!(would_run(&file, &with), "5 of 5");
        assert_eq!(run_with(&file, &with, executor), "{\"d\":14}\n");
        // a, b and c are kept; s is an effect and d is computed from it.
        assert_eq!(stats(&file, "store").0, 3, "{executor:?}");
        // c is read (one task with no inputs), a and b do not run; s and d do.
        assert_eq!(would_run(&file, &with), "3 of 5");
        assert_eq!(
            would_run(&file, &["--checkpoint", "store", "--get", "c"]),
            "1 of 5"
        );
        assert_eq!(run_with(&file, &with, executor), "{\"d\":14}\n");
        let both = ["--checkpoint", "store", "--get", "b", "--get", "d"];
        assert_eq!(run_with(&file, &both, executor), "{\"b\":6,\"d\":14}\n");
        assert_eq!(stats(&file, "store").0, 3, "{executor:?}");
    }
}

#[test]
fn every_executor_reads_what_another_stored() {
    let file = GraphFile::text(MIXED);
    let with = ["--checkpoint", "store"];
    for executor in EXECUTORS.iter().chain(EXECUTORS.iter().rev()) {
        assert_eq!(run_with(&file, &with, executor), "{\"d\":14}\n");
    }
    assert_eq!(stats(&file, "store").0, 3);
}

#[test]
fn a_changed_input_recomputes_only_what_depends_on_it() {
    let source = |y: i64| {
        format!(
            "x = 3\ny = {y}\nfx = mul(x, 10)\nfy = mul(y, 10)\ngx = inc(fx)\ngy = inc(fy)\ntotal = add(gx, gy)\n"
        )
    };
    for executor in EXECUTORS {
        let mut file = GraphFile::text(&source(4));
        let with = ["--checkpoint", "store"];
        assert_eq!(run_with(&file, &with, executor), "{\"total\":72}\n");
        assert_eq!(stats(&file, "store").0, 5);
        file.write(&source(5));
        // total, gy, fy and the literal y run; gx is read; x and fx do not run.
        assert_eq!(would_run(&file, &with), "5 of 7");
        assert_eq!(run_with(&file, &with, executor), "{\"total\":82}\n");
        assert_eq!(stats(&file, "store").0, 8);
        // Back to the first input: everything is stored.
        file.write(&source(4));
        assert_eq!(would_run(&file, &with), "1 of 7");
        assert_eq!(run_with(&file, &with, executor), "{\"total\":72}\n");
    }
}

#[test]
fn renamed_keys_keep_their_results() {
    let mut file = GraphFile::text("a = busy(1, 20)\nb = inc(a)\n");
    let with = ["--checkpoint", "store"];
    assert_eq!(file.run(&with).ok(), "{\"b\":21}\n");
    file.write("first = busy(1, 20)\nsecond = inc(first)\n");
    assert_eq!(would_run(&file, &with), "1 of 2");
    assert_eq!(file.run(&with).ok(), "{\"second\":21}\n");
}

#[test]
fn effects_and_what_is_computed_from_them_are_never_kept() {
    for executor in EXECUTORS {
        let file = GraphFile::text(
            "s = shell(\"echo run >> log; echo 7\")\nn = inc(len(s))\nw = sleep(1, 3)\nt = add(n, w)\n",
        );
        let with = ["--checkpoint", "store"];
        assert_eq!(run_with(&file, &with, executor), "{\"t\":5}\n");
        assert_eq!(run_with(&file, &with, executor), "{\"t\":5}\n");
        assert_eq!(
            std::fs::read_to_string(file.path("log")).unwrap(),
            "run\nrun\n"
        );
        assert_eq!(stats(&file, "store").0, 0, "{executor:?}");
        std::fs::remove_file(file.path("log")).unwrap();
    }
}

#[test]
fn ops_shows_which_ops_are_pure() {
    let file = GraphFile::text("a = 1\n");
    let ops = file.invoke(&["ops"]).ok().to_string();
    let about = |call: &str| -> String {
        let line = ops.lines().find(|l| l.starts_with(call)).unwrap();
        line[call.len()..].trim_start().to_string()
    };
    for pure in ["add(a, b)", "busy(ms)", "inc(a)", "sum(list)"] {
        assert!(about(pure).starts_with("pure  "), "{pure}: {ops}");
    }
    for effect in ["shell(command)", "sleep(ms)", "fail(message)", "crash()"] {
        assert!(about(effect).starts_with("effect  "), "{effect}: {ops}");
    }
}

#[test]
fn a_directory_that_is_not_a_store_is_refused_and_left_alone() {
    let file = GraphFile::text(MIXED);
    std::fs::create_dir(file.path("notes")).unwrap();
    std::fs::write(file.path("notes/todo"), "keep me").unwrap();
    for args in [
        &["run", "graph.txt", "--checkpoint", "notes"][..],
        &["checkpoint", "notes", "--stats"],
        &["checkpoint", "notes", "--clear"],
    ] {
        let stderr = file.invoke(args).error(2).to_string();
        assert!(stderr.contains("notes: not a checkpoint store"), "{stderr}");
    }
    let names: Vec<_> = std::fs::read_dir(file.path("notes")).unwrap().collect();
    assert_eq!(names.len(), 1);
    assert_eq!(
        std::fs::read_to_string(file.path("notes/todo")).unwrap(),
        "keep me"
    );
    // A regular file, and a store that is missing.
    let stderr = file
        .run(&["--checkpoint", "graph.txt"])
        .error(2)
        .to_string();
    assert!(stderr.contains("checkpoint graph.txt"), "{stderr}");
    file.invoke(&["checkpoint", "missing", "--stats"]).error(2);
    assert!(!file.path("missing").exists());
    // An empty directory becomes a store.
    std::fs::create_dir(file.path("empty")).unwrap();
    assert_eq!(file.run(&["--checkpoint", "empty"]).ok(), "{\"d\":14}\n");
}

#[test]
fn stats_and_clear() {
    let file = GraphFile::text(MIXED);
    file.run(&["--checkpoint", "store"]).ok();
    let (entries, bytes, temporary) = stats(&file, "store");
    assert_eq!((entries, temporary), (3, 0));
    assert!(bytes > 3 * 48, "{bytes}");
    // A temporary file left by a killed writer is counted, and cleared.
    std::fs::write(file.path("store/tmp/leftover"), "half an entry").unwrap();
    assert_eq!(stats(&file, "store").2, 1);
    let cleared = file.invoke(&["checkpoint", "store", "--clear"]);
    assert_eq!(cleared.ok(), format!("removed 3 entries ({bytes} bytes)\n"));
    assert_eq!(stats(&file, "store"), (0, 0, 0));
    // Still a store: the next run fills it again.
    assert_eq!(would_run(&file, &["--checkpoint", "store"]), "5 of 5");
    file.run(&["--checkpoint", "store"]).ok();
    assert_eq!(stats(&file, "store").0, 3);
    let usage = file.invoke(&["checkpoint", "store"]);
    assert_eq!(usage.code, Some(2));
}

#[test]
fn a_damaged_entry_is_computed_again_never_read() {
    for executor in EXECUTORS {
        let file = GraphFile::text("a = busy(1, 5)\nb = range(a)\nc = sum(b)\n");
        let with = ["--checkpoint", "store"];
        assert_eq!(run_with(&file, &with, executor), "{\"c\":10}\n");
        // Damage every entry: truncate one, flip a payload byte in the others.
        for (i, path) in entries(&file.path("store")).iter().enumerate() {
            let mut bytes = std::fs::read(path).unwrap();
            if i == 0 {
                bytes.truncate(bytes.len() - 1);
            } else {
                let last = bytes.len() - 1;
                bytes[last] ^= 0x01;
            }
            std::fs::write(path, bytes).unwrap();
        }
        assert_eq!(run_with(&file, &with, executor), "{\"c\":10}\n");
        // The damaged entries were replaced by good ones.
        assert_eq!(would_run(&file, &with), "1 of 3");
        assert_eq!(run_with(&file, &with, executor), "{\"c\":10}\n");
    }
}

/// The entry files of a store (none while it does not exist).
fn entries(store: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let Ok(subs) = std::fs::read_dir(store) else {
        return found;
    };
    for sub in subs {
        let sub = sub.unwrap().path();
        if sub.is_dir() && sub.file_name().unwrap() != "tmp" {
            found.extend(std::fs::read_dir(&sub).unwrap().map(|e| e.unwrap().path()));
        }
    }
    found
}

#[test]
fn a_stopped_run_keeps_what_it_finished_and_the_rerun_does_the_rest() {
    // A chain of ten tasks of 250 ms each, stopped after a few of them.
    let steps = 10;
    let mut source = String::from("k0 = busy(250, 0)\n");
    for i in 1..steps {
        source.push_str(&format!("k{i} = busy(250, inc(k{}))\n", i - 1));
    }
    // SIGTERM, and SIGUSR1 (what Slurm sends before a time limit).
    for (executor, (signal, code)) in EXECUTORS
        .into_iter()
        .zip([("TERM", 143), ("USR1", 138)].iter().cycle())
    {
        let file = GraphFile::text(&source);
        let mut args = vec!["run", "graph.txt", "--checkpoint", "store"];
        args.extend_from_slice(executor);
        let running = file.command(&args).spawn();
        let store = file.path("store");
        assert!(
            wait_for(Duration::from_secs(20), || entries(&store).len() >= 2),
            "no results kept: {executor:?}"
        );
        running.signal(signal);
        let stopped = running.wait();
        assert_eq!(
            stopped.code,
            Some(*code),
            "{}\n{}",
            stopped.context,
            stopped.stderr
        );
        let kept = entries(&store).len();
        assert!((2..steps).contains(&kept), "{kept} kept: {executor:?}");
        // The chain's kept prefix is not run again: its last result is read.
        let expected = format!("{} of {steps}", steps - kept + 1);
        assert_eq!(would_run(&file, &["--checkpoint", "store"]), expected);
        assert_eq!(
            run_with(&file, &["--checkpoint", "store"], executor),
            "{\"k9\":9}\n"
        );
        assert_eq!(entries(&store).len(), steps);
    }
}

#[test]
fn a_run_killed_at_any_moment_leaves_a_store_the_next_run_resumes_from() {
    // Forty tasks of 20 ms and their sum, killed outright at moments spread over the
    // run: each killed run may leave whole entries and temporary files, never a bad one.
    let mut source = String::new();
    let parts: Vec<String> = (0..40).map(|i| format!("p{i}")).collect();
    for (i, part) in parts.iter().enumerate() {
        source.push_str(&format!("{part} = busy(20, {i})\n"));
    }
    source.push_str(&format!("total = sum([{}])\n", parts.join(", ")));
    let file = GraphFile::text(&source);
    let store = file.path("store");
    for (round, delay) in [20u64, 60, 100, 140, 180, 220].iter().enumerate() {
        let executor = EXECUTORS[round % 2];
        let mut args = vec!["run", "graph.txt", "--checkpoint", "store"];
        args.extend_from_slice(executor);
        let running = file.command(&args).spawn();
        std::thread::sleep(Duration::from_millis(*delay));
        running.signal("KILL");
        let killed = running.wait();
        // Killed, or done before the signal came.
        assert!(
            killed.code.is_none() || killed.code == Some(0),
            "{}",
            killed.stderr
        );
    }
    let kept = entries(&store).len();
    assert_eq!(
        run_with(&file, &["--checkpoint", "store"], EXECUTORS[2]),
        "{\"total\":780}\n"
    );
    assert!(entries(&store).len() >= kept);
    assert_eq!(would_run(&file, &["--checkpoint", "store"]), "1 of 41");
}

#[test]
fn a_result_that_cannot_be_saved_fails_its_task() {
    for executor in EXECUTORS {
        let file = GraphFile::text("a = inc(1)\nb = inc(a)\n");
        std::fs::create_dir(file.path("store")).unwrap();
        file.run(&["--checkpoint", "store", "--get", "a"]).ok();
        // Files where the entries' directories go: no entry can be written.
        for byte in 0..=255u8 {
            let sub = file.path(&format!("store/{byte:02x}"));
            let _ = std::fs::remove_dir_all(&sub);
            std::fs::write(sub, "").unwrap();
        }
        let mut args = vec!["--checkpoint", "store"];
        args.extend_from_slice(executor);
        let stderr = file.run(&args).error(1).to_string();
        assert!(
            stderr.starts_with("taskloom: error: task 'a' failed in op 'checkpoint': cannot save its result in store: "),
            "{stderr}"
        );
    }
}

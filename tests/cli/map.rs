//! End-to-end tests of `taskloom map` (contract: `docs/spec/map-cli.md`): item
//! sources, placeholders, output order, the results log, resume, retries, timeouts,
//! halting, Ctrl-C, exit codes and messages, and that no process outlives a run.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::harness::process::{alive, wait_for};
use crate::harness::{Dir, Outcome, TestCommand};

/// `taskloom map ARGS...` in `dir`, with nothing on stdin: no progress bar unless
/// asked for, as stderr is not a terminal.
fn map(dir: &Dir, args: &[&str]) -> Outcome {
    map_command(dir, args).output()
}

pub(super) fn map_command(dir: &Dir, args: &[&str]) -> TestCommand {
    dir.command(&["map"]).args(args)
}

/// The results log `name` in `dir`, one parsed JSON value per line.
pub(super) fn read_log(dir: &Dir, name: &str) -> Vec<Value> {
    dir.read(name)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad line {l:?}: {e}")))
        .collect()
}

/// Process ids written one per line (by items that start a grandchild).
fn read_pids(dir: &Dir, name: &str) -> Vec<u32> {
    dir.read(name)
        .split_whitespace()
        .map(|p| p.parse().expect("a pid"))
        .collect()
}

fn sorted_lines(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.lines().collect();
    lines.sort();
    lines
}

/// Waits briefly for processes that were just killed to disappear.
fn assert_all_dead(pids: &[u32]) {
    assert!(!pids.is_empty(), "no grandchild pids were recorded");
    wait_for(Duration::from_secs(2), || !pids.iter().any(|&p| alive(p)));
    let survivors: Vec<_> = pids.iter().filter(|&&p| alive(p)).collect();
    assert!(survivors.is_empty(), "still running: {survivors:?}");
}

/// An item that starts a 30 s grandchild, records its pid in `pids`, and waits for it.
const SPAWNS_GRANDCHILD: &str = ": {}; sleep 30 & echo $! >> pids; wait";

#[test]
fn words_after_the_command_are_items_appended_as_last_argument() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &["-j", "2", "--", "echo", "x", ":::", "a", "b c", "d"],
    );
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout, "x a\nx b c\nx d\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn placeholders_item_sequence_and_inside_words() {
    let dir = Dir::new();
    let out = map(&dir, &["--", "echo", "{#}:{}", "[{}]", ":::", "a", "b"]);
    assert_eq!(out.stdout, "1:a [a]\n2:b [b]\n");
    // Options after the command belong to the command; no `--` is needed.
    let out = map(&dir, &["-j", "1", "echo", "-n", "{}", ":::", "p", "q"]);
    assert_eq!(out.stdout, "pq");
    // The program itself can be a placeholder.
    let out = map(&dir, &["--", "{}", "ok", ":::", "echo"]);
    assert_eq!(out.stdout, "ok\n");
}

#[test]
fn grid_is_the_cartesian_product_first_grid_slowest() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "-j",
            "3",
            "--grid",
            "lr=0.1,0.01",
            "--grid",
            "depth=3,5,7",
            "--",
            "echo",
            "{#}",
            "{lr}/{depth}",
            "{}",
        ],
    );
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert_eq!(
        out.stdout,
        "1 0.1/3 lr=0.1 depth=3\n2 0.1/5 lr=0.1 depth=5\n3 0.1/7 lr=0.1 depth=7\n\
         4 0.01/3 lr=0.01 depth=3\n5 0.01/5 lr=0.01 depth=5\n6 0.01/7 lr=0.01 depth=7\n"
    );
    // Without placeholders the parameters are appended as one argument.
    let out = map(
        &dir,
        &["--grid", "a=1", "--grid", "b=2", "--", "printf", "<%s>"],
    );
    assert_eq!(out.stdout, "<a=1 b=2>");
}

#[test]
fn input_file_and_stdin_one_item_per_line_empty_lines_skipped() {
    let dir = Dir::new();
    std::fs::write(dir.path("items.txt"), "one\n\ntwo words\n\nthree\n").unwrap();
    let out = map(&dir, &["--input", "items.txt", "--", "echo", "<{}>"]);
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout, "<one>\n<two words>\n<three>\n");
    let out = map_command(&dir, &["--input", "-", "--", "echo", "{#}"])
        .stdin("a\nb\n\nc")
        .output();
    assert_eq!(out.stdout, "1\n2\n3\n");
}

#[test]
fn shell_joins_words_and_runs_sh_c() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &["--shell", "--", "echo {} | tr a-z A-Z", ":::", "abc", "de"],
    );
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout, "ABC\nDE\n");
    let out = map(&dir, &["--shell", "--", "echo", "$((1+{}))", ":::", "41"]);
    assert_eq!(out.stdout, "42\n");
    // Without --shell nothing is interpreted: `|` is an argument.
    let out = map(&dir, &["--", "echo", "{}", "|", "tr", ":::", "abc"]);
    assert_eq!(out.stdout, "abc | tr\n");
}

#[test]
fn output_is_in_input_order_in_whole_blocks_under_load() {
    let dir = Dir::new();
    // Later items finish first; each writes its output in pieces, with pauses, to
    // both streams.
    let items: Vec<String> = (1..=12).map(|i| i.to_string()).collect();
    let script = "sleep 0.$(( (13 - $1) * 3 % 10 )); for k in 1 2 3; do echo \"$1.$k\"; \
                  echo \"e$1.$k\" >&2; sleep 0.01; done";
    let mut args = vec!["-j", "6", "--", "sh", "-c", script, "sh"];
    args.push(":::");
    args.extend(items.iter().map(String::as_str));
    let out = map(&dir, &args);
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    let expected: String = (1..=12).map(|i| format!("{i}.1\n{i}.2\n{i}.3\n")).collect();
    assert_eq!(out.stdout, expected);
    let expected_err: String = (1..=12)
        .map(|i| format!("e{i}.1\ne{i}.2\ne{i}.3\n"))
        .collect();
    assert_eq!(out.stderr, expected_err);
}

#[test]
fn unordered_prints_each_item_when_it_ends() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "--unordered",
            "-j",
            "2",
            "--",
            "sh",
            "-c",
            "sleep $1; echo $1",
            "sh",
            ":::",
            "0.4",
            "0",
        ],
    );
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout, "0\n0.4\n");
    let out = map(
        &dir,
        &[
            "-j",
            "2",
            "--",
            "sh",
            "-c",
            "sleep $1; echo $1",
            "sh",
            ":::",
            "0.4",
            "0",
        ],
    );
    assert_eq!(out.stdout, "0.4\n0\n");
}

#[test]
fn jobs_bounds_how_many_items_run_at_once() {
    for jobs in [1, 3] {
        let dir = Dir::new();
        let script = "echo s >> trace; sleep 0.15; echo e >> trace";
        let mut args = vec!["-j".to_string(), jobs.to_string(), "--shell".into()];
        args.extend(["--".into(), script.into(), ":::".into()]);
        args.extend((0..6).map(|i| i.to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = map(&dir, &args);
        assert_eq!(out.exit_code(), 0, "{}", out.stderr);
        let (mut now, mut most) = (0, 0);
        for line in dir.read("trace").lines() {
            now += if line == "s" { 1 } else { -1 };
            most = most.max(now);
        }
        assert_eq!(most, jobs, "-j {jobs}");
    }
}

#[test]
fn results_log_has_one_json_line_per_item() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "--results",
            "r.jsonl",
            "--",
            "sh",
            "-c",
            "echo out $0; echo err $0 >&2; exit $0",
            ":::",
            "0",
            "3",
        ],
    );
    assert_eq!(out.exit_code(), 1);
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 2);
    let first = log.iter().find(|l| l["seq"] == 1).expect("seq 1");
    let keys: Vec<&str> = first
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "seq", "item", "exit", "signal", "stdout", "stderr", "seconds", "attempts",
    ] {
        assert!(keys.contains(&key), "{key} missing from {first}");
    }
    assert!(first.get("params").is_none(), "params only for grid items");
    assert_eq!(first["item"], "0");
    assert_eq!(first["exit"], 0);
    assert_eq!(first["signal"], Value::Null);
    assert_eq!(first["stdout"], "out 0\n");
    assert_eq!(first["stderr"], "err 0\n");
    assert_eq!(first["attempts"], 1);
    assert!(first["seconds"].as_f64().unwrap() >= 0.0);
    let second = log.iter().find(|l| l["seq"] == 2).expect("seq 2");
    assert_eq!(second["exit"], 3);
    // A second run appends.
    map(&dir, &["--results", "r.jsonl", "--", "true", ":::", "x"]);
    assert_eq!(read_log(&dir, "r.jsonl").len(), 3);
}

#[test]
fn results_log_of_a_grid_has_params_in_grid_order() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "--results",
            "g.jsonl",
            "--grid",
            "lr=0.1,0.01",
            "--grid",
            "depth=3",
            "--",
            "true",
        ],
    );
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    let text = dir.read("g.jsonl");
    let first = text.lines().find(|l| l.contains("\"seq\":1")).unwrap();
    assert!(
        first.contains(r#""item":"lr=0.1 depth=3","params":{"lr":"0.1","depth":"3"}"#),
        "{first}"
    );
    let log = read_log(&dir, "g.jsonl");
    assert_eq!(log.len(), 2);
    assert!(log.iter().any(|l| l["params"]["lr"] == "0.01"));
}

#[test]
fn resume_skips_items_recorded_as_succeeded() {
    let dir = Dir::new();
    std::fs::write(dir.path("bad"), "").unwrap();
    let args = [
        "--results",
        "r.jsonl",
        "--resume",
        "--shell",
        "--",
        "echo {} >> ran; test ! -e {}",
        ":::",
        "good",
        "bad",
        "fine",
    ];
    let out = map(&dir, &args);
    assert_eq!(out.exit_code(), 1);
    assert_eq!(dir.read("ran").lines().count(), 3);
    std::fs::remove_file(dir.path("bad")).unwrap();
    std::fs::write(dir.path("ran"), "").unwrap();
    let out = map(&dir, &[&["--stats"], &args[..]].concat());
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert_eq!(dir.read("ran"), "bad\n", "only the failed item runs again");
    assert!(out.stderr.contains("skipped:      2"), "{}", out.stderr);
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 4);
    assert_eq!(log[3]["item"], "bad");
    assert_eq!(log[3]["seq"], 2);
    // Everything succeeded: nothing left to run.
    let out = map(&dir, &args);
    assert_eq!(out.exit_code(), 0);
    assert_eq!(dir.read("ran"), "bad\n");
    // --resume without --results is a usage error.
    let out = map(&dir, &["--resume", "--", "true", ":::", "a"]);
    assert_eq!(out.exit_code(), 2);
    assert!(
        out.stderr.contains("--resume needs --results"),
        "{}",
        out.stderr
    );
}

#[test]
fn retries_rerun_a_failed_item() {
    let dir = Dir::new();
    // Fails the first time (no marker yet), succeeds the second.
    let script = "if [ -e m{} ]; then echo second; else touch m{}; echo first; exit 7; fi";
    let out = map(
        &dir,
        &[
            "--retries",
            "1",
            "--results",
            "r.jsonl",
            "--shell",
            "--",
            script,
            ":::",
            "a",
        ],
    );
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert_eq!(out.stdout, "second\n", "only the last attempt's output");
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["exit"], 0);
    // Without retries the same item fails.
    let out = map(&dir, &["--shell", "--", script, ":::", "b"]);
    assert_eq!(out.exit_code(), 1);
    // An item that always fails runs 1 + N times.
    let out = map(
        &dir,
        &[
            "--retries",
            "2",
            "--results",
            "f.jsonl",
            "--shell",
            "--",
            "echo x >> tries; false",
            ":::",
            "c",
        ],
    );
    assert_eq!(out.exit_code(), 1);
    assert_eq!(dir.read("tries").lines().count(), 3);
    assert_eq!(read_log(&dir, "f.jsonl")[0]["attempts"], 3);
}

#[test]
fn timeout_terminates_the_whole_process_group() {
    let dir = Dir::new();
    let start = Instant::now();
    let out = map(
        &dir,
        &[
            "--timeout",
            "300ms",
            "--results",
            "r.jsonl",
            "--shell",
            "--",
            SPAWNS_GRANDCHILD,
            ":::",
            "a",
            "b",
        ],
    );
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(out.exit_code(), 1);
    assert!(out.stderr.contains("2 of 2 items failed"), "{}", out.stderr);
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    for line in read_log(&dir, "r.jsonl") {
        assert_eq!(line["signal"], "SIGTERM", "{line}");
        assert_eq!(line["exit"], Value::Null);
    }
    assert_all_dead(&read_pids(&dir, "pids"));
}

#[test]
fn timeout_kills_what_ignores_sigterm_two_seconds_later() {
    let dir = Dir::new();
    let start = Instant::now();
    let out = map(
        &dir,
        &[
            "--timeout",
            "0.2s",
            "--results",
            "r.jsonl",
            "--shell",
            "--",
            "trap '' TERM; : {}; sleep 30 & echo $! >> pids; wait; wait",
            ":::",
            "a",
        ],
    );
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(2100) && took < Duration::from_secs(6),
        "{took:?}"
    );
    assert_eq!(out.exit_code(), 1);
    assert_eq!(read_log(&dir, "r.jsonl")[0]["signal"], "SIGKILL");
    assert_all_dead(&read_pids(&dir, "pids"));
}

#[test]
fn grandchildren_left_behind_by_an_item_do_not_survive_it() {
    let dir = Dir::new();
    let start = Instant::now();
    // The shell exits at once; its background sleep holds stdout open.
    let out = map(
        &dir,
        &[
            "--shell",
            "--",
            ": {}; sleep 30 & echo $! >> pids",
            ":::",
            "a",
            "b",
        ],
    );
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_all_dead(&read_pids(&dir, "pids"));
}

#[test]
fn timeout_also_bounds_waiting_for_pipes_held_outside_the_group() {
    let dir = Dir::new();
    let start = Instant::now();
    // `setsid` takes the sleeper out of the item's process group, out of reach; it
    // holds the item's stdout open.
    let out = map(
        &dir,
        &[
            "--timeout",
            "300ms",
            "--shell",
            "--",
            ": {}; setsid sleep 5 & echo $! >> pids",
            ":::",
            "a",
        ],
    );
    let took = start.elapsed();
    for pid in read_pids(&dir, "pids") {
        let _ = std::process::Command::new("kill")
            .arg(pid.to_string())
            .status();
    }
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert!(took < Duration::from_secs(3), "{took:?}");
}

/// Items for the halt tests: `fail` fails after 0.2 s, `ok` succeeds after 0.5 s,
/// `slow` runs for 30 s with a grandchild, and everything else succeeds at once.
const HALT_SCRIPT: &str = "echo {} >> started; case {} in \
    fail) sleep 0.2; exit 1;; ok) sleep 0.5;; slow) sleep 30 & echo $! >> pids; wait;; esac";

#[test]
fn halt_now_kills_running_items_and_stops() {
    let dir = Dir::new();
    let start = Instant::now();
    let out = map(
        &dir,
        &[
            "--halt",
            "now",
            "-j",
            "2",
            "--results",
            "r.jsonl",
            "--shell",
            "--",
            HALT_SCRIPT,
            ":::",
            "slow",
            "fail",
            "x",
            "y",
        ],
    );
    assert!(
        start.elapsed() < Duration::from_secs(5),
        "slow was not killed"
    );
    assert_eq!(out.exit_code(), 1);
    assert_eq!(sorted_lines(&dir.read("started")), ["fail", "slow"]);
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 2);
    let slow = log.iter().find(|l| l["item"] == "slow").unwrap();
    assert_eq!(slow["signal"], "SIGTERM");
    let err = &out.stderr;
    assert!(err.contains("#2 'fail' (exit 1)"), "{err}");
    assert!(err.contains("2 not run"), "{err}");
    assert_all_dead(&read_pids(&dir, "pids"));
}

#[test]
fn halt_soon_lets_running_items_finish_and_starts_no_more() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "--halt",
            "soon",
            "-j",
            "2",
            "--results",
            "r.jsonl",
            "--shell",
            "--",
            HALT_SCRIPT,
            ":::",
            "ok",
            "fail",
            "x",
            "y",
        ],
    );
    assert_eq!(out.exit_code(), 1);
    assert_eq!(sorted_lines(&dir.read("started")), ["fail", "ok"]);
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 2);
    assert_eq!(log.iter().find(|l| l["item"] == "ok").unwrap()["exit"], 0);
    // --halt never (the default) goes on.
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "-j",
            "2",
            "--shell",
            "--",
            HALT_SCRIPT,
            ":::",
            "ok",
            "fail",
            "x",
            "y",
        ],
    );
    assert_eq!(out.exit_code(), 1);
    assert_eq!(dir.read("started").lines().count(), 4);
}

/// Starts `-j 2` items (`quick`, then sleepers with grandchildren) with a results log,
/// and sends `signal` to taskloom once `quick` is logged and two sleepers run.
fn interrupted(signal: &str) -> (Dir, Outcome, Duration) {
    let dir = Dir::new();
    let taskloom = map_command(
        &dir,
        &["-j", "2", "--results", "r.jsonl", "--shell", "--",
          "case {} in quick) echo done;; *) echo $$ >> groups; sleep 30 & echo $! >> pids; wait;; esac",
          ":::", "quick", "a", "b", "c", "d"],
    )
    .spawn();
    wait_for(Duration::from_secs(10), || {
        !read_log(&dir, "r.jsonl").is_empty() && read_pids(&dir, "pids").len() >= 2
    });
    taskloom.signal(signal);
    let start = Instant::now();
    let out = taskloom.wait();
    (dir, out, start.elapsed())
}

#[test]
fn sigint_and_sigterm_kill_running_items_and_leave_a_valid_log() {
    for (signal, status) in [("INT", 130), ("TERM", 143)] {
        let (dir, out, took) = interrupted(signal);
        assert!(took < Duration::from_secs(4), "{took:?}");
        assert_eq!(out.exit_code(), status, "{}", out.stderr);
        let message = format!("interrupted by SIG{signal}");
        assert!(out.stderr.contains(&message), "{}", out.stderr);
        let log = read_log(&dir, "r.jsonl");
        assert_eq!(log.len(), 3, "quick and the two killed items");
        assert_eq!(log.iter().filter(|l| l["exit"] == 0).count(), 1);
        assert_eq!(log.iter().filter(|l| l["signal"] == "SIGTERM").count(), 2);
        assert_eq!(
            read_pids(&dir, "pids").len(),
            2,
            "no item started after the signal"
        );
        assert_all_dead(&read_pids(&dir, "pids"));
    }
}

#[test]
fn a_run_killed_outright_leaves_a_log_of_whole_lines() {
    let (dir, out, _) = interrupted("KILL");
    // Nothing could clean up after SIGKILL: do it here, whole process groups.
    for group in read_pids(&dir, "groups") {
        let _ = std::process::Command::new("kill")
            .args(["-KILL", "--", &format!("-{group}")])
            .status();
    }
    assert_eq!(out.code, None, "killed by a signal");
    let text = dir.read("r.jsonl");
    assert!(text.ends_with('\n'));
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["item"], "quick");
    assert_eq!(log[0]["stdout"], "done\n");
}

#[test]
fn stats_summarise_the_run_consistently() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "--stats",
            "-j",
            "2",
            "--",
            "sh",
            "-c",
            "sleep 0.2; exit $0",
            ":::",
            "0",
            "0",
            "0",
            "1",
        ],
    );
    assert_eq!(out.exit_code(), 1);
    let err = &out.stderr;
    let field = |name: &str| -> f64 {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("{name}:")))
            .unwrap_or_else(|| panic!("no {name} in {err}"));
        line[name.len() + 1..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(field("items"), 4.0);
    assert_eq!(field("succeeded"), 3.0);
    assert_eq!(field("failed"), 1.0);
    let (wall, summed) = (field("wall seconds"), field("item seconds"));
    assert!((0.4..2.0).contains(&wall), "{err}");
    assert!((0.8..3.0).contains(&summed), "{err}");
    assert!((field("speed-up") - summed / wall).abs() < 0.02, "{err}");
    assert!(
        (field("efficiency") - field("speed-up") / 2.0).abs() < 0.01,
        "{err}"
    );
    assert!(err.contains("(2 jobs)"), "{err}");
}

#[test]
fn failures_are_counted_and_the_first_few_named() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "--", "sh", "-c", "exit $0", ":::", "0", "1", "2", "3", "4", "5", "6", "7",
        ],
    );
    assert_eq!(out.exit_code(), 1);
    let err = &out.stderr;
    assert!(
        err.starts_with("taskloom: error: 7 of 8 items failed: #2 '1' (exit 1), #3 '2' (exit 2)"),
        "{err}"
    );
    assert!(err.contains("#6 '5' (exit 5), ..."), "{err}");
    assert!(!err.contains("#7"), "{err}");
}

#[test]
fn progress_bar_only_when_asked_or_on_a_terminal() {
    let dir = Dir::new();
    let out = map(&dir, &["--progress", "--", "true", ":::", "a", "b", "c"]);
    assert_eq!(out.exit_code(), 0);
    assert!(out.stderr.contains("/3 items"), "{:?}", out.stderr);
    // stderr is not a terminal here: no bar by default, nor with --no-progress.
    let out = map(&dir, &["--", "true", ":::", "a", "b"]);
    assert_eq!(out.stderr, "");
    let out = map(
        &dir,
        &["--progress", "--no-progress", "--", "true", ":::", "a"],
    );
    assert_eq!(out.stderr, "");
}

/// Each usage error exits with 2 and one message naming the problem.
#[test]
fn usage_errors_exit_2_with_a_message() {
    let dir = Dir::new();
    std::fs::write(dir.path("empty.txt"), "\n\n").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["--", "echo"], "no items"),
        (&["--", "echo", ":::"], "no items after ':::'"),
        (&[":::", "a"], "no command"),
        (
            &["--input", "missing.txt", "--", "echo"],
            "--input missing.txt",
        ),
        (
            &["--input", "empty.txt", "--", "echo"],
            "no items in --input empty.txt",
        ),
        (
            &["--input", "empty.txt", "--", "echo", ":::", "a"],
            "one way only",
        ),
        (&["--grid", "a=1", "--", "echo", ":::", "a"], "one way only"),
        (&["--grid", "a", "--", "echo"], "invalid grid 'a'"),
        (
            &["--grid", "a=1", "--", "echo", "{b}"],
            "unknown placeholder '{b}'",
        ),
        (
            &["--timeout", "soon", "--", "echo", ":::", "a"],
            "invalid duration 'soon'",
        ),
        (
            &["--timeout", "0", "--", "echo", ":::", "a"],
            "--timeout must be more than 0",
        ),
        (&["-j", "0", "--", "echo", ":::", "a"], "-j"),
        (&["--halt", "later", "--", "echo", ":::", "a"], "later"),
        (&["--bogus", "echo", ":::", "a"], "--bogus"),
        (
            &["--", "echo", ":::", "a", ":::", "b"],
            "':::' is given more than once",
        ),
        (
            &["--", "./nonexistent-cmd", ":::", "a"],
            "cannot run './nonexistent-cmd'",
        ),
        // After `--`, even a word starting with `-` is the command.
        (
            &["--", "-no-such-cmd", ":::", "a"],
            "cannot run '-no-such-cmd'",
        ),
    ];
    for (args, message) in cases {
        let out = map(&dir, args);
        assert_eq!(out.exit_code(), 2, "{args:?}: {}", out.stderr);
        assert!(out.stderr.contains(message), "{args:?}: {}", out.stderr);
        assert!(
            out.stderr.starts_with("taskloom: error: "),
            "{args:?}: {}",
            out.stderr
        );
        assert_eq!(out.stdout, "", "{args:?}");
    }
}

#[test]
fn help_lists_the_options() {
    let out = map(&Dir::new(), &["--help"]);
    assert_eq!(out.exit_code(), 0);
    for option in [
        "--jobs",
        "--grid",
        "--input",
        "--results",
        "--resume",
        "--halt",
        "{#}",
    ] {
        assert!(out.stdout.contains(option), "{option}: {}", out.stdout);
    }
}

#[test]
fn an_unknown_command_is_reported_once_and_nothing_runs() {
    let dir = Dir::new();
    let items: Vec<String> = (0..50).map(|i| i.to_string()).collect();
    let mut args = vec![
        "-j",
        "4",
        "--results",
        "r.jsonl",
        "--",
        "no-such-command-xyz",
        ":::",
    ];
    args.extend(items.iter().map(String::as_str));
    let out = map(&dir, &args);
    assert_eq!(out.exit_code(), 2);
    let err = &out.stderr;
    assert_eq!(
        err,
        "taskloom: error: cannot run 'no-such-command-xyz': No such file or directory (os error 2)\n"
    );
    assert!(read_log(&dir, "r.jsonl").is_empty());
}

#[test]
fn messages_start_like_the_rest_of_the_cli() {
    let dir = Dir::new();
    for args in [&["--", "false", ":::", "a"][..], &["--", "echo"][..]] {
        let out = map(&dir, args);
        assert!(
            out.stderr.starts_with("taskloom: error: "),
            "{}",
            out.stderr
        );
    }
}

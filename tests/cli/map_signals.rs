//! `taskloom map` under a hostile environment (contract: `docs/spec/map-cli.md`):
//! every terminating signal at varying moments, items whose SIGTERM handler exits 0,
//! a full or closed stdout, output held back by a slow item, and the timeline files
//! of runs that did not succeed. Each asserts what the user is promised: the exit
//! code, no process left (through /proc), a results log that parses and never calls
//! an interrupted or undelivered item succeeded, and `--resume` running exactly the
//! rest.

use std::collections::HashMap;
use std::fs::File;
use std::io::Read;
use std::process::Stdio;
use std::time::{Duration, SystemTime};

use serde_json::Value;

use super::map::{map_command, read_log};
use crate::harness::process::{assert_none_left, unique_mark, wait_for, MARK};
use crate::harness::{Dir, TASKLOOM};

/// What `--resume` takes for success: exit 0, and no failure recorded.
fn succeeded(line: &Value) -> bool {
    line["exit"] == 0 && line.get("failure").is_none_or(Value::is_null)
}

/// A delay that differs from run to run, up to `limit` ms: signals land at varying
/// moments (before, between and after items' ends) without a flaky dependence on one.
fn some_delay(limit: u64) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    Duration::from_millis(nanos % limit)
}

/// Quick items (`q*`) print their name; sleepers (`s*`) note that they started and
/// wait 30 s, exiting 0 on SIGTERM, as many handlers do; once the file `fast` exists,
/// every item prints its name at once.
const ITEM: &str = "if [ -e fast ]; then echo {}; else case {} in q*) echo {};; \
                    *) echo {} >> started; trap 'exit 0' TERM; sleep 30 & wait;; esac; fi";

const ITEMS: [&str; 10] = ["q1", "s1", "q2", "q3", "s2", "q4", "s3", "q5", "q6", "s4"];

#[test]
fn every_terminating_signal_stops_the_run_kills_the_items_and_resume_runs_the_rest() {
    for (signal, number) in [("INT", 2), ("TERM", 15), ("HUP", 1), ("QUIT", 3)] {
        let dir = Dir::new();
        let mark = unique_mark(signal);
        let mut args = vec![
            "-j",
            "3",
            "--results",
            "r.jsonl",
            "--trace",
            "t.json",
            "--shell",
            "--",
            ITEM,
            ":::",
        ];
        args.extend(ITEMS);
        let taskloom = map_command(&dir, &args).env(MARK, &mark).spawn();
        assert!(
            wait_for(Duration::from_secs(10), || !dir.read("started").is_empty()),
            "no sleeper started"
        );
        std::thread::sleep(some_delay(300));
        taskloom.signal(signal);
        let out = taskloom.wait();
        assert_eq!(out.exit_code(), 128 + number, "SIG{signal}: {}", out.stderr);
        assert!(
            out.stderr.contains(&format!("interrupted by SIG{signal}")),
            "{}",
            out.stderr
        );
        assert_none_left(&mark);

        let first = read_log(&dir, "r.jsonl");
        for line in &first {
            let item = line["item"].as_str().unwrap();
            if item.starts_with('s') {
                assert!(!succeeded(line), "SIG{signal}: a stopped sleeper: {line}");
                assert_eq!(line["failure"], "interrupt", "{line}");
            }
        }
        let trace: Value = serde_json::from_str(&dir.read("t.json")).expect("a trace");
        assert_eq!(
            trace["traceEvents"].as_array().unwrap().len(),
            first.len(),
            "SIG{signal}: one event per ended item"
        );

        // Resumed, every item runs quickly: exactly those that did not succeed run.
        dir.create("fast", "");
        let mut again = vec![
            "--results",
            "r.jsonl",
            "--resume",
            "--shell",
            "--",
            ITEM,
            ":::",
        ];
        again.extend(ITEMS);
        let resumed = map_command(&dir, &again).output();
        assert_eq!(resumed.exit_code(), 0, "{}", resumed.stderr);
        let done_before: Vec<&str> = first
            .iter()
            .filter(|l| succeeded(l))
            .map(|l| l["item"].as_str().unwrap())
            .collect();
        let rest: Vec<&str> = ITEMS
            .iter()
            .copied()
            .filter(|i| !done_before.contains(i))
            .collect();
        let printed: Vec<&str> = resumed.stdout.lines().collect();
        assert_eq!(printed, rest, "SIG{signal}: resume runs exactly the rest");
        let mut successes: HashMap<String, usize> = HashMap::new();
        for line in read_log(&dir, "r.jsonl").iter().filter(|l| succeeded(l)) {
            *successes
                .entry(line["item"].as_str().unwrap().into())
                .or_default() += 1;
        }
        for item in ITEMS {
            assert_eq!(successes.get(item), Some(&1), "SIG{signal}: {item}");
        }
    }
}

#[test]
fn an_item_stopped_by_its_timeout_fails_though_its_handler_exits_0() {
    let dir = Dir::new();
    let item = "trap 'exit 0' TERM; sleep 30 & wait; : {}";
    let args = [
        "--timeout",
        "300ms",
        "--results",
        "r.jsonl",
        "--shell",
        "--",
        item,
        ":::",
        "a",
    ];
    let out = map_command(&dir, &args).output();
    assert_eq!(out.exit_code(), 1, "{}", out.stderr);
    assert!(out.stderr.contains("timed out"), "{}", out.stderr);
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0]["exit"], 0);
    assert_eq!(log[0]["failure"], "timeout");
    // Not a success, so a resumed run tries it again.
    let mut resumed = args.to_vec();
    resumed.insert(0, "--resume");
    assert_eq!(map_command(&dir, &resumed).output().exit_code(), 1);
    assert_eq!(read_log(&dir, "r.jsonl").len(), 2);
}

#[test]
fn output_that_cannot_be_written_fails_its_items() {
    let dir = Dir::new();
    let full = File::options().write(true).open("/dev/full").unwrap();
    let out = std::process::Command::new(TASKLOOM)
        .current_dir(dir.root())
        .args(["map", "--results", "r.jsonl", "--", "echo", ":::", "a", "b"])
        .stdin(Stdio::null())
        .stdout(full)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("2 of 2 items failed"), "{stderr}");
    assert!(stderr.contains("No space left on device"), "{stderr}");
    let log = read_log(&dir, "r.jsonl");
    assert_eq!(log.len(), 2);
    for line in &log {
        assert_eq!(line["failure"], "undelivered", "{line}");
    }
    assert_eq!(
        log[0]["stdout"], "a\n",
        "the log keeps what was not delivered"
    );
}

#[test]
fn a_closed_stdout_ends_the_run_quietly_and_logs_nothing_undelivered_as_succeeded() {
    let dir = Dir::new();
    let mark = unique_mark("closed");
    let mut items = vec!["map", "-j", "2", "--results", "r.jsonl", "--", "seq", ":::"];
    items.extend(["200000"; 20]);
    let mut taskloom = std::process::Command::new(TASKLOOM)
        .current_dir(dir.root())
        .args(&items)
        .env(MARK, &mark)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut head = [0u8; 100];
    taskloom
        .stdout
        .take()
        .unwrap()
        .read_exact(&mut head)
        .unwrap();
    // The reader is gone (dropped): like `| head -c 100`.
    let out = taskloom.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert_eq!(stderr, "");
    assert_none_left(&mark);
    let log = read_log(&dir, "r.jsonl");
    assert!(log.len() < 20, "the run stopped early: {} lines", log.len());
    assert!(
        log.iter().any(|l| l["failure"] == "undelivered"),
        "the item cut short is logged as undelivered"
    );
    assert!(
        log.iter().all(|l| !succeeded(l)),
        "nothing was delivered whole"
    );
}

#[test]
fn output_held_back_by_a_slow_item_is_spooled_within_a_memory_bound() {
    let dir = Dir::new();
    std::fs::create_dir(dir.path("tmp")).unwrap();
    let tmp = dir.path("tmp");
    // Item 1 waits for the file `go`; twenty items of 5 MB end behind it.
    let item = "if [ {} = 1 ]; then while [ ! -e go ]; do sleep 0.05; done; echo first; \
                else head -c 5000000 /dev/zero; echo {} >> ended; fi";
    let mut args = vec!["-j", "2", "--shell", "--", item, ":::"];
    let numbers: Vec<String> = (1..=21).map(|n| n.to_string()).collect();
    args.extend(numbers.iter().map(String::as_str));
    let taskloom = map_command(&dir, &args)
        .env("TMPDIR", tmp.to_str().unwrap())
        .spawn();
    let pid = taskloom.id();
    let spool_size = || -> u64 {
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).unwrap();
        fds.filter_map(|fd| {
            let fd = fd.ok()?.path();
            let target = std::fs::read_link(&fd).ok()?;
            target
                .starts_with(&tmp)
                .then(|| std::fs::metadata(&fd).ok())?
        })
        .map(|m| m.len())
        .sum()
    };
    // Everything but the last 16 MB in memory is in the spool file.
    let spooled = wait_for(Duration::from_secs(60), || {
        dir.read("ended").lines().count() == 20 && spool_size() >= 80_000_000
    });
    assert!(spooled, "spooled {} bytes", spool_size());
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let peak_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    // Held in memory, the 100 MB waiting would be all of it.
    assert!(peak_kb < 80_000, "peak RSS {peak_kb} kB");
    dir.create("go", "");
    let out = taskloom.wait();
    assert_eq!(out.exit_code(), 0, "{}", out.stderr);
    assert!(out.stdout.starts_with("first\n"));
    assert_eq!(out.stdout.len(), 6 + 20 * 5_000_000, "every block, whole");
    assert_eq!(
        std::fs::read_dir(&tmp).unwrap().count(),
        0,
        "spool left behind"
    );
}

#[test]
fn a_failed_map_still_writes_its_profile_and_trace() {
    let dir = Dir::new();
    let out = map_command(
        &dir,
        &[
            "-j",
            "2",
            "--profile",
            "p.html",
            "--trace",
            "t.json",
            "--",
            "sh",
            "-c",
            "exit {}",
            ":::",
            "0",
            "1",
            "0",
        ],
    )
    .output();
    assert_eq!(out.exit_code(), 1, "{}", out.stderr);
    let trace: Value = serde_json::from_str(&dir.read("t.json")).expect("a trace");
    let events = trace["traceEvents"].as_array().unwrap();
    let mut names: Vec<&str> = events.iter().map(|e| e["name"].as_str().unwrap()).collect();
    names.sort();
    assert_eq!(names, ["#1 0", "#2 1", "#3 0"]);
    assert!(
        events.iter().all(|e| e["tid"].as_u64().unwrap() < 2),
        "a lane per job"
    );
    let html = dir.read("p.html");
    assert!(
        html.contains("<h1>taskloom profile: taskloom map sh -c exit {}</h1>"),
        "{html}"
    );
    assert!(html.contains("worker 1 utilisation"), "a lane per job");
}

#[test]
fn a_duration_too_long_for_the_clock_is_a_usage_error() {
    let out = map_command(
        &Dir::new(),
        &["--timeout", "1e19", "--", "true", ":::", "a"],
    )
    .output();
    assert_eq!(out.exit_code(), 2, "{}", out.stderr);
    assert!(out.stderr.contains("'1e19' is too long"), "{}", out.stderr);
}

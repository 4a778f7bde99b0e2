//! `taskloom plan`, end to end: hand-computed core counts, waves, wall and idle time and
//! cost, in text and JSON, and every kind of bad input (exit 2 naming the option).

use crate::harness::{assert_contains_all, Dir, Outcome};
use serde_json::{json, Value};

/// `taskloom plan args...`, which never panics.
fn plan(args: &[&str]) -> Outcome {
    let run = Dir::new().command(&["plan"]).args(args).output();
    run.assert_no_panic();
    run
}

fn plan_json(args: &[&str]) -> Value {
    let all: Vec<&str> = args.iter().copied().chain(["--json"]).collect();
    plan(&all).json()
}

#[test]
fn the_contract_example_in_text() {
    // 125 tasks of 70 s within 20 minutes: 8 cores, 16 waves, 1,120 s; 8·16 − 125 = 3
    // idle slots of 70 s in the last wave.
    let Outcome {
        code,
        stdout,
        stderr,
        ..
    } = plan(&[
        "--tasks",
        "125",
        "--task-seconds",
        "70",
        "--deadline",
        "20m",
    ]);
    assert_eq!((code, stderr.as_str()), (Some(0), ""));
    assert_contains_all(
        &stdout,
        &[
            "cores              8\n",
            "waves              16 ",
            "the last wave runs 5",
            "wall time          1,120 s (18m40s; deadline 20m)",
            "idle core-seconds  210 ",
        ],
    );
    assert!(!stdout.contains("cost"), "no price, no cost: {stdout}");
}

#[test]
fn the_contract_example_in_json() {
    assert_eq!(
        plan_json(&[
            "--tasks",
            "125",
            "--task-seconds",
            "70s",
            "--deadline",
            "1200"
        ]),
        json!({"cores": 8, "waves": 16, "wall_seconds": 1120.0,
               "idle_core_seconds": 210.0, "cost": null})
    );
}

#[test]
fn serial_time_and_price() {
    // 1h30m minus 10m serial leaves 4,800 s: 8 waves of 600 s fit, so 100 tasks need
    // ceil(100/8) = 13 cores, which take ceil(100/13) = 8 waves: 600 + 4,800 = 5,400 s.
    // Idle: 13·8 − 100 = 4 slots of 600 s. Cost: 13 · 5,400/3,600 · 0.2 = 3.9.
    let v = plan_json(&[
        "--tasks",
        "100",
        "--task-seconds",
        "10m",
        "--deadline",
        "1h30m",
        "--serial-seconds",
        "10m",
        "--price-per-core-hour",
        "0.2",
    ]);
    assert_eq!(
        (v["cores"].clone(), v["waves"].clone()),
        (json!(13), json!(8))
    );
    assert_eq!(v["wall_seconds"], 5400.0);
    assert_eq!(v["idle_core_seconds"], 2400.0);
    assert!((v["cost"].as_f64().unwrap() - 3.9).abs() < 1e-9, "{v}");
    let Outcome { stdout: text, .. } = plan(&[
        "--tasks",
        "100",
        "--task-seconds",
        "10m",
        "--deadline",
        "1h30m",
        "--serial-seconds",
        "10m",
        "--price-per-core-hour",
        "0.2",
    ]);
    assert!(text.contains("cost               3.90 "), "{text}");
}

#[test]
fn boundaries_are_exact() {
    // Met exactly: 10 tasks of 1.5 s in 15 s is one core (no floating-point slack).
    let v = plan_json(&[
        "--tasks",
        "10",
        "--task-seconds",
        "1.5s",
        "--deadline",
        "15s",
    ]);
    assert_eq!(
        (v["cores"].clone(), v["waves"].clone()),
        (json!(1), json!(10))
    );
    assert_eq!(v["idle_core_seconds"], 0.0);
    // One millisecond less and a second core is needed: 5 waves each.
    let v = plan_json(&[
        "--tasks",
        "10",
        "--task-seconds",
        "1.5s",
        "--deadline",
        "14.999",
    ]);
    assert_eq!(
        (v["cores"].clone(), v["waves"].clone()),
        (json!(2), json!(5))
    );
    // The deadline equal to one task: every task at once.
    let v = plan_json(&["--tasks", "7", "--task-seconds", "1m", "--deadline", "1m"]);
    assert_eq!(
        (v["cores"].clone(), v["waves"].clone()),
        (json!(7), json!(1))
    );
}

#[test]
fn an_impossible_deadline_names_the_smallest_possible() {
    let Outcome {
        code,
        stdout,
        stderr,
        ..
    } = plan(&[
        "--tasks",
        "5",
        "--task-seconds",
        "70",
        "--deadline",
        "1m",
        "--serial-seconds",
        "15s",
    ]);
    assert_eq!((code, stdout.as_str()), (Some(2), ""));
    assert!(
        stderr.starts_with("taskloom: error: --deadline"),
        "{stderr}"
    );
    assert_contains_all(
        &stderr,
        &["cannot be met", "smallest deadline that can be met is 85 s"],
    );
}

#[test]
fn bad_options_exit_2_naming_the_option() {
    let base = ["--tasks", "5", "--task-seconds", "70", "--deadline", "20m"];
    let cases: [(&str, &str); 7] = [
        ("--tasks", "0"),
        ("--tasks", "many"),
        ("--task-seconds", "0"),
        ("--task-seconds", "7x"),
        ("--deadline", "soon"),
        ("--serial-seconds", "1y"),
        ("--price-per-core-hour", "cheap"),
    ];
    for (option, bad) in cases {
        let mut args: Vec<&str> = Vec::new();
        for pair in base.chunks(2) {
            if pair[0] != option {
                args.extend_from_slice(pair);
            }
        }
        args.extend_from_slice(&[option, bad]);
        let Outcome {
            code,
            stdout,
            stderr,
            ..
        } = plan(&args);
        assert_eq!(code, Some(2), "{option} {bad}: {stderr}");
        assert_eq!(stdout, "");
        assert!(stderr.contains(option), "{option} not named: {stderr}");
        assert!(
            stderr.contains(&format!("'{bad}'")),
            "value not quoted: {stderr}"
        );
    }
    let Outcome { code, stderr, .. } = plan(&["--tasks", "5", "--task-seconds", "70"]);
    assert_eq!(code, Some(2));
    assert!(stderr.contains("--deadline"), "{stderr}");
}

#[test]
fn counts_beyond_2_to_the_53_print_every_digit() {
    // 9,007,199,254,740,993 = 2^53 + 1, the first whole number a float cannot hold.
    let out = plan(&[
        "--tasks",
        "9007199254740993",
        "--task-seconds",
        "1s",
        "--deadline",
        // 100 years, the longest duration taskloom takes.
        "876000h",
    ]);
    assert_contains_all(
        out.ok(),
        &[
            "cores              2,856,165\n",
            "waves              3,153,599,059 (9,007,199,254,740,993 tasks of 1 s, \
             2,856,165 at a time; the last wave runs 1,248,423)\n",
        ],
    );
}

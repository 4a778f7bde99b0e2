//! `taskloom map`'s items and command lines, end to end: items are bytes, `--shell`
//! quotes what it substitutes, `$` is not special without a shell, an item that
//! cannot start fails alone, and a script without `#!` runs under `sh`.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStringExt;
use std::os::unix::fs::PermissionsExt;

use super::map::read_log;
use crate::harness::{Dir, Outcome};

fn map<S: AsRef<OsStr>>(dir: &Dir, args: &[S]) -> Outcome {
    dir.command(&["map"]).args(args).output()
}

fn bytes(b: &[u8]) -> OsString {
    OsString::from_vec(b.to_vec())
}

fn executable(dir: &Dir, name: &str, script: &str) {
    dir.create(name, script);
    std::fs::set_permissions(dir.path(name), std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn file_names_that_are_not_utf8_are_items() {
    let dir = Dir::new();
    let latin1 = bytes(b"caf\xe9.txt");
    let spaced = bytes(b"na\xefve x.txt");
    std::fs::write(dir.root().join(&latin1), "1\n").unwrap();
    std::fs::write(dir.root().join(&spaced), "2\n").unwrap();
    let args = [
        &OsString::from("cat"),
        &OsString::from(":::"),
        &latin1,
        &spaced,
    ];
    let out = map(&dir, &args);
    assert_eq!(out.ok(), "1\n2\n");
    // The same under a shell, where each is quoted as one word.
    let mut args = vec![
        OsString::from("--shell"),
        "--".into(),
        "cat {}".into(),
        ":::".into(),
    ];
    args.extend([latin1.clone(), spaced.clone()]);
    assert_eq!(map(&dir, &args).ok(), "1\n2\n");
    // And through a copy whose name is made from the item.
    std::fs::create_dir(dir.path("copies")).unwrap();
    let args = [
        &OsString::from("cp"),
        &"{}".into(),
        &"copies/{#}-{}".into(),
        &":::".into(),
        &latin1,
    ];
    map(&dir, &args).ok();
    assert!(dir
        .root()
        .join("copies")
        .join(bytes(b"1-caf\xe9.txt"))
        .exists());
}

#[test]
fn input_lines_that_are_not_utf8_are_logged_exactly_and_resumed_by_their_bytes() {
    let dir = Dir::new();
    std::fs::write(dir.root().join(bytes(b"caf\xe9")), "here\n").unwrap();
    // Two items that look the same when shown, one missing; a UTF-8 line too.
    std::fs::write(dir.path("items"), b"caf\xe9\ncaf\xef\xbf\xbd\nplain\n").unwrap();
    std::fs::write(dir.path("plain"), "plain\n").unwrap();
    let args = [
        "-j1",
        "--results",
        "r.jsonl",
        "--input",
        "items",
        "--",
        "cat",
    ];
    let out = map(&dir, &args);
    assert_eq!(out.exit_code(), 1, "{}", out.stderr);
    assert_eq!(out.stdout, "here\nplain\n");
    assert!(
        out.stderr.contains("#2 'caf\u{fffd}' (exit 1)"),
        "{}",
        out.stderr
    );
    let lines = read_log(&dir, "r.jsonl");
    assert_eq!(lines[0]["item"], "caf\u{fffd}");
    assert_eq!(lines[0]["item_hex"], "636166e9");
    assert_eq!(lines[0]["exit"], 0);
    assert_eq!(lines[1]["item"], "caf\u{fffd}");
    assert!(lines[1].get("item_hex").is_none(), "{}", lines[1]);
    assert_eq!(lines[2]["item"], "plain");
    // Only the item that failed runs again: the Latin-1 one is matched by its bytes.
    std::fs::write(dir.root().join("caf\u{fffd}"), "now\n").unwrap();
    let out = map(
        &dir,
        &[
            "--resume",
            "--results",
            "r.jsonl",
            "--input",
            "items",
            "--",
            "cat",
        ],
    );
    assert_eq!(out.ok(), "now\n");
    assert_eq!(read_log(&dir, "r.jsonl").len(), 4);
    // A failure is named with its invalid bytes written \xNN.
    std::fs::write(dir.path("gone"), b"gon\xe9\n").unwrap();
    let out = map(&dir, &["--input", "gone", "--", "cat"]);
    assert!(
        out.stderr.contains("#1 'gon\\xe9' (exit 1)"),
        "{}",
        out.stderr
    );
}

#[test]
fn shell_quotes_each_substituted_item_and_grid_value() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &["--shell", "--", "echo", "{}", ":::", "c;echo INJECTED"],
    );
    assert_eq!(out.ok(), "c;echo INJECTED\n");
    let out = map(
        &dir,
        &[
            "--shell",
            "--",
            "echo {}",
            ":::",
            "$(touch pwned)",
            "it's",
            "a  b",
            "",
            "*",
        ],
    );
    assert_eq!(out.ok(), "$(touch pwned)\nit's\na  b\n\n*\n");
    assert!(!dir.path("pwned").exists());
    // The README's example, on a name with a space.
    dir.create("a b.svg", "svg");
    map(&dir, &["--shell", "--", "cp {} {#}.png", ":::", "a b.svg"]).ok();
    assert_eq!(dir.read("1.png"), "svg");
    let out = map(
        &dir,
        &["--shell", "--grid", "w=a;b", "--", "echo {w} | tr ';' -"],
    );
    assert_eq!(out.ok(), "a-b\n");
}

#[test]
fn raw_placeholders_substitute_shell_code() {
    let dir = Dir::new();
    let out = map(
        &dir,
        &[
            "--shell",
            "-j",
            "1",
            "--",
            "{!}",
            ":::",
            "echo raw | tr a-z A-Z",
            "echo x; echo y",
        ],
    );
    assert_eq!(out.ok(), "RAW\nx\ny\n");
    let out = map(
        &dir,
        &[
            "--shell",
            "--grid",
            "cmd=wc -c,tr a-z A-Z",
            "--",
            "printf ab | {!cmd}",
        ],
    );
    assert_eq!(out.ok().split_whitespace().collect::<Vec<_>>(), ["2", "AB"]);
    let help = map(&dir, &["--help"]);
    assert!(help.stdout.contains("{!}"), "{}", help.stdout);
}

#[test]
fn dollar_before_a_placeholder_is_an_ordinary_character_without_a_shell() {
    let dir = Dir::new();
    assert_eq!(map(&dir, &["echo", "US${}", ":::", "5"]).ok(), "US$5\n");
    assert_eq!(map(&dir, &["echo", "${#}:{}", ":::", "a"]).ok(), "$1:a\n");
    let out = map(&dir, &["--grid", "lr=0.1", "--", "echo", "${lr}"]);
    assert_eq!(out.ok(), "$0.1\n");
    // Under a shell, `${...}` is the shell's, `${}` still the item.
    let out = map(
        &dir,
        &["--shell", "--", "echo ${HOME:+home} {} ${#}", ":::", "x"],
    );
    assert_eq!(out.ok(), "home x 0\n");
}

#[test]
fn an_item_whose_program_is_missing_fails_alone_and_the_others_go_on() {
    let dir = Dir::new();
    executable(&dir, "job1.sh", "#!/bin/sh\necho job1\n");
    executable(&dir, "job3.sh", "#!/bin/sh\nsleep 0.5\necho job3\n");
    let args = [
        "-j2",
        "--results",
        "r.jsonl",
        "./job{}.sh",
        ":::",
        "1",
        "2",
        "3",
    ];
    let out = map(&dir, &args);
    assert_eq!(out.exit_code(), 1, "{}", out.stderr);
    assert_eq!(out.stdout, "job1\njob3\n");
    assert!(
        out.stderr.contains(
            "1 of 3 items failed: #2 '2' (cannot run './job2.sh': No such file or directory"
        ),
        "{}",
        out.stderr
    );
    let lines = read_log(&dir, "r.jsonl");
    assert_eq!(lines.len(), 3);
    let two = lines.iter().find(|l| l["item"] == "2").unwrap();
    assert_eq!(two["exit"], 127);
    assert!(two["stderr"]
        .as_str()
        .unwrap()
        .contains("cannot run './job2.sh'"));
    // --halt applies to it like to any failure.
    let out = map(
        &dir,
        &["-j1", "--halt", "soon", "./job{}.sh", ":::", "2", "1"],
    );
    assert_eq!(out.exit_code(), 1);
    assert_eq!(out.stdout, "");
    assert!(out.stderr.contains("1 not run"), "{}", out.stderr);
    // A program the same for every item that does not exist stays one usage error.
    let out = map(&dir, &["./job2.sh", "{}", ":::", "1", "2"]);
    assert_eq!(out.exit_code(), 2);
    assert_eq!(
        out.stderr,
        "taskloom: error: cannot run './job2.sh': No such file or directory (os error 2)\n"
    );
}

#[test]
fn an_item_with_a_nul_byte_or_over_the_argument_limit_fails_alone_named() {
    let dir = Dir::new();
    let long = "x".repeat(300_000);
    std::fs::write(dir.path("items"), format!("a\nb\0c\n{long}\nd\n")).unwrap();
    let out = map(
        &dir,
        &[
            "-j2",
            "--results",
            "r.jsonl",
            "--input",
            "items",
            "--",
            "echo",
        ],
    );
    assert_eq!(out.exit_code(), 1, "{}", out.stderr);
    assert_eq!(out.stdout, "a\nd\n");
    assert!(
        out.stderr.contains("2 of 4 items failed: #2 "),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("holds a NUL byte"), "{}", out.stderr);
    assert!(out.stderr.contains("#3 'xxxx"), "{}", out.stderr);
    assert!(
        out.stderr.contains("Argument list too long"),
        "{}",
        out.stderr
    );
    let exits: Vec<i64> = read_log(&dir, "r.jsonl")
        .iter()
        .map(|l| l["exit"].as_i64().unwrap())
        .collect();
    assert_eq!(exits.iter().filter(|&&e| e == 126).count(), 2, "{exits:?}");
}

#[test]
fn a_script_without_a_shebang_runs_under_sh() {
    let dir = Dir::new();
    executable(&dir, "plain.sh", "echo \"plain $1\"\n");
    assert_eq!(
        map(&dir, &["./plain.sh", ":::", "a", "b c"]).ok(),
        "plain a\nplain b c\n"
    );
    // Found in PATH too.
    let path = format!(
        "{}:{}",
        dir.root().display(),
        std::env::var("PATH").unwrap()
    );
    let out = dir
        .command(&["map", "plain.sh", ":::", "d"])
        .env("PATH", &path)
        .output();
    assert_eq!(out.ok(), "plain d\n");
    // A file that is not executable at all is still refused.
    dir.create("data.txt", "echo no\n");
    let out = map(&dir, &["./data.txt", ":::", "a"]);
    assert_eq!(out.exit_code(), 2);
    assert!(out.stderr.contains("Permission denied"), "{}", out.stderr);
}

//! `taskloom convert` and the binary form, end to end: a converted graph runs as its
//! source does (same stdout, stderr and exit code), whatever the file's name; a graph
//! that `run` refuses is refused by `convert` alike; a damaged binary file is an error
//! naming the file and the byte, exit 2.

use proptest::prelude::*;

use crate::harness::graph::GraphFile;
use crate::harness::{assert_contains_all, Dir};

/// `file` converted to `name` in its directory; the command prints nothing.
fn convert(file: &GraphFile, name: &str) {
    file.invoke(&["convert", file.name(), name]).silent();
}

/// One key of a random graph: a literal, or an op over keys numbered below `keys`.
fn expr(keys: usize) -> BoxedStrategy<String> {
    let refs = prop::collection::vec(0..keys, 1..4).prop_map(|ds| {
        let names: Vec<String> = ds.iter().map(|d| format!("k{d}")).collect();
        names.join(", ")
    });
    prop_oneof![
        (-5..100i64).prop_map(|v| v.to_string()),
        Just("[1.5, \"é\", null, 1099511627776]".to_string()),
        refs.clone().prop_map(|r| format!("sum(list({r}))")),
        refs.clone().prop_map(|r| format!("list({r}, \"s\", 2.5)")),
        refs.prop_map(|r| format!("len([{r}])")),
    ]
    .boxed()
}

/// A graph of random keys, each referring to keys of lower number, which are bound
/// after it (so that no order is proven by the text), and now and then to itself: a
/// cycle, which both forms must report alike.
fn graph() -> impl Strategy<Value = String> {
    (1..30usize).prop_flat_map(|n| {
        let exprs = (0..n).map(|i| expr(i.max(1) + usize::from(i % 7 == 3)));
        (exprs.collect::<Vec<_>>(), Just(n)).prop_map(|(exprs, n)| {
            (0..n)
                .rev()
                .map(|i| format!("k{i} = {}\n", exprs[i]))
                .collect()
        })
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 16, ..ProptestConfig::default() })]

    #[test]
    fn a_converted_graph_runs_as_its_source(source in graph()) {
        let file = GraphFile::text(&source);
        let text = file.run(&["--executor", "sync"]);
        let converted = file.invoke(&["convert", file.name(), "g.tlg"]);
        if converted.code != Some(0) {
            // A cycle: convert refuses it as run does.
            prop_assert_eq!((&converted.stderr, converted.code), (&text.stderr, Some(2)));
            return Ok(());
        }
        converted.silent();
        // Task errors too (a sum of a list of lists) are the same.
        let binary = file.invoke(&["run", "g.tlg", "--executor", "sync"]);
        prop_assert_eq!(
            (&binary.stdout, &binary.stderr, binary.code),
            (&text.stdout, &text.stderr, text.code)
        );
    }
}

#[test]
fn the_binary_form_is_known_by_its_bytes_under_every_executor() {
    let file = GraphFile::json(
        r#"{"x": {"op": "add", "args": [2, 3]}, "y": {"op": "inc", "args": [{"ref": "x"}]}}"#,
    );
    convert(&file, "named.json");
    let expected = file.run_everywhere(&["--get", "y", "--get", "x"]);
    let binary = GraphFile::named("copy.txt", "");
    std::fs::copy(file.path("named.json"), binary.path("copy.txt")).unwrap();
    binary
        .run_everywhere(&["--get", "y", "--get", "x"])
        .assert_alike(&expected);
    let dry = binary.run(&["--dry-run"]);
    assert_eq!(dry.stderr, "taskloom: 2 of 2 tasks would run\n");
}

#[test]
fn standard_input_converts_and_a_binary_graph_reads_from_it() {
    let dir = Dir::new();
    let run = dir
        .command(&["convert", "-", "g.tlg"])
        .stdin("a = 1\nb = inc(a)\n")
        .output();
    run.silent();
    let bytes = std::fs::read(dir.path("g.tlg")).unwrap();
    assert!(bytes.starts_with(b"\x89TLG"));
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_taskloom"));
    command
        .args(["run", "-", "--get", "b"])
        .current_dir(dir.root());
    let out = command
        .stdin(std::fs::File::open(dir.path("g.tlg")).unwrap())
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "2\n");
}

#[test]
fn what_run_refuses_convert_refuses_alike_and_writes_nothing() {
    for source in [
        "a = 1\nb = add(a,\n",
        "a = nope(1)\n",
        "a = inc(b)\n",
        "a = inc(b)\nb = inc(a)\n",
    ] {
        let file = GraphFile::text(source);
        let run = file.run(&[]);
        let converted = file.invoke(&["convert", file.name(), "g.tlg"]);
        assert_eq!(
            (&converted.stderr, converted.code),
            (&run.stderr, Some(2)),
            "{source}"
        );
        assert!(!file.path("g.tlg").exists());
    }
    let file = GraphFile::text("a = 1\n");
    let unwritable = file.invoke(&["convert", file.name(), "no/such/dir/g.tlg"]);
    assert_contains_all(unwritable.error(2), &["cannot write no/such/dir/g.tlg"]);
}

#[test]
fn a_damaged_binary_file_names_itself_and_the_byte() {
    let file = GraphFile::text("a = 1\nb = inc(a)\nc = add(a, b)\n");
    convert(&file, "g.tlg");
    let bytes = std::fs::read(file.path("g.tlg")).unwrap();
    let dir = Dir::new();
    dir.create("cut.tlg", "");
    std::fs::write(dir.path("cut.tlg"), &bytes[..bytes.len() - 3]).unwrap();
    let cut = dir.taskloom(&["run", "cut.tlg"]);
    let expected = format!(
        "taskloom: error: cut.tlg: byte {}: truncated: the header's counts need {} bytes, there are {}",
        bytes.len() - 3,
        bytes.len(),
        bytes.len() - 3
    );
    assert_eq!(cut.error(2).trim_end(), expected);
    let mut newer = bytes.clone();
    newer[8] = 9;
    std::fs::write(dir.path("newer.tlg"), &newer).unwrap();
    assert_eq!(
        dir.taskloom(&["run", "newer.tlg"]).error(2).trim_end(),
        "taskloom: error: newer.tlg: byte 8: version 9 of the binary form; this taskloom reads version 1"
    );
    // Every byte flipped in turn: a graph or an error, never a panic.
    for at in 0..bytes.len() {
        let mut damaged = bytes.clone();
        damaged[at] ^= 0x5a;
        std::fs::write(dir.path("d.tlg"), &damaged).unwrap();
        dir.taskloom(&["run", "d.tlg", "--dry-run"])
            .assert_no_panic();
    }
}

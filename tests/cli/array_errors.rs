//! `taskloom array` errors, end to end (contract: `docs/spec/array-cli.md`): bad
//! input exits 2 with a message naming what is wrong and writes nothing (no OUT, no
//! temporary directory next to it); an existing OUT is kept unless `--overwrite`; a
//! missing chunk file reads as the fill value; a corrupt one fails with exit 1, naming
//! the chunk.

use crate::harness::array::{np, write_with_zarr_python, Reference};
use crate::harness::{Dir, Outcome};
use serde_json::json;

/// Runs `args`, which must fail with exit `code` and leave the directory as it was.
/// Returns the message.
fn fails_writing_nothing(ws: &Dir, args: &[&str], code: i32) -> String {
    let before = ws.listing();
    let run = ws.array(args);
    let message = run.failure(code).to_string();
    assert_eq!(
        ws.listing(),
        before,
        "`{}` changed the directory",
        run.context
    );
    message
}

/// Asserts that `message` contains each of `parts`.
fn assert_names(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "expected {part:?} in {message:?}");
    }
}

/// Asserts that `message` shows `shape`, as NumPy prints it (`(5, 7)`, `(5,)`) or as a
/// list (`[5, 7]`).
fn assert_names_shape(message: &str, shape: &[usize]) {
    let items: Vec<String> = shape.iter().map(|n| n.to_string()).collect();
    let tuple = if shape.len() == 1 {
        format!("({},)", items[0])
    } else {
        format!("({})", items.join(", "))
    };
    let list = format!("[{}]", items.join(", "));
    assert!(
        message.contains(&tuple) || message.contains(&list),
        "expected the shape {tuple} in {message:?}"
    );
}

/// A workspace with `a.zarr` (int32, 5x7 in 2x3 chunks) and `v.zarr` (float64, 5).
fn workspace() -> Dir {
    let ws = Dir::new();
    ws.create_array("a.zarr", "5,7", "2,3", "int32", &["--arange"]);
    ws.create_array("v.zarr", "5", "2", "float64", &["--arange"]);
    ws
}

/// Every command, reading `input` (and `v.zarr` as the other operand), writing OUT
/// where the command writes.
fn every_command(input: &str) -> Vec<Vec<String>> {
    let commands: [&[&str]; 19] = [
        &["info", input],
        &["reduce", input, "--op", "sum"],
        &[
            "reduce", input, "--op", "mean", "--axis", "0", "--out", "out.zarr",
        ],
        &["map", input, "--op", "neg", "--out", "out.zarr"],
        &[
            "binary", input, "v.zarr", "--op", "add", "--out", "out.zarr",
        ],
        &["binary", "v.zarr", input, "--op", "add"],
        &["scale", input, "--by", "2", "--out", "out.zarr"],
        &[
            "compare", input, "v.zarr", "--op", "gt", "--out", "out.zarr",
        ],
        &["where", input, "v.zarr", "a.zarr", "--out", "out.zarr"],
        &["cumsum", input, "--axis", "0", "--out", "out.zarr"],
        &["transpose", input, "--out", "out.zarr"],
        &["matmul", input, "a.zarr", "--out", "out.zarr"],
        &["matmul", "a.zarr", input, "--out", "out.zarr"],
        &["rechunk", input, "--chunks", "2,2", "--out", "out.zarr"],
        &["slice", input, "--index", "1:3", "--out", "out.zarr"],
        &["topk", input, "-k", "3"],
        &["sort", input, "--out", "out.zarr"],
        &["get", input],
        &["get", input, "--index", "0"],
    ];
    commands
        .iter()
        .map(|c| c.iter().map(|s| s.to_string()).collect())
        .collect()
}

fn strs(args: &[String]) -> Vec<&str> {
    args.iter().map(String::as_str).collect()
}

#[test]
fn a_path_that_is_not_a_zarr_array_exits_2_naming_it() {
    let ws = workspace();
    std::fs::create_dir(ws.path("plain")).unwrap();
    std::fs::write(ws.path("plain/data.bin"), b"not zarr").unwrap();
    std::fs::write(ws.path("notes.txt"), b"not zarr either").unwrap();
    ws.create_array("broken.zarr", "4", "2", "int64", &["--ones"]);
    std::fs::write(ws.path("broken.zarr/zarr.json"), b"{ not json").unwrap();
    ws.create_array(
        "broken2.zarr",
        "4",
        "2",
        "int64",
        &["--ones", "--zarr-format", "2"],
    );
    std::fs::write(ws.path("broken2.zarr/.zarray"), b"[]").unwrap();
    for input in [
        "plain",
        "missing.zarr",
        "notes.txt",
        "broken.zarr",
        "broken2.zarr",
    ] {
        for args in every_command(input) {
            let message = fails_writing_nothing(&ws, &strs(&args), 2);
            assert_names(&message, &[input]);
        }
    }
}

#[test]
fn shapes_that_do_not_fit_exit_2_naming_both() {
    let ws = workspace();
    ws.create_array("b.zarr", "4,7", "2,2", "float64", &["--ones"]);
    ws.create_array("c.zarr", "7,1", "3,1", "int64", &["--ones"]);
    let cases: [(&[&str], &[usize], &[usize]); 6] = [
        (
            &[
                "binary", "a.zarr", "v.zarr", "--op", "add", "--out", "out.zarr",
            ],
            &[5, 7],
            &[5],
        ),
        (
            &["binary", "a.zarr", "b.zarr", "--op", "mul"],
            &[5, 7],
            &[4, 7],
        ),
        (
            &[
                "binary", "c.zarr", "a.zarr", "--op", "sub", "--out", "out.zarr",
            ],
            &[7, 1],
            &[5, 7],
        ),
        (
            &["matmul", "a.zarr", "a.zarr", "--out", "out.zarr"],
            &[5, 7],
            &[5, 7],
        ),
        (
            &["matmul", "a.zarr", "b.zarr", "--out", "out.zarr"],
            &[5, 7],
            &[4, 7],
        ),
        (
            &["matmul", "v.zarr", "a.zarr", "--out", "out.zarr"],
            &[5],
            &[5, 7],
        ),
    ];
    for (args, a, b) in cases {
        let message = fails_writing_nothing(&ws, args, 2);
        assert_names_shape(&message, a);
        assert_names_shape(&message, b);
    }
    // Operations defined for some numbers of dimensions only.
    for (args, shape) in [
        (&["transpose", "v.zarr", "--out", "out.zarr"][..], &[5][..]),
        (&["sort", "a.zarr", "--out", "out.zarr"][..], &[5, 7][..]),
    ] {
        let message = fails_writing_nothing(&ws, args, 2);
        assert_names_shape(&message, shape);
    }
}

#[test]
fn an_axis_out_of_range_exits_2_naming_it() {
    let ws = workspace();
    for (input, axis) in [("a.zarr", "2"), ("a.zarr", "9"), ("v.zarr", "1")] {
        for out in [&[][..], &["--out", "out.zarr"][..]] {
            let mut args = vec!["reduce", input, "--op", "sum", "--axis", axis];
            args.extend_from_slice(out);
            let message = fails_writing_nothing(&ws, &args, 2);
            assert_names(&message, &["axis", axis]);
        }
    }
}

#[test]
fn an_unknown_op_or_dtype_exits_2_naming_it() {
    let ws = workspace();
    for (args, name) in [
        (&["reduce", "a.zarr", "--op", "median"][..], "median"),
        (
            &["map", "a.zarr", "--op", "cube", "--out", "out.zarr"][..],
            "cube",
        ),
        (
            &[
                "binary", "a.zarr", "a.zarr", "--op", "pow", "--out", "out.zarr",
            ][..],
            "pow",
        ),
        (
            &[
                "create", "out.zarr", "--shape", "4", "--chunks", "2", "--dtype", "int8", "--ones",
            ][..],
            "int8",
        ),
        (
            &[
                "create", "out.zarr", "--shape", "4", "--chunks", "2", "--dtype", "float16",
                "--zeros",
            ][..],
            "float16",
        ),
    ] {
        let message = fails_writing_nothing(&ws, args, 2);
        assert_names(&message, &[name]);
    }
}

#[test]
fn a_chunk_shape_with_zeros_or_too_many_dimensions_exits_2() {
    let ws = workspace();
    for (args, chunks) in [
        (
            &[
                "create", "out.zarr", "--shape", "4,4", "--chunks", "0,2", "--ones",
            ][..],
            "(0, 2)",
        ),
        (
            &[
                "create", "out.zarr", "--shape", "4,4", "--chunks", "2,2,2", "--ones",
            ][..],
            "(2, 2, 2)",
        ),
        (
            &[
                "create", "out.zarr", "--shape", "4", "--chunks", "0", "--arange",
            ][..],
            "(0,)",
        ),
        (
            &["rechunk", "a.zarr", "--chunks", "5,0", "--out", "out.zarr"][..],
            "(5, 0)",
        ),
        (
            &[
                "rechunk", "a.zarr", "--chunks", "1,1,1", "--out", "out.zarr",
            ][..],
            "(1, 1, 1)",
        ),
        (
            &[
                "map", "a.zarr", "--op", "abs", "--out", "out.zarr", "--chunks", "0,1",
            ][..],
            "(0, 1)",
        ),
    ] {
        let message = fails_writing_nothing(&ws, args, 2);
        let list = chunks
            .replace('(', "[")
            .replace(",)", "]")
            .replace(')', "]");
        assert!(
            message.contains("chunk") && (message.contains(chunks) || message.contains(&list)),
            "expected the chunk shape {chunks} in {message:?}"
        );
    }
}

#[test]
fn an_index_out_of_range_exits_2_naming_it() {
    let ws = workspace();
    for (args, index) in [
        (&["get", "a.zarr", "--index", "5,0"][..], "5"),
        (&["get", "a.zarr", "--index", "1,-8"][..], "-8"),
        (&["get", "v.zarr", "--index", "-6"][..], "-6"),
        (&["slice", "a.zarr", "--index", "2,7"][..], "7"),
        (
            &["slice", "a.zarr", "--index", "9,:", "--out", "out.zarr"][..],
            "9",
        ),
        (&["get", "v.zarr", "--index", "1,1"][..], "1,1"),
    ] {
        let message = fails_writing_nothing(&ws, args, 2);
        assert_names(&message, &["index", index]);
    }
}

#[test]
fn an_existing_out_is_kept_unless_overwrite_replaces_it() {
    let ws = workspace();
    ws.create_array("out.zarr", "3", "2", "float64", &["--fill", "1.5"]);
    std::fs::write(ws.path("file.txt"), b"keep me").unwrap();
    let kept = ws.array_print(&["get", "out.zarr"]);
    for out in ["out.zarr", "file.txt"] {
        for args in [
            &["map", "a.zarr", "--op", "neg", "--out", out][..],
            &["create", out, "--shape", "2", "--chunks", "1", "--ones"][..],
            &["rechunk", "a.zarr", "--chunks", "5,7", "--out", out][..],
            &[
                "reduce", "a.zarr", "--op", "sum", "--axis", "0", "--out", out,
            ][..],
        ] {
            let message = fails_writing_nothing(&ws, args, 2);
            assert_names(&message, &[out]);
        }
    }
    assert_eq!(ws.array_print(&["get", "out.zarr"]), kept);
    assert_eq!(std::fs::read(ws.path("file.txt")).unwrap(), b"keep me");

    ws.array_write(&[
        "map",
        "a.zarr",
        "--op",
        "neg",
        "--out",
        "out.zarr",
        "--overwrite",
    ]);
    ws.array_write(&[
        "scale",
        "v.zarr",
        "--by",
        "2",
        "--out",
        "file.txt",
        "--overwrite",
    ]);
    // In place: the input replaced by its own negation, once it is complete.
    ws.array_write(&[
        "map",
        "v.zarr",
        "--op",
        "neg",
        "--out",
        "v.zarr",
        "--overwrite",
    ]);
    let mut reference = Reference::new(&ws);
    reference.stored(
        "overwritten",
        np::map("neg", np::arange(&[5, 7], "int32")),
        "out.zarr",
    );
    reference.stored(
        "file replaced",
        np::scale(json!(2), json!(0), np::arange(&[5], "float64")),
        "file.txt",
    );
    reference.stored(
        "in place",
        np::map("neg", np::arange(&[5], "float64")),
        "v.zarr",
    );
    reference.verify();
    assert!(
        ws.listing()
            .iter()
            .all(|entry| !entry.contains(".partial") && !entry.starts_with('.')),
        "temporary entries left: {:?}",
        ws.listing()
    );
}

#[test]
fn a_missing_chunk_file_reads_as_the_fill_value() {
    let ws = Dir::new();
    ws.create_array("v3.zarr", "5,7", "2,3", "int64", &["--arange"]);
    ws.create_array(
        "v2.zarr",
        "5,7",
        "2,3",
        "float64",
        &["--arange", "--zarr-format", "2"],
    );
    std::fs::remove_file(ws.path("v3.zarr/c/1/2")).unwrap();
    std::fs::remove_file(ws.path("v2.zarr/2.0")).unwrap();
    // zarr-python leaves out the chunks that are all fill value (here 7).
    write_with_zarr_python(
        &ws,
        json!([
            {"path": "sparse.zarr", "values": {"full": 7, "shape": [4, 5], "dtype": "int32"},
             "chunks": [2, 2], "fill_value": 7},
            {"path": "sparse2.zarr", "values": {"full": 7.5, "shape": [9], "dtype": "float64"},
             "chunks": [4], "zarr_format": 2, "fill_value": 7.5}
        ]),
    );
    assert!(
        !ws.path("sparse.zarr/c/0/0").exists() && !ws.path("sparse2.zarr/0").exists(),
        "zarr-python wrote chunks of fill value"
    );
    let mut reference = Reference::new(&ws);
    for name in ["v3.zarr", "v2.zarr", "sparse.zarr", "sparse2.zarr"] {
        let printed = ws.array_print(&["get", name]);
        reference.printed(&format!("get {name}"), np::read(name), &printed);
        let printed = ws.array_print(&["reduce", name, "--op", "sum"]);
        reference.printed(
            &format!("sum {name}"),
            np::reduce("sum", None, np::read(name)),
            &printed,
        );
        let out = format!("neg-{name}");
        ws.array_write(&["map", name, "--op", "neg", "--out", &out]);
        reference.stored(&format!("neg {name}"), np::map("neg", np::read(name)), &out);
    }
    reference.verify();
}

/// Asserts a failure naming the corrupt chunk: its index (`[1, 2]`) or its key
/// (`c/1/2`, `1.2`).
fn assert_names_chunk(run: &Outcome, index: &[usize], key: &str) {
    let message = run.failure(1);
    let list = format!(
        "[{}]",
        index
            .iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    assert!(
        message.contains("chunk") && (message.contains(&list) || message.contains(key)),
        "expected chunk {list} ({key}) in {message:?}"
    );
}

#[test]
fn a_corrupt_chunk_file_exits_1_naming_the_chunk() {
    let ws = Dir::new();
    ws.create_array("v3.zarr", "5,7", "2,3", "int64", &["--arange"]);
    ws.create_array(
        "v2.zarr",
        "5,7",
        "2,3",
        "float32",
        &["--random", "--zarr-format", "2"],
    );
    write_with_zarr_python(
        &ws,
        json!([
            {"path": "raw.zarr", "values": np::arange(&[5, 7], "float64"), "chunks": [2, 3],
             "compressor": "none"},
            {"path": "gz.zarr", "values": np::arange(&[5, 7], "int32"), "chunks": [2, 3],
             "compressor": "gzip", "zarr_format": 2},
            {"path": "blosc.zarr", "values": np::arange(&[5, 7], "float64"), "chunks": [2, 3],
             "compressor": "blosc"}
        ]),
    );
    for (name, key) in [
        ("v3.zarr", "c/1/2"),
        ("v2.zarr", "1.2"),
        ("raw.zarr", "c/1/2"),
        ("gz.zarr", "1.2"),
        ("blosc.zarr", "c/1/2"),
    ] {
        std::fs::write(ws.path(name).join(key), b"garbage, not a chunk").unwrap();
        for args in [
            &["reduce", name, "--op", "sum"][..],
            &["get", name][..],
            &["topk", name, "-k", "2"][..],
        ] {
            assert_names_chunk(&ws.array(args), &[1, 2], key);
        }
        let before = ws.listing();
        let run = ws.array(&["map", name, "--op", "abs", "--out", "out.zarr"]);
        assert_names_chunk(&run, &[1, 2], key);
        assert_eq!(ws.listing(), before, "a failed write left files");
    }
}

#[test]
fn reductions_over_an_empty_array_match_numpy_or_fail_cleanly() {
    let ws = Dir::new();
    ws.create_array("e.zarr", "0,3", "2,2", "float64", &["--ones"]);
    let mut reference = Reference::new(&ws);
    for op in ["sum", "prod", "mean", "min", "max", "std", "var"] {
        for axis in [None, Some("0"), Some("1")] {
            let mut args = vec!["reduce", "e.zarr", "--op", op];
            args.extend(axis.iter().flat_map(|k| ["--axis", *k]));
            let run = ws.array(&args);
            let axis = axis.map(|k| k.parse::<usize>().unwrap());
            let defined = matches!(op, "sum" | "prod") || axis == Some(1);
            if defined {
                // NumPy: sum 0.0 and prod 1.0 of nothing; along axis 1, 0 results.
                assert_eq!(run.code, Some(0), "{args:?}: {}", run.stderr);
                let expect = np::reduce(op, axis, np::read("e.zarr"));
                reference.printed(&args.join(" "), expect, &run.stdout);
            } else if matches!(op, "min" | "max") {
                // NumPy: a zero-size array has no minimum.
                assert_names(run.failure(2), &[op]);
            } else {
                // NumPy: NaN, with a warning; an error is as good.
                assert!(
                    matches!(run.code, Some(0 | 2)),
                    "{args:?} exit {:?}: {}",
                    run.code,
                    run.stderr
                );
            }
        }
    }
    reference.verify();
}

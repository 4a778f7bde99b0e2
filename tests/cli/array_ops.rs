//! `taskloom array` comparisons, `where`, any/all, argmin/argmax and cumsum against
//! NumPy (contract: `docs/spec/array-cli.md`): every op on every axis, ragged chunks,
//! bool results stored as Zarr bools, NumPy 2's result dtypes, errors naming the op,
//! and every command giving the same results on `--executor processes`.

use crate::harness::array::{np, write_with_zarr_python, Reference};
use crate::harness::Dir;
use serde_json::json;

/// A workspace with ragged chunks: `i.zarr` int32 (5, 7) with repeats, `f.zarr`
/// float32 (7,), `g.zarr` float64 (3, 4, 5) holding small ints, all written by
/// zarr-python.
fn workspace() -> Dir {
    let ws = Dir::new();
    write_with_zarr_python(
        &ws,
        json!([
            {"path": "i.zarr", "values": np::ints(-3, 4, &[5, 7], "int32", 1), "chunks": [2, 3]},
            {"path": "f.zarr", "values": np::floats(-2.0, 2.0, &[7], "float32", 2), "chunks": [3]},
            {"path": "g.zarr", "values": np::ints(-5, 5, &[3, 4, 5], "float64", 3),
             "chunks": [2, 3, 2], "zarr_format": 2}
        ]),
    );
    ws
}

/// The axes to try on an array of `ndim` dimensions: none, then each.
fn axes(ndim: usize) -> Vec<Option<usize>> {
    std::iter::once(None).chain((0..ndim).map(Some)).collect()
}

/// `reduce --op OP` of every array, over every axis and over none, against NumPy.
fn reduce_on_every_axis(
    ws: &Dir,
    reference: &mut Reference,
    arrays: &[(&str, usize)],
    ops: &[&str],
) {
    for &(name, ndim) in arrays {
        for &op in ops {
            for axis in axes(ndim) {
                let axis_text = axis.map(|k| k.to_string());
                let mut args = vec!["reduce", name, "--op", op];
                if let Some(k) = &axis_text {
                    args.extend(["--axis", k.as_str()]);
                }
                let printed = ws.array_print(&args);
                reference.printed(
                    &args.join(" "),
                    np::reduce(op, axis, np::read(name)),
                    &printed,
                );
            }
        }
    }
}

#[test]
fn comparisons_broadcast_and_store_bools_that_where_any_and_all_take() {
    let ws = workspace();
    let mut reference = Reference::new(&ws);
    for op in ["gt", "lt", "ge", "le", "eq", "ne"] {
        let out = format!("{op}.zarr");
        ws.array_write(&["compare", "i.zarr", "f.zarr", "--op", op, "--out", &out]);
        let expect = np::compare(op, np::read("i.zarr"), np::read("f.zarr"));
        reference.stored(&format!("compare {op}"), expect.clone(), &out)["dtype"] = json!("bool");
        let printed = ws.array_print(&["compare", "f.zarr", "i.zarr", "--op", op]);
        let flipped = np::compare(op, np::read("f.zarr"), np::read("i.zarr"));
        reference.printed(&format!("compare {op} printed"), flipped, &printed);
    }
    let info = ws.array_print(&["info", "gt.zarr"]);
    reference.info("info of a bool array", "gt.zarr", &info);
    // where: the bool mask, an int32 and a broadcast float32 give float64.
    ws.array_write(&["where", "gt.zarr", "i.zarr", "f.zarr", "--out", "w.zarr"]);
    let expect = np::select(np::read("gt.zarr"), np::read("i.zarr"), np::read("f.zarr"));
    reference.stored("where", expect, "w.zarr")["dtype"] = json!("float64");
    // A numeric condition counts as nonzero.
    let printed = ws.array_print(&["where", "i.zarr", "i.zarr", "f.zarr"]);
    let expect = np::select(np::read("i.zarr"), np::read("i.zarr"), np::read("f.zarr"));
    reference.printed("where with an int condition", expect, &printed);
    let arrays = [("gt.zarr", 2), ("i.zarr", 2), ("f.zarr", 1), ("g.zarr", 3)];
    reduce_on_every_axis(&ws, &mut reference, &arrays, &["any", "all"]);
    reference.verify();
}

#[test]
fn argmin_and_argmax_give_numpys_first_position_on_every_axis() {
    let ws = workspace();
    // Ties in every lane (values -3..3 over 35 elements), a bool array, and NaN and
    // -inf (the log of negative numbers and zeros).
    ws.array_write(&["map", "g.zarr", "--op", "log", "--out", "lg.zarr"]);
    ws.array_write(&[
        "compare", "i.zarr", "f.zarr", "--op", "gt", "--out", "b.zarr",
    ]);
    let mut reference = Reference::new(&ws);
    let arrays = [
        ("i.zarr", 2),
        ("f.zarr", 1),
        ("g.zarr", 3),
        ("b.zarr", 2),
        ("lg.zarr", 3),
    ];
    reduce_on_every_axis(&ws, &mut reference, &arrays, &["argmin", "argmax"]);
    ws.array_write(&[
        "reduce", "g.zarr", "--op", "argmax", "--axis", "1", "--out", "am.zarr",
    ]);
    let expect = np::reduce("argmax", Some(1), np::read("g.zarr"));
    reference.stored("argmax --out", expect, "am.zarr")["dtype"] = json!("int64");
    reference.verify();
}

#[test]
fn cumsum_scans_every_axis_in_numpys_dtype() {
    let ws = workspace();
    ws.array_write(&[
        "compare", "i.zarr", "f.zarr", "--op", "gt", "--out", "b.zarr",
    ]);
    ws.create_array("a.zarr", "9,4", "4,3", "int64", &["--arange"]);
    let mut reference = Reference::new(&ws);
    for (name, ndim, dtype) in [
        ("i.zarr", 2, "int64"),
        ("f.zarr", 1, "float32"),
        ("g.zarr", 3, "float64"),
        ("b.zarr", 2, "int64"),
        ("a.zarr", 2, "int64"),
    ] {
        for axis in 0..ndim {
            let out = format!("cumsum-{axis}-{name}");
            let k = axis.to_string();
            ws.array_write(&["cumsum", name, "--axis", &k, "--out", &out]);
            let expect = np::cumsum(axis, np::read(name));
            reference.stored(&format!("cumsum {name} {axis}"), expect, &out)["dtype"] =
                json!(dtype);
        }
    }
    let printed = ws.array_print(&["cumsum", "g.zarr", "--axis", "-1"]);
    reference.printed(
        "cumsum --axis -1",
        np::cumsum(2, np::read("g.zarr")),
        &printed,
    );
    reference.verify();
}

#[test]
fn results_take_numpys_dtypes() {
    let ws = workspace();
    ws.create_array("i32.zarr", "6,5", "4,2", "int32", &["--arange"]);
    let mut reference = Reference::new(&ws);
    for (input, op, dtype) in [
        ("f.zarr", "sum", "float32"),
        ("f.zarr", "prod", "float32"),
        ("f.zarr", "min", "float32"),
        ("f.zarr", "max", "float32"),
        ("f.zarr", "mean", "float32"),
        ("f.zarr", "std", "float32"),
        ("f.zarr", "var", "float32"),
        ("i.zarr", "min", "int32"),
        ("i.zarr", "sum", "int64"),
        ("i.zarr", "mean", "float64"),
    ] {
        let out = format!("{op}-{input}");
        ws.array_write(&["reduce", input, "--op", op, "--axis", "0", "--out", &out]);
        let expect = np::reduce(op, Some(0), np::read(input));
        reference.stored(&format!("{op} of {input}"), expect, &out)["dtype"] = json!(dtype);
    }
    ws.array_write(&["transpose", "i32.zarr", "--out", "t.zarr"]);
    ws.array_write(&["matmul", "i32.zarr", "t.zarr", "--out", "mm.zarr"]);
    let expect = np::matmul(np::read("i32.zarr"), np::read("t.zarr"));
    reference.stored("int32 @ int32", expect, "mm.zarr")["dtype"] = json!("int32");
    reference.verify();
}

#[test]
fn bad_axes_shapes_and_dtypes_exit_2_naming_the_op() {
    let ws = workspace();
    ws.array_write(&[
        "compare", "i.zarr", "f.zarr", "--op", "gt", "--out", "b.zarr",
    ]);
    ws.create_array("short.zarr", "4", "2", "float64", &["--ones"]);
    let cases: [(&[&str], &[&str]); 7] = [
        (&["cumsum", "i.zarr", "--axis", "2"], &["cumsum", "axis 2"]),
        (
            &["reduce", "i.zarr", "--op", "argmax", "--axis", "5"],
            &["argmax", "axis 5"],
        ),
        (
            &["compare", "i.zarr", "short.zarr", "--op", "eq"],
            &["(5, 7)", "(4,)"],
        ),
        (
            &["where", "b.zarr", "i.zarr", "short.zarr"],
            &["(5, 7)", "(4,)"],
        ),
        (&["map", "b.zarr", "--op", "neg"], &["neg", "bool"]),
        (
            &["binary", "b.zarr", "b.zarr", "--op", "sub"],
            &["sub", "bool"],
        ),
        (
            &["compare", "i.zarr", "f.zarr", "--op", "gte"],
            &["gte", "gt, lt"],
        ),
    ];
    for (args, parts) in cases {
        let message = ws.array(args).failure(2).to_string();
        for part in parts {
            assert!(
                message.contains(part),
                "{args:?}: expected {part:?} in {message:?}"
            );
        }
    }
    let message = ws
        .array(&[
            "create", "x.zarr", "--shape", "3", "--chunks", "2", "--dtype", "bool", "--arange",
        ])
        .failure(2)
        .to_string();
    assert!(message.contains("bool"), "{message}");
}

#[test]
fn every_command_gives_the_same_results_on_worker_processes() {
    let ws = workspace();
    ws.array_write(&[
        "compare", "i.zarr", "f.zarr", "--op", "gt", "--out", "b.zarr",
    ]);
    ws.create_array("v.zarr", "23", "5", "float64", &["--random", "--seed", "3"]);
    ws.create_array("m.zarr", "7,3", "3,2", "int64", &["--arange"]);
    let printing: [&[&str]; 9] = [
        &["reduce", "g.zarr", "--op", "var", "--axis", "1"],
        &["reduce", "i.zarr", "--op", "argmax"],
        &["reduce", "b.zarr", "--op", "any", "--axis", "0"],
        &["compare", "i.zarr", "f.zarr", "--op", "le"],
        &["where", "b.zarr", "i.zarr", "f.zarr"],
        &["cumsum", "i.zarr", "--axis", "1"],
        &["slice", "g.zarr", "--index", "1:,::2,-1"],
        &["topk", "v.zarr", "-k", "4"],
        &["get", "i.zarr"],
    ];
    for args in printing {
        let threads = ws.array_print(args);
        let mut on_processes = args.to_vec();
        on_processes.extend(["--executor", "processes", "--workers", "2"]);
        assert_eq!(ws.array_print(&on_processes), threads, "{args:?}");
    }
    let writing: [&[&str]; 9] = [
        &[
            "create", "OUT", "--shape", "6,4", "--chunks", "4,3", "--random", "--seed", "9",
        ],
        &["map", "g.zarr", "--op", "exp"],
        &["binary", "i.zarr", "f.zarr", "--op", "div"],
        &["scale", "f.zarr", "--by", "3", "--add", "1"],
        &["transpose", "i.zarr"],
        &["matmul", "i.zarr", "m.zarr"],
        &["rechunk", "g.zarr", "--chunks", "3,1,4"],
        &["sort", "v.zarr"],
        &["cumsum", "g.zarr", "--axis", "0"],
    ];
    for (n, args) in writing.iter().enumerate() {
        let (threads, processes) = (format!("t{n}.zarr"), format!("p{n}.zarr"));
        let with_out = |out: &str| -> Vec<String> {
            let mut v: Vec<String> = args.iter().map(|a| a.replace("OUT", out)).collect();
            if args[0] != "create" {
                v.extend(["--out".to_string(), out.to_string()]);
            }
            v
        };
        let t = with_out(&threads);
        ws.array_write(&t.iter().map(String::as_str).collect::<Vec<_>>());
        let mut p = with_out(&processes);
        p.extend(["--executor", "processes", "--workers", "2"].map(String::from));
        ws.array_write(&p.iter().map(String::as_str).collect::<Vec<_>>());
        let get = |name: &str| ws.array_print(&["get", name]);
        assert_eq!(get(&processes), get(&threads), "{args:?}");
    }
}

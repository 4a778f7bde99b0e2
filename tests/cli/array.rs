//! End-to-end tests of `taskloom array` (contract: `docs/spec/array-cli.md`) with
//! NumPy as the reference: arrays made by `create` (every fill kind and dtype, 1-3
//! dimensions, ragged edge chunks, Zarr formats 2 and 3) or written by zarr-python,
//! then every command's printed JSON and written arrays compared with NumPy's result on
//! the same data, read back with zarr-python (which also proves interop).

use crate::harness::array::{np, write_with_zarr_python, Reference};
use crate::harness::Dir;
use serde_json::{json, Value as Json};

const DTYPES: [&str; 4] = ["float64", "float32", "int64", "int32"];

/// Shapes (text, extents) with chunk shapes that do not divide them.
const SHAPES: [(&str, &[usize], &str); 3] = [
    ("7", &[7], "3"),
    ("5,7", &[5, 7], "2,3"),
    ("3,4,5", &[3, 4, 5], "2,3,2"),
];

fn is_int(dtype: &str) -> bool {
    dtype.starts_with("int")
}

#[test]
fn create_fills_every_dtype_and_shape_as_numpy_does_in_both_zarr_formats() {
    let ws = Dir::new();
    let mut reference = Reference::new(&ws);
    for (d, dtype) in DTYPES.iter().enumerate() {
        let value = if is_int(dtype) { json!(-7) } else { json!(2.5) };
        let value_text = value.to_string();
        for (f, fill) in ["zeros", "ones", "fill", "arange"].iter().enumerate() {
            let (shape_text, shape, chunks) = SHAPES[(d + f) % SHAPES.len()];
            let format = if (d + f) % 2 == 0 { "3" } else { "2" };
            let name = format!("{fill}-{dtype}-v{format}.zarr");
            let flag = format!("--{fill}");
            let mut fill_args = vec![flag.as_str()];
            if *fill == "fill" {
                fill_args.push(&value_text);
            }
            fill_args.extend(["--zarr-format", format]);
            ws.create_array(&name, shape_text, chunks, dtype, &fill_args);

            let metadata = if format == "3" {
                "zarr.json"
            } else {
                ".zarray"
            };
            assert!(
                ws.path(&name).join(metadata).is_file(),
                "{name} has no {metadata}"
            );
            let expected = match *fill {
                "zeros" => np::full(json!(0), shape, dtype),
                "ones" => np::full(json!(1), shape, dtype),
                "fill" => np::full(value.clone(), shape, dtype),
                _ => np::arange(shape, dtype),
            };
            reference.stored(&format!("create {name}"), expected.clone(), &name)["dtype"] =
                json!(dtype);
            let printed = ws.array_print(&["get", &name]);
            reference.printed(&format!("get {name}"), expected, &printed);
            let info = ws.array_print(&["info", &name]);
            reference.info(&format!("info {name}"), &name, &info);
        }
    }
    reference.verify();
}

#[test]
fn info_prints_the_documented_fields() {
    let ws = Dir::new();
    ws.create_array("a.zarr", "1000,2000", "100,500", "float32", &["--zeros"]);
    let info: Json = serde_json::from_str(&ws.array_print(&["info", "a.zarr"])).unwrap();
    assert_eq!(
        info,
        json!({"shape": [1000, 2000], "chunks": [100, 500], "dtype": "float32",
               "zarr_format": 3, "nbytes": 8_000_000})
    );
}

#[test]
fn random_is_uniform_and_reproducible_for_a_seed_shape_and_chunks() {
    let ws = Dir::new();
    let create = |name: &str, dtype: &str, extra: &[&str]| {
        let mut fill = vec!["--random"];
        fill.extend_from_slice(extra);
        ws.create_array(name, "40,30", "16,7", dtype, &fill);
    };
    create("a.zarr", "float64", &["--seed", "11"]);
    create("again.zarr", "float64", &["--seed", "11", "--workers", "1"]);
    create("other.zarr", "float64", &["--seed", "12"]);
    create("default.zarr", "float64", &[]);
    create("default-again.zarr", "float64", &["--zarr-format", "2"]);
    create("single.zarr", "float32", &["--seed", "11"]);
    let get = |name: &str| ws.array_print(&["get", name]);
    assert_eq!(get("a.zarr"), get("again.zarr"), "same seed, same values");
    assert_ne!(
        get("a.zarr"),
        get("other.zarr"),
        "another seed, other values"
    );
    assert_eq!(
        get("default.zarr"),
        get("default-again.zarr"),
        "no seed is a fixed seed"
    );
    let mut reference = Reference::new(&ws);
    for name in ["a.zarr", "other.zarr", "default.zarr", "single.zarr"] {
        reference.unit_random(name, name);
    }
    reference.verify();
}

#[test]
fn reductions_match_numpy_over_every_axis_and_all_elements() {
    let ws = Dir::new();
    ws.create_array(
        "i3.zarr",
        "3,4,5",
        "2,3,2",
        "int64",
        &["--arange", "--zarr-format", "2"],
    );
    ws.create_array("base.zarr", "6,7", "4,3", "int32", &["--arange"]);
    // int32 * int keeps int32 (NEP 50): values 50, 47, ..., -73.
    ws.array_write(&[
        "scale",
        "base.zarr",
        "--by",
        "-3",
        "--add",
        "50",
        "--out",
        "i2.zarr",
    ]);
    ws.create_array(
        "u2.zarr",
        "13,11",
        "4,5",
        "float64",
        &["--random", "--seed", "1"],
    );
    ws.array_write(&[
        "scale", "u2.zarr", "--by", "4", "--add", "-2", "--out", "f2.zarr",
    ]);
    ws.create_array(
        "f1.zarr",
        "29",
        "8",
        "float32",
        &["--random", "--seed", "2"],
    );
    ws.create_array(
        "f3.zarr",
        "5,2,3",
        "2,2,2",
        "float64",
        &["--random", "--seed", "5"],
    );

    let mut reference = Reference::new(&ws);
    for (name, ndim) in [
        ("i3.zarr", 3),
        ("i2.zarr", 2),
        ("f2.zarr", 2),
        ("f1.zarr", 1),
        ("f3.zarr", 3),
    ] {
        for op in ["sum", "prod", "mean", "min", "max", "std", "var"] {
            for axis in std::iter::once(None).chain((0..ndim).map(Some)) {
                let axis_text = axis.map(|k: usize| k.to_string());
                let mut args = vec!["reduce", name, "--op", op];
                if let Some(k) = &axis_text {
                    args.extend(["--axis", k.as_str()]);
                }
                let printed = ws.array_print(&args);
                let expect = np::reduce(op, axis, np::read(name));
                reference.printed(&args.join(" "), expect, &printed);
            }
        }
    }
    reference.verify();
}

#[test]
fn int_reductions_take_numpys_dtypes_and_float_statistics_are_float64() {
    let ws = Dir::new();
    ws.create_array("a.zarr", "9,4", "4,3", "int32", &["--arange"]);
    let mut reference = Reference::new(&ws);
    // NumPy 2: int32 sums and products widen to int64, min and max keep int32.
    for (op, dtype) in [
        ("sum", "int64"),
        ("prod", "int64"),
        ("min", "int32"),
        ("max", "int32"),
        ("mean", "float64"),
        ("std", "float64"),
        ("var", "float64"),
    ] {
        let out = format!("{op}.zarr");
        ws.array_write(&["reduce", "a.zarr", "--op", op, "--axis", "0", "--out", &out]);
        let expect = np::reduce(op, Some(0), np::read("a.zarr"));
        reference.stored(&format!("reduce --op {op} --axis 0 --out"), expect, &out)["dtype"] =
            json!(dtype);
    }
    // A product past the range of int64 wraps around, as NumPy's does.
    ws.create_array("threes.zarr", "50", "7", "int64", &["--fill", "3"]);
    let printed = ws.array_print(&["reduce", "threes.zarr", "--op", "prod"]);
    let expect = np::reduce("prod", None, np::read("threes.zarr"));
    reference.printed("3 ** 50 wraps", expect, &printed);
    reference.verify();

    let sum = ws.array_print(&["reduce", "a.zarr", "--op", "sum"]);
    assert_eq!(
        sum.trim(),
        (0..36).sum::<i64>().to_string(),
        "an int sum prints as an int"
    );
}

#[test]
fn long_sums_and_variances_are_accurate_to_numpy() {
    let ws = Dir::new();
    ws.create_array(
        "u.zarr",
        "200000",
        "7000",
        "float64",
        &["--random", "--seed", "3"],
    );
    // Values near 1e8: the textbook E[x^2] - E[x]^2 loses every digit here.
    ws.array_write(&[
        "scale",
        "u.zarr",
        "--by",
        "1",
        "--add",
        "100000000",
        "--out",
        "big.zarr",
    ]);
    let mut reference = Reference::new(&ws);
    for op in ["sum", "mean"] {
        let printed = ws.array_print(&["reduce", "u.zarr", "--op", op]);
        reference.printed(op, np::reduce(op, None, np::read("u.zarr")), &printed);
    }
    for op in ["sum", "mean", "var", "std"] {
        let printed = ws.array_print(&["reduce", "big.zarr", "--op", op]);
        let expect = np::reduce(op, None, np::read("big.zarr"));
        reference.printed(&format!("{op} near 1e8"), expect, &printed)["rtol"] = json!(1e-9);
    }
    reference.verify();
}

#[test]
fn map_ops_match_numpy_and_keep_the_chunks() {
    let ws = Dir::new();
    ws.create_array(
        "u.zarr",
        "9,8",
        "4,3",
        "float64",
        &["--random", "--seed", "4"],
    );
    ws.array_write(&[
        "scale", "u.zarr", "--by", "6", "--add", "-3", "--out", "f.zarr",
    ]);
    ws.create_array(
        "base.zarr",
        "11",
        "4",
        "int32",
        &["--arange", "--zarr-format", "2"],
    );
    ws.array_write(&[
        "scale",
        "base.zarr",
        "--by",
        "3",
        "--add",
        "-15",
        "--out",
        "i.zarr",
    ]);
    ws.create_array("g.zarr", "2,3,4", "2,2,3", "float32", &["--arange"]);
    ws.create_array("l.zarr", "6", "4", "int64", &["--arange"]);

    let mut reference = Reference::new(&ws);
    for name in ["f.zarr", "i.zarr", "g.zarr", "l.zarr"] {
        let chunks: Json = serde_json::from_str::<Json>(&ws.array_print(&["info", name])).unwrap()
            ["chunks"]
            .clone();
        for op in ["neg", "abs", "sqrt", "exp", "log", "square"] {
            let out = format!("{op}-{name}");
            ws.array_write(&["map", name, "--op", op, "--out", &out]);
            let check = reference.stored(
                &format!("map {name} --op {op}"),
                np::map(op, np::read(name)),
                &out,
            );
            check["chunks"] = chunks.clone();
            // exp and log may differ from NumPy's in the last bit.
            check["rtol"] = json!(if name == "g.zarr" { 2e-7 } else { 1e-15 });
        }
    }
    // Printed, without --out (values where every op is finite).
    for op in ["neg", "abs", "sqrt", "exp", "log", "square"] {
        let printed = ws.array_print(&["map", "u.zarr", "--op", op]);
        reference.printed(
            &format!("map u.zarr --op {op}"),
            np::map(op, np::read("u.zarr")),
            &printed,
        )["rtol"] = json!(1e-15);
    }
    ws.array_write(&[
        "map",
        "f.zarr",
        "--op",
        "square",
        "--out",
        "rechunked.zarr",
        "--chunks",
        "5,5",
    ]);
    reference.stored(
        "map --chunks",
        np::map("square", np::read("f.zarr")),
        "rechunked.zarr",
    )["chunks"] = json!([5, 5]);
    reference.verify();
}

#[test]
fn binary_ops_broadcast_and_promote_as_numpy() {
    let ws = Dir::new();
    ws.create_array(
        "u.zarr",
        "7,9",
        "3,4",
        "float64",
        &["--random", "--seed", "7"],
    );
    ws.array_write(&[
        "scale", "u.zarr", "--by", "10", "--add", "-5", "--out", "m.zarr",
    ]);
    ws.create_array(
        "row.zarr",
        "9",
        "5",
        "float64",
        &["--random", "--seed", "8"],
    );
    ws.create_array("irow.zarr", "9", "2", "int32", &["--arange"]);
    ws.create_array("icol.zarr", "7,1", "2,1", "int64", &["--arange"]);
    ws.create_array("col-base.zarr", "7,1", "4,1", "float32", &["--arange"]);
    ws.array_write(&[
        "scale",
        "col-base.zarr",
        "--by",
        "0.5",
        "--add",
        "1",
        "--out",
        "col.zarr",
    ]);
    ws.create_array(
        "line.zarr",
        "1,9",
        "1,4",
        "float64",
        &["--random", "--seed", "9"],
    );
    ws.create_array("ints.zarr", "7,9", "4,4", "int32", &["--arange"]);
    ws.create_array(
        "f32.zarr",
        "7,9",
        "7,2",
        "float32",
        &["--random", "--seed", "10"],
    );
    ws.create_array("big.zarr", "7,9", "5,5", "int64", &["--fill", "-4"]);

    let pairs = [
        ("m.zarr", "u.zarr"),       // same shape, other chunks
        ("m.zarr", "row.zarr"),     // (n, m) with (m,)
        ("row.zarr", "m.zarr"),     // (m,) with (n, m)
        ("icol.zarr", "line.zarr"), // (n, 1) with (1, m)
        ("col.zarr", "irow.zarr"),  // (n, 1) float32 with (m,) int32
        ("ints.zarr", "big.zarr"),  // int32 with int64
        ("ints.zarr", "irow.zarr"), // int32 with int32, broadcast
        ("ints.zarr", "f32.zarr"),  // int32 with float32: float64
        ("f32.zarr", "u.zarr"),     // float32 with float64
        ("f32.zarr", "col.zarr"),   // float32 with float32
    ];
    let mut reference = Reference::new(&ws);
    for (a, b) in pairs {
        for op in ["add", "sub", "mul", "div"] {
            let out = format!("{op}-{a}-{b}");
            ws.array_write(&["binary", a, b, "--op", op, "--out", &out]);
            let expect = np::binary(op, np::read(a), np::read(b));
            reference.stored(&format!("binary {a} {b} --op {op}"), expect.clone(), &out)["rtol"] =
                json!(1e-15);
        }
    }
    let printed = ws.array_print(&["binary", "icol.zarr", "irow.zarr", "--op", "mul"]);
    let expect = np::binary("mul", np::read("icol.zarr"), np::read("irow.zarr"));
    reference.printed("printed (n, 1) * (m,)", expect, &printed);
    reference.verify();
}

#[test]
fn scale_promotes_as_numpy_with_python_scalars() {
    let ws = Dir::new();
    ws.create_array("i.zarr", "10", "3", "int32", &["--arange"]);
    ws.create_array("l.zarr", "2,5", "2,2", "int64", &["--arange"]);
    ws.create_array(
        "f.zarr",
        "3,4",
        "2,3",
        "float32",
        &["--random", "--seed", "1"],
    );
    ws.create_array(
        "d.zarr",
        "3,4",
        "2,3",
        "float64",
        &["--random", "--seed", "1"],
    );
    let mut reference = Reference::new(&ws);
    let cases: [(&str, &[&str], Json, Json); 7] = [
        ("i.zarr", &["--by", "3"], json!(3), json!(0)),
        ("i.zarr", &["--by", "-2", "--add", "7"], json!(-2), json!(7)),
        ("i.zarr", &["--by", "2.5"], json!(2.5), json!(0)),
        (
            "l.zarr",
            &["--by", "1", "--add", "-0.5"],
            json!(1),
            json!(-0.5),
        ),
        (
            "f.zarr",
            &["--by", "3.25", "--add", "1"],
            json!(3.25),
            json!(1),
        ),
        (
            "d.zarr",
            &["--by", "-1e3", "--add", "2"],
            json!(-1e3),
            json!(2),
        ),
        ("d.zarr", &["--by", "0"], json!(0), json!(0)),
    ];
    for (n, (input, options, by, add)) in cases.into_iter().enumerate() {
        let out = format!("scaled-{n}.zarr");
        let mut args = vec!["scale", input];
        args.extend_from_slice(options);
        args.extend(["--out", out.as_str()]);
        ws.array_write(&args);
        reference.stored(&args.join(" "), np::scale(by, add, np::read(input)), &out);
    }
    reference.verify();
}

#[test]
fn transpose_and_matmul_over_ragged_blocks_match_numpy() {
    let ws = Dir::new();
    ws.create_array(
        "ua.zarr",
        "7,5",
        "3,2",
        "float64",
        &["--random", "--seed", "1"],
    );
    ws.array_write(&[
        "scale", "ua.zarr", "--by", "2", "--add", "-1", "--out", "a.zarr",
    ]);
    ws.create_array(
        "b.zarr",
        "5,6",
        "4,4",
        "float64",
        &["--random", "--seed", "2"],
    );
    ws.create_array(
        "ia.zarr",
        "4,6",
        "3,4",
        "int32",
        &["--arange", "--zarr-format", "2"],
    );
    ws.create_array("ib.zarr", "6,3", "5,2", "int64", &["--arange"]);
    ws.create_array(
        "fa.zarr",
        "5,4",
        "2,3",
        "float32",
        &["--random", "--seed", "3"],
    );
    ws.create_array(
        "fb.zarr",
        "4,3",
        "3,3",
        "float32",
        &["--random", "--seed", "4"],
    );

    let mut reference = Reference::new(&ws);
    for name in ["a.zarr", "ia.zarr", "fa.zarr"] {
        let out = format!("t-{name}");
        ws.array_write(&["transpose", name, "--out", &out]);
        reference.stored(
            &format!("transpose {name}"),
            np::transpose(np::read(name)),
            &out,
        );
    }
    ws.array_write(&[
        "transpose",
        "a.zarr",
        "--out",
        "t-chunked.zarr",
        "--chunks",
        "4,4",
    ]);
    reference.stored(
        "transpose --chunks",
        np::transpose(np::read("a.zarr")),
        "t-chunked.zarr",
    )["chunks"] = json!([4, 4]);
    for (a, b) in [
        ("a.zarr", "b.zarr"),
        ("ia.zarr", "ib.zarr"),
        ("fa.zarr", "fb.zarr"),
        ("t-a.zarr", "a.zarr"),
        ("ia.zarr", "t-ia.zarr"),
    ] {
        let out = format!("mm-{a}-{b}");
        ws.array_write(&["matmul", a, b, "--out", &out]);
        // Ints multiply in NumPy's type: int32 @ int32 stays int32.
        let (a_np, b_np) = (np::read(a), np::read(b));
        reference.stored(&format!("matmul {a} {b}"), np::matmul(a_np, b_np), &out)["rtol"] =
            json!(if a == "fa.zarr" { 2e-6 } else { 1e-13 });
    }
    reference.verify();
}

#[test]
fn rechunk_keeps_the_values_and_changes_the_chunks() {
    let ws = Dir::new();
    ws.create_array(
        "a.zarr",
        "11,13",
        "4,5",
        "float64",
        &["--random", "--seed", "5"],
    );
    ws.create_array(
        "i.zarr",
        "3,7,5",
        "2,2,2",
        "int32",
        &["--arange", "--zarr-format", "2"],
    );
    let mut reference = Reference::new(&ws);
    for (name, chunks) in [
        ("a.zarr", "3,13"),
        ("a.zarr", "11,1"),
        ("a.zarr", "6,6"),
        ("a.zarr", "32,32"),
        ("i.zarr", "3,3,3"),
        ("i.zarr", "1,7,5"),
    ] {
        let out = format!("{chunks}-{name}");
        ws.array_write(&["rechunk", name, "--chunks", chunks, "--out", &out]);
        let info: Json = serde_json::from_str(&ws.array_print(&["info", &out])).unwrap();
        let expected: Vec<usize> = chunks.split(',').map(|c| c.parse().unwrap()).collect();
        assert_eq!(info["chunks"], json!(expected), "info of {out}");
        reference.stored(&format!("rechunk {name} {chunks}"), np::read(name), &out)["chunks"] =
            json!(expected);
        reference.info(&format!("info {out}"), &out, &info.to_string());
    }
    reference.verify();
}

#[test]
fn slice_follows_numpy_basic_indexing() {
    let ws = Dir::new();
    ws.create_array(
        "a.zarr",
        "9,12",
        "4,5",
        "float64",
        &["--random", "--seed", "6"],
    );
    ws.create_array(
        "c.zarr",
        "4,5,6",
        "3,2,4",
        "int32",
        &["--arange", "--zarr-format", "2"],
    );
    ws.create_array("v.zarr", "17", "5", "int64", &["--arange"]);
    let mut reference = Reference::new(&ws);
    let cases = [
        ("a.zarr", "1:4,2"),
        ("a.zarr", "-1"),
        ("a.zarr", "::2,-3:"),
        ("a.zarr", "-8:-1:3,::4"),
        ("a.zarr", ":,1"),
        ("a.zarr", "2:100,5:7"),
        ("a.zarr", "3:7:2"),
        ("a.zarr", "-100:2"),
        ("c.zarr", "1,:,::5"),
        ("c.zarr", "-2:,1:4,-1"),
        ("c.zarr", ":,-1"),
        ("c.zarr", "1:3"),
        ("v.zarr", "::3"),
        ("v.zarr", "-5:"),
        ("v.zarr", "4:16:4"),
    ];
    for (n, (name, index)) in cases.into_iter().enumerate() {
        let printed = ws.array_print(&["slice", name, "--index", index]);
        let expect = np::index(index, np::read(name));
        reference.printed(&format!("slice {name} {index}"), expect.clone(), &printed);
        let out = format!("slice-{n}.zarr");
        ws.array_write(&["slice", name, "--index", index, "--out", &out]);
        reference.stored(&format!("slice {name} {index} --out"), expect, &out);
    }
    ws.array_write(&[
        "slice",
        "a.zarr",
        "--index",
        "1:8,::2",
        "--out",
        "chunked.zarr",
        "--chunks",
        "2,2",
    ]);
    reference.stored(
        "slice --chunks",
        np::index("1:8,::2", np::read("a.zarr")),
        "chunked.zarr",
    )["chunks"] = json!([2, 2]);
    // Single elements print as bare numbers.
    for (name, index) in [("a.zarr", "-1,-1"), ("c.zarr", "3,4,5"), ("v.zarr", "-17")] {
        let printed = ws.array_print(&["slice", name, "--index", index]);
        reference.printed(
            &format!("slice {name} {index}"),
            np::index(index, np::read(name)),
            &printed,
        );
    }
    reference.verify();
}

#[test]
fn slice_with_a_negative_step_follows_numpy() {
    let ws = Dir::new();
    ws.create_array("a.zarr", "9,12", "4,5", "int64", &["--arange"]);
    let mut reference = Reference::new(&ws);
    for index in ["::-1", "7:1:-2,::-3", "-1:-6:-1,3"] {
        let run = ws.array(&["slice", "a.zarr", "--index", index]);
        assert_eq!(
            run.code,
            Some(0),
            "slice --index {index} (NumPy basic indexing): {}",
            run.stderr
        );
        reference.printed(index, np::index(index, np::read("a.zarr")), &run.stdout);
    }
    reference.verify();
}

#[test]
fn topk_gives_the_largest_descending_and_the_smallest_ascending() {
    let ws = Dir::new();
    ws.create_array(
        "a.zarr",
        "13,11",
        "4,5",
        "float64",
        &["--random", "--seed", "8"],
    );
    ws.create_array(
        "f.zarr",
        "37",
        "10",
        "float32",
        &["--random", "--seed", "9"],
    );
    write_with_zarr_python(
        &ws,
        json!([
            {"path": "dup.zarr", "values": np::ints(-4, 4, &[6, 9], "int32", 1), "chunks": [4, 4]},
            {"path": "dup64.zarr", "values": np::ints(-3, 3, &[40], "int64", 2), "chunks": [7],
             "zarr_format": 2}
        ]),
    );
    let mut reference = Reference::new(&ws);
    for name in ["a.zarr", "f.zarr", "dup.zarr", "dup64.zarr"] {
        for k in ["1", "3", "12", "200"] {
            for smallest in [false, true] {
                let mut args = vec!["topk", name, "-k", k];
                if smallest {
                    args.push("--smallest");
                }
                let printed = ws.array_print(&args);
                let expect = np::topk(k.parse().unwrap(), smallest, np::read(name));
                reference.printed(&args.join(" "), expect, &printed);
            }
        }
    }
    reference.verify();
}

#[test]
fn sort_orders_a_1d_array_both_ways_keeping_duplicates() {
    let ws = Dir::new();
    ws.create_array(
        "a.zarr",
        "1000",
        "77",
        "float64",
        &["--random", "--seed", "10"],
    );
    ws.create_array(
        "f.zarr",
        "50",
        "8",
        "float32",
        &["--random", "--seed", "11"],
    );
    write_with_zarr_python(
        &ws,
        json!([
            {"path": "dup.zarr", "values": np::ints(-5, 5, &[300], "int32", 3), "chunks": [32]},
            {"path": "dup64.zarr", "values": np::ints(-1000, 1000, &[97], "int64", 4),
             "chunks": [10], "zarr_format": 2},
            {"path": "neg.zarr", "values": np::floats(-1e6, 1e6, &[120], "float64", 5),
             "chunks": [16]},
            {"path": "same.zarr", "values": np::full(json!(3), &[40], "int64"), "chunks": [6]},
            // About a quarter NaN.
            {"path": "nan.zarr", "values": np::map("sqrt", np::floats(-0.5, 1.5, &[130], "float64", 6)),
             "chunks": [17]},
            {"path": "nan32.zarr", "values": np::map("sqrt", np::floats(-0.5, 1.5, &[90], "float32", 7)),
             "chunks": [11]},
            {"path": "b.zarr", "values": np::compare("gt", np::floats(0.0, 1.0, &[70], "float64", 8),
             np::full(json!(0.5), &[70], "float64")), "chunks": [9]}
        ]),
    );
    let mut reference = Reference::new(&ws);
    for name in [
        "a.zarr",
        "f.zarr",
        "dup.zarr",
        "dup64.zarr",
        "neg.zarr",
        "same.zarr",
        "nan.zarr",
        "nan32.zarr",
        "b.zarr",
    ] {
        // The default limit sorts these in memory; 1 KiB sends them through files.
        for limit in [None, Some("1KiB")] {
            for descending in [false, true] {
                let out = format!("sorted-{descending}-{}-{name}", limit.is_some());
                let mut args = vec!["sort", name, "--out", &out];
                if descending {
                    args.push("--descending");
                }
                if let Some(limit) = limit {
                    args.extend(["--memory-limit", limit]);
                }
                ws.array_write(&args);
                let expect = np::sort(descending, np::read(name));
                reference.stored(&args.join(" "), expect, &out);
            }
        }
    }
    reference.verify();
}

#[test]
fn get_prints_ints_as_ints_floats_as_floats_and_single_elements_bare() {
    let ws = Dir::new();
    ws.create_array("f.zarr", "4,3", "3,2", "float64", &["--fill", "5"]);
    ws.create_array("g.zarr", "5", "2", "float32", &["--arange"]);
    ws.create_array("i.zarr", "4,3", "3,2", "int32", &["--arange"]);
    assert_eq!(
        ws.array_print(&["get", "f.zarr", "--index", "1,2"]),
        "5.0\n"
    );
    assert_eq!(ws.array_print(&["get", "g.zarr", "--index", "-2"]), "3.0\n");
    assert_eq!(ws.array_print(&["get", "i.zarr", "--index", "3,1"]), "10\n");
    assert_eq!(
        ws.array_print(&["get", "i.zarr", "--index", "-1,-1"]),
        "11\n"
    );
    assert_eq!(
        ws.array_print(&["get", "g.zarr"]),
        "[0.0,1.0,2.0,3.0,4.0]\n"
    );

    let mut reference = Reference::new(&ws);
    for (name, index) in [
        ("f.zarr", None),
        ("i.zarr", None),
        ("i.zarr", Some("2")),
        ("i.zarr", Some("1:,::2")),
        ("g.zarr", Some("1:")),
    ] {
        let mut args = vec!["get", name];
        let mut expect = np::read(name);
        if let Some(index) = index {
            args.extend(["--index", index]);
            expect = np::index(index, expect);
        }
        let printed = ws.array_print(&args);
        reference.printed(&args.join(" "), expect, &printed);
    }
    reference.verify();
}

#[test]
fn arrays_zarr_python_writes_with_every_codec_are_read_as_written() {
    let ws = Dir::new();
    let mut specs = Vec::new();
    let mut names = Vec::new();
    for (n, dtype) in DTYPES.iter().enumerate() {
        for format in [2, 3] {
            for codec in ["zstd", "blosc", "gzip", "none"] {
                let name = format!("{dtype}-v{format}-{codec}.zarr");
                let values = if is_int(dtype) {
                    np::ints(-1000, 1000, &[9, 7], dtype, n as u64)
                } else {
                    np::floats(-10.0, 10.0, &[9, 7], dtype, n as u64)
                };
                specs.push(json!({"path": name, "values": values, "chunks": [4, 3],
                                  "zarr_format": format, "compressor": codec}));
                names.push(name);
            }
        }
    }
    write_with_zarr_python(&ws, Json::Array(specs));
    let mut reference = Reference::new(&ws);
    for name in &names {
        let printed = ws.array_print(&["get", name]);
        reference.printed(&format!("get {name}"), np::read(name), &printed);
        let printed = ws.array_print(&["reduce", name, "--op", "sum", "--axis", "1"]);
        let expect = np::reduce("sum", Some(1), np::read(name));
        // Seven float32 values in [-10, 10) may cancel: the error scales with the inputs.
        reference.printed(&format!("sum {name}"), expect, &printed)["atol"] = json!(1e-4);
        let info = ws.array_print(&["info", name]);
        reference.info(&format!("info {name}"), name, &info);
    }
    reference.verify();
}

//! What cannot fit is refused before anything is allocated for it, naming its size;
//! what can be lazy is: an array of one value is written as its metadata alone, and
//! an existing destination or a killed run's leftovers are handled without touching
//! what is not ours.

use std::path::Path;
use std::time::{Duration, Instant};

use taskloom_array::store::{self, ArrayMeta, StoreError};
use taskloom_array::{Array, ArrayError, Engine, Grid, WriteOptions};
use taskloom_graph::{Chunk, DType, Value};

/// Lowering a refused expression must not take long: nothing per block was made.
const PROMPT: Duration = Duration::from_secs(5);

/// Names in `dir`, recursively and sorted.
fn listing(dir: &Path) -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            out.push(path.strip_prefix(root).unwrap().display().to_string());
            if path.is_dir() {
                walk(&path, root, out);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

fn invalid<T>(result: Result<T, ArrayError>) -> String {
    match result {
        Err(ArrayError::Invalid(message)) => message,
        Err(other) => panic!("expected an invalid-input error, got {other:?}"),
        Ok(_) => panic!("expected an invalid-input error, got success"),
    }
}

#[test]
fn element_counts_that_overflow_are_refused_naming_the_shape() {
    let huge = 100_000_000_000;
    let message = invalid(Array::zeros(&[huge, huge], &[1000, 1000], DType::Float64));
    assert!(
        message.contains("(100000000000, 100000000000)")
            && message.contains("10000000000000000000000 elements"),
        "{message}"
    );
    let message = invalid(Array::random(&[4], &[usize::MAX / 2], 0));
    assert!(message.contains("chunk shape"), "{message}");
}

#[test]
fn graphs_too_large_to_track_are_refused_before_any_block_is_lowered() {
    let dir = tempfile::tempdir().unwrap();
    let huge = Array::random(&[1_000_000_000, 1_000_000_000], &[1000, 1000], 0).unwrap();
    let engine = Engine::new();
    let started = Instant::now();
    let out = dir.path().join("r.zarr");
    let message = invalid(engine.write_job(&huge, &out, &WriteOptions::default()));
    assert!(
        message.contains("(1000000000, 1000000000)") && message.contains("tasks"),
        "{message}"
    );
    let zeros = Array::zeros(&[1_000_000_000, 1_000_000_000], &[1000, 1000], DType::Int32).unwrap();
    let sum_of_sum = huge.add(&zeros).unwrap().t().sum().unwrap();
    for lazy in [huge.sum().unwrap(), zeros.sum().unwrap(), sum_of_sum] {
        let message = invalid(engine.compute_job(&lazy));
        assert!(message.contains("tasks"), "{message}");
    }
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(
        listing(dir.path()),
        Vec::<String>::new(),
        "a refused write left files"
    );
}

#[test]
fn chunks_and_results_larger_than_memory_are_refused_naming_their_bytes() {
    let side = 10_000_000;
    let one_chunk = Array::random(&[side, side], &[side, side], 0).unwrap();
    let message = invalid(Engine::new().compute_job(&one_chunk.sum().unwrap()));
    assert!(
        message.contains("a chunk would take 800000000000000 bytes"),
        "{message}"
    );
    let big = Array::random(&[side, side], &[10_000, 10_000], 0).unwrap();
    let message = invalid(Engine::new().compute_job(&big));
    assert!(
        message.contains("800000000000000 bytes") && message.contains("(10000000, 10000000)"),
        "{message}"
    );
}

#[test]
fn an_array_of_one_value_is_written_as_metadata_alone() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, DType, Value, u8, &[&str]); 4] = [
        (
            "f64.zarr",
            DType::Float64,
            Value::Float(2.5),
            3,
            &["zarr.json"],
        ),
        (
            "f32.zarr",
            DType::Float32,
            Value::Float(0.1),
            3,
            &["zarr.json"],
        ),
        (
            "i32.zarr",
            DType::Int32,
            Value::Int(-7),
            2,
            &[".zarray", ".zattrs"],
        ),
        ("zeros.zarr", DType::Int64, Value::Int(0), 3, &["zarr.json"]),
    ];
    for (name, dtype, value, zarr_format, files) in cases {
        let path = dir.path().join(name);
        let full = Array::full(&[10, 7], &[4, 3], dtype, value.clone()).unwrap();
        let options = WriteOptions {
            zarr_format,
            ..WriteOptions::default()
        };
        Engine::new().write(&full, &path, &options).unwrap();
        assert_eq!(listing(&path), files, "{name} has chunk files");
        let back = Engine::new().compute(&Array::open(&path).unwrap()).unwrap();
        let expected = Engine::new().compute(&full).unwrap();
        assert_eq!(
            back, expected,
            "{name} does not read back as its fill value"
        );
    }
    // Rechunked, it is still one value.
    let path = dir.path().join("rechunked.zarr");
    let ones = Array::ones(&[10], &[3], DType::Float64).unwrap();
    let ones = ones.rechunk(&[4]).unwrap();
    Engine::new()
        .write(&ones, &path, &WriteOptions::default())
        .unwrap();
    assert_eq!(listing(&path), ["zarr.json"]);
    let Chunk::F64(back) = Engine::new().compute(&Array::open(&path).unwrap()).unwrap() else {
        panic!("float64 reads as float64")
    };
    assert!(back.iter().all(|&x| x == 1.0), "{back:?}");
}

#[test]
fn huge_arrays_of_one_value_are_written_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.zarr");
    let side = 1_000_000_000;
    let zeros = Array::zeros(&[side, side], &[1000, 1000], DType::Float64).unwrap();
    let started = Instant::now();
    Engine::new()
        .write(&zeros, &path, &WriteOptions::default())
        .unwrap();
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    assert_eq!(listing(dir.path()), ["big.zarr", "big.zarr/zarr.json"]);
    let back = Array::open(&path).unwrap();
    assert_eq!(
        (back.shape(), back.nbytes()),
        (&[side, side][..], 8 * 10u64.pow(18))
    );
    // A corner of a large one (ten thousand chunks, none written) reads as zeros.
    let path = dir.path().join("large.zarr");
    let zeros = Array::zeros(&[100_000, 100_000], &[1000, 1000], DType::Float64).unwrap();
    Engine::new()
        .write(&zeros, &path, &WriteOptions::default())
        .unwrap();
    let corner = Array::open(&path).unwrap().index("0:2,99999:").unwrap();
    let Chunk::F64(corner) = Engine::new().compute(&corner).unwrap() else {
        panic!("float64 reads as float64")
    };
    assert_eq!(corner.shape(), [2, 1]);
    assert!(corner.iter().all(|&x| x == 0.0), "{corner:?}");
}

fn meta(shape: &[usize], chunks: &[usize]) -> ArrayMeta {
    ArrayMeta {
        grid: Grid::new(shape, chunks).unwrap(),
        dtype: DType::Float64,
        zarr_format: 3,
    }
}

#[test]
fn overwrite_never_removes_a_directory_that_is_not_a_zarr_array() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results");
    std::fs::create_dir(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let err = store::create(&out, &meta(&[4], &[2]), true).unwrap_err();
    assert!(matches!(err, StoreError::NotReplaceable { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains(&out.display().to_string()), "{message}");
    assert_eq!(listing(dir.path()), ["results", "results/notes.txt"]);

    // A directory that becomes one meanwhile is not replaced at commit either.
    let path = dir.path().join("a.zarr");
    let pending = store::create(&path, &meta(&[4], &[2]), true).unwrap();
    std::fs::create_dir(&path).unwrap();
    std::fs::write(path.join("data.csv"), "1,2").unwrap();
    let err = pending.commit().unwrap_err();
    assert!(matches!(err, StoreError::NotReplaceable { .. }), "{err}");
    assert_eq!(
        std::fs::read_to_string(path.join("data.csv")).unwrap(),
        "1,2"
    );
    assert_eq!(
        listing(dir.path()),
        ["a.zarr", "a.zarr/data.csv", "results", "results/notes.txt"],
        "the pending array was not removed"
    );
}

#[test]
fn a_dead_writers_partial_array_is_removed_by_the_next_and_a_live_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    // No process has a pid above the kernel's largest (2^22).
    let dead = dir.path().join(".a.zarr.4194305-0123456789abcdef.partial");
    std::fs::create_dir_all(dead.join("c/0")).unwrap();
    std::fs::write(dead.join("c/0/0"), "a chunk").unwrap();
    let live = dir.path().join(format!(
        ".a.zarr.{}-0123456789abcdef.partial",
        std::process::id()
    ));
    std::fs::create_dir(&live).unwrap();
    let other = dir.path().join(".b.zarr.4194305-0123456789abcdef.partial");
    std::fs::create_dir(&other).unwrap();
    let pending = store::create(&path, &meta(&[4], &[2]), false).unwrap();
    assert!(!dead.exists(), "the dead writer's partial array was left");
    assert!(live.exists(), "a live writer's partial array was removed");
    assert!(other.exists(), "another array's partial array was removed");
    let name = pending
        .temp_path()
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let pid = std::process::id().to_string();
    assert!(
        name.starts_with(&format!(".a.zarr.{pid}-")) && name.ends_with(".partial"),
        "the partial array does not name its owner: {name}"
    );
    pending.commit().unwrap();
}

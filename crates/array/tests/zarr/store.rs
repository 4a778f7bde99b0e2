//! The store's own rules: atomic creation, overwriting, errors that name the array and
//! the chunk, the `array.read`/`array.write` ops, and write-then-read round trips.

use std::path::Path;
use std::sync::Arc;

use ndarray::{ArrayD, IxDyn};
use proptest::prelude::*;
use taskloom_array::store::{self, ArrayMeta, StoreError};
use taskloom_array::Grid;
use taskloom_graph::{Chunk, DType, Registry, Value};

fn meta(shape: &[usize], chunks: &[usize], dtype: DType, zarr_format: u8) -> ArrayMeta {
    ArrayMeta {
        grid: Grid::new(shape, chunks).unwrap(),
        dtype,
        zarr_format,
    }
}

/// Block `index` of an array whose element at linear (C-order) position `i` is
/// `i + offset`, in the array's dtype.
fn block(meta: &ArrayMeta, index: &[usize], offset: i64) -> Chunk {
    let grid = &meta.grid;
    let start = grid.block_start(index);
    let shape = grid.block_shape(index);
    let at = |pos: IxDyn| -> i64 {
        let linear = (0..grid.ndim()).fold(0, |acc, k| acc * grid.shape()[k] + start[k] + pos[k]);
        linear as i64 + offset
    };
    let shape = IxDyn(&shape);
    match meta.dtype {
        DType::Float64 => Chunk::F64(ArrayD::from_shape_fn(shape, |p| at(p) as f64)),
        DType::Float32 => Chunk::F32(ArrayD::from_shape_fn(shape, |p| at(p) as f32)),
        DType::Int64 => Chunk::I64(ArrayD::from_shape_fn(shape, &at)),
        DType::Int32 => Chunk::I32(ArrayD::from_shape_fn(shape, |p| at(p) as i32)),
        DType::Bool => Chunk::Bool(ArrayD::from_shape_fn(shape, |p| at(p) % 2 == 1)),
    }
}

/// Writes every block of `meta` at `path` (values offset by `offset`) and commits.
fn write_array(path: &Path, meta: &ArrayMeta, offset: i64, overwrite: bool) {
    let pending = store::create(path, meta, overwrite).unwrap();
    for index in meta.grid.block_indices() {
        pending
            .write_chunk(&index, &block(meta, &index, offset))
            .unwrap();
    }
    pending.commit().unwrap();
}

/// Names in `dir`, sorted: what a run left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn dropping_a_pending_array_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.zarr");
    let m = meta(&[10, 10], &[4, 4], DType::Float64, 3);
    let pending = store::create(&path, &m, false).unwrap();
    let temp = pending.temp_path().to_path_buf();
    assert!(temp.starts_with(dir.path()) && temp.join("zarr.json").is_file());
    pending
        .write_chunk(&[1, 2], &block(&m, &[1, 2], 0))
        .unwrap();
    assert!(!path.exists(), "nothing at the destination before commit");
    drop(pending);
    assert!(!temp.exists());
    assert!(listing(dir.path()).is_empty(), "{:?}", listing(dir.path()));
}

#[test]
fn commit_puts_the_array_at_its_path_and_nothing_else() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("out.zarr");
    let m = meta(&[5, 3], &[2, 2], DType::Int32, 2);
    write_array(&path, &m, 0, false);
    assert_eq!(listing(dir.path()), vec!["out.zarr"]);
    let array = store::open(&path).unwrap();
    assert_eq!(array.meta(), &m);
    assert_eq!(array.read_chunk(&[2, 1]).unwrap(), block(&m, &[2, 1], 0));
}

#[test]
fn an_existing_path_fails_at_once_unless_overwriting() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    std::fs::create_dir(&path).unwrap();
    let m = meta(&[4], &[2], DType::Float32, 3);
    let err = store::create(&path, &m, false).unwrap_err();
    assert!(matches!(err, StoreError::Exists { .. }));
    assert_eq!(
        err.to_string(),
        format!("{} already exists", path.display())
    );
    assert_eq!(listing(dir.path()), vec!["a.zarr"], "no temporary left");
}

#[test]
fn a_path_that_appears_before_commit_is_not_replaced_without_overwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let m = meta(&[4], &[2], DType::Int64, 3);
    let pending = store::create(&path, &m, false).unwrap();
    std::fs::write(&path, "someone else's").unwrap();
    let err = pending.commit().unwrap_err();
    assert!(matches!(err, StoreError::Exists { .. }), "{err}");
    assert_eq!(std::fs::read_to_string(&path).unwrap(), "someone else's");
    assert_eq!(listing(dir.path()), vec!["a.zarr"]);
}

#[test]
fn overwrite_replaces_the_old_array_only_at_commit() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let old = meta(&[6, 6], &[3, 3], DType::Float64, 2);
    write_array(&path, &old, 0, false);
    let new = meta(&[5], &[2], DType::Int32, 3);
    let pending = store::create(&path, &new, true).unwrap();
    for index in new.grid.block_indices() {
        pending
            .write_chunk(&index, &block(&new, &index, 100))
            .unwrap();
    }
    let before = store::open(&path).unwrap();
    assert_eq!(before.meta(), &old, "the old array stays until commit");
    assert_eq!(before.read_chunk(&[1, 1]).unwrap(), block(&old, &[1, 1], 0));
    pending.commit().unwrap();
    let after = store::open(&path).unwrap();
    assert_eq!(after.meta(), &new);
    assert_eq!(after.read_chunk(&[2]).unwrap(), block(&new, &[2], 100));
    assert_eq!(listing(dir.path()), vec!["a.zarr"], "the old array is gone");
    assert!(
        !path.join(".zarray").exists(),
        "no file of the old format-2 array remains"
    );
}

#[test]
fn overwrite_replaces_a_file_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    std::fs::write(&path, "not an array").unwrap();
    let m = meta(&[3], &[3], DType::Float64, 3);
    write_array(&path, &m, 0, true);
    assert_eq!(
        store::open(&path).unwrap().read_chunk(&[0]).unwrap(),
        block(&m, &[0], 0)
    );
    assert_eq!(listing(dir.path()), vec!["a.zarr"]);
}

/// Writes a format-3 array whose codecs are `codecs` (JSON) by hand, with one chunk
/// file [1, 0] holding `bytes`.
fn hand_written(dir: &Path, codecs: &str, dtype: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(format!("hand-{dtype}-{}.zarr", codecs.len()));
    std::fs::create_dir_all(path.join("c/1")).unwrap();
    let meta = format!(
        r#"{{"zarr_format": 3, "node_type": "array", "shape": [4, 2], "data_type": "{dtype}",
            "chunk_grid": {{"name": "regular", "configuration": {{"chunk_shape": [2, 2]}}}},
            "chunk_key_encoding": {{"name": "default", "configuration": {{"separator": "/"}}}},
            "fill_value": 0, "codecs": {codecs}}}"#
    );
    std::fs::write(path.join("zarr.json"), meta).unwrap();
    std::fs::write(path.join("c/1/0"), bytes).unwrap();
    path
}

#[test]
fn a_corrupt_chunk_is_an_error_naming_the_chunk_and_its_file() {
    let dir = tempfile::tempdir().unwrap();
    let zstd = dir.path().join("zstd.zarr");
    let m = meta(&[4, 2], &[2, 2], DType::Float64, 3);
    write_array(&zstd, &m, 0, false);
    std::fs::write(zstd.join("c/1/0"), b"garbage, not a zstd frame").unwrap();
    std::fs::remove_file(zstd.join("c/0/0")).unwrap();
    let bytes = r#"[{"name": "bytes", "configuration": {"endian": "little"}}]"#;
    let gzip = r#"[{"name": "bytes", "configuration": {"endian": "little"}},
                   {"name": "gzip", "configuration": {"level": 1}}]"#;
    let arrays = [
        zstd,
        // 31 bytes where a plain float64 chunk of 2 x 2 has 32.
        hand_written(dir.path(), bytes, "float64", &[0; 31]),
        hand_written(dir.path(), gzip, "float64", b"garbage, not gzip"),
    ];
    for path in arrays {
        let array = store::open(&path).unwrap();
        assert_eq!(
            array.read_chunk(&[0, 0]).unwrap(),
            Chunk::F64(ArrayD::zeros(IxDyn(&[2, 2]))),
            "a missing chunk is the fill value"
        );
        let err = array.read_chunk(&[1, 0]).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, StoreError::Corrupt { .. }), "{message}");
        assert!(message.contains("[1, 0]"), "{message}");
        assert!(
            message.contains(&path.join("c/1/0").display().to_string()),
            "{message}"
        );
    }
}

#[test]
fn what_is_not_a_zarr_array_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let group = dir.path().join("group.zarr");
    std::fs::create_dir(&group).unwrap();
    std::fs::write(
        group.join("zarr.json"),
        r#"{"zarr_format": 3, "node_type": "group"}"#,
    )
    .unwrap();
    let file = dir.path().join("file.txt");
    std::fs::write(&file, "text").unwrap();
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    for path in [dir.path().join("missing"), group, file, empty] {
        let err = store::open(&path).unwrap_err();
        let message = err.to_string();
        assert!(matches!(err, StoreError::NotAnArray { .. }), "{message}");
        assert!(
            message.starts_with(&format!("{} is not a Zarr array", path.display())),
            "{message}"
        );
    }
}

#[test]
fn other_dtypes_are_unsupported_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let codecs = r#"[{"name": "bytes", "configuration": {"endian": "little"}}]"#;
    let path = hand_written(dir.path(), codecs, "uint16", &[0; 8]);
    let message = store::open(&path).unwrap_err().to_string();
    assert!(
        message.contains("unsupported dtype 'uint16'")
            && message.contains(&path.display().to_string()),
        "{message}"
    );
}

#[test]
fn indices_out_of_range_and_mismatched_chunks_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let m = meta(&[5, 4], &[2, 4], DType::Int64, 3);
    let pending = store::create(&path, &m, false).unwrap();
    for bad in [&[3, 0][..], &[0, 1], &[0], &[0, 0, 0]] {
        let err = pending
            .write_chunk(bad, &block(&m, &[0, 0], 0))
            .unwrap_err();
        assert!(
            matches!(err, StoreError::OutOfRange { .. }),
            "{bad:?}: {err}"
        );
    }
    // Block [2, 0] is the ragged edge: (1, 4), not (2, 4); and int64, not float64.
    let err = pending
        .write_chunk(&[2, 0], &block(&m, &[1, 0], 0))
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("(2, 4) int64 but the block is (1, 4) int64"),
        "{err}"
    );
    let floats = Chunk::F64(ArrayD::zeros(IxDyn(&[1, 4])));
    let err = pending.write_chunk(&[2, 0], &floats).unwrap_err();
    assert!(matches!(err, StoreError::Mismatch { .. }), "{err}");
    pending.commit().unwrap();
    let array = store::open(&path).unwrap();
    let err = array.read_chunk(&[3, 0]).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "chunk index [3, 0] is out of range for {} (its grid has (3, 1) blocks)",
            path.display()
        )
    );
}

fn registry() -> Registry {
    let mut registry = Registry::empty();
    taskloom_array::ops::register(&mut registry);
    registry
}

fn call(registry: &Registry, op: &str, args: &[Value]) -> Result<Value, String> {
    (registry.get(op).unwrap())(args).map_err(|e| e.to_string())
}

fn index(index: &[usize]) -> Value {
    Value::list(index.iter().map(|&i| Value::Int(i as i64)))
}

#[test]
fn ops_write_from_many_threads_and_read_back() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let m = meta(&[9, 7], &[2, 3], DType::Float32, 3);
    let registry = registry();
    let pending = store::create(&path, &m, false).unwrap();
    let temp = Value::Str(pending.temp_path().to_string_lossy().into());
    let blocks: Vec<Vec<usize>> = m.grid.block_indices().collect();
    std::thread::scope(|s| {
        for part in blocks.chunks(4) {
            let (registry, temp, m) = (&registry, &temp, &m);
            s.spawn(move || {
                for i in part {
                    let chunk = block(m, i, 7);
                    let args = [
                        temp.clone(),
                        index(i),
                        Value::Chunk(Arc::new(chunk.clone())),
                    ];
                    let written = call(registry, "array.write", &args).unwrap();
                    assert_eq!(written, Value::Int(chunk.nbytes() as i64));
                }
            });
        }
    });
    pending.commit().unwrap();
    let path_value = Value::Str(path.to_string_lossy().into());
    for i in &blocks {
        let read = call(&registry, "array.read", &[path_value.clone(), index(i)]).unwrap();
        assert_eq!(read, Value::Chunk(Arc::new(block(&m, i, 7))), "block {i:?}");
    }
}

#[test]
fn ops_see_an_array_replaced_at_the_same_path() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let registry = registry();
    let path_value = Value::Str(path.to_string_lossy().into());
    let first = meta(&[4], &[4], DType::Int64, 3);
    write_array(&path, &first, 0, false);
    let read = call(&registry, "array.read", &[path_value.clone(), index(&[0])]).unwrap();
    assert_eq!(read, Value::Chunk(Arc::new(block(&first, &[0], 0))));
    let second = meta(&[6], &[3], DType::Float64, 2);
    write_array(&path, &second, 50, true);
    let read = call(&registry, "array.read", &[path_value, index(&[1])]).unwrap();
    assert_eq!(read, Value::Chunk(Arc::new(block(&second, &[1], 50))));
}

#[test]
fn ops_reject_bad_arguments_by_name() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.zarr");
    let m = meta(&[4], &[2], DType::Int32, 2);
    write_array(&path, &m, 0, false);
    let registry = registry();
    let path_value = Value::Str(path.to_string_lossy().into());
    let err = call(&registry, "array.read", &[path_value.clone(), index(&[2])]).unwrap_err();
    assert!(err.contains("out of range"), "{err}");
    let err = call(&registry, "array.read", &[Value::Int(1), index(&[0])]).unwrap_err();
    assert!(err.contains("argument 1 must be a string"), "{err}");
    let chunk = Value::Chunk(Arc::new(block(&m, &[0], 0)));
    let err = call(&registry, "array.write", &[path_value, index(&[0]), chunk]).unwrap_err();
    assert!(err.contains("is not an array being created"), "{err}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Whatever the shape, chunking, dtype and format, every block reads back as written.
    #[test]
    fn blocks_round_trip(
        dims in prop::collection::vec((1usize..9, 1usize..5), 0..4),
        dtype in prop::sample::select(DType::ALL.to_vec()),
        zarr_format in prop::sample::select(vec![2u8, 3]),
    ) {
        let (shape, chunks): (Vec<usize>, Vec<usize>) = dims.into_iter().unzip();
        let m = meta(&shape, &chunks, dtype, zarr_format);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.zarr");
        write_array(&path, &m, -5, false);
        let array = store::open(&path).unwrap();
        prop_assert_eq!(array.meta(), &m);
        for index in m.grid.block_indices() {
            prop_assert_eq!(array.read_chunk(&index).unwrap(), block(&m, &index, -5));
        }
    }
}

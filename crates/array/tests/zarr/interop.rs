//! Interoperability with zarr-python 3, the reference implementation, both ways:
//! arrays it writes (formats 2 and 3; zstd, blosc, gzip, crc32c, sharding and no
//! compression; every dtype; ragged edges; a chunk left out as all fill value) read
//! back with identical values, and arrays we write read identically in zarr-python.
//! The Python environment comes from `scripts/python-env.sh` (a virtualenv in target/).

use std::ffi::OsStr;
use std::path::Path;

use ndarray::{ArrayD, IxDyn, Slice};
use serde_json::{json, Value as Json};
use taskloom_array::grid::Grid;
use taskloom_array::store::{self, ArrayMeta, StoredArray};
use taskloom_graph::{with_chunk, Chunk, DType};

use crate::python_env::run_json;

/// Every element of the array at `path`, read chunk by chunk, as JSON numbers in C order.
fn read_all(array: &StoredArray) -> Vec<Json> {
    let grid = &array.meta().grid;
    let mut out = vec![Json::Null; grid.len()];
    for index in grid.block_indices() {
        let chunk = array.read_chunk(&index).unwrap();
        assert_eq!(chunk.shape(), grid.block_shape(&index), "block {index:?}");
        let start = grid.block_start(&index);
        with_chunk!(&chunk, a => {
            for (pos, v) in a.indexed_iter() {
                let linear = (0..grid.ndim()).fold(0, |acc, k| {
                    acc * grid.shape()[k] + start[k] + pos[k]
                });
                out[linear] = json!(*v);
            }
        });
    }
    out
}

const WRITE_WITH_ZARR_PYTHON: &str = r#"
import json, sys, numpy as np, zarr, numcodecs
from zarr.codecs import ZstdCodec, BloscCodec, GzipCodec, Crc32cCodec
out = sys.argv[1]
def compressors(fmt, name):
    if name == "none":
        return None
    if fmt == 3:
        return {"zstd": ZstdCodec(level=3), "blosc": BloscCodec(cname="lz4", shuffle="shuffle"),
                "gzip": GzipCodec(level=5), "crc32c": [ZstdCodec(level=1), Crc32cCodec()]}[name]
    return {"zstd": numcodecs.Zstd(level=3), "blosc": numcodecs.Blosc(cname="lz4", shuffle=1),
            "gzip": numcodecs.GZip(level=5)}[name]
cases = []
for fmt in (2, 3):
    for codec in ("zstd", "blosc", "gzip", "none"):
        for dtype in ("float64", "float32", "int64", "int32"):
            cases.append(dict(fmt=fmt, codec=codec, dtype=dtype, shape=[7, 10], chunks=[3, 4]))
cases.append(dict(fmt=3, codec="crc32c", dtype="float64", shape=[9], chunks=[4]))
cases.append(dict(fmt=2, codec="zstd", dtype="int32", shape=[5, 6, 7], chunks=[2, 4, 3]))
cases.append(dict(fmt=3, codec="zstd", dtype="float32", shape=[10, 9], chunks=[2, 3], shards=[4, 6]))
cases.append(dict(fmt=3, codec="default", dtype="float64", shape=[6, 5], chunks=[4, 2]))
rng = np.random.default_rng(7)
result = []
for i, c in enumerate(cases):
    path = f"{out}/a{i}_v{c['fmt']}_{c['codec']}_{c['dtype']}"
    kw = {"shards": c["shards"]} if "shards" in c else {}
    if c["codec"] != "default":
        kw["compressors"] = compressors(c["fmt"], c["codec"])
    a = zarr.create_array(path, shape=c["shape"], chunks=c["chunks"], dtype=c["dtype"],
                          zarr_format=c["fmt"], **kw)
    n = int(np.prod(c["shape"]))
    if c["dtype"].startswith("float"):
        values = rng.integers(-10**6, 10**6, n) / 64  # exact in float32 and in JSON
    elif c["dtype"] == "int64":
        values = rng.integers(-2**62, 2**62, n, dtype=np.int64)
    else:
        values = rng.integers(-2**31, 2**31, n, dtype=np.int64)
    values = values.astype(c["dtype"]).reshape(c["shape"])
    # The first chunk (or shard) is all fill value, so zarr-python does not write it.
    values[tuple(slice(0, k) for k in c.get("shards", c["chunks"]))] = 0
    a[...] = values
    result.append(dict(path=path, fmt=c["fmt"], shape=c["shape"], chunks=c.get("shards", c["chunks"]),
                       dtype=c["dtype"], values=values.ravel().tolist()))
json.dump(result, sys.stdout)
"#;

#[test]
fn arrays_zarr_python_writes_read_back_identically() {
    let dir = tempfile::tempdir().unwrap();
    let cases = run_json(WRITE_WITH_ZARR_PYTHON, &[dir.path().as_os_str()]);
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 36, "every case was written");
    for case in cases {
        let path = Path::new(case["path"].as_str().unwrap());
        let array = store::open(path).unwrap_or_else(|e| panic!("{e}"));
        let meta = array.meta();
        let dims = |key: &str| -> Vec<usize> {
            case[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|d| d.as_u64().unwrap() as usize)
                .collect()
        };
        assert_eq!(
            meta.grid,
            Grid::new(&dims("shape"), &dims("chunks")).unwrap(),
            "{path:?}"
        );
        assert_eq!(meta.dtype.name(), case["dtype"], "{path:?}");
        assert_eq!(u64::from(meta.zarr_format), case["fmt"].as_u64().unwrap());
        let first = array.read_chunk(&vec![0; meta.grid.ndim()]).unwrap();
        assert!(
            with_chunk!(&first, a => a.iter().all(|v| json!(*v).as_f64() == Some(0.0))),
            "{path:?}: the missing first chunk reads as the fill value"
        );
        assert_eq!(
            &read_all(&array),
            case["values"].as_array().unwrap(),
            "{path:?}"
        );
    }
    // The missing-chunk case really is one: zarr-python left those files out.
    assert!(!dir.path().join("a0_v2_zstd_float64/0.0").exists());
    assert!(!dir.path().join("a16_v3_zstd_float64/c/0/0").exists());
}

const READ_WITH_ZARR_PYTHON: &str = r#"
import json, sys, zarr
result = []
for path in sys.argv[1:]:
    a = zarr.open_array(path, mode="r")
    result.append(dict(shape=list(a.shape), chunks=list(a.chunks), dtype=str(a.dtype),
                       fmt=a.metadata.zarr_format, values=a[...].ravel().tolist()))
json.dump(result, sys.stdout)
"#;

/// A test pattern of `shape`: distinct, signed values, for the ints beyond what a
/// float64 holds exactly.
fn pattern(dtype: DType, shape: &[usize]) -> Chunk {
    let n = shape.iter().product();
    let shape = IxDyn(shape);
    let ramp = 0..n;
    match dtype {
        DType::Float64 => Chunk::F64(
            ArrayD::from_shape_vec(shape, ramp.map(|i| (i as f64 - 30.0) / 8.0).collect()).unwrap(),
        ),
        DType::Float32 => Chunk::F32(
            ArrayD::from_shape_vec(shape, ramp.map(|i| (i as f32 - 30.0) / 4.0).collect()).unwrap(),
        ),
        DType::Int64 => Chunk::I64(
            ArrayD::from_shape_vec(
                shape,
                ramp.map(|i| i as i64 * 1_000_000_000_007 - (1 << 40))
                    .collect(),
            )
            .unwrap(),
        ),
        DType::Int32 => Chunk::I32(
            ArrayD::from_shape_vec(shape, ramp.map(|i| i as i32 * 7919 - 100_000).collect())
                .unwrap(),
        ),
        DType::Bool => {
            Chunk::Bool(ArrayD::from_shape_vec(shape, ramp.map(|i| i % 3 == 1).collect()).unwrap())
        }
    }
}

/// The part of `a` from `start` of extent `shape`.
fn cut<T: Clone>(a: &ArrayD<T>, start: &[usize], shape: &[usize]) -> ArrayD<T> {
    a.slice_each_axis(|ax| {
        let k = ax.axis.index();
        Slice::from(start[k]..start[k] + shape[k])
    })
    .to_owned()
}

/// Block `index` of `whole`.
fn block(whole: &Chunk, grid: &Grid, index: &[usize]) -> Chunk {
    let (start, shape) = (grid.block_start(index), grid.block_shape(index));
    match whole {
        Chunk::F64(a) => Chunk::F64(cut(a, &start, &shape)),
        Chunk::F32(a) => Chunk::F32(cut(a, &start, &shape)),
        Chunk::I64(a) => Chunk::I64(cut(a, &start, &shape)),
        Chunk::I32(a) => Chunk::I32(cut(a, &start, &shape)),
        Chunk::Bool(a) => Chunk::Bool(cut(a, &start, &shape)),
    }
}

/// The elements of `chunk` in C order, as JSON numbers, with block 0 of `grid` zeroed.
fn expected(chunk: &Chunk, grid: &Grid) -> Vec<Json> {
    let first = grid.block_shape(&vec![0; grid.ndim()]);
    let zero = match chunk.dtype() {
        DType::Bool => json!(false),
        d if d.is_float() => json!(0.0),
        _ => json!(0),
    };
    with_chunk!(chunk, a => a
        .indexed_iter()
        .map(|(pos, v)| {
            let in_first = (0..grid.ndim()).all(|k| pos[k] < first[k]);
            if in_first {
                zero.clone()
            } else {
                json!(*v)
            }
        })
        .collect())
}

#[test]
fn arrays_we_write_read_identically_in_zarr_python() {
    let dir = tempfile::tempdir().unwrap();
    let grids = [
        Grid::new(&[7, 10], &[3, 4]).unwrap(),
        Grid::new(&[9], &[4]).unwrap(),
        Grid::new(&[5, 6, 7], &[2, 4, 3]).unwrap(),
    ];
    let mut paths = Vec::new();
    let mut wanted = Vec::new();
    for zarr_format in [2, 3] {
        for dtype in DType::ALL {
            for (g, grid) in grids.iter().enumerate() {
                let path = dir.path().join(format!("v{zarr_format}_{dtype}_{g}.zarr"));
                let meta = ArrayMeta {
                    grid: grid.clone(),
                    dtype,
                    zarr_format,
                };
                let whole = pattern(dtype, grid.shape());
                let pending = store::create(&path, &meta, false).unwrap();
                // Block 0 is left out: zarr-python must read it as the fill value.
                for index in grid.block_indices().skip(1) {
                    pending
                        .write_chunk(&index, &block(&whole, grid, &index))
                        .unwrap();
                }
                pending.commit().unwrap();
                wanted.push((meta, expected(&whole, grid)));
                paths.push(path);
            }
        }
    }
    let args: Vec<&OsStr> = paths.iter().map(|p| p.as_os_str()).collect();
    let seen = run_json(READ_WITH_ZARR_PYTHON, &args);
    for ((path, (meta, values)), seen) in paths.iter().zip(&wanted).zip(seen.as_array().unwrap()) {
        assert_eq!(seen["shape"], json!(meta.grid.shape()), "{path:?}");
        assert_eq!(seen["chunks"], json!(meta.grid.chunks()), "{path:?}");
        assert_eq!(seen["dtype"], meta.dtype.name(), "{path:?}");
        assert_eq!(seen["fmt"], meta.zarr_format, "{path:?}");
        assert_eq!(seen["values"].as_array().unwrap(), values, "{path:?}");
    }
}

//! Zarr metadata (`zarr.json`, `.zarray`) as `array` commands open it: no panic; an
//! array that opens has a consistent grid, and reading its first chunk, stored or not,
//! gives that block's shape or an error.
//!
//! Input: the metadata, then optionally a NUL byte and the first chunk's file. The
//! metadata goes to `.zarray` when it has a `"dtype"` (a format 2 field), else to
//! `zarr.json`; the chunk under every key encoding the formats define, so that it is
//! found whichever the metadata chose.

#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

use taskloom_array::store;

/// Chunks with more elements than this are not read: their buffers would be all the
/// fuzzer spends time on.
const MAX_CHUNK_ELEMENTS: usize = 1 << 16;

/// The array's directory: one per process, emptied before every input (under
/// `$TMPDIR`, which `scripts/fuzz.sh` points at a directory it removes).
fn dir() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        std::env::temp_dir().join(format!("taskloom-fuzz-zarr.{}", std::process::id()))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (meta, chunk) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], Some(&data[at + 1..])),
        None => (data, None),
    };
    let dir = dir();
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("the fuzz directory can be created");
    let v2 = meta.windows(7).any(|w| w == b"\"dtype\"");
    let name = if v2 { ".zarray" } else { "zarr.json" };
    std::fs::write(dir.join(name), meta).expect("the metadata can be written");
    let Ok(array) = store::open(dir) else {
        return;
    };
    let grid = &array.meta().grid;
    assert_eq!(grid.shape().len(), grid.chunks().len(), "{array:?}");
    assert!(!grid.chunks().contains(&0), "{array:?}");
    let ndim = grid.ndim();
    let elements = grid
        .chunks()
        .iter()
        .try_fold(1usize, |n, &c| n.checked_mul(c));
    if grid.shape().contains(&0) || elements.is_none_or(|n| n > MAX_CHUNK_ELEMENTS) {
        return;
    }
    if let Some(chunk) = chunk {
        for key in chunk_keys(ndim) {
            let file = dir.join(key);
            if let Some(parent) = file.parent() {
                let _ = std::fs::create_dir_all(parent);
            }
            let _ = std::fs::write(file, chunk);
        }
    }
    let first = vec![0; ndim];
    if let Ok(read) = array.read_chunk(&first) {
        assert_eq!(read.shape(), grid.block_shape(&first), "{array:?}");
        assert_eq!(read.dtype(), array.meta().dtype, "{array:?}");
    }
});

/// The first chunk's key in every encoding: format 3's default (`c/0/0`) and `.`
/// separated (`c.0.0`), format 2's default (`0.0`) and `/` separated (`0/0`).
fn chunk_keys(ndim: usize) -> Vec<String> {
    if ndim == 0 {
        return vec!["c".to_string(), "0".to_string()];
    }
    let zeros = vec!["0"; ndim];
    vec![
        format!("c/{}", zeros.join("/")),
        format!("c.{}", zeros.join(".")),
        zeros.join("."),
        zeros.join("/"),
    ]
}

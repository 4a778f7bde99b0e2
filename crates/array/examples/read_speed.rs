//! How fast the store reads: builds two float64 arrays of `GIB` GiB (default 4) under
//! DIR, one uncompressed and one zstd (our default codecs), then reads each whole array
//! on one thread, summing it, and prints GB/s. Run it twice to read from the page
//! cache; compare with `cat DIR/raw.zarr/c/*/* > /dev/null`.
//!
//! ```sh
//! cargo run --release -p taskloom-array --example read_speed -- DIR [GIB]
//! ```

use std::path::Path;
use std::time::Instant;

use ndarray::{ArrayD, IxDyn};
use taskloom_array::store::{self, ArrayMeta, StoredArray};
use taskloom_array::Grid;
use taskloom_graph::{Chunk, DType};

const CHUNK: usize = 1024;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let dir = args.next().ok_or("usage: read_speed DIR [GIB]")?;
    let gib: usize = args.next().map_or(Ok(4), |g| g.parse())?;
    let dir = Path::new(&dir);
    std::fs::create_dir_all(dir)?;
    // GIB GiB of float64: 4096 rows of 32768 per GiB, in 1024 x 1024 chunks of 8 MiB.
    let grid = Grid::new(&[gib * 4096, 32768], &[CHUNK, CHUNK])?;
    for (name, compressed) in [("raw.zarr", false), ("zstd.zarr", true)] {
        let path = dir.join(name);
        if !path.exists() {
            let start = Instant::now();
            build(&path, &grid, compressed)?;
            println!("{name}: written in {:.1} s", start.elapsed().as_secs_f64());
        }
        let array = store::open(&path)?;
        let gb = (grid.len() * 8) as f64 / 1e9;
        for _ in 0..3 {
            let start = Instant::now();
            let (sum, reading) = read_and_sum(&array)?;
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{name}: {gb:.2} GB: read {:.2} GB/s; read and summed {:.2} GB/s ({secs:.2} s, sum {sum:.6e})",
                gb / reading,
                gb / secs
            );
        }
    }
    Ok(())
}

/// The sum of every element, and the seconds spent in `read_chunk`.
fn read_and_sum(array: &StoredArray) -> Result<(f64, f64), store::StoreError> {
    let (mut total, mut reading) = (0.0, 0.0);
    for index in array.meta().grid.block_indices() {
        let start = Instant::now();
        let chunk = array.read_chunk(&index)?;
        reading += start.elapsed().as_secs_f64();
        if let Chunk::F64(a) = chunk {
            total += a.sum();
        }
    }
    Ok((total, reading))
}

/// Uniform [0, 1) doubles from a xorshift: as incompressible as `--random` arrays.
fn random_chunk(seed: u64, shape: &[usize]) -> Chunk {
    let mut state = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    Chunk::F64(ArrayD::from_shape_fn(IxDyn(shape), |_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 11) as f64 / (1u64 << 53) as f64
    }))
}

fn build(path: &Path, grid: &Grid, compressed: bool) -> Result<(), Box<dyn std::error::Error>> {
    let meta = ArrayMeta {
        grid: grid.clone(),
        dtype: DType::Float64,
        zarr_format: 3,
    };
    let pending = store::create(path, &meta, false)?;
    if !compressed {
        // Our writer always compresses; a plain array is the same metadata with the
        // `bytes` codec alone (what zarr-python writes for `compressors=None`).
        let meta_file = pending.temp_path().join("zarr.json");
        let text = std::fs::read_to_string(&meta_file)?;
        let plain = serde_json::json!([{"name": "bytes", "configuration": {"endian": "little"}}]);
        let mut json: serde_json::Value = serde_json::from_str(&text)?;
        json["codecs"] = plain;
        std::fs::write(&meta_file, serde_json::to_string_pretty(&json)?)?;
    }
    let blocks: Vec<Vec<usize>> = grid.block_indices().collect();
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|s| {
        for part in blocks.chunks(blocks.len().div_ceil(workers)) {
            let pending = &pending;
            s.spawn(move || {
                for index in part {
                    let chunk = random_chunk(grid.linear(index) as u64, &grid.block_shape(index));
                    if compressed {
                        pending.write_chunk(index, &chunk).expect("write chunk");
                    } else if let Chunk::F64(a) = &chunk {
                        let file = pending
                            .temp_path()
                            .join(format!("c/{}/{}", index[0], index[1]));
                        std::fs::create_dir_all(file.parent().expect("chunk files are in c/"))
                            .expect("create chunk directory");
                        let bytes: Vec<u8> = a.iter().flat_map(|x| x.to_le_bytes()).collect();
                        std::fs::write(file, bytes).expect("write chunk");
                    }
                }
            });
        }
    });
    pending.commit()?;
    Ok(())
}

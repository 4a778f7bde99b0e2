//! `--random` with `--dtype float32` stays in [0, 1): float64 draws within 2^-25 of 1
//! round to 1.0 in float32, so this finds, with the library's own generator, a seed
//! whose float64 numbers include such a draw, and creates that array with the command.

use crate::harness::array::Reference;
use crate::harness::Dir;
use taskloom::array::{Array, Engine, Reduction};
use taskloom::graph::Chunk;

/// One chunk of this many elements per array: about one seed in 500 draws a number
/// that float32 rounds up to 1.0.
const N: usize = 1 << 16;

/// The first seed whose float64 draws of shape (N,) include one that rounds to 1.0f32.
fn seed_rounding_up_in_float32() -> Option<u64> {
    let engine = Engine::new();
    (0..20_000u64).find(|&seed| {
        let max = Array::random(&[N], &[N], seed)
            .and_then(|a| a.reduce(Reduction::Max, None))
            .and_then(|m| engine.compute(&m))
            .expect("a random maximum");
        matches!(max, Chunk::F64(m) if m.iter().all(|&v| v as f32 >= 1.0))
    })
}

#[test]
fn float32_random_numbers_stay_below_one() {
    let seed = seed_rounding_up_in_float32().expect("a seed whose draws reach 1 - 2^-25");
    let ws = Dir::new();
    let (shape, seed) = (N.to_string(), seed.to_string());
    ws.create_array(
        "a.zarr",
        &shape,
        &shape,
        "float32",
        &["--random", "--seed", &seed],
    );
    let mut reference = Reference::new(&ws);
    reference.unit_random(&format!("float32, seed {seed}"), "a.zarr");
    reference.verify();
    let max = ws.array_print(&["reduce", "a.zarr", "--op", "max"]);
    assert!(max.trim().parse::<f64>().unwrap() < 1.0, "max {max}");
}

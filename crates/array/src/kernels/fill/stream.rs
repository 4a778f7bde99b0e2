//! Uniform random floats fast: eight xoshiro256++ generators stepped side by side.
//! Element `i` of a buffer is output `i / 8` of lane `i % 8` whatever the CPU, so a
//! block's numbers never depend on where it was computed. With AVX-512 the eight lanes
//! are one vector register per state word (about 0.4 ns per element); elsewhere two
//! lanes at a time fill a cache-sized tile (register pressure makes all eight at once
//! slower than one). Floats are made with bit operations, not integer-to-float
//! conversion, so the whole loop vectorizes.

use std::mem::MaybeUninit;

use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// How many generators step together.
const LANES: usize = 8;

/// Blocks of `LANES` elements per tile of the portable path: 32 KiB, within L1.
const TILE_BLOCKS: usize = 512;

/// The xoshiro256++ states, one per lane, stored word-major.
pub(super) struct Stream {
    s: [[u64; LANES]; 4],
}

impl Stream {
    /// The stream of `key`: lane 0 is `Xoshiro256PlusPlus::seed_from_u64(key)`, and
    /// each next lane starts 2^128 steps further on (`jump`), so lanes never overlap.
    pub(super) fn new(key: u64) -> Stream {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(key);
        let mut lanes = [[0u64; 4]; LANES];
        for words in lanes.iter_mut() {
            for (word, bytes) in words.iter_mut().zip(rng.state().chunks_exact(8)) {
                let mut le = [0u8; 8];
                le.copy_from_slice(bytes);
                *word = u64::from_le_bytes(le);
            }
            rng.jump();
        }
        let s = std::array::from_fn(|w| std::array::from_fn(|lane| lanes[lane][w]));
        Stream { s }
    }

    /// Fills `out` with floats uniform in [0, 1). It takes memory not yet written, so
    /// a chunk-sized buffer is written once, not zeroed first.
    pub(super) fn fill_unit(&mut self, out: &mut [MaybeUninit<f64>]) {
        #[cfg(target_arch = "x86_64")]
        if is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512vl") {
            // SAFETY: the CPU supports the features `fill_avx512` is compiled for.
            unsafe { fill_avx512(self, out) };
            return;
        }
        self.fill_portable(out);
    }

    /// All lanes at once: what vectorizes when a vector register holds eight u64s.
    #[inline(always)]
    fn fill_wide(&mut self, out: &mut [MaybeUninit<f64>]) {
        for block in out.chunks_mut(LANES) {
            let [s0, s1, s2, s3] = &mut self.s;
            let mut r = [0u64; LANES];
            for j in 0..LANES {
                r[j] = step(&mut s0[j], &mut s1[j], &mut s2[j], &mut s3[j]);
            }
            for (x, &bits) in block.iter_mut().zip(&r) {
                x.write(unit(bits));
            }
        }
    }

    /// Two lanes at a time over a tile, so their states stay in registers without
    /// vector units: the same numbers as `fill_wide`.
    fn fill_portable(&mut self, out: &mut [MaybeUninit<f64>]) {
        for tile in out.chunks_mut(TILE_BLOCKS * LANES) {
            for a in (0..LANES).step_by(2) {
                let b = a + 1;
                let [s0, s1, s2, s3] = &mut self.s;
                let (mut x0, mut x1, mut x2, mut x3) = (s0[a], s1[a], s2[a], s3[a]);
                let (mut y0, mut y1, mut y2, mut y3) = (s0[b], s1[b], s2[b], s3[b]);
                for block in tile.chunks_mut(LANES) {
                    let p = step(&mut x0, &mut x1, &mut x2, &mut x3);
                    let q = step(&mut y0, &mut y1, &mut y2, &mut y3);
                    if let Some(x) = block.get_mut(a) {
                        x.write(unit(p));
                    }
                    if let Some(x) = block.get_mut(b) {
                        x.write(unit(q));
                    }
                }
                (s0[a], s1[a], s2[a], s3[a]) = (x0, x1, x2, x3);
                (s0[b], s1[b], s2[b], s3[b]) = (y0, y1, y2, y3);
            }
        }
    }
}

/// `fill_wide` compiled for AVX-512, whose 64-bit rotates make xoshiro cheap in vectors.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f,avx512vl")]
fn fill_avx512(stream: &mut Stream, out: &mut [MaybeUninit<f64>]) {
    stream.fill_wide(out);
}

/// One xoshiro256++ step of one lane (as rand_xoshiro computes it): its output.
#[inline(always)]
fn step(s0: &mut u64, s1: &mut u64, s2: &mut u64, s3: &mut u64) -> u64 {
    let out = s0.wrapping_add(*s3).rotate_left(23).wrapping_add(*s0);
    let t = *s1 << 17;
    *s2 ^= *s0;
    *s3 ^= *s1;
    *s1 ^= *s2;
    *s0 ^= *s3;
    *s2 ^= t;
    *s3 = s3.rotate_left(45);
    out
}

/// The top 53 bits of `x` as a float in [0, 1): exactly `(x >> 11) as f64 * 2^-53`,
/// computed with bit operations and float adds only, which vectorize where the
/// integer-to-float conversion does not.
#[inline(always)]
fn unit(x: u64) -> f64 {
    const TWO_52_BITS: u64 = 0x4330_0000_0000_0000; // the float 2^52
    const TWO_52: f64 = 4_503_599_627_370_496.0;
    let v = x >> 11;
    // The low 52 bits, exactly: 2^52 + low has them as its mantissa.
    let low = f64::from_bits(TWO_52_BITS | (v & ((1 << 52) - 1))) - TWO_52;
    // Bit 52 contributes 2^52 or nothing.
    let high = f64::from_bits((v >> 52).wrapping_neg() & TWO_52_BITS);
    (low + high) * (1.0 / (1u64 << 53) as f64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_xoshiro::rand_core::Rng;

    /// Element `i` is output `i / LANES` of lane `i % LANES`, lane `k` being the seed's
    /// generator jumped `k` times.
    fn reference(key: u64, n: usize) -> Vec<f64> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(key);
        let mut lanes = Vec::new();
        for _ in 0..LANES {
            lanes.push(rng.clone());
            rng.jump();
        }
        (0..n).map(|i| unit(lanes[i % LANES].next_u64())).collect()
    }

    #[test]
    fn every_path_gives_the_interleaved_jumped_xoshiro256plusplus_streams() {
        let n = TILE_BLOCKS * LANES * 2 + 13;
        let want = reference(99, n);
        let fill = |f: fn(&mut Stream, &mut [MaybeUninit<f64>])| {
            let mut out = vec![MaybeUninit::new(f64::NAN); n];
            f(&mut Stream::new(99), &mut out);
            // SAFETY: every element was initialised (to NaN) before the fill.
            out.into_iter()
                .map(|x| unsafe { x.assume_init() })
                .collect::<Vec<f64>>()
        };
        assert_eq!(fill(Stream::fill_unit), want, "dispatched");
        assert_eq!(fill(Stream::fill_portable), want, "portable");
        assert_eq!(fill(Stream::fill_wide), want, "wide");
    }

    #[test]
    fn unit_is_the_top_53_bits_scaled() {
        let scale = 1.0 / (1u64 << 53) as f64;
        let cases = [
            0,
            1 << 11,
            u64::MAX,
            1 << 63,
            (1 << 63) | 12345 << 11,
            0x0123_4567_89ab_cdef,
        ];
        for x in cases {
            assert_eq!(unit(x), (x >> 11) as f64 * scale, "{x:#x}");
        }
        assert!(unit(u64::MAX) < 1.0);
    }
}

//! Uniform random floats fast: two xoshiro256++ generators stepped side by side, so
//! their dependency chains overlap (one generator alone is latency bound), and floats
//! made with bit operations rather than integer-to-float conversion.

use rand_xoshiro::rand_core::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;

/// How many generators step together; element `i` of a buffer comes from lane `i % 2`
/// (more lanes spill registers on x86-64 and run slower).
const LANES: usize = 2;

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

    /// The next output of every lane (xoshiro256++, as rand_xoshiro computes it).
    #[inline(always)]
    fn next(&mut self) -> [u64; LANES] {
        let [s0, s1, s2, s3] = &mut self.s;
        let mut out = [0u64; LANES];
        for j in 0..LANES {
            out[j] = s0[j]
                .wrapping_add(s3[j])
                .rotate_left(23)
                .wrapping_add(s0[j]);
            let t = s1[j] << 17;
            s2[j] ^= s0[j];
            s3[j] ^= s1[j];
            s1[j] ^= s2[j];
            s0[j] ^= s3[j];
            s2[j] ^= t;
            s3[j] = s3[j].rotate_left(45);
        }
        out
    }

    /// Fills `out` with floats uniform in [0, 1).
    pub(super) fn fill_unit(&mut self, out: &mut [f64]) {
        let mut blocks = out.chunks_exact_mut(LANES);
        for block in &mut blocks {
            let r = self.next();
            for j in 0..LANES {
                block[j] = unit(r[j]);
            }
        }
        let rest = blocks.into_remainder();
        if !rest.is_empty() {
            let r = self.next();
            for (x, &bits) in rest.iter_mut().zip(&r) {
                *x = unit(bits);
            }
        }
    }
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

    #[test]
    fn lanes_are_jumped_xoshiro256plusplus_streams() {
        let mut stream = Stream::new(99);
        let mut lanes: Vec<Xoshiro256PlusPlus> = Vec::new();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(99);
        for _ in 0..LANES {
            lanes.push(rng.clone());
            rng.jump();
        }
        for _ in 0..100 {
            let got = stream.next();
            for (lane, g) in lanes.iter_mut().zip(got) {
                assert_eq!(g, lane.next_u64());
            }
        }
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

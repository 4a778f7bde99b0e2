//! Sorting the order-preserving integer keys of a sort (`Sortable::key`) with a radix
//! sort: a few sequential passes over the keys instead of `n log n` unpredictable
//! comparisons, which is what brings an in-memory sort to NumPy's SIMD sort's speed.
//!
//! - Digits are bytes: a pass scatters into 256 streams, few enough that their write
//!   positions stay in L1.
//! - Only digits where keys differ are sorted on: one cheap read ORs every key's
//!   difference from the first, and a byte with no bit set there is the same in every
//!   key (the high bytes of floats of one magnitude, the bytes above an int's range).
//! - Keys that fit in L2 (`CACHE_BYTES`) sort least significant digit first, a pass per
//!   digit, each from cache. More keys are first split on their most significant
//!   differing digit (one pass through memory), and each part sorted the same way: a
//!   pass through memory per digit would wait on cache misses at every write.
//! - Few keys sort by comparison, where a pass's fixed costs would dominate.

/// Below this many keys a comparison sort is faster than counting 256 digits a pass.
const SMALL: usize = 256;

/// Bits per digit.
const DIGIT_BITS: u32 = 8;

/// Digit values: one counter and one write position each per pass.
const RADIX: usize = 1 << DIGIT_BITS;

/// Bytes of keys sorted digit by digit in place: they and their spare copy take half
/// of a 512 KiB L2 cache, leaving the rest to the counters and the other task's data.
const CACHE_BYTES: usize = 128 << 10;

/// A key: an unsigned integer whose order is the sort's.
pub(super) trait Key: Copy + Ord + Default + Into<u64> {}

impl<K: Copy + Ord + Default + Into<u64>> Key for K {}

/// `keys` in ascending order.
pub(super) fn sort<K: Key>(mut keys: Vec<K>) -> Vec<K> {
    let mut spare = vec![K::default(); keys.len()];
    if sort_in(&mut keys, &mut spare) {
        spare
    } else {
        keys
    }
}

/// Digit `d` (0 the least significant) of `key`.
fn digit<K: Key>(key: K, d: u32) -> usize {
    ((key.into() >> (d * DIGIT_BITS)) as usize) & (RADIX - 1)
}

/// Sorts `keys`, with `spare` (as long) as room; true when the sorted keys ended in
/// `spare`.
fn sort_in<K: Key>(keys: &mut [K], spare: &mut [K]) -> bool {
    let n = keys.len();
    if n < SMALL {
        keys.sort_unstable();
        return false;
    }
    let first: u64 = keys[0].into();
    let differ = keys.iter().fold(0, |bits, &k| bits | (k.into() ^ first));
    if differ == 0 {
        return false;
    }
    let top = (u64::BITS - 1 - differ.leading_zeros()) / DIGIT_BITS;
    if size_of_val(keys) > CACHE_BYTES {
        // Split on the top digit, then sort each part, which fits sooner or later.
        let [counts] = histograms(keys, [top]);
        scatter(keys, spare, top, &counts);
        let mut start = 0;
        for count in counts {
            let part = start..start + count;
            if sort_in(&mut spare[part.clone()], &mut keys[part.clone()]) {
                spare[part.clone()].copy_from_slice(&keys[part]);
            }
            start += count;
        }
        return true;
    }
    let digits: Vec<u32> = (0..=top)
        .filter(|d| (differ >> (d * DIGIT_BITS)) as usize & (RADIX - 1) != 0)
        .collect();
    let counts = histograms_of(keys, &digits);
    let (mut from, mut to) = (keys, spare);
    let mut in_spare = false;
    for (&d, counts) in digits.iter().zip(&counts) {
        if counts.contains(&n) {
            continue;
        }
        scatter(from, to, d, counts);
        std::mem::swap(&mut from, &mut to);
        in_spare = !in_spare;
    }
    in_spare
}

/// How many keys have each value of digit `d`, for each of `digits`.
fn histograms<K: Key, const N: usize>(keys: &[K], digits: [u32; N]) -> [[usize; RADIX]; N] {
    let mut counts = [[0usize; RADIX]; N];
    for &key in keys {
        for (count, &d) in counts.iter_mut().zip(&digits) {
            count[digit(key, d)] += 1;
        }
    }
    counts
}

/// `histograms` for a number of digits known at run time.
fn histograms_of<K: Key>(keys: &[K], digits: &[u32]) -> Vec<[usize; RADIX]> {
    let mut counts = vec![[0usize; RADIX]; digits.len()];
    for &key in keys {
        for (count, &d) in counts.iter_mut().zip(digits) {
            count[digit(key, d)] += 1;
        }
    }
    counts
}

/// Copies `from` into `to` ordered by digit `d`, stably; `counts` are the digit's.
fn scatter<K: Key>(from: &[K], to: &mut [K], d: u32, counts: &[usize; RADIX]) {
    let mut at = [0usize; RADIX];
    let mut sum = 0;
    for (at, &c) in at.iter_mut().zip(counts) {
        *at = sum;
        sum += c;
    }
    for &key in from {
        let slot = &mut at[digit(key, d)];
        to[*slot] = key;
        *slot += 1;
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        #[test]
        fn sorts_as_a_comparison_sort(
            keys in prop::collection::vec(any::<u64>(), 0..2000),
            narrow in any::<bool>(),
        ) {
            // Narrow keys share their high bytes: the passes over them are skipped.
            let keys: Vec<u64> = if narrow { keys.iter().map(|k| k % 1000).collect() } else { keys };
            // Enough of them to be split before they are sorted digit by digit.
            let keys: Vec<u64> = keys.iter().cycle().take(keys.len() * 20).copied().collect();
            let mut want = keys.clone();
            want.sort_unstable();
            prop_assert_eq!(sort(keys.clone()), want.clone());
            let small: Vec<u32> = keys.iter().map(|&k| k as u32).collect();
            let mut want: Vec<u32> = small.clone();
            want.sort_unstable();
            prop_assert_eq!(sort(small), want);
            let bytes: Vec<u8> = keys.iter().map(|&k| k as u8).collect();
            let mut want: Vec<u8> = bytes.clone();
            want.sort_unstable();
            prop_assert_eq!(sort(bytes), want);
        }
    }
}

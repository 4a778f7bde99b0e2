//! Sorting the order-preserving integer keys of a sort (`Sortable::key`) with a radix
//! sort: a few sequential passes over the keys instead of `n log n` unpredictable
//! comparisons, which is what brings an in-memory sort to NumPy's SIMD sort's speed.
//!
//! - Only bits where keys differ are sorted on: one cheap read ORs every key's
//!   difference from the first, and a bit clear there is the same in every key (the
//!   high bits of floats of one magnitude, the bits above an int's range).
//! - Keys that fit in L2 (`CACHE_BYTES`) sort least significant digit first, a pass per
//!   11-bit digit (`PASS_BITS`), each from cache. More keys are first split on their 8
//!   highest differing bits (`SPLIT_BITS`, one pass through memory), and each part
//!   sorted the same way: a pass through memory per digit would wait on cache misses
//!   at every write.
//! - Few keys sort by comparison, where a pass's fixed costs would dominate.

/// Below this many keys a comparison sort is faster than counting digits a pass.
const SMALL: usize = 256;

/// Bits of the digit keys too many for the cache are split on: 256 write streams,
/// whose write positions stay in L1 while the writes go to memory.
const SPLIT_BITS: u32 = 8;

/// Bits of a digit sorted on in cache: 2048 write streams, within L2 as the keys are;
/// a 52-bit mantissa takes 5 passes instead of the 7 of byte digits.
const PASS_BITS: u32 = 11;

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

/// The `R`-valued digit of `key` at bit `shift`.
fn digit<K: Key, const R: usize>(key: K, shift: u32) -> usize {
    ((key.into() >> shift) as usize) & (R - 1)
}

/// Sorts `keys`, with `spare` (as long) as room; true when the sorted keys ended in
/// `spare`.
fn sort_in<K: Key>(keys: &mut [K], spare: &mut [K]) -> bool {
    const SPLIT: usize = 1 << SPLIT_BITS;
    const PASS: usize = 1 << PASS_BITS;
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
    let high = u64::BITS - differ.leading_zeros();
    if size_of_val(keys) > CACHE_BYTES {
        // Split on the highest differing bits, then sort each part, which fits sooner
        // or later.
        let shift = high.saturating_sub(SPLIT_BITS);
        let counts = histogram::<K, SPLIT>(keys, shift);
        scatter(keys, spare, shift, &counts);
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
    let (mut from, mut to) = (keys, spare);
    let mut in_spare = false;
    for shift in (0..high).step_by(PASS_BITS as usize) {
        if (differ >> shift) as usize & (PASS - 1) == 0 {
            continue;
        }
        let counts = histogram::<K, PASS>(from, shift);
        scatter(from, to, shift, &counts);
        std::mem::swap(&mut from, &mut to);
        in_spare = !in_spare;
    }
    in_spare
}

/// How many keys have each value of the digit at bit `shift`.
fn histogram<K: Key, const R: usize>(keys: &[K], shift: u32) -> [usize; R] {
    let mut counts = [0usize; R];
    for &key in keys {
        counts[digit::<K, R>(key, shift)] += 1;
    }
    counts
}

/// Copies `from` into `to` ordered by the digit at bit `shift`, stably; `counts` are
/// that digit's.
fn scatter<K: Key, const R: usize>(from: &[K], to: &mut [K], shift: u32, counts: &[usize; R]) {
    let mut at = [0usize; R];
    let mut sum = 0;
    for (at, &c) in at.iter_mut().zip(counts) {
        *at = sum;
        sum += c;
    }
    for &key in from {
        let slot = &mut at[digit::<K, R>(key, shift)];
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

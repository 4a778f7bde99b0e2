//! Sorting a 1-D array that fits in memory: the sample sort's steps as tasks whose
//! intermediates are values, so each step runs on every worker at once and nothing
//! touches the disk.
//!
//! The steps, in graph order: `array.memory_splitters` picks bucket bounds from a
//! sample of every block; `array.memory_partition` groups each block's values by
//! bucket; `array.memory_gather` sorts one bucket's values from every block;
//! `array.memory_read` takes any range of sorted positions out of the buckets laid end
//! to end.
//!
//! - Keys are taken in the requested direction throughout (`Sortable::key`), so the
//!   buckets are in output order and NaN, whose keys are above every number's either
//!   way, falls into the last ones: no step treats NaN apart.
//! - The sample is stratified (one value at a random place in each of equal slices of
//!   a block), not the exact order statistics the out-of-core sort selects: bounds only
//!   balance the buckets, a sample costs next to nothing, and the random place keeps
//!   periodic data from fooling it.
//! - A value's bucket is a lookup in a table over the bounds' key range (`Buckets`), not
//!   a binary search over the bounds: one load instead of a chain of mispredicted
//!   branches per value.
//! - Buckets sort with the radix sort (`radix`), each in one task; the lowering picks
//!   enough buckets that a bucket and its spare copy stay in the caches.

use std::borrow::Cow;

use ndarray::{Array1, ArrayView1};
use taskloom_graph::{Chunk, OpError, OpResult, Value};

use super::{evenly_spaced, radix, same_dtype, view1, Sortable, Vector};
use crate::kernels::args::{self, Element};
use crate::kernels::elementwise::element::with_dtype;
use crate::wire::{array_op, wrong, Decode};

/// Samples per bucket: the buckets' sizes vary by about one over its square root.
const OVERSAMPLING: usize = 64;

/// Bits of a bucket table's index: 4096 cells, 8 KiB of `u16`, within L1 beside the
/// write streams; fine enough that a bucket of a 1 GiB sort spans a few cells.
const CELL_BITS: u32 = 12;

array_op! {
    /// `array.memory_splitters(buckets, descending, x...)`: `buckets - 1` values whose
    /// keys, ascending, split a sample of all the blocks `x` into equal parts.
    pub(crate) struct Splitters<C = Vector> = "array.memory_splitters" {
        buckets: usize,
        descending: bool;
        rest blocks: C, at least 1
    }
    fn run(self) -> OpResult {
        splitters(self.buckets, self.descending, &self.blocks).map(args::value)
    }
}

array_op! {
    /// `array.memory_partition(x, splitters, descending)`: `[values, counts]`: the
    /// values of `x` grouped by bucket (bucket 0 first), and how many each bucket got.
    pub(crate) struct Partition<C = Vector> = "array.memory_partition" {
        x: C,
        splitters: C,
        descending: bool,
    }
    fn run(self) -> OpResult {
        partition(&self.x, &self.splitters, self.descending)
    }
}

array_op! {
    /// `array.memory_gather(bucket, descending, parts...)`: bucket `bucket`'s values
    /// from every partitioned block, sorted.
    pub(crate) struct Gather<P = Pieces> = "array.memory_gather" {
        bucket: usize,
        descending: bool;
        rest parts: P, at least 1
    }
    fn run(self) -> OpResult {
        gather(self.bucket, self.descending, &self.parts).map(args::value)
    }
}

array_op! {
    /// `array.memory_read(start, len, buckets...)`: positions `[start, start + len)`
    /// of the sorted buckets laid end to end.
    pub(crate) struct Read<C = Vector> = "array.memory_read" {
        start: usize,
        len: usize;
        rest buckets: C, at least 1
    }
    fn run(self) -> OpResult {
        read(self.start, self.len, &self.buckets).map(args::value)
    }
}

/// A partitioned block: its values grouped by bucket, and the count in each bucket.
pub(crate) struct Pieces {
    values: Vector,
    counts: Vec<usize>,
}

impl Decode for Pieces {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        let want = "a partitioned block ([values, counts])";
        let Value::List(items) = v else {
            return Err(wrong(i, want, v));
        };
        let [values, counts] = &items[..] else {
            return Err(wrong(i, want, v));
        };
        let values = Vector::decode(values, i)?;
        let counts = Vec::<usize>::decode(counts, i)?;
        if counts.iter().sum::<usize>() != values.len() {
            return Err(OpError::new(format!(
                "argument {}: bucket counts add up to {}, but the block holds {} values",
                i + 1,
                counts.iter().sum::<usize>(),
                values.len()
            )));
        }
        Ok(Pieces { values, counts })
    }
}

/// Which bucket a key falls in: the bounds' key range cut into up to 2^`CELL_BITS`
/// equal cells, each mapped to the bucket of its first key, and one more cell for keys
/// above the range (the last bucket); keys below it take the first cell. Monotone in
/// the key, as buckets must be; a cell holding a bound sends all its keys to one side
/// of it, which only makes that bucket a little larger.
struct Buckets {
    low: u64,
    high: u64,
    shift: u32,
    table: Vec<u16>,
}

impl Buckets {
    /// The buckets split by `bounds` (ascending keys, fewer than 65536).
    fn new(bounds: &[u64]) -> Buckets {
        let (low, high) = match bounds {
            [] => (0, 0),
            [first, .., last] => (*first, *last),
            [one] => (*one, *one),
        };
        let bits = u64::BITS - (high - low).leading_zeros();
        let shift = bits.saturating_sub(CELL_BITS);
        let cells = ((high - low) >> shift) + 1;
        let table = (0..cells)
            .map(|cell| bounds.partition_point(|&b| b < low + (cell << shift)))
            .chain([bounds.len()])
            .map(|bucket| bucket as u16)
            .collect();
        Buckets {
            low,
            high,
            shift,
            table,
        }
    }

    fn of(&self, key: u64) -> usize {
        let cell = if key > self.high {
            self.table.len() - 1
        } else {
            ((key.max(self.low) - self.low) >> self.shift) as usize
        };
        usize::from(self.table[cell])
    }
}

/// A well-mixed 64-bit function of `x` (SplitMix64's finalizer): where in its slice a
/// sample is taken.
fn mix(x: u64) -> u64 {
    let x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

fn splitters(buckets: usize, descending: bool, blocks: &[Vector]) -> Result<Chunk, OpError> {
    if !(1..=1 << 16).contains(&buckets) {
        return Err(OpError::new(format!(
            "argument 1 (buckets) must be from 1 to 65536, got {buckets}"
        )));
    }
    same_dtype(
        "the blocks of a sort",
        &blocks.iter().map(|b| &**b).collect::<Vec<_>>(),
    )?;
    Ok(
        with_dtype!(blocks[0].dtype(), T => T::chunk(choose::<T>(buckets, descending, blocks).into_dyn())),
    )
}

/// The splitters of `buckets` buckets (none when every block is empty), from about
/// `OVERSAMPLING` samples per bucket spread over the blocks.
fn choose<T: Sortable>(buckets: usize, descending: bool, blocks: &[Vector]) -> Array1<T> {
    let per_block = (buckets * OVERSAMPLING).div_ceil(blocks.len());
    let mut keys: Vec<T::Key> = Vec::new();
    for (b, block) in blocks.iter().enumerate() {
        let values = view1::<T>(block);
        let (len, n) = (values.len(), per_block.min(values.len()));
        for i in 0..n {
            let (from, to) = (i * len / n, (i + 1) * len / n);
            let at = from + (mix(((b as u64) << 32) | i as u64) % (to - from) as u64) as usize;
            keys.push(values[at].key(descending));
        }
    }
    keys.sort_unstable();
    if keys.is_empty() {
        return Array1::from(Vec::new());
    }
    evenly_spaced::<T>(&keys, buckets, descending)
}

fn partition(x: &Chunk, splitters: &Chunk, descending: bool) -> OpResult {
    same_dtype("a block and its splitters", &[x, splitters])?;
    let (values, counts) = with_dtype!(x.dtype(), T => {
        let (values, counts) = group(view1::<T>(x), view1::<T>(splitters), descending);
        (T::chunk(Array1::from(values).into_dyn()), counts)
    });
    Ok(Value::list([
        args::value(values),
        Value::list(counts.into_iter().map(|c| Value::Int(c as i64))),
    ]))
}

/// `x`'s values grouped by bucket, and the count of each of the `splitters.len() + 1`
/// buckets.
fn group<T: Sortable>(
    x: ArrayView1<'_, T>,
    splitters: ArrayView1<'_, T>,
    descending: bool,
) -> (Vec<T>, Vec<usize>) {
    let mut bounds: Vec<u64> = splitters.iter().map(|s| s.key(descending).into()).collect();
    bounds.sort_unstable();
    let buckets = Buckets::new(&bounds);
    let x = contiguous(x);
    // Each value's bucket is looked up twice, to count and to place it: cheaper than
    // writing and reading back a bucket number per value.
    let bucket = |v: &T| buckets.of(v.key(descending).into());
    let mut counts = vec![0usize; bounds.len() + 1];
    for v in x.iter() {
        counts[bucket(v)] += 1;
    }
    let mut at = Vec::with_capacity(counts.len());
    let mut sum = 0;
    for &c in &counts {
        at.push(sum);
        sum += c;
    }
    let mut grouped = vec![T::default(); x.len()];
    for v in x.iter() {
        let slot = &mut at[bucket(v)];
        grouped[*slot] = *v;
        *slot += 1;
    }
    (grouped, counts)
}

/// The values of `x` as a slice: borrowed, unless a slice with a negative step left
/// them in reverse.
fn contiguous<T: Element>(x: ArrayView1<'_, T>) -> Cow<'_, [T]> {
    match x.to_slice() {
        Some(values) => Cow::Borrowed(values),
        None => Cow::Owned(x.iter().copied().collect()),
    }
}

fn gather(bucket: usize, descending: bool, parts: &[Pieces]) -> Result<Chunk, OpError> {
    same_dtype(
        "the parts of a bucket",
        &parts.iter().map(|p| &*p.values).collect::<Vec<_>>(),
    )?;
    if let Some(short) = parts.iter().find(|p| p.counts.len() <= bucket) {
        return Err(OpError::new(format!(
            "cannot gather bucket {bucket} from a block split into {} buckets",
            short.counts.len()
        )));
    }
    Ok(
        with_dtype!(parts[0].values.dtype(), T => T::chunk(sort_bucket::<T>(bucket, descending, parts).into_dyn())),
    )
}

/// Bucket `bucket`'s pieces of every part, sorted.
fn sort_bucket<T: Sortable>(bucket: usize, descending: bool, parts: &[Pieces]) -> Array1<T> {
    let total = parts.iter().map(|p| p.counts[bucket]).sum();
    let mut keys: Vec<T::Key> = Vec::with_capacity(total);
    for part in parts {
        let start: usize = part.counts[..bucket].iter().sum();
        let values = contiguous(view1::<T>(&part.values));
        let piece = &values[start..start + part.counts[bucket]];
        keys.extend(piece.iter().map(|v| v.key(descending)));
    }
    T::from_keys(radix::sort(keys), descending).into()
}

fn read(start: usize, len: usize, buckets: &[Vector]) -> Result<Chunk, OpError> {
    same_dtype(
        "the buckets of a sort",
        &buckets.iter().map(|b| &**b).collect::<Vec<_>>(),
    )?;
    let total: usize = buckets.iter().map(|b| b.len()).sum();
    if start.checked_add(len).is_none_or(|end| end > total) {
        return Err(OpError::new(format!(
            "positions {start}..{} are past the end of {total} sorted values",
            start.saturating_add(len)
        )));
    }
    Ok(with_dtype!(buckets[0].dtype(), T => {
        let mut out: Vec<T> = Vec::with_capacity(len);
        let mut at = 0;
        for bucket in buckets {
            let values = contiguous(view1::<T>(bucket));
            let (lo, hi) = (start.max(at), (start + len).min(at + values.len()));
            if lo < hi {
                out.extend_from_slice(&values[lo - at..hi - at]);
            }
            at += values.len();
        }
        T::chunk(Array1::from(out).into_dyn())
    }))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::wire::ArrayOp;

    fn vector<T: Element>(values: Vec<T>) -> Value {
        args::value(T::chunk(Array1::from(values).into_dyn()))
    }

    #[test]
    fn buckets_are_monotone_and_split_at_the_bounds() {
        let bounds = [10u64, 20, 20, 1 << 40];
        let buckets = Buckets::new(&bounds);
        let mut last = 0;
        for key in (0..100).chain([(1 << 40) - 1, 1 << 40, u64::MAX]) {
            let b = buckets.of(key);
            assert!(b >= last && b <= bounds.len(), "{key}: {b}");
            last = b;
        }
        assert_eq!(buckets.of(0), 0);
        assert_eq!(buckets.of(u64::MAX), 4);
        let exact = Buckets::new(&[10, 20]);
        assert_eq!([5, 10, 11, 20, 21].map(|k| exact.of(k)), [0, 0, 1, 1, 2]);
        assert_eq!(Buckets::new(&[]).of(7), 0);
        assert_eq!(Buckets::new(&[u64::MAX]).of(u64::MAX), 0);
    }

    proptest! {
        #[test]
        fn buckets_follow_key_order(mut bounds in prop::collection::vec(any::<u64>(), 0..50), a in any::<u64>(), b in any::<u64>()) {
            bounds.sort_unstable();
            let buckets = Buckets::new(&bounds);
            let (a, b) = (a.min(b), a.max(b));
            prop_assert!(buckets.of(a) <= buckets.of(b));
            prop_assert!(buckets.of(b) <= bounds.len());
        }
    }

    #[test]
    fn errors_name_what_does_not_fit() {
        let err = |r: OpResult| r.unwrap_err().0;
        let floats = vector(vec![1.0, 2.0]);
        let ints = vector(vec![1i64]);
        let e = err(
            Splitters::decode(&[Value::Int(0), Value::Bool(false), floats.clone()])
                .and_then(Splitters::run),
        );
        assert!(e.contains("buckets"), "{e}");
        let e = err(
            Partition::decode(&[floats.clone(), ints.clone(), Value::Bool(false)])
                .and_then(Partition::run),
        );
        assert!(e.contains("float64") && e.contains("int64"), "{e}");
        let part = Value::list([floats.clone(), Value::list([Value::Int(1), Value::Int(2)])]);
        let e =
            err(Gather::decode(&[Value::Int(0), Value::Bool(false), part]).and_then(Gather::run));
        assert!(e.contains("add up to 3") && e.contains("2 values"), "{e}");
        let part = Value::list([floats.clone(), Value::list([Value::Int(2)])]);
        let e =
            err(Gather::decode(&[Value::Int(1), Value::Bool(false), part]).and_then(Gather::run));
        assert!(e.contains("bucket 1") && e.contains("1 buckets"), "{e}");
        let e = err(Read::decode(&[Value::Int(1), Value::Int(2), floats]).and_then(Read::run));
        assert!(e.contains("past the end of 2"), "{e}");
    }
}

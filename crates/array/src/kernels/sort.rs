//! Sorting a 1-D array larger than memory: a sample sort whose steps are tasks and
//! whose intermediate data lives in files, so no task holds more than about a chunk.
//!
//! The steps, in graph order: `array.samples` takes regularly spaced order statistics
//! of each block; `array.splitters` picks bucket boundaries from all of them;
//! `array.partition` writes each block's values, split by bucket, into one raw file
//! per (block, bucket); `array.gather` sorts one bucket from all its pieces into one
//! file; `array.read_sorted` reads any range of global sorted positions back as a
//! chunk. An array of one chunk skips all this: `array.sort`.
//!
//! Order: numbers ascending (or descending), then every NaN, in both directions
//! (NumPy's `sort` puts NaN last; so do pandas' descending sorts). -0.0 sorts before
//! 0.0. Values are compared as unsigned integer keys whose order is this order, so
//! sorting, selecting and bucketing are plain integer comparisons with NaN in its
//! place. A NaN keeps its payload but not its sign.
//!
//! Files (all raw little-endian values, in the directory `array.scratch` made):
//! `part-{block}-{bucket}` from `partition`; `sorted-{bucket}` (the bucket's numbers,
//! in the requested direction) and, for floats, `sorted-{bucket}.nan` (its NaNs)
//! from `gather`. `read_sorted` lays the buckets' numbers end to end (bucket 0 first
//! when ascending, the last bucket first when descending) followed by all NaNs.
//!
//! An array whose sort fits in memory takes the same steps without files (`memory`);
//! every sort of keys is a radix sort (`radix`).

use std::fs::{self, File};
use std::ops::Deref;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use ndarray::{Array1, ArrayView1, Ix1};
use taskloom_graph::{Chunk, DType, OpError, OpResult, Value};

use super::args::{self, Element};
use super::elementwise::element::with_dtype;
use crate::grid::Dims;
use crate::wire::{array_op, wrong, Decode};

pub(crate) mod memory;
mod radix;

array_op! {
    /// `array.sort(x, descending)`: `x` sorted, for an array of one chunk.
    pub(crate) struct Sort<C = Vector> = "array.sort" {
        x: C,
        descending: bool,
    }
    fn run(self) -> OpResult {
        Ok(args::value(with_dtype!(self.x.dtype(), T => {
            T::chunk(sorted(view1::<T>(&self.x), self.descending).into_dyn())
        })))
    }
}

array_op! {
    /// `array.samples(x, n)`: the `n` values of `x` at evenly spaced sorted positions
    /// (the middles of `n` equal slices), ascending.
    pub(crate) struct Samples<C = Vector> = "array.samples" {
        x: C,
        n: usize,
    }
    fn run(self) -> OpResult {
        samples(&self.x, self.n).map(args::value)
    }
}

array_op! {
    /// `array.splitters(buckets, samples...)`: `buckets - 1` ascending values
    /// splitting all the samples into equal parts, hence the data into about equal
    /// buckets.
    pub(crate) struct Splitters<C = Vector> = "array.splitters" {
        buckets: usize;
        rest samples: C, at least 1
    }
    fn run(self) -> OpResult {
        splitters(self.buckets, &self.samples).map(args::value)
    }
}

array_op! {
    /// `array.partition(x, splitters, dir, block)`: writes `x`'s values, bucket by
    /// bucket, to `part-{block}-{bucket}` files in `dir` (one per bucket, empty ones
    /// too), and returns the count of values in each bucket.
    pub(crate) struct Partition<C = Vector, D = PathBuf> = "array.partition" {
        x: C,
        splitters: C,
        dir: D,
        block: usize,
    }
    fn run(self) -> OpResult {
        partition(&self.x, &self.splitters, &self.dir, self.block)
    }
}

array_op! {
    /// `array.gather(dir, bucket, blocks, dtype, descending)`: sorts bucket `bucket`
    /// from the pieces blocks `0..blocks` wrote, writes its numbers to
    /// `sorted-{bucket}` and its NaNs to `sorted-{bucket}.nan`, and returns how many
    /// values it holds.
    pub(crate) struct Gather<D = PathBuf> = "array.gather" {
        dir: D,
        bucket: usize,
        blocks: usize,
        dtype: DType,
        descending: bool,
    }
    fn run(self) -> OpResult {
        let (dir, bucket, blocks, descending) = (&self.dir, self.bucket, self.blocks, self.descending);
        let size = with_dtype!(self.dtype, T => sort_bucket::<T>(dir, bucket, blocks, descending)?);
        Ok(Value::Int(size as i64))
    }
}

array_op! {
    /// `array.read_sorted(dir, start, len, dtype, descending, size_0, ...,
    /// size_{B-1})`: sorted positions `[start, start + len)` of the whole array, read
    /// (only those bytes) from the files `gather` wrote; the sizes are `gather`'s
    /// results, bucket by bucket.
    pub(crate) struct ReadSorted<N = usize> = "array.read_sorted" {
        dir: PathBuf,
        start: usize,
        len: usize,
        dtype: DType,
        descending: bool;
        rest sizes: N, at least 1
    }
    fn run(self) -> OpResult {
        read_sorted(&self).map(args::value)
    }
}

/// A 1-D chunk: what every step of the sort takes.
pub(crate) struct Vector(Arc<Chunk>);

impl Decode for Vector {
    fn decode(v: &Value, i: usize) -> Result<Self, OpError> {
        let Value::Chunk(chunk) = v else {
            return Err(wrong(i, "an array chunk", v));
        };
        if chunk.shape().len() != 1 {
            return Err(OpError::new(format!(
                "argument {} must be a 1-D chunk, got shape {}",
                i + 1,
                Dims(chunk.shape())
            )));
        }
        Ok(Vector(Arc::clone(chunk)))
    }
}

impl Deref for Vector {
    type Target = Chunk;

    fn deref(&self) -> &Chunk {
        &self.0
    }
}

/// An element type the sort order is defined on: its key in either direction, and its
/// little-endian bytes for the scratch files.
pub(super) trait Sortable: Element + Default {
    /// An unsigned integer of the element's width.
    type Key: Copy + Ord + Default + Into<u64> + Send + Sync;
    /// Bytes per element in a file.
    const SIZE: usize;
    /// The key whose unsigned order is this element's place in the sort order:
    /// ascending or descending numbers, then NaN either way.
    fn key(self, descending: bool) -> Self::Key;
    /// The element `key` came from.
    fn from_key(key: Self::Key, descending: bool) -> Self;
    /// The elements `keys` came from, in order (in the keys' own buffer, when the
    /// element is a number of their width).
    fn from_keys(keys: Vec<Self::Key>, descending: bool) -> Vec<Self>;
    /// Whether `key` is a NaN's (NaN keys are above every number's in both directions).
    fn is_nan_key(key: Self::Key) -> bool;
    /// Writes the element's little-endian bytes into `out` (`SIZE` long).
    fn put(self, out: &mut [u8]);
    /// The element whose little-endian bytes `bytes` (`SIZE` long) are.
    fn get(bytes: &[u8]) -> Self;
}

macro_rules! float_sortable {
    ($t:ty, $k:ty) => {
        impl Sortable for $t {
            type Key = $k;
            const SIZE: usize = size_of::<$t>();
            fn key(self, descending: bool) -> $k {
                const SIGN: $k = 1 << (<$k>::BITS - 1);
                let bits = self.to_bits();
                if self.is_nan() {
                    bits | SIGN
                } else {
                    let up = if bits & SIGN != 0 { !bits } else { bits | SIGN };
                    if descending {
                        !up
                    } else {
                        up
                    }
                }
            }
            fn from_key(key: $k, descending: bool) -> $t {
                const SIGN: $k = 1 << (<$k>::BITS - 1);
                let up = if descending && !Self::is_nan_key(key) {
                    !key
                } else {
                    key
                };
                <$t>::from_bits(if up & SIGN != 0 { up & !SIGN } else { !up })
            }
            fn from_keys(mut keys: Vec<$k>, descending: bool) -> Vec<$t> {
                for key in &mut keys {
                    *key = Self::from_key(*key, descending).to_bits();
                }
                bytemuck::cast_vec(keys)
            }
            fn is_nan_key(key: $k) -> bool {
                key > <$t>::INFINITY.key(false)
            }
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> $t {
                <$t>::from_le_bytes(bytes.try_into().expect("SIZE bytes"))
            }
        }
    };
}

macro_rules! int_sortable {
    ($t:ty, $k:ty) => {
        impl Sortable for $t {
            type Key = $k;
            const SIZE: usize = size_of::<$t>();
            fn key(self, descending: bool) -> $k {
                let up = (self as $k) ^ (1 << (<$k>::BITS - 1));
                if descending {
                    !up
                } else {
                    up
                }
            }
            fn from_key(key: $k, descending: bool) -> $t {
                let up = if descending { !key } else { key };
                (up ^ (1 << (<$k>::BITS - 1))) as $t
            }
            fn from_keys(mut keys: Vec<$k>, descending: bool) -> Vec<$t> {
                for key in &mut keys {
                    *key = Self::from_key(*key, descending) as $k;
                }
                bytemuck::cast_vec(keys)
            }
            fn is_nan_key(_: $k) -> bool {
                false
            }
            fn put(self, out: &mut [u8]) {
                out.copy_from_slice(&self.to_le_bytes());
            }
            fn get(bytes: &[u8]) -> $t {
                <$t>::from_le_bytes(bytes.try_into().expect("SIZE bytes"))
            }
        }
    };
}

float_sortable!(f64, u64);
float_sortable!(f32, u32);
int_sortable!(i64, u64);
int_sortable!(i32, u32);

/// false before true, as NumPy sorts bools.
impl Sortable for bool {
    type Key = u8;
    const SIZE: usize = 1;
    fn key(self, descending: bool) -> u8 {
        let up = u8::from(self);
        if descending {
            !up
        } else {
            up
        }
    }
    fn from_key(key: u8, descending: bool) -> bool {
        let up = if descending { !key } else { key };
        up != 0
    }
    fn from_keys(keys: Vec<u8>, descending: bool) -> Vec<bool> {
        keys.into_iter()
            .map(|k| Self::from_key(k, descending))
            .collect()
    }
    fn is_nan_key(_: u8) -> bool {
        false
    }
    fn put(self, out: &mut [u8]) {
        out[0] = u8::from(self);
    }
    fn get(bytes: &[u8]) -> bool {
        bytes[0] != 0
    }
}

/// Sorted `values` in the given direction, NaN last.
fn sorted<T: Sortable>(values: ArrayView1<'_, T>, descending: bool) -> Array1<T> {
    let keys: Vec<T::Key> = values.iter().map(|v| v.key(descending)).collect();
    T::from_keys(radix::sort(keys), descending).into()
}

/// The 1-D view of a chunk of type `T` (checked by the caller).
fn view1<T: Element>(chunk: &Chunk) -> ArrayView1<'_, T> {
    T::view(chunk)
        .expect("dispatched on the chunk's dtype")
        .into_dimensionality::<Ix1>()
        .expect("checked 1-D")
}

/// The `n` samples of `x`. A selection, not a sort: O(len log n).
fn samples(x: &Chunk, n: usize) -> Result<Chunk, OpError> {
    if n > x.len() {
        return Err(OpError::new(format!(
            "cannot take {n} samples of a chunk of {} values",
            x.len()
        )));
    }
    Ok(with_dtype!(x.dtype(), T => {
        let mut keys: Vec<_> = view1::<T>(x).iter().map(|v| v.key(false)).collect();
        let len = keys.len();
        let ranks: Vec<usize> = (0..n).map(|i| (2 * i + 1) * len / (2 * n)).collect();
        select_ranks(&mut keys, &ranks, 0);
        let picked: Array1<T> = ranks.iter().map(|&r| T::from_key(keys[r], false)).collect();
        T::chunk(picked.into_dyn())
    }))
}

/// Reorders `keys` (whose first element is at global rank `offset`) so each of the
/// ascending `ranks` holds the key that rank has in sorted order.
fn select_ranks<K: Ord>(keys: &mut [K], ranks: &[usize], offset: usize) {
    if ranks.is_empty() {
        return;
    }
    let mid = ranks.len() / 2;
    let at = ranks[mid] - offset;
    let (left, _, right) = keys.select_nth_unstable(at);
    select_ranks(left, &ranks[..mid], offset);
    select_ranks(right, &ranks[mid + 1..], offset + at + 1);
}

/// The splitters of `buckets` buckets, from the samples of every block.
fn splitters(buckets: usize, parts: &[Vector]) -> Result<Chunk, OpError> {
    if buckets == 0 {
        return Err(OpError::new("argument 1 (buckets) must be at least 1"));
    }
    same_dtype("samples", &parts.iter().map(|p| &**p).collect::<Vec<_>>())?;
    let dtype = parts[0].dtype();
    let total: usize = parts.iter().map(|p| p.len()).sum();
    if total == 0 && buckets > 1 {
        return Err(OpError::new(format!(
            "cannot choose {} splitters from no samples",
            buckets - 1
        )));
    }
    Ok(with_dtype!(dtype, T => {
        let mut keys: Vec<_> = parts
            .iter()
            .flat_map(|p| view1::<T>(p).into_iter().map(|v| v.key(false)))
            .collect();
        keys.sort_unstable();
        T::chunk(evenly_spaced::<T>(&keys, buckets, false).into_dyn())
    }))
}

/// The `buckets - 1` values whose keys split the sorted `keys` (taken in the
/// `descending` direction) into equal parts: a sample sort's splitters.
fn evenly_spaced<T: Sortable>(keys: &[T::Key], buckets: usize, descending: bool) -> Array1<T> {
    (1..buckets)
        .map(|i| T::from_key(keys[i * keys.len() / buckets], descending))
        .collect()
}

/// Fails unless every chunk has the first one's dtype: the blocks, samples or parts a
/// sort's step takes together (`what`) come from one array.
fn same_dtype(what: &str, chunks: &[&Chunk]) -> Result<(), OpError> {
    let dtype = chunks[0].dtype();
    match chunks.iter().find(|c| c.dtype() != dtype) {
        Some(other) => Err(OpError::new(format!(
            "{what} must share one dtype, got {dtype} and {}",
            other.dtype()
        ))),
        None => Ok(()),
    }
}

/// The file holding what block `block` puts into bucket `bucket`.
fn piece(dir: &Path, block: usize, bucket: usize) -> PathBuf {
    dir.join(format!("part-{block}-{bucket}"))
}

/// The file holding bucket `bucket`'s numbers, sorted.
fn bucket_file(dir: &Path, bucket: usize) -> PathBuf {
    dir.join(format!("sorted-{bucket}"))
}

/// The file holding bucket `bucket`'s NaNs (floats only).
fn nan_file(dir: &Path, bucket: usize) -> PathBuf {
    dir.join(format!("sorted-{bucket}.nan"))
}

fn io_error(what: &str, path: &Path, e: std::io::Error) -> OpError {
    OpError::new(format!("cannot {what} {}: {e}", path.display()))
}

/// Block `block`'s values, written bucket by bucket; the count in each bucket.
fn partition(x: &Chunk, splitters: &Chunk, dir: &Path, block: usize) -> OpResult {
    same_dtype("a block and its splitters", &[x, splitters])?;
    let counts = with_dtype!(x.dtype(), T => {
        write_pieces(view1::<T>(x), view1::<T>(splitters), dir, block)?
    });
    Ok(Value::list(
        counts.into_iter().map(|c| Value::Int(c as i64)),
    ))
}

fn write_pieces<T: Sortable>(
    x: ArrayView1<'_, T>,
    splitters: ArrayView1<'_, T>,
    dir: &Path,
    block: usize,
) -> Result<Vec<usize>, OpError> {
    let bounds: Vec<T::Key> = splitters.iter().map(|s| s.key(false)).collect();
    if bounds.windows(2).any(|w| w[0] > w[1]) {
        return Err(OpError::new("splitters must be in ascending order"));
    }
    let ids: Vec<u32> = x
        .iter()
        .map(|v| {
            let key = v.key(false);
            bounds.partition_point(|&s| s < key) as u32
        })
        .collect();
    let mut counts = vec![0usize; bounds.len() + 1];
    for &i in &ids {
        counts[i as usize] += 1;
    }
    let mut ends = Vec::with_capacity(counts.len());
    let mut sum = 0;
    for &c in &counts {
        ends.push(sum);
        sum += c * T::SIZE;
    }
    let starts = ends.clone();
    let mut bytes = vec![0u8; x.len() * T::SIZE];
    for (v, &i) in x.iter().zip(&ids) {
        let at = &mut ends[i as usize];
        v.put(&mut bytes[*at..*at + T::SIZE]);
        *at += T::SIZE;
    }
    for (bucket, (&start, &end)) in starts.iter().zip(&ends).enumerate() {
        let path = piece(dir, block, bucket);
        fs::write(&path, &bytes[start..end]).map_err(|e| io_error("write", &path, e))?;
    }
    Ok(counts)
}

fn sort_bucket<T: Sortable>(
    dir: &Path,
    bucket: usize,
    blocks: usize,
    descending: bool,
) -> Result<usize, OpError> {
    let mut pieces = Vec::with_capacity(blocks);
    for block in 0..blocks {
        let path = piece(dir, block, bucket);
        let bytes = fs::read(&path).map_err(|e| io_error("read", &path, e))?;
        if !bytes.len().is_multiple_of(T::SIZE) {
            return Err(OpError::new(format!(
                "{} holds {} bytes, not a whole number of {} values",
                path.display(),
                bytes.len(),
                T::DTYPE
            )));
        }
        pieces.push(bytes);
    }
    let mut keys: Vec<T::Key> =
        Vec::with_capacity(pieces.iter().map(Vec::len).sum::<usize>() / T::SIZE);
    for bytes in pieces {
        keys.extend(
            bytes
                .chunks_exact(T::SIZE)
                .map(|b| T::get(b).key(descending)),
        );
    }
    let keys = radix::sort(keys);
    let nans = keys.iter().rev().take_while(|&&k| T::is_nan_key(k)).count();
    let (numbers, nan_keys) = keys.split_at(keys.len() - nans);
    write_values::<T>(&bucket_file(dir, bucket), numbers, descending)?;
    if T::DTYPE.is_float() {
        write_values::<T>(&nan_file(dir, bucket), nan_keys, descending)?;
    }
    Ok(keys.len())
}

fn write_values<T: Sortable>(
    path: &Path,
    keys: &[T::Key],
    descending: bool,
) -> Result<(), OpError> {
    let mut bytes = vec![0u8; keys.len() * T::SIZE];
    for (&k, out) in keys.iter().zip(bytes.chunks_exact_mut(T::SIZE)) {
        T::from_key(k, descending).put(out);
    }
    fs::write(path, bytes).map_err(|e| io_error("write", path, e))
}

/// The chunk of sorted positions `op` asks for.
fn read_sorted(op: &ReadSorted) -> Result<Chunk, OpError> {
    let ReadSorted {
        ref dir,
        start,
        len,
        dtype,
        descending,
        ref sizes,
    } = *op;
    let total: usize = sizes.iter().sum();
    if start.checked_add(len).is_none_or(|end| end > total) {
        return Err(OpError::new(format!(
            "positions {start}..{} are past the end of {total} sorted values",
            start.saturating_add(len)
        )));
    }
    // Every bucket's numbers in output order, then every bucket's NaNs.
    let mut order: Vec<usize> = (0..sizes.len()).collect();
    if descending {
        order.reverse();
    }
    let mut segments = Vec::with_capacity(2 * sizes.len());
    let mut nans = Vec::with_capacity(sizes.len());
    for &bucket in &order {
        let nan_path = nan_file(dir, bucket);
        let nan_count = if dtype.is_float() {
            file_values(&nan_path, dtype)?
        } else {
            0
        };
        let numbers = sizes[bucket].checked_sub(nan_count).ok_or_else(|| {
            OpError::new(format!(
                "{} holds {nan_count} values but bucket {bucket} has {}",
                nan_path.display(),
                sizes[bucket]
            ))
        })?;
        let path = bucket_file(dir, bucket);
        let found = file_values(&path, dtype)?;
        if found != numbers {
            return Err(OpError::new(format!(
                "{} holds {found} values, expected {numbers}",
                path.display()
            )));
        }
        segments.push((path, numbers));
        nans.push((nan_path, nan_count));
    }
    segments.extend(nans);
    let size = dtype.size();
    let mut bytes = vec![0u8; len * size];
    let (mut at, mut filled) = (0usize, 0usize);
    for (path, count) in segments {
        let (lo, hi) = (start.max(at), (start + len).min(at + count));
        if lo < hi {
            let out = &mut bytes[filled * size..(filled + hi - lo) * size];
            let file = File::open(&path).map_err(|e| io_error("open", &path, e))?;
            file.read_exact_at(out, ((lo - at) * size) as u64)
                .map_err(|e| io_error("read", &path, e))?;
            filled += hi - lo;
        }
        at += count;
        if at >= start + len {
            break;
        }
    }
    Ok(with_dtype!(dtype, T => {
        let values: Array1<T> = bytes.chunks_exact(size).map(T::get).collect();
        T::chunk(values.into_dyn())
    }))
}

/// How many values of `dtype` the file at `path` holds.
fn file_values(path: &Path, dtype: DType) -> Result<usize, OpError> {
    let bytes = fs::metadata(path)
        .map_err(|e| io_error("read", path, e))?
        .len() as usize;
    if !bytes.is_multiple_of(dtype.size()) {
        return Err(OpError::new(format!(
            "{} holds {bytes} bytes, not a whole number of {dtype} values",
            path.display()
        )));
    }
    Ok(bytes / dtype.size())
}

#[cfg(test)]
mod tests {
    use std::cmp::Ordering;

    use ndarray::{ArrayD, IxDyn};
    use proptest::prelude::*;

    use super::*;
    use crate::wire::ArrayOp;
    use taskloom_graph::OpResult;

    /// Op `Op` as a graph calls it: decoded, then run.
    fn call<Op: ArrayOp>(args: &[Value]) -> OpResult {
        Op::decode(args)?.run()
    }

    /// The order the keys must encode, written as a comparator.
    fn reference(a: f64, b: f64, descending: bool) -> Ordering {
        match (a.is_nan(), b.is_nan()) {
            (true, true) => Ordering::Equal,
            (true, false) => Ordering::Greater,
            (false, true) => Ordering::Less,
            _ if descending => b.total_cmp(&a),
            _ => a.total_cmp(&b),
        }
    }

    fn float() -> impl Strategy<Value = f64> {
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(-f64::NAN),
            Just(0.0),
            Just(-0.0),
            Just(f64::INFINITY),
            Just(f64::NEG_INFINITY),
        ]
    }

    fn result(v: OpResult) -> Chunk {
        match &v.expect("op succeeds") {
            Value::Chunk(c) => Chunk::clone(c),
            other => panic!("expected a chunk, got {}", other.type_name()),
        }
    }

    fn vector<T: Element>(v: Vec<T>) -> Value {
        args::value(T::chunk(
            ArrayD::from_shape_vec(IxDyn(&[v.len()]), v).unwrap(),
        ))
    }

    proptest! {
        #[test]
        fn float_keys_order_as_the_reference_and_round_trip(a in float(), b in float(), descending in any::<bool>()) {
            if !(a.is_nan() && b.is_nan()) {
                prop_assert_eq!(a.key(descending).cmp(&b.key(descending)), reference(a, b, descending));
                let (a32, b32) = (a as f32, b as f32);
                prop_assert_eq!(
                    a32.key(descending).cmp(&b32.key(descending)),
                    reference(f64::from(a32), f64::from(b32), descending)
                );
            }
            let back = f64::from_key(a.key(descending), descending);
            if a.is_nan() {
                prop_assert!(back.is_nan());
                prop_assert!(f64::is_nan_key(a.key(descending)));
            } else {
                prop_assert_eq!(back.to_bits(), a.to_bits());
                prop_assert!(!f64::is_nan_key(a.key(descending)));
            }
        }

        #[test]
        fn int_keys_order_as_ints_and_round_trip(a in any::<i64>(), b in any::<i64>(), descending in any::<bool>()) {
            let want = if descending { b.cmp(&a) } else { a.cmp(&b) };
            prop_assert_eq!(a.key(descending).cmp(&b.key(descending)), want);
            prop_assert_eq!(i64::from_key(a.key(descending), descending), a);
            let (a32, b32) = (a as i32, b as i32);
            let want = if descending { b32.cmp(&a32) } else { a32.cmp(&b32) };
            prop_assert_eq!(a32.key(descending).cmp(&b32.key(descending)), want);
            prop_assert_eq!(i32::from_key(a32.key(descending), descending), a32);
        }

        /// Samples are the order statistics at the middles of equal slices.
        #[test]
        fn samples_are_evenly_spaced_order_statistics(
            data in prop::collection::vec(-100i32..100, 1..200),
            fraction in 0.0f64..=1.0,
        ) {
            let n = (fraction * data.len() as f64) as usize;
            let got = result(call::<Samples>(&[vector(data.clone()), Value::Int(n as i64)]));
            let mut all = data.clone();
            all.sort_unstable();
            let want: Vec<i32> = (0..n).map(|i| all[(2 * i + 1) * data.len() / (2 * n)]).collect();
            prop_assert_eq!(got, Chunk::I32(ArrayD::from_shape_vec(IxDyn(&[n]), want).unwrap()));
        }
    }

    #[test]
    fn splitters_divide_the_samples_evenly() {
        let got = result(call::<Splitters>(&[
            Value::Int(4),
            vector((0..6).collect::<Vec<i64>>()),
            vector((6..12).collect::<Vec<i64>>()),
        ]));
        // 12 samples in 4 buckets: the values at sorted positions 3, 6 and 9.
        assert_eq!(
            got,
            Chunk::I64(ArrayD::from_shape_vec(IxDyn(&[3]), vec![3, 6, 9]).unwrap())
        );
    }

    #[test]
    fn errors_name_the_argument_or_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("nowhere");
        let path = Value::str(missing.to_str().unwrap());
        let err = call::<Gather>(&[
            path.clone(),
            Value::Int(0),
            Value::Int(1),
            Value::str("float64"),
            Value::Bool(false),
        ])
        .unwrap_err()
        .0;
        assert!(err.contains("nowhere/part-0-0"), "{err}");
        let x = vector(vec![3.0, 1.0]);
        let err = call::<Partition>(&[
            x.clone(),
            vector(vec![2.0, 1.0]),
            Value::str("."),
            Value::Int(0),
        ])
        .unwrap_err()
        .0;
        assert!(err.contains("ascending"), "{err}");
        let err = call::<Partition>(&[
            x.clone(),
            vector(vec![2i64]),
            Value::str("."),
            Value::Int(0),
        ])
        .unwrap_err()
        .0;
        assert!(err.contains("int64") && err.contains("float64"), "{err}");
        let err = call::<Partition>(&[x.clone(), vector(vec![2.0]), path, Value::Int(0)])
            .unwrap_err()
            .0;
        assert!(err.contains("nowhere/part-0-0"), "{err}");
        let err = call::<Samples>(&[x.clone(), Value::Int(3)]).unwrap_err().0;
        assert!(
            err.contains("3 samples") && err.contains("2 values"),
            "{err}"
        );
        let matrix = args::value(Chunk::F64(ArrayD::zeros(IxDyn(&[2, 2]))));
        let err = call::<Sort>(&[matrix, Value::Bool(false)]).unwrap_err().0;
        assert!(
            err.contains("argument 1") && err.contains("(2, 2)"),
            "{err}"
        );
        let err = call::<Splitters>(&[Value::Int(2), vector(Vec::<f64>::new())])
            .unwrap_err()
            .0;
        assert!(err.contains("no samples"), "{err}");
        let dir_arg = Value::str(dir.path().to_str().unwrap());
        let err = call::<ReadSorted>(&[
            dir_arg,
            Value::Int(1),
            Value::Int(5),
            Value::str("int32"),
            Value::Bool(false),
            Value::Int(4),
        ])
        .unwrap_err()
        .0;
        assert!(err.contains("past the end of 4"), "{err}");
    }

    #[test]
    fn read_sorted_checks_files_against_the_sizes() {
        let dir = tempfile::tempdir().unwrap();
        let dir_arg = Value::str(dir.path().to_str().unwrap());
        let counts = call::<Partition>(&[
            vector(vec![5i32, 1, 9]),
            vector(vec![4i32]),
            dir_arg.clone(),
            Value::Int(0),
        ])
        .unwrap();
        assert_eq!(counts, Value::list([Value::Int(1), Value::Int(2)]));
        for bucket in 0..2 {
            call::<Gather>(&[
                dir_arg.clone(),
                Value::Int(bucket),
                Value::Int(1),
                Value::str("int32"),
                Value::Bool(true),
            ])
            .unwrap();
        }
        let read = |sizes: [i64; 2]| {
            call::<ReadSorted>(&[
                dir_arg.clone(),
                Value::Int(0),
                Value::Int(3),
                Value::str("int32"),
                Value::Bool(true),
                Value::Int(sizes[0]),
                Value::Int(sizes[1]),
            ])
        };
        assert_eq!(
            result(read([1, 2])),
            Chunk::I32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![9, 5, 1]).unwrap())
        );
        let err = read([2, 1]).unwrap_err().0;
        assert!(
            err.contains("sorted-1") && err.contains("expected 1"),
            "{err}"
        );
    }
}

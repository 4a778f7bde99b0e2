//! `array.topk`: the k largest (or smallest) values of any number of chunks. The same
//! op is each chunk's step and the merge of earlier results, so a top-k of a chunked
//! array is a tree reduction whose tasks each hold one chunk and k values.
//!
//! Order is the sort's (see `sort.rs`): NaN comes after every number in both
//! directions, so it is never among the k largest or smallest while k numbers exist;
//! NaNs fill the tail only when there are fewer numbers than k. (A NumPy
//! `np.sort(x)[::-1][:k]` would put NaNs first; `sort(descending)[:k]` here and
//! `topk(k, largest)` agree.)

use std::sync::Arc;

use ndarray::Array1;
use taskloom_graph::Chunk;

use super::args::{self, cast, promote, Element};
use super::elementwise::element::with_dtype;
use super::sort::Sortable;
use crate::wire::array_op;

array_op! {
    /// `array.topk(k, largest, part...)`: a 1-D chunk of the `min(k, total)` largest
    /// values of all parts, descending (with `largest` false: smallest, ascending).
    /// Parts may have any shape; mixed dtypes promote as NumPy's do.
    pub(crate) struct TopK<C = Arc<Chunk>> = "array.topk" {
        k: usize,
        largest: bool;
        rest parts: C, at least 1
    }
    fn run(self) -> OpResult {
        Ok(args::value(topk(self.k, self.largest, &self.parts)))
    }
}

fn topk(k: usize, largest: bool, parts: &[Arc<Chunk>]) -> Chunk {
    let dtype = parts
        .iter()
        .map(|p| p.dtype())
        .reduce(promote)
        .expect("one part at least");
    with_dtype!(dtype, T => {
        let mut best = Best::new(k);
        for part in parts {
            for v in cast::<T>(part).iter() {
                best.offer(v.key(largest));
            }
        }
        let best: Array1<T> = best.into_sorted().into_iter().map(|key| T::from_key(key, largest)).collect();
        T::chunk(best.into_dyn())
    })
}

/// The k smallest keys seen, in one pass and O(k) memory: keys go into a buffer of 2k;
/// when it fills, the best k are kept and the worst of them becomes the bar every
/// later key must beat. On random data almost every key fails the bar at the cost of
/// one comparison, so selecting from a chunk costs about what reading it does.
struct Best<K> {
    k: usize,
    kept: Vec<K>,
    bar: Option<K>,
}

impl<K: Copy + Ord> Best<K> {
    fn new(k: usize) -> Self {
        Best {
            k,
            kept: Vec::with_capacity(2 * k),
            bar: None,
        }
    }

    #[inline]
    fn offer(&mut self, key: K) {
        if self.k == 0 || self.bar.is_some_and(|bar| key >= bar) {
            return;
        }
        self.kept.push(key);
        if self.kept.len() == 2 * self.k {
            self.keep_k();
            self.bar = self.kept.iter().max().copied();
        }
    }

    fn keep_k(&mut self) {
        if self.kept.len() > self.k {
            self.kept.select_nth_unstable(self.k - 1);
            self.kept.truncate(self.k);
        }
    }

    fn into_sorted(mut self) -> Vec<K> {
        if self.k == 0 {
            return Vec::new();
        }
        self.keep_k();
        self.kept.sort_unstable();
        self.kept
    }
}

#[cfg(test)]
mod tests {
    use ndarray::{ArrayD, IxDyn};
    use proptest::prelude::*;
    use taskloom_graph::Chunk;

    use super::*;
    use crate::wire::ArrayOp;
    use taskloom_graph::{OpResult, Value};

    /// `array.topk` as a graph calls it: decoded, then run.
    fn op(args: &[Value]) -> OpResult {
        TopK::decode(args)?.run()
    }

    fn call(k: i64, largest: bool, parts: &[Chunk]) -> Chunk {
        let mut args = vec![Value::Int(k), Value::Bool(largest)];
        args.extend(parts.iter().cloned().map(args::value));
        match &op(&args).expect("topk succeeds") {
            Value::Chunk(c) => Chunk::clone(c),
            other => panic!("expected a chunk, got {}", other.type_name()),
        }
    }

    /// The values of a result as f64 bit patterns, so NaN compares equal to NaN.
    fn bits(c: &Chunk) -> Vec<u64> {
        cast::<f64>(c).iter().map(|x| x.to_bits()).collect()
    }

    /// The reference: sort everything with an explicit comparator (numbers, then NaN)
    /// and take the first k.
    fn reference(values: &[f64], k: usize, largest: bool) -> Vec<u64> {
        let mut v = values.to_vec();
        v.sort_by(|a, b| match (a.is_nan(), b.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ if largest => b.total_cmp(a),
            _ => a.total_cmp(b),
        });
        v.truncate(k);
        v.into_iter().map(f64::to_bits).collect()
    }

    fn value() -> impl Strategy<Value = f64> {
        prop_oneof![
            8 => (-20i32..20).prop_map(f64::from),
            1 => Just(f64::NAN),
            1 => Just(f64::INFINITY),
            1 => Just(f64::NEG_INFINITY),
        ]
    }

    proptest! {
        /// Top-k of several float parts, and top-k of per-part top-ks (the merge),
        /// both equal the first k of a full sort.
        #[test]
        fn floats_match_a_full_sort_and_merge(
            parts in prop::collection::vec(prop::collection::vec(value(), 0..30), 1..5),
            k in 0usize..40,
            largest in any::<bool>(),
        ) {
            let chunks: Vec<Chunk> = parts
                .iter()
                .map(|p| Chunk::F64(ArrayD::from_shape_vec(IxDyn(&[p.len()]), p.clone()).unwrap()))
                .collect();
            let all: Vec<f64> = parts.concat();
            let want = reference(&all, k, largest);
            let direct = call(k as i64, largest, &chunks);
            prop_assert_eq!(bits(&direct), want.clone());
            let partial: Vec<Chunk> = chunks.iter().map(|c| call(k as i64, largest, std::slice::from_ref(c))).collect();
            prop_assert_eq!(bits(&call(k as i64, largest, &partial)), want);
        }

        /// Ints of both widths, in 2-D parts, promote to int64 and keep their order.
        #[test]
        fn mixed_ints_promote(
            a in prop::collection::vec(any::<i32>(), 0..24),
            b in prop::collection::vec(any::<i64>(), 0..24),
            k in 0usize..50,
            largest in any::<bool>(),
        ) {
            let rows = |n: usize| if n.is_multiple_of(2) { vec![2, n / 2] } else { vec![n] };
            let ca = Chunk::I32(ArrayD::from_shape_vec(IxDyn(&rows(a.len())), a.clone()).unwrap());
            let cb = Chunk::I64(ArrayD::from_shape_vec(IxDyn(&rows(b.len())), b.clone()).unwrap());
            let got = call(k as i64, largest, &[ca, cb]);
            let mut want: Vec<i64> = a.iter().map(|&x| i64::from(x)).chain(b).collect();
            want.sort_unstable();
            if largest {
                want.reverse();
            }
            want.truncate(k);
            prop_assert_eq!(got, Chunk::I64(ArrayD::from_shape_vec(IxDyn(&[want.len()]), want).unwrap()));
        }
    }

    #[test]
    fn float32_and_int32_give_float64() {
        let a = Chunk::F32(ArrayD::from_shape_vec(IxDyn(&[3]), vec![0.5, -1.0, 2.0]).unwrap());
        let b = Chunk::I32(ArrayD::from_shape_vec(IxDyn(&[2]), vec![7, -3]).unwrap());
        let got = call(3, false, &[a, b]);
        assert_eq!(got.dtype(), taskloom_graph::DType::Float64);
        assert_eq!(
            bits(&got),
            reference(&[0.5, -1.0, 2.0, 7.0, -3.0], 3, false)
        );
    }

    #[test]
    fn bad_arguments_are_errors() {
        let part = args::value(Chunk::F64(ArrayD::zeros(IxDyn(&[2]))));
        assert!(op(&[Value::Int(1), Value::Bool(true)]).is_err());
        let err = op(&[Value::Int(-1), Value::Bool(true), part.clone()])
            .unwrap_err()
            .0;
        assert!(err.contains("argument 1"), "{err}");
        let err = op(&[Value::Int(1), Value::Int(1), part.clone()])
            .unwrap_err()
            .0;
        assert!(err.contains("argument 2"), "{err}");
        let err = op(&[Value::Int(1), Value::Bool(true), part, Value::Null])
            .unwrap_err()
            .0;
        assert!(err.contains("argument 4"), "{err}");
    }
}

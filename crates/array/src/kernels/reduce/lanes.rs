//! A C-ordered chunk seen along the axis being reduced: `outer` blocks of `n` rows of
//! `inner` contiguous elements. Reducing the last axis (or all of them) walks
//! contiguous lanes; any other axis adds whole rows, so both loops vectorize.

use super::pairwise;
use crate::kernels::elementwise::element::Arith;

/// A chunk's elements grouped by the output element they reduce into.
pub(super) struct Lanes<'a, T> {
    data: &'a [T],
    outer: usize,
    /// Elements reduced into each output element.
    pub(super) n: usize,
    inner: usize,
}

impl<'a, T: Arith> Lanes<'a, T> {
    /// `data` (C order, of `shape`) reduced along `axis`, or over everything for `None`.
    pub(super) fn new(data: &'a [T], shape: &[usize], axis: Option<usize>) -> Lanes<'a, T> {
        match axis {
            None => Lanes {
                data,
                outer: 1,
                n: data.len(),
                inner: 1,
            },
            Some(k) => Lanes {
                data,
                outer: shape[..k].iter().product(),
                n: shape[k],
                inner: shape[k + 1..].iter().product(),
            },
        }
    }

    /// Number of output elements.
    pub(super) fn outputs(&self) -> usize {
        self.outer * self.inner
    }

    /// Each output's elements folded left to right: `init` of the first, then `step`.
    /// Needs `n >= 1`.
    pub(super) fn fold<A: Copy>(&self, init: impl Fn(T) -> A, step: impl Fn(A, T) -> A) -> Vec<A> {
        let mut out = Vec::with_capacity(self.outputs());
        if self.n == 0 || self.outputs() == 0 {
            return out;
        }
        for block in self.blocks() {
            if self.inner == 1 {
                out.push(block[1..].iter().fold(init(block[0]), |a, &x| step(a, x)));
            } else {
                let start = out.len();
                out.extend(block[..self.inner].iter().map(|&x| init(x)));
                for row in block[self.inner..].chunks_exact(self.inner) {
                    for (a, &x) in out[start..].iter_mut().zip(row) {
                        *a = step(*a, x);
                    }
                }
            }
        }
        out
    }

    /// Each output's Σ x, or Σ (x - centre)² given a centre per output; pairwise, in
    /// float64. Zero where `n == 0`.
    pub(super) fn sum(&self, centres: Option<&[f64]>) -> Vec<f64> {
        let mut out = vec![0.0f64; self.outputs()];
        if self.n == 0 || self.outputs() == 0 {
            return out;
        }
        for (o, block) in self.blocks().enumerate() {
            let out = &mut out[o * self.inner..(o + 1) * self.inner];
            let centres = centres.map(|c| &c[o * self.inner..(o + 1) * self.inner]);
            match (self.inner, centres) {
                (1, None) => out[0] = pairwise::sum(block, &|x| T::to_f64(x)),
                (1, Some(c)) => {
                    let m = c[0];
                    out[0] = pairwise::sum(block, &|x| {
                        let d = T::to_f64(x) - m;
                        d * d
                    });
                }
                (_, None) => pairwise::rows(block, self.n, self.inner, out, &|acc, row, _| {
                    for (a, &x) in acc.iter_mut().zip(row) {
                        *a += T::to_f64(x);
                    }
                }),
                (_, Some(c)) => pairwise::rows(block, self.n, self.inner, out, &|acc, row, c0| {
                    for ((a, &x), &m) in acc.iter_mut().zip(row).zip(&c[c0..]) {
                        let d = T::to_f64(x) - m;
                        *a += d * d;
                    }
                }),
            }
        }
        out
    }

    /// The `outer` blocks of `n * inner` elements.
    fn blocks(&self) -> impl Iterator<Item = &'a [T]> {
        let len = self.n * self.inner;
        let data = self.data;
        (0..self.outer).map(move |o| &data[o * len..(o + 1) * len])
    }
}

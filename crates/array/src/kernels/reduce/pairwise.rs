//! Pairwise summation, NumPy's scheme: error growing with log n rather than n, at the
//! speed of a plain loop (eight independent accumulators vectorize).

/// Blocks up to this length are summed with eight accumulators; longer runs split in two.
const BLOCK: usize = 128;

/// Σ f(x) over `xs`, grouped as NumPy's `pairwise_sum` groups it.
#[inline]
pub(super) fn sum<T: Copy>(xs: &[T], f: &impl Fn(T) -> f64) -> f64 {
    let n = xs.len();
    if n < 8 {
        let mut s = 0.0;
        for &x in xs {
            s += f(x);
        }
        s
    } else if n <= BLOCK {
        let mut r = [0.0f64; 8];
        for (r, &x) in r.iter_mut().zip(&xs[..8]) {
            *r = f(x);
        }
        let body = n - n % 8;
        for c in xs[8..body].chunks_exact(8) {
            for j in 0..8 {
                r[j] += f(c[j]);
            }
        }
        let mut s = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &x in &xs[body..] {
            s += f(x);
        }
        s
    } else {
        // Halve, keeping the first half a multiple of the unroll width.
        let mut n2 = n / 2;
        n2 -= n2 % 8;
        sum(&xs[..n2], f) + sum(&xs[n2..], f)
    }
}

/// Columns summed at a time by `rows`: a few pages of accumulators, so they stay in
/// cache however wide the rows are.
const TILE: usize = 512;

/// Adds `n` rows of `width` elements (row `r` at `data[r * width..]`) into `out`
/// (`width` long, zeroed by the caller), pairwise across rows. `add_row(acc, row,
/// column)` adds one row's slice (starting at `column`) into accumulators.
pub(super) fn rows<T: Copy>(
    data: &[T],
    n: usize,
    width: usize,
    out: &mut [f64],
    add_row: &impl Fn(&mut [f64], &[T], usize),
) {
    let depth = (usize::BITS - n.leading_zeros()) as usize + 1;
    let mut scratch = vec![0.0f64; TILE.min(width) * depth];
    for c0 in (0..width).step_by(TILE) {
        let w = TILE.min(width - c0);
        let tile = Tile { data, width, c0, w };
        tile.sum(0, n, &mut out[c0..c0 + w], &mut scratch, add_row);
    }
}

/// Columns `c0..c0 + w` of a block of rows `width` long.
struct Tile<'a, T> {
    data: &'a [T],
    width: usize,
    c0: usize,
    w: usize,
}

impl<T: Copy> Tile<'_, T> {
    fn sum(
        &self,
        lo: usize,
        hi: usize,
        acc: &mut [f64],
        scratch: &mut [f64],
        add_row: &impl Fn(&mut [f64], &[T], usize),
    ) {
        if hi - lo <= 8 {
            for r in lo..hi {
                let start = r * self.width + self.c0;
                add_row(acc, &self.data[start..start + self.w], self.c0);
            }
            return;
        }
        let mid = lo + (hi - lo) / 2;
        self.sum(lo, mid, acc, scratch, add_row);
        let (tmp, rest) = scratch.split_at_mut(self.w);
        tmp.fill(0.0);
        self.sum(mid, hi, tmp, rest, add_row);
        for (a, t) in acc.iter_mut().zip(tmp.iter()) {
            *a += t;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_are_exact_on_integers_and_accurate_on_hard_cases() {
        for n in [0usize, 1, 7, 8, 9, 127, 128, 129, 1000, 4097] {
            let xs: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let expected = (n * n.saturating_sub(1) / 2) as f64;
            assert_eq!(sum(&xs, &|x| x), expected, "n={n}");
            let mut out = vec![0.0; 3];
            let grid: Vec<f64> = (0..n * 3).map(|i| (i / 3) as f64).collect();
            rows(&grid, n, 3, &mut out, &|acc, row, _| {
                for (a, &x) in acc.iter_mut().zip(row) {
                    *a += x;
                }
            });
            assert_eq!(out, vec![expected; 3], "rows n={n}");
        }
        // A million 0.1s: naive left-to-right summation is off by about 1e-6 relative;
        // pairwise stays within a few ulps.
        let xs = vec![0.1f64; 1_000_000];
        let s = sum(&xs, &|x| x);
        assert!((s - 100_000.0).abs() / 100_000.0 < 1e-13, "{s}");
        let mut out = vec![0.0; 1];
        rows(&xs, xs.len(), 1, &mut out, &|acc, row, _| acc[0] += row[0]);
        assert!((out[0] - 100_000.0).abs() / 100_000.0 < 1e-13, "{}", out[0]);
    }

    #[test]
    fn wide_rows_are_tiled_with_the_right_columns() {
        let (n, width) = (20, TILE * 2 + 5);
        let data: Vec<f64> = (0..n * width).map(|i| (i % width) as f64).collect();
        let mut out = vec![0.0; width];
        rows(&data, n, width, &mut out, &|acc, row, c0| {
            for (j, (a, &x)) in acc.iter_mut().zip(row).enumerate() {
                assert_eq!(x, (c0 + j) as f64);
                *a += x;
            }
        });
        let expected: Vec<f64> = (0..width).map(|c| (c * n) as f64).collect();
        assert_eq!(out, expected);
    }
}

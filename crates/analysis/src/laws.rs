//! The laws of speed-up: S(p) = T(1)/T(p), efficiency, the Karp–Flatt serial fraction
//! and Amdahl's law fitted to measured points by least squares.

/// Speed-up of a run taking `seconds` over the one-worker baseline `baseline`.
pub fn speedup(baseline: f64, seconds: f64) -> f64 {
    baseline / seconds
}

/// Efficiency E(p) = S(p)/p: the share of `workers` that did useful work.
pub fn efficiency(speedup: f64, workers: usize) -> f64 {
    speedup / workers as f64
}

/// The Karp–Flatt experimentally determined serial fraction
/// e(p) = (1/S − 1/p) / (1 − 1/p): undefined (`None`) for one worker. A value growing
/// with p points at overhead rather than at inherently serial work.
pub fn karp_flatt(speedup: f64, workers: usize) -> Option<f64> {
    if workers <= 1 {
        return None;
    }
    let p = workers as f64;
    Some((1.0 / speedup - 1.0 / p) / (1.0 - 1.0 / p))
}

/// Amdahl's law: the speed-up on `workers` (a real number, for drawing the curve) of a
/// program whose serial fraction is `serial`.
pub fn amdahl(serial: f64, workers: f64) -> f64 {
    1.0 / (serial + (1.0 - serial) / workers)
}

/// The bound S(∞) = 1/B; `None` (unbounded) for B = 0.
pub fn max_speedup(serial: f64) -> Option<f64> {
    (serial > 0.0).then(|| 1.0 / serial)
}

/// The serial fraction B in [0, 1] that best fits measured `(workers, speedup)` points
/// to Amdahl's law, by least squares: it minimises
/// `sum over points of (S_measured − amdahl(B, p))^2`.
///
/// The objective is one-dimensional and smooth but need not be unimodal on [0, 1], so a
/// scan over a fine grid (step 1/1000) first finds the best cell, and golden-section
/// search then refines within the neighbouring cells to ~1e-12. Points at p = 1 fit
/// every B exactly and do not move the answer.
pub fn fit_amdahl(points: &[(usize, f64)]) -> f64 {
    let cost = |b: f64| -> f64 {
        points
            .iter()
            .map(|&(p, s)| (s - amdahl(b, p as f64)).powi(2))
            .sum()
    };
    const STEPS: usize = 1000;
    let grid = |i: usize| i as f64 / STEPS as f64;
    let best = (0..=STEPS)
        .min_by(|&i, &j| cost(grid(i)).total_cmp(&cost(grid(j))))
        .unwrap_or(0);
    let (mut lo, mut hi) = (grid(best.saturating_sub(1)), grid((best + 1).min(STEPS)));
    let ratio = (5f64.sqrt() - 1.0) / 2.0;
    let mut x1 = hi - ratio * (hi - lo);
    let mut x2 = lo + ratio * (hi - lo);
    let (mut f1, mut f2) = (cost(x1), cost(x2));
    while hi - lo > 1e-12 {
        if f1 <= f2 {
            hi = x2;
            (x2, f2) = (x1, f1);
            x1 = hi - ratio * (hi - lo);
            f1 = cost(x1);
        } else {
            lo = x1;
            (x1, f1) = (x2, f2);
            x2 = lo + ratio * (hi - lo);
            f2 = cost(x2);
        }
    }
    // The ends of [0, 1] are candidates too: golden section never evaluates them.
    let mid = (lo + hi) / 2.0;
    [mid, grid(best)]
        .into_iter()
        .min_by(|a, b| cost(*a).total_cmp(&cost(*b)))
        .unwrap_or(mid)
        .clamp(0.0, 1.0)
}

/// The median of `values` (the mean of the middle two for an even count).
pub fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn hand_computed_laws() {
        assert_eq!(speedup(8.0, 2.0), 4.0);
        assert_eq!(efficiency(3.0, 4), 0.75);
        assert_eq!(karp_flatt(1.0, 1), None);
        // S = 3 on 4 workers: (1/3 - 1/4) / (3/4) = 1/9.
        assert!(close(karp_flatt(3.0, 4).unwrap(), 1.0 / 9.0, 1e-12));
        // Perfect speed-up has no serial fraction; none at all has all of it.
        assert!(close(karp_flatt(2.0, 2).unwrap(), 0.0, 1e-12));
        assert!(close(karp_flatt(1.0, 8).unwrap(), 1.0, 1e-12));
        assert!(close(amdahl(0.1, 4.0), 1.0 / (0.1 + 0.9 / 4.0), 1e-12));
        assert_eq!(max_speedup(0.25), Some(4.0));
        assert_eq!(max_speedup(0.0), None);
    }

    #[test]
    fn fit_recovers_an_exact_serial_fraction() {
        for b in [0.0, 0.05, 0.2, 0.5, 1.0] {
            let points: Vec<(usize, f64)> = [1, 2, 4, 8, 16]
                .into_iter()
                .map(|p| (p, amdahl(b, p as f64)))
                .collect();
            let fit = fit_amdahl(&points);
            assert!(close(fit, b, 1e-6), "b = {b}, fitted {fit}");
        }
    }

    #[test]
    fn fit_agrees_with_karp_flatt_on_one_point_and_clamps() {
        // With a single p > 1 the fit is exact: B equals the Karp–Flatt fraction.
        let e = karp_flatt(1.6, 2).unwrap();
        assert!(close(fit_amdahl(&[(1, 1.0), (2, 1.6)]), e, 1e-6));
        // Super-linear speed-up clamps to B = 0; slow-down to B = 1.
        assert_eq!(fit_amdahl(&[(2, 2.5)]), 0.0);
        assert_eq!(fit_amdahl(&[(2, 0.5)]), 1.0);
    }

    #[test]
    fn least_squares_over_noisy_points() {
        // Hand-checked: the minimum of (1.9 - A(b,2))^2 + (3.0 - A(b,4))^2 lies where
        // a fine brute-force scan puts it.
        let points = [(2, 1.9), (4, 3.0)];
        let fit = fit_amdahl(&points);
        let cost = |b: f64| -> f64 {
            points
                .iter()
                .map(|&(p, s)| (s - amdahl(b, p as f64)).powi(2))
                .sum()
        };
        let brute = (0..=1_000_000)
            .map(|i| i as f64 / 1e6)
            .min_by(|a, b| cost(*a).total_cmp(&cost(*b)))
            .unwrap();
        assert!(close(fit, brute, 2e-6), "{fit} vs {brute}");
    }

    #[test]
    fn medians() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        assert!(median(&[]).is_nan());
    }
}

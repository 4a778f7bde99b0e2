//! A scaling study: median run times per worker count turned into speed-up,
//! efficiency, Karp–Flatt fractions and the Amdahl fit, as `taskloom scale` reports it.

use serde::Serialize;

use crate::human::number;
use crate::laws;

/// One worker count of a scaling study.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Point {
    pub workers: usize,
    /// Median wall seconds T(p).
    pub seconds: f64,
    pub speedup: f64,
    pub efficiency: f64,
    /// `None` for one worker, where it is undefined.
    pub karp_flatt: Option<f64>,
    /// More workers than cores present: a speed-up is not expected there.
    pub above_cores: bool,
}

/// Amdahl's law fitted to every point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AmdahlFit {
    pub serial_fraction: f64,
    /// S(∞) = 1/B; `None` (JSON null) when B = 0 and the bound is infinite.
    pub max_speedup: Option<f64>,
}

/// The whole study: the `--json` form of `taskloom scale`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Scaling {
    pub points: Vec<Point>,
    pub amdahl: AmdahlFit,
}

impl Scaling {
    /// The study from `(workers, median seconds)` in the order measured; `cores` marks
    /// the points above it. `None` without a one-worker point, the baseline of S(p).
    pub fn new(medians: &[(usize, f64)], cores: usize) -> Option<Scaling> {
        let baseline = medians.iter().find(|(p, _)| *p == 1)?.1;
        let points: Vec<Point> = medians
            .iter()
            .map(|&(workers, seconds)| {
                let speedup = laws::speedup(baseline, seconds);
                Point {
                    workers,
                    seconds,
                    speedup,
                    efficiency: laws::efficiency(speedup, workers),
                    karp_flatt: laws::karp_flatt(speedup, workers),
                    above_cores: workers > cores,
                }
            })
            .collect();
        let fit: Vec<(usize, f64)> = points.iter().map(|p| (p.workers, p.speedup)).collect();
        let serial_fraction = laws::fit_amdahl(&fit);
        Some(Scaling {
            points,
            amdahl: AmdahlFit {
                serial_fraction,
                max_speedup: laws::max_speedup(serial_fraction),
            },
        })
    }

    /// The `--json` text: unrounded numbers.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("plain numbers always serialise") + "\n"
    }

    /// The human table, rounded; `cores` is named in the note on marked rows.
    pub fn to_text(&self, cores: usize) -> String {
        let mut out = String::from("workers   seconds  speed-up  efficiency  Karp-Flatt e\n");
        for p in &self.points {
            let mark = if p.above_cores { "*" } else { " " };
            let kf = p.karp_flatt.map_or("-".to_string(), |e| number(e, 3));
            out.push_str(&format!(
                "{:>6}{mark} {:>9} {:>9} {:>11} {:>13}\n",
                p.workers,
                number(p.seconds, 3),
                number(p.speedup, 2),
                number(p.efficiency, 2),
                kf
            ));
        }
        if self.points.iter().any(|p| p.above_cores) {
            let s = if cores == 1 { "" } else { "s" };
            out.push_str(&format!(
                "* more workers than the {cores} core{s} present\n"
            ));
        }
        let bound = self
            .amdahl
            .max_speedup
            .map_or("unbounded".to_string(), |s| number(s, 1));
        out.push_str(&format!(
            "Amdahl fit: serial fraction B = {}, max speed-up S(inf) = 1/B = {bound}\n",
            number(self.amdahl.serial_fraction, 3)
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_study() {
        // T(1) = 8, T(2) = 5, T(4) = 3.5: S = 1.6, 16/7; E = 0.8, 4/7.
        let s = Scaling::new(&[(1, 8.0), (2, 5.0), (4, 3.5)], 2).unwrap();
        assert_eq!(s.points[1].speedup, 1.6);
        assert_eq!(s.points[1].efficiency, 0.8);
        // e(2) = (1/1.6 - 1/2) / (1/2) = 0.25; e(4) = (7/16 - 1/4) / (3/4) = 0.25.
        assert!((s.points[1].karp_flatt.unwrap() - 0.25).abs() < 1e-12);
        assert!((s.points[2].karp_flatt.unwrap() - 0.25).abs() < 1e-12);
        assert_eq!(s.points[0].karp_flatt, None);
        // Both points are exactly Amdahl with B = 0.25, so S(inf) = 4.
        assert!((s.amdahl.serial_fraction - 0.25).abs() < 1e-6);
        assert!((s.amdahl.max_speedup.unwrap() - 4.0).abs() < 1e-4);
        assert!(s.points[2].above_cores && !s.points[1].above_cores);
        let text = s.to_text(2);
        assert!(
            text.contains("     4*     3.500      2.29        0.57         0.250"),
            "{text}"
        );
        assert!(text.contains("* more workers than the 2 cores present"));
        assert!(text.contains("B = 0.250, max speed-up S(inf) = 1/B = 4.0"));
    }

    #[test]
    fn json_shape_and_unbounded_speedup() {
        let s = Scaling::new(&[(1, 2.0), (2, 0.9)], 4).unwrap();
        assert_eq!(s.amdahl.serial_fraction, 0.0);
        let json: serde_json::Value = serde_json::from_str(&s.to_json()).unwrap();
        assert_eq!(json["amdahl"]["max_speedup"], serde_json::Value::Null);
        assert_eq!(json["points"][0]["karp_flatt"], serde_json::Value::Null);
        assert_eq!(json["points"][0]["speedup"], 1.0);
        assert_eq!(json["points"][1]["workers"], 2);
        assert!(s.to_text(4).contains("= unbounded"));
        assert!(Scaling::new(&[(2, 1.0)], 2).is_none());
    }
}

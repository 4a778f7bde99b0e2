//! Durations as every option writes them: `900s`, `20m`, `1h30m`, `1.5s`, or a bare
//! number of seconds; a batch job's time limit also as batch systems write it,
//! `HH:MM:SS` or `D-HH:MM:SS`.
//!
//! - A duration is at most [`LONGEST`]: beyond it is a clear error, never an overflow
//!   when a deadline is computed from it.

use std::time::Duration;

/// The longest duration accepted: 100 years. Longer than any run lasts, and small
/// enough that adding it to any reading of the clock cannot overflow.
const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 3600);

/// Parses a duration for clap: units `h`, `m`, `s` and `ms`, in that order, each at most
/// once; a bare number is seconds.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let bad = || format!("invalid duration '{text}' (write e.g. 900s, 20m, 1h30m, 1.5s)");
    let text = text.trim();
    if text.is_empty() {
        return Err(bad());
    }
    if let Ok(seconds) = text.parse::<f64>() {
        return seconds_to_duration(text, seconds);
    }
    let units = [
        ("h", 3600.0, 0),
        ("ms", 0.001, 3),
        ("m", 60.0, 1),
        ("s", 1.0, 2),
    ];
    let mut rest = text;
    let mut total = 0.0;
    let mut last_rank = None;
    while !rest.is_empty() {
        let digits = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(bad)?;
        let number: f64 = rest[..digits].parse().map_err(|_| bad())?;
        let after = &rest[digits..];
        // `ms` is tried before `m`; the rank keeps h, m, s, ms in decreasing size.
        let (unit, scale, order) = units
            .iter()
            .find(|(u, _, _)| after.starts_with(u))
            .ok_or_else(bad)?;
        if last_rank.is_some_and(|r| r >= *order) {
            return Err(bad());
        }
        last_rank = Some(*order);
        total += number * scale;
        rest = &after[unit.len()..];
    }
    seconds_to_duration(text, total)
}

/// A batch job's time limit (`submit --time`): a duration, or Slurm's `HH:MM:SS` / `D-HH:MM:SS`; above zero.
pub fn parse_time_limit(text: &str) -> Result<Duration, String> {
    let time = if text.contains(':') {
        let seconds = clock_seconds(text).ok_or_else(|| {
            format!("invalid time '{text}' (write e.g. 90m, 1h30m, 01:30:00 or 1-12:00:00)")
        })?;
        seconds_to_duration(text, seconds as f64)?
    } else {
        parse_duration(text)?
    };
    if time < Duration::from_secs(1) {
        return Err(format!("the time limit '{text}' must be at least 1s"));
    }
    Ok(time)
}

/// The seconds of `HH:MM:SS` or `D-HH:MM:SS` (minutes and seconds below 60); `None`
/// when malformed or beyond any sum a u64 holds.
fn clock_seconds(text: &str) -> Option<u64> {
    let (days, hms) = match text.split_once('-') {
        Some((days, hms)) => (number(days)?, hms),
        None => (0, text),
    };
    let parts: Vec<u64> = hms.split(':').map(number).collect::<Option<_>>()?;
    let [hours, minutes, seconds] = parts[..] else {
        return None;
    };
    if minutes >= 60 || seconds >= 60 {
        return None;
    }
    let hours = days.checked_mul(24)?.checked_add(hours)?;
    hours.checked_mul(3600)?.checked_add(minutes * 60 + seconds)
}

/// A whole number written only in ASCII digits (no sign, no blanks).
fn number(text: &str) -> Option<u64> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn seconds_to_duration(text: &str, seconds: f64) -> Result<Duration, String> {
    if seconds.is_nan() || seconds < 0.0 {
        return Err(format!(
            "invalid duration '{text}' (write e.g. 900s, 20m, 1h30m, 1.5s)"
        ));
    }
    if seconds > LONGEST.as_secs_f64() {
        return Err(format!(
            "duration '{text}' is too long (at most 100 years, {}s)",
            LONGEST.as_secs()
        ));
    }
    Ok(Duration::from_secs_f64(seconds))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(text: &str) -> f64 {
        parse_duration(text).unwrap().as_secs_f64()
    }

    #[test]
    fn units_combine_largest_first() {
        assert_eq!(secs("900s"), 900.0);
        assert_eq!(secs("20m"), 1200.0);
        assert_eq!(secs("1h30m"), 5400.0);
        assert_eq!(secs("1.5s"), 1.5);
        assert_eq!(secs("250ms"), 0.25);
        assert_eq!(secs("2m30s"), 150.0);
        assert_eq!(secs("42"), 42.0);
        assert_eq!(secs("0.5"), 0.5);
    }

    #[test]
    fn malformed_durations_are_refused() {
        for bad in [
            "", "s", "10x", "1m1h", "1s1s", "-5s", "-1", "1.2.3s", "h1", "NaN",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn durations_too_long_to_add_to_a_clock_are_refused_by_name() {
        for long in [
            "1e19",
            "inf",
            "1000000000000h",
            "876001h",
            "99999999999999999999s",
        ] {
            let message = parse_duration(long).unwrap_err();
            assert!(message.contains("too long"), "{long}: {message}");
            assert!(message.contains(long), "{long}: {message}");
        }
        assert_eq!(secs("876000h"), LONGEST.as_secs_f64());
    }

    #[test]
    fn time_limits_in_both_forms() {
        let secs = |t: &str| parse_time_limit(t).unwrap().as_secs();
        assert_eq!(secs("90m"), 5400);
        assert_eq!(secs("1h30m"), 5400);
        assert_eq!(secs("5400"), 5400);
        assert_eq!(secs("01:30:00"), 5400);
        assert_eq!(secs("1-12:00:00"), 129_600);
        assert_eq!(secs("00:01:00"), 60);
        for bad in [
            "0", "0s", "1:00", "1:60:00", "a:00:00", "1-1:2", "-1:00:00", "::", "1-",
        ] {
            assert!(parse_time_limit(bad).is_err(), "{bad} accepted");
        }
        for long in [
            "36501-00:00:00",
            "99999999999999999999:00:00",
            "876001:00:00",
        ] {
            let message = parse_time_limit(long).unwrap_err();
            assert!(
                message.contains("too long") || message.contains("invalid time"),
                "{message}"
            );
        }
        assert_eq!(secs("36500-00:00:00"), LONGEST.as_secs());
    }
}

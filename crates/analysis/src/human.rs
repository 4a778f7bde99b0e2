//! Numbers for people: thousands separators and durations in h/m/s, as the human
//! output of `plan` and `scale` rounds them (`--json` carries the unrounded values).
//! Counts are whole numbers and print every digit; only measured quantities round.

/// `value` rounded to `decimals`, with a comma between thousands: `1,120`, `0.81`.
pub fn number(value: f64, decimals: usize) -> String {
    if !value.is_finite() {
        return value.to_string();
    }
    let text = format!("{:.*}", decimals, value.abs());
    let (whole, fraction) = match text.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (text.as_str(), None),
    };
    let mut out = String::new();
    if value < 0.0 && text.bytes().any(|b| b.is_ascii_digit() && b != b'0') {
        out.push('-');
    }
    out.push_str(&grouped(whole));
    if let Some(fraction) = fraction {
        out.push('.');
        out.push_str(fraction);
    }
    out
}

/// A whole count with thousands separators, every digit exact (a count above 2^53 does
/// not fit a float).
pub fn count(value: u128) -> String {
    grouped(&value.to_string())
}

/// `digits` with a comma between thousands.
fn grouped(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A count and its noun, plural unless one: `1 key`, `3,000 keys`.
pub fn counted(n: u128, noun: &str) -> String {
    let s = if n == 1 { "" } else { "s" };
    format!("{} {noun}{s}", count(n))
}

/// `seconds` with a unit, to at most three decimals: `70 s`, `1.5 s`, `1,120 s`.
pub fn seconds(seconds: f64) -> String {
    let text = number(seconds, 3);
    let text = if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.')
    } else {
        &text
    };
    format!("{text} s")
}

/// `seconds` as the duration options write it (`18m40s`, `1h30m`, `1.5s`), rounded to
/// milliseconds.
pub fn duration(seconds: f64) -> String {
    let millis = (seconds * 1000.0).round() as u128;
    let (h, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (m, rest) = (rest / 60_000, rest % 60_000);
    let (s, ms) = (rest / 1000, rest % 1000);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if ms > 0 {
        let fraction = format!("{ms:03}");
        out.push_str(&format!("{s}.{}s", fraction.trim_end_matches('0')));
    } else if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_and_rounding() {
        assert_eq!(number(1120.0, 0), "1,120");
        assert_eq!(number(1234567.891, 2), "1,234,567.89");
        assert_eq!(number(0.8149, 3), "0.815");
        assert_eq!(number(-1500.0, 0), "-1,500");
        assert_eq!(number(-0.0001, 2), "0.00");
        assert_eq!(count(125), "125");
        assert_eq!(count(9_007_199_254_740_993), "9,007,199,254,740,993");
        assert_eq!(
            count(u128::MAX),
            "340,282,366,920,938,463,463,374,607,431,768,211,455"
        );
        assert_eq!(counted(1, "key"), "1 key");
        assert_eq!(counted(3000, "arrow"), "3,000 arrows");
        assert_eq!(seconds(70.0), "70 s");
        assert_eq!(seconds(1120.0), "1,120 s");
        assert_eq!(seconds(1.5), "1.5 s");
        assert_eq!(seconds(0.0), "0 s");
    }

    #[test]
    fn durations_read_like_the_options() {
        assert_eq!(duration(1120.0), "18m40s");
        assert_eq!(duration(5400.0), "1h30m");
        assert_eq!(duration(1.5), "1.5s");
        assert_eq!(duration(0.0), "0s");
        assert_eq!(duration(3661.25), "1h1m1.25s");
    }
}

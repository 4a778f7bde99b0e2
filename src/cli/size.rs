//! Sizes as `--memory-limit` writes them, and as reports print them: `512MiB`, `2GiB`, `1.5G`, `256MB`, or a bare
//! number of bytes.
//!
//! A file of its own, with no dependency beyond std, so that the fuzz crate can compile
//! it as it is (the command line is a binary, not a library).

/// A size such as `512MiB`, `2GiB`, `1.5G` or `1000000` (bytes). Binary and decimal
/// suffixes both mean what they say.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size such as 512MiB or 2GiB"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "kb" => 1e3,
        "m" | "mib" => 1024.0 * 1024.0,
        "mb" => 1e6,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "gb" => 1e9,
        "t" | "tib" => 1024.0f64.powi(4),
        "tb" => 1e12,
        _ => {
            return Err(format!(
                "'{text}': unknown size unit '{unit}' (use B, KiB, MiB, GiB, TiB, KB, MB, GB, TB)"
            ))
        }
    };
    let bytes = number * scale;
    if bytes < 1.0 {
        return Err(format!("'{text}' must be at least one byte"));
    }
    // 2^64 is exact as a float; `as` would saturate anything beyond it silently.
    if bytes >= 18_446_744_073_709_551_616.0 {
        return Err(format!(
            "'{text}' is more bytes than a 64-bit count can hold"
        ));
    }
    Ok(bytes as u64)
}

/// `1.5 MiB`: a size for people to read, in the binary units `--memory-limit` takes.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    match unit {
        0 => format!("{bytes} B"),
        _ => format!("{value:.1} {}", UNITS[unit]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_beyond_64_bits_are_refused() {
        assert!(parse_size("16EiB").is_err());
        assert!(parse_size("18446744073709551616")
            .unwrap_err()
            .contains("64-bit"));
        assert!(parse_size("99999999TiB").unwrap_err().contains("64-bit"));
        assert_eq!(parse_size("16000000TiB"), Ok(16000000 * (1u64 << 40)));
    }

    #[test]
    fn sizes_in_binary_and_decimal_units() {
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("1.5G"), Ok(3 << 29));
        assert_eq!(parse_size("256MB"), Ok(256_000_000));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("12 parsecs")
            .unwrap_err()
            .contains("unknown size unit"));
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn sizes_print_in_binary_units() {
        assert_eq!(format_size(0), "0 B");
        assert_eq!(format_size(1023), "1023 B");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size(256 << 20), "256.0 MiB");
    }
}

//! What a run under `--memory-limit` reports: the bytes of results it wrote to scratch
//! files and read back, on the progress bar and in the profile's summary, and how far
//! past the limit it went when nothing was left to write out.

use taskloom::exec::SpillCounts;

/// `1.5 MiB`: binary units, as `--memory-limit` takes them.
fn size(bytes: u64) -> String {
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

/// The progress bar's message: empty until something is written out.
pub fn message(counts: &SpillCounts) -> String {
    match counts.spilled() {
        0 => String::new(),
        spilled => format!(
            "(spilled {}, read back {})",
            size(spilled),
            size(counts.read_back())
        ),
    }
}

/// The profile's summary rows.
pub fn notes(counts: &SpillCounts) -> Vec<(&'static str, String)> {
    let mut notes = vec![
        (
            "bytes spilled past the memory limit",
            size(counts.spilled()),
        ),
        ("bytes read back", size(counts.read_back())),
    ];
    if counts.over_limit() > 0 {
        notes.push((
            "held past the memory limit (nothing left to spill)",
            size(counts.over_limit()),
        ));
    }
    notes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_binary_units() {
        assert_eq!(size(0), "0 B");
        assert_eq!(size(1023), "1023 B");
        assert_eq!(size(1536), "1.5 KiB");
        assert_eq!(size(256 << 20), "256.0 MiB");
    }
}

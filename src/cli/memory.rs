//! What a run under `--memory-limit` reports: the bytes of results it wrote to scratch
//! files and read back, on the progress bar and in the profile's summary, and how far
//! past the limit it went when nothing was left to write out.

use taskloom::exec::SpillCounts;

use super::size::format_size;

/// The progress bar's message: empty until something is written out.
pub fn message(counts: &SpillCounts) -> String {
    match counts.spilled() {
        0 => String::new(),
        spilled => format!(
            "(spilled {}, read back {})",
            format_size(spilled),
            format_size(counts.read_back())
        ),
    }
}

/// The profile's summary rows.
pub fn notes(counts: &SpillCounts) -> Vec<(&'static str, String)> {
    let mut notes = vec![
        (
            "bytes spilled past the memory limit",
            format_size(counts.spilled()),
        ),
        ("bytes read back", format_size(counts.read_back())),
    ];
    if counts.over_limit() > 0 {
        notes.push((
            "held past the memory limit (nothing left to spill)",
            format_size(counts.over_limit()),
        ));
    }
    notes
}

//! Durations (`--timeout`, `--task-timeout`, `plan --deadline`): no panic, and a duration
//! that parses, written back as seconds, parses to itself.

#![no_main]

use taskloom_fuzz::duration::parse_duration;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(duration) = parse_duration(text) else {
        return;
    };
    let seconds = duration.as_secs_f64();
    let again = parse_duration(&format!("{seconds}s"))
        .unwrap_or_else(|e| panic!("{text:?} parses as {seconds}s, which does not: {e}"));
    // Within a nanosecond, or the f64's own precision for long durations.
    let tolerance = 1e-9f64.max(seconds * 1e-15);
    assert!(
        (again.as_secs_f64() - seconds).abs() <= tolerance,
        "{text:?} is {seconds}s, which parses as {again:?}"
    );
});

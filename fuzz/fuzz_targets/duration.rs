//! Durations (`--timeout`, `--task-timeout`, `plan --deadline`) and time limits
//! (`submit --time`): no panic, a duration that parses, written back as seconds, parses
//! to itself, and a time limit of whole seconds, written back as `D-HH:MM:SS`, too.

#![no_main]

use std::time::Duration;

use taskloom_fuzz::duration::{parse_duration, parse_time_limit};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    time_limit_round_trip(text);
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

fn time_limit_round_trip(text: &str) {
    let Ok(limit) = parse_time_limit(text) else {
        return;
    };
    assert!(
        limit >= Duration::from_secs(1),
        "{text:?} is a limit under 1s"
    );
    if limit.subsec_nanos() > 0 {
        return;
    }
    let s = limit.as_secs();
    let clock = format!(
        "{}-{:02}:{:02}:{:02}",
        s / 86_400,
        s / 3600 % 24,
        s / 60 % 60,
        s % 60
    );
    let again = parse_time_limit(&clock)
        .unwrap_or_else(|e| panic!("{text:?} is the limit {clock}, which does not parse: {e}"));
    assert_eq!(
        again, limit,
        "{text:?} is {clock}, which parses as {again:?}"
    );
}

//! Sizes (`array --memory-limit`): no panic; a size that parses is at least a byte, and
//! its count of bytes, written back, parses to itself.

#![no_main]

use taskloom_fuzz::size::parse_size;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(bytes) = parse_size(text) else {
        return;
    };
    assert!(bytes >= 1, "{text:?} parses as {bytes} bytes");
    assert_eq!(parse_size(&bytes.to_string()), Ok(bytes), "{text:?}");
});

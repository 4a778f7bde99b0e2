//! The binary graph form, from damaged and made-up files: no panic, and a file that
//! reads is written back byte for byte and means the same graph in the JSON form
//! (`graph_forms::check_binary`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| taskloom_fuzz::graph_forms::check_binary(data));

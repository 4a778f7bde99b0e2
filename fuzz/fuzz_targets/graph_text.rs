//! The graph file parser, from inputs in the text form: no panic, and a graph that
//! parses round-trips through both forms (`graph_forms::check`).

#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| taskloom_fuzz::graph_forms::check(data));

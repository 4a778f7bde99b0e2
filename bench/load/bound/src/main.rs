//! `load_bound FILE [REPEAT]`: the least a JSON loader pays once the file's bytes are
//! in memory: simd-json's tape (a flat list of tokens, strings unescaped in place,
//! nothing built: its fastest interface) of FILE, with its buffers and tape reused
//! from an untimed first run, so that no fresh memory is touched. Prints the median
//! seconds of REPEAT runs (default 5) as `{"tokenize": S, "tokens": N}`.

use std::time::Instant;

use simd_json::{fill_tape, Buffers, Tape};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let file = args.get(1).expect("usage: load_bound FILE [REPEAT]");
    let repeat: usize = args.get(2).map_or(5, |r| r.parse().expect("REPEAT"));
    let bytes = std::fs::read(file).expect("read the file");
    let mut buffers = Buffers::new(bytes.len());
    let mut kept: Tape<'static> = Tape::null();
    let mut copy = bytes.clone();
    let mut times = Vec::new();
    let mut tokens = 0;
    for run in 0..=repeat {
        // simd-json unescapes in place: each run tokenizes a fresh copy (not timed).
        copy.copy_from_slice(&bytes);
        let mut tape = kept.reset();
        let start = Instant::now();
        fill_tape(&mut copy, &mut buffers, &mut tape).expect("valid JSON");
        if run > 0 {
            times.push(start.elapsed().as_secs_f64());
        }
        tokens = tape.0.len();
        kept = tape.reset();
    }
    times.sort_by(f64::total_cmp);
    println!(
        "{{\"tokenize\": {:.6}, \"tokens\": {tokens}}}",
        times[times.len() / 2]
    );
}

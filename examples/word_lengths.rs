//! A map-reduce with ops of your own, registered by name.
//!
//! Run with `cargo run --example word_lengths`. Each word's length is a task of the
//! user op `char_count` (map); `sum` and `max` reduce them. The graph refers to the op
//! by name, so the same graph could run wherever a runtime registers that name.

use taskloom::{Arg, Builder, Delayed, Runtime, Threads};

fn main() -> Result<(), taskloom::Error> {
    let mut runtime = Runtime::new().with_executor(Threads::new(2));
    runtime.register_fn1("char_count", |word: String| word.chars().count() as i64);

    let text = "the quick brown fox jumps over the lazy dog";
    let g = Builder::new();
    let lengths: Vec<Delayed<i64>> = text
        .split_whitespace()
        .map(|w| g.call("char_count", (w,)))
        .collect();
    let total: Delayed<i64> = g.call("sum", (Arg::list(&lengths),));
    let longest: Delayed<i64> = g.call("max", (Arg::list(&lengths),));

    println!(
        "{} words, {} letters, the longest has {}",
        lengths.len(),
        total.compute_on(&runtime)?,
        longest.compute_on(&runtime)?
    );
    Ok(())
}

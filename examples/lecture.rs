//! The lecture example in Rust: `x = add(2, 3)`, `y = add(x, 3)`.
//!
//! Run with `cargo run --example lecture`. Building the graph computes nothing; asking
//! for `y` runs `x` then `y`, on a thread pool.

use taskloom::{Builder, Delayed};

fn main() -> Result<(), taskloom::Error> {
    let g = Builder::new();
    let x: Delayed<i64> = g.call("add", (2, 3));
    let y: Delayed<i64> = g.call("add", (&x, 3));
    println!("y = {}", y.compute()?);
    Ok(())
}

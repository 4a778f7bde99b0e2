//! The scheduler core's tests, in one binary: driven by hand with every decision
//! checked (`scheduler`), driven at random against a simulated pool that computes real
//! values (`scheduler_props`), and the simulator (`simulate`).

mod scheduler;
mod scheduler_props;
mod simulate;

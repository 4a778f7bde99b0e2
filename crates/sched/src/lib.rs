//! The scheduler core: which tasks a run needs, in what priority, and when each result
//! may be released. It holds no threads, sockets or clocks; executors drive it.

mod plan;

pub use plan::Plan;

//! The scheduler core: which tasks a run needs, in what priority, and when each result
//! may be released (`Plan`), and the event-driven core that places tasks on workers
//! holding results of their own (`Scheduler`). No threads, sockets or clocks here:
//! executors drive it.

mod plan;
mod scheduler;

pub use plan::Plan;
pub use scheduler::{Decision, Event, Failure, Scheduler, Status, WorkerId};

//! The scheduler core: which tasks a run needs, in what priority, and when each result
//! may be released (`Plan`), and the event-driven core that places tasks on workers
//! holding results of their own (`Scheduler`). No threads, sockets or clocks here:
//! executors drive it, and so does `simulate`, against a simulated clock, to compare
//! scheduling policies (`Policy`) on task costs from a `Workload`.

mod plan;
mod policy;
mod scheduler;
mod simulate;
mod workload;

pub use plan::Plan;
pub use policy::Policy;
pub use scheduler::{Decision, Event, Failure, Scheduler, Status, WorkerId};
pub use simulate::{simulate, Machine, Outcome};
pub use workload::Workload;

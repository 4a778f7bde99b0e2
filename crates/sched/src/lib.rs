//! The scheduler core: which tasks a run needs, in what priority, and when each result
//! may be released (`Plan`), and the event-driven core that places tasks on workers
//! holding results of their own, and moves those results between them (`Scheduler`,
//! speaking the typed `Event`s and `Decision`s of `messages`). No threads, sockets or
//! clocks here: the process executor drives it, and so does `simulate`, against a
//! simulated clock, to compare scheduling policies (`Policy`) on task costs from a
//! `Workload`.
//!
//! What the simulator models: the core's own decisions, task durations, one task at a
//! time per worker, each transfer as a fixed cost on the receiving worker's link,
//! overlapping computation, as the executors carry transfers out, and optionally the
//! driver's time per decision and each message's latency. What it does not: task
//! failures and lost workers, bandwidth that depends on result sizes, or contention
//! between workers for memory and cores.

mod loads;
mod messages;
mod placement;
mod plan;
mod policy;
mod ready;
mod scheduler;
mod simulate;
mod workload;

pub use messages::{Decision, Event, Failure, Status, WorkerId};
pub use plan::Plan;
pub use policy::Policy;
pub use scheduler::Scheduler;
pub use simulate::{simulate, Machine, Outcome};
pub use workload::Workload;

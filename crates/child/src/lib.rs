//! Child processes, started and ended one way for every part of taskloom that has
//! them: `taskloom map`'s items, the process executor's workers and the process
//! pool's workers.
//!
//! - A child either leads a process group of its own ([`Group::Own`]: a command and
//!   whatever it starts, signalled as one), or stays in ours and dies with us
//!   ([`Group::Parent`]: a worker; Ctrl-C at the terminal reaches it as it reaches
//!   us, and PR_SET_PDEATHSIG on Linux sends it SIGTERM should we die without ending
//!   it, which a worker answers by ending its shell commands and exiting).
//! - A child is signalled only until it is reaped: up to then its pid, which is also
//!   its group's id, cannot be reused, so a signal never reaches an unrelated process.
//! - Ending a child politely is SIGTERM, then SIGKILL after [`KILL_GRACE`].
//! - Reaping kills what is left (the rest of its group, or a child that must end now)
//!   and waits; dropping a child that was not reaped kills and reaps it, so that no
//!   child outlives its owner.
//! - [`Interrupts`] turns every signal that asks us to end (SIGINT, SIGTERM, SIGHUP,
//!   SIGQUIT, ...) into a readable socket, so that a poll loop ends its children
//!   before it exits (no orphan after Ctrl-C, a hangup or a `kill`).
//! - [`describe`] and [`signal_name`] say how a child ended, the same way everywhere.
//!
//! This crate sits below both `taskloom-exec` and `taskloom-map`: neither needs the
//! other, and both need exactly this.

mod child;
mod ending;
mod interrupt;

pub use child::{Child, Group, Pipes, KILL_GRACE};
pub use ending::{describe, signal_name};
pub use interrupt::Interrupts;

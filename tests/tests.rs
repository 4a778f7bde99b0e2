//! Every integration test of the `taskloom` crate, in one test binary: each binary
//! costs a link, so areas are modules here, not files of their own in `tests/`.
//!
//! - `cli`: the command, end to end, through the one harness (`harness`).
//! - `api`: the library's public API, in process.
//! - A new area is a directory with a `mod.rs`, listed here; a file put directly in
//!   `tests/` would become a binary of its own.

mod api;
mod cli;
mod harness;

//! Every integration test of taskloom-graph, in one test binary: each binary costs a
//! link, so areas are modules here (a directory with a `mod.rs` each), not files of
//! their own in `tests/`.

mod binary;
mod parse_parts;
mod parse_props;
mod sources;

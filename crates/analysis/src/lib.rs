//! Seeing parallelism: the arithmetic, measurements and pictures behind `taskloom plan`,
//! `scale`, `graph --format svg` and the profiles of `run --profile/--trace`. Pure
//! functions over numbers and graphs, and the one protocol that times runs
//! ([`measure()`]); the command line parses options and prints.

pub mod capacity;
pub mod dag_svg;
pub mod human;
pub mod laws;
pub mod measure;
pub mod plot;
pub mod scaling;
pub mod timeline;

pub use capacity::{plan, Capacity, PlanError, Request};
pub use measure::{measure, Measurement};
pub use scaling::{AmdahlFit, Point, Scaling};

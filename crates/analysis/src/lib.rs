//! Seeing parallelism: the arithmetic and pictures behind `taskloom plan`, `scale`,
//! `graph --format svg` and the profiles of `run --profile/--trace`. Pure functions over numbers and graphs; the command line
//! parses options, measures and prints.

pub mod capacity;
pub mod dag_svg;
pub mod human;
pub mod laws;
pub mod plot;
pub mod scaling;
pub mod timeline;

pub use capacity::{plan, Capacity, PlanError, Request};
pub use scaling::{AmdahlFit, Point, Scaling};

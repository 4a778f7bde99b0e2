//! What the fuzz targets share: the parsers that live in the command-line binary, and
//! the models the targets check the parsers against.
//!
//! - Every parser of user text has a target in `fuzz_targets/`, named after it; each
//!   asserts that no input panics, and where the parser has an invariant, that it holds.
//! - The duration and size parsers belong to the `taskloom` binary (`src/cli`), which no
//!   crate can depend on; they are files of their own with no dependency beyond std, so
//!   they are compiled here as they are (`#[path]`), the very code the binary runs.
//! - `graph_forms` writes a parsed graph back in every form, for round trips;
//!   `index_model` is NumPy's basic indexing done again in 128-bit arithmetic.

#[path = "../../src/cli/duration.rs"]
pub mod duration;
pub mod graph_forms;
pub mod index_model;
#[path = "../../src/cli/size.rs"]
pub mod size;

//! The `taskloom` command, end to end: one module per subcommand or concern, each
//! running the real binary through `crate::harness` (contracts: `docs/spec/`).

mod array;
mod array_errors;
#[cfg(feature = "mpi")]
mod array_mpi;
mod array_ops;
mod array_options;
mod array_random;
mod array_robust;
mod batch;
mod batch_slurm;
mod batch_stand_ins;
mod browser_profile;
mod checkpoint;
mod convert;
mod errors;
mod graph;
mod graph_input;
mod graph_svg;
mod map;
mod map_items;
mod map_mpi;
mod map_parallel;
mod map_signals;
#[cfg(feature = "mpi")]
mod mpi;
#[cfg(feature = "mpi")]
mod mpi_faults;
#[cfg(feature = "mpi")]
mod mpi_random;
mod plan;
mod processes;
mod profile;
mod progress;
mod robustness;
mod run;
mod run_limits;
mod scale;
mod simulate;
mod spill;

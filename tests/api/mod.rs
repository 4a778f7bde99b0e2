//! The library's public API, in process: executors, memory release, pools and
//! checkpoints; and the MPI executor, under mpirun.

mod checkpoint;
mod executors_agree;
mod memory;
#[cfg(feature = "mpi")]
mod mpi;
mod pool;
mod pool_crash;
mod source_limit;

//! The library's public API, in process: executors, memory release, pools and
//! checkpoints.

mod checkpoint;
mod executors_agree;
mod memory;
mod pool;
mod pool_crash;
mod source_limit;

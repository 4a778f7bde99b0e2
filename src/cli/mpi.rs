//! `--executor mpi`: the MPI executor when taskloom is built with the `mpi` feature,
//! and a clear refusal when it is not.
//!
//! - Every rank runs the same command line. The worker ranks (all but rank 0) serve
//!   rank 0 from inside [`executor`] and exit there, before reading the graph or
//!   checking any output file, so that only rank 0 reads, prints and fails.
//! - A command line that cannot be parsed fails on every rank: only rank 0 says why
//!   ([`worker_rank`], from the launcher's environment, as MPI is not started yet).

use taskloom::exec::{Limits, Observers};
use taskloom::Executor;

use super::CommandError;

/// The environment variables in which MPI launchers give a process its rank: Open
/// MPI's `mpirun`, PMIx (`srun --mpi=pmix`, Open MPI 5) and PMI (MPICH, Intel MPI).
const RANK_VARIABLES: [&str; 3] = ["OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"];

/// Whether an MPI launcher started this process as a rank other than 0.
pub fn worker_rank() -> bool {
    RANK_VARIABLES
        .iter()
        .any(|name| std::env::var(name).is_ok_and(|rank| rank.trim() != "0"))
}

/// The MPI executor, `workers` task threads per rank; on ranks other than 0 this
/// serves rank 0 and exits.
#[cfg(feature = "mpi")]
pub fn executor(
    workers: usize,
    observers: Observers,
    limits: Limits,
) -> Result<Box<dyn Executor + Send + Sync>, CommandError> {
    let mpi = taskloom::Mpi::init()?
        .threads(workers)
        .observed(observers)
        .limited(limits);
    let mpi = taskloom::serve_mpi_worker_if_rank_nonzero(&taskloom::Runtime::new(), mpi);
    Ok(Box::new(mpi))
}

/// Without the `mpi` feature: the refusal, from rank 0 only.
#[cfg(not(feature = "mpi"))]
pub fn executor(
    _workers: usize,
    _observers: Observers,
    _limits: Limits,
) -> Result<Box<dyn Executor + Send + Sync>, CommandError> {
    let refusal = CommandError::Usage(
        "--executor mpi: this taskloom was built without MPI; build it with \
         `cargo build --release --features mpi` (Debian: openmpi-bin libopenmpi-dev \
         libclang-dev pkg-config)"
            .into(),
    );
    if worker_rank() {
        std::process::exit(refusal.exit_code())
    }
    Err(refusal)
}

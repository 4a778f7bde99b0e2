//! `--executor mpi`: the MPI executor when taskloom is built with the `mpi` feature,
//! and a clear refusal when it is not.
//!
//! - Every rank runs the same command line. The worker ranks (all but rank 0) serve
//!   rank 0 from inside [`executor`] and exit there, before reading the graph or
//!   checking any output file, so that only rank 0 reads, prints and fails.
//! - A command line that cannot be parsed fails on every rank: only rank 0 says why
//!   ([`worker_rank`], from the launcher's environment, as MPI is not started yet).
//! - `array` builds its executor per job (its threads follow the memory limit): it
//!   starts MPI with [`rank_zero`], whose worker ranks serve the `array.*` ops, and
//!   runs its job with [`run_array_job`].

use taskloom::array::{ArrayError, Job};
use taskloom::exec::{Limits, MemoryLimit, Observers};
use taskloom::graph::{Chunk, Registry};
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

/// On a worker rank, ends the process at once, with 0, leaving to rank 0 a refusal that
/// every rank meets alike (they parse the same command line): rank 0 alone says it, and
/// its code is the job's. Not with the refusal's code: a rank that ends non-zero makes
/// the launcher end the others, rank 0 among them, maybe before it has said anything.
pub fn leave_refusal_to_rank_zero() {
    if worker_rank() {
        std::process::exit(0)
    }
}

/// The MPI executor, `workers` task threads per rank; on ranks other than 0 this
/// serves rank 0 and exits.
#[cfg(feature = "mpi")]
pub fn executor(
    workers: usize,
    observers: Observers,
    limits: Limits,
    memory: Option<MemoryLimit>,
) -> Result<Box<dyn Executor + Send + Sync>, CommandError> {
    let mut mpi = rank_zero(workers, taskloom::Runtime::new().registry())?
        .observed(observers)
        .limited(limits);
    if let Some(memory) = memory {
        mpi = mpi.memory_limit(memory);
    }
    Ok(Box::new(mpi))
}

/// Without the `mpi` feature: the refusal, from rank 0 only.
#[cfg(not(feature = "mpi"))]
pub fn executor(
    _workers: usize,
    _observers: Observers,
    _limits: Limits,
    _memory: Option<MemoryLimit>,
) -> Result<Box<dyn Executor + Send + Sync>, CommandError> {
    Err(refusal())
}

/// Rank 0's MPI executor, `workers` task threads per rank; on ranks other than 0 this
/// serves rank 0 with `registry`'s ops and exits.
#[cfg(feature = "mpi")]
pub fn rank_zero(workers: usize, registry: &Registry) -> Result<Mpi, CommandError> {
    let mpi = Mpi::init()?.threads(workers);
    if mpi.rank() != 0 {
        std::process::exit(mpi.serve(registry));
    }
    Ok(mpi)
}

/// Without the `mpi` feature: the refusal, from rank 0 only.
#[cfg(not(feature = "mpi"))]
pub fn rank_zero(_workers: usize, _registry: &Registry) -> Result<Mpi, CommandError> {
    Err(refusal())
}

/// Rank 0's MPI executor (`taskloom::Mpi`).
#[cfg(feature = "mpi")]
pub use taskloom::Mpi;

/// No MPI executor exists in a build without MPI ([`rank_zero`] refuses).
#[cfg(not(feature = "mpi"))]
pub enum Mpi {}

/// Runs an array job on the ranks: rank 0 plans (`job.workers()` tasks at once per
/// rank), every rank reads and writes its chunks, and a failure returns once no rank
/// writes any more, so the job's clean-up is the last word.
pub fn run_array_job(
    mpi: Mpi,
    job: Job,
    observers: Observers,
) -> Result<Option<Chunk>, ArrayError> {
    #[cfg(feature = "mpi")]
    {
        let mpi = mpi
            .threads(job.workers())
            .observed(observers)
            .limited(job.limits())
            .memory_limit(job.memory_limit().clone())
            .settle_on_failure();
        job.run_on(&mpi)
    }
    #[cfg(not(feature = "mpi"))]
    {
        let _ = (job, observers);
        match mpi {}
    }
}

/// The refusal of `--executor mpi` by a build without MPI, which rank 0 alone says.
#[cfg(not(feature = "mpi"))]
pub fn refusal() -> CommandError {
    let refusal = CommandError::Usage(
        "--executor mpi: this taskloom was built without MPI; build it with \
         `cargo build --release --features mpi` (Debian: openmpi-bin libopenmpi-dev \
         libclang-dev pkg-config)"
            .into(),
    );
    leave_refusal_to_rank_zero();
    refusal
}

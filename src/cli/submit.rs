//! `taskloom submit`: run a taskloom command as a batch job (Slurm, LSF or PBS).
//!
//! - The command after `--` is `run`, `map` or `array`, as it would be typed; submit
//!   adds what the job needs right after its subcommand: `--executor mpi` when the job
//!   has more than one rank (one rank runs the command's own executor, so a job works
//!   with a build without MPI), `--workers C` (`-j C` for map) for `--cores-per-rank`,
//!   `--checkpoint DIR`, and for `run` a `--progress-file` that `jobs` reads. An option
//!   the command already has is left as the user wrote it.
//! - The script is [`batch::script`]; `--dry-run` prints it and submits nothing.
//! - The job is recorded under `.taskloom/jobs/` (see `batch::record`) and its id
//!   printed, as sbatch --parsable prints it.

use std::path::{Path, PathBuf};
use std::time::Duration;

use super::batch::record::{self, Record, BATCH_OUTPUT, PROGRESS, SCRIPT};
use super::batch::{script, Kind, Resources};
use super::duration::parse_time_limit;
use super::{CommandError, Outcome};

/// How long before its time limit a job is warned (SIGUSR1), so that the run stops,
/// lets running tasks end and flushes its checkpoint: a minute, Slurm's own
/// resolution for `--signal`, and at most half the limit.
pub const GRACE: Duration = Duration::from_secs(60);

/// The subcommands a job may run.
const SUBCOMMANDS: [&str; 3] = ["run", "map", "array"];

/// Arguments of `taskloom submit`.
#[derive(clap::Args)]
#[command(after_help = "\
Examples:
  taskloom submit --nodes 2 --ranks-per-node 4 --cores-per-rank 8 --time 2h -- run graph.json
  taskloom submit --time 1:00:00 --checkpoint ckpt --dry-run -- run graph.json --get total

The job runs in this directory; its output, progress and exit code are kept under
.taskloom/jobs/ for taskloom jobs, peek, cancel and wait. With --time, the run gets
SIGUSR1 before the limit and exits 138; with --checkpoint the job is then requeued.

Exit status: 0 when submitted (the id is printed); 2 for options refused or no batch
system found; 1 when the batch system refused the job.")]
pub struct SubmitArgs {
    /// Nodes to allocate.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    nodes: u32,
    /// MPI ranks on each node (more than one rank in all runs with --executor mpi).
    #[arg(long, value_name = "R", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    ranks_per_node: u32,
    /// Cores for each rank, its worker threads [default: whole nodes, every core].
    #[arg(long, value_name = "C", value_parser = clap::value_parser!(u32).range(1..=4096))]
    cores_per_rank: Option<u32>,
    /// Time limit: 90m, 1h30m, 5400 (seconds) or HH:MM:SS, D-HH:MM:SS. The run is warned
    /// with SIGUSR1 a minute before (half the limit if shorter).
    #[arg(long, value_name = "T", value_parser = parse_time_limit)]
    time: Option<Duration>,
    /// The job's name in the queue.
    #[arg(long, default_value = "taskloom", value_parser = parse_name)]
    name: String,
    /// Keep finished results in DIR: a job stopped before its time limit is requeued and
    /// resumes from them.
    #[arg(long, value_name = "DIR")]
    checkpoint: Option<PathBuf>,
    /// The batch system [default: the one found on PATH: sbatch, bsub, then qsub].
    #[arg(long, value_enum)]
    batch: Option<Kind>,
    /// Print the batch script and submit nothing.
    #[arg(long)]
    dry_run: bool,
    /// The taskloom command to run: run, map or array with their arguments.
    #[arg(last = true, required = true, value_name = "COMMAND")]
    command: Vec<String>,
}

pub fn submit(args: SubmitArgs) -> Outcome {
    if !SUBCOMMANDS.contains(&args.command[0].as_str()) {
        return Err(CommandError::Usage(format!(
            "a job runs taskloom run, map or array, not '{}' (write e.g. taskloom submit -- run graph.json)",
            args.command[0]
        )));
    }
    let kind = match args.batch {
        Some(kind) => kind,
        None => Kind::find()?,
    };
    let system = kind.system();
    let here = record::submit_dir()?;
    let dir = if args.dry_run {
        here.join(record::JOBS).join("DRY-RUN")
    } else {
        Record::new_dir(&here)?
    };
    let resources = Resources {
        name: args.name.clone(),
        nodes: args.nodes,
        ranks_per_node: args.ranks_per_node,
        cores_per_rank: args.cores_per_rank,
        time: args.time,
        grace: args.time.map_or(GRACE, |t| GRACE.min(t / 2)),
        requeue: args.checkpoint.is_some(),
        batch_output: dir.join(BATCH_OUTPUT),
    };
    let command = job_command(&args, resources.ranks(), &dir)?;
    let text = script::script(system, &resources, &here, &dir, &command);
    if args.dry_run {
        return Ok(text);
    }
    submit_script(kind, &dir, &text, &args.name, command).map(|id| id + "\n")
}

/// Writes the script, submits it and records the job; returns its id. A job that
/// could not be submitted leaves no directory behind.
fn submit_script(
    kind: Kind,
    dir: &Path,
    text: &str,
    name: &str,
    command: Vec<String>,
) -> Result<String, CommandError> {
    use std::os::unix::fs::PermissionsExt;
    let path = dir.join(SCRIPT);
    let written = std::fs::write(&path, text)
        .and_then(|()| std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)));
    let submitted = written
        .map_err(|source| CommandError::Unwritable {
            path: path.clone(),
            source,
        })
        .and_then(|()| Ok(kind.system().submit(&path)?));
    let id = submitted.inspect_err(|_| {
        let _ = std::fs::remove_dir_all(dir);
    })?;
    let record = Record {
        id: id.clone(),
        batch: kind.name().to_string(),
        name: name.to_string(),
        submitted: record::now(),
        command,
        dir: dir.to_path_buf(),
    };
    // The job is in the queue whatever happens to its record: its id is printed.
    record
        .save()
        .map_err(|e| CommandError::from(e).after_results(format!("{id}\n")))?;
    Ok(id)
}

/// The whole command line the job runs: this taskloom, the subcommand, what the job
/// needs (see the module header), then the user's arguments.
fn job_command(args: &SubmitArgs, ranks: u32, dir: &Path) -> Result<Vec<String>, CommandError> {
    let program = std::env::current_exe()
        .map_err(|e| CommandError::Usage(format!("cannot find the taskloom program: {e}")))?;
    let (subcommand, rest) = args.command.split_first().expect("clap requires a command");
    // What the job could not do is refused here, not found in its output later.
    if args.checkpoint.is_some() && subcommand != "run" {
        return Err(CommandError::Usage(format!(
            "--checkpoint: only run keeps a checkpoint, not {subcommand}{}",
            if subcommand == "map" {
                " (map resumes from its own log: --results FILE --resume)"
            } else {
                ""
            }
        )));
    }
    // Options end where a command of map's own begins.
    let own = rest.split(|w| w == "--").next().unwrap_or(&[]);
    // `--name`, `--name=V`, `-n`, `-nV`.
    let given = |word: &str, name: &str| match name.strip_prefix("--") {
        Some(_) => word == name || word.starts_with(&format!("{name}=")),
        None => word.starts_with(name) && !word.starts_with("--"),
    };
    let has = |names: &[&str]| own.iter().any(|w| names.iter().any(|n| given(w, n)));
    let mut command = vec![program.display().to_string(), subcommand.clone()];
    let mut add = |words: &[&str]| command.extend(words.iter().map(|w| w.to_string()));
    if ranks > 1 && !has(&["--executor"]) {
        add(&["--executor", "mpi"]);
    }
    if let Some(cores) = args.cores_per_rank {
        let cores = cores.to_string();
        match subcommand.as_str() {
            "map" if !has(&["-j", "--jobs"]) => add(&["-j", &cores]),
            "run" | "array" if !has(&["-w", "--workers"]) => add(&["--workers", &cores]),
            _ => {}
        }
    }
    if let Some(checkpoint) = &args.checkpoint {
        add(&["--checkpoint", &checkpoint.display().to_string()]);
    }
    if subcommand == "run" {
        add(&["--progress-file", &dir.join(PROGRESS).display().to_string()]);
    }
    command.extend(rest.iter().cloned());
    Ok(command)
}

/// `--name`: one word every batch system takes in its script unquoted.
fn parse_name(text: &str) -> Result<String, String> {
    let fits = |b: u8| b.is_ascii_alphanumeric() || b"._-".contains(&b);
    if text.is_empty() || text.len() > 64 || !text.bytes().all(fits) {
        return Err(format!(
            "invalid job name '{text}' (letters, digits, '.', '_' and '-', at most 64)"
        ));
    }
    Ok(text.to_string())
}

//! The record of each job submitted from a directory: `.taskloom/jobs/JOB/` under it.
//!
//! - Under the submit directory, not in `$HOME` or an XDG state directory: the batch
//!   system starts the job there, so it is the one place both the login node and every
//!   compute node see (a shared filesystem); it is where users look for a job's output
//!   (as for Slurm's `slurm-ID.out`), and projects side by side keep their jobs apart.
//! - A job's directory is made before it is submitted (its name is the time and our
//!   pid, since the id is known only after), and holds the script, the job's output,
//!   what the job writes about itself ([`STARTED`], [`PROGRESS`], [`EXIT`]) and
//!   [`RECORD`], written atomically once the batch system has given the id.
//! - Every file the job writes is written beside and renamed, so a reader never sees
//!   half of one.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use super::{BatchError, Kind};

/// Where records live, under the submit directory.
pub const JOBS: &str = ".taskloom/jobs";
/// The record itself: id, batch system, name, submit time, command.
pub const RECORD: &str = "record.json";
/// The script as submitted.
pub const SCRIPT: &str = "job.sh";
/// The job's standard output and error (appended to by each start of the job).
pub const STDOUT: &str = "stdout";
pub const STDERR: &str = "stderr";
/// What the batch system itself writes for the job (before the script redirects).
pub const BATCH_OUTPUT: &str = "batch.out";
/// The Unix time the job last started.
pub const STARTED: &str = "started";
/// `DONE TOTAL`: tasks finished and tasks to run, as `run --progress-file` writes it.
pub const PROGRESS: &str = "progress";
/// The command's exit code, written when it ended (not when the job was requeued).
pub const EXIT: &str = "exit";
/// Present once `taskloom cancel` asked for the job to end.
pub const CANCELLED: &str = "cancelled";

/// A submitted job.
#[derive(Debug, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub batch: String,
    pub name: String,
    /// Unix time of the submission.
    pub submitted: u64,
    pub command: Vec<String>,
    /// The directory holding the record.
    #[serde(skip)]
    pub dir: PathBuf,
}

impl Record {
    /// A new job directory under `base` (absolute), not yet holding a record.
    pub fn new_dir(base: &Path) -> Result<PathBuf, BatchError> {
        let jobs = base.join(JOBS);
        let dir = jobs.join(format!("{}-{}", now(), std::process::id()));
        std::fs::create_dir_all(&jobs)
            .and_then(|()| std::fs::create_dir(&dir))
            .map_err(|source| BatchError::Record {
                path: dir.clone(),
                source,
            })?;
        Ok(dir)
    }

    /// Writes the record into its directory.
    pub fn save(&self) -> Result<(), BatchError> {
        let text = serde_json::to_string(self).expect("a record is plain data") + "\n";
        write_atomically(&self.dir.join(RECORD), text.as_bytes()).map_err(|source| {
            BatchError::Record {
                path: self.dir.join(RECORD),
                source,
            }
        })
    }

    /// Every job submitted from `base`, oldest first.
    pub fn all(base: &Path) -> Result<Vec<Record>, BatchError> {
        let jobs = base.join(JOBS);
        let entries = match std::fs::read_dir(&jobs) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => return Err(BatchError::Record { path: jobs, source }),
        };
        let mut records = Vec::new();
        for entry in entries.flatten() {
            let dir = entry.path();
            // A directory without a record is a submission that failed or is under way.
            let Ok(text) = std::fs::read_to_string(dir.join(RECORD)) else {
                continue;
            };
            let mut record: Record =
                serde_json::from_str(&text).map_err(|e| BatchError::Record {
                    path: dir.join(RECORD),
                    source: io::Error::new(io::ErrorKind::InvalidData, e),
                })?;
            record.dir = dir;
            records.push(record);
        }
        records.sort_by(|a, b| (a.submitted, &a.dir).cmp(&(b.submitted, &b.dir)));
        Ok(records)
    }

    /// The latest job submitted from `base` with this id.
    pub fn find(base: &Path, id: &str) -> Result<Record, BatchError> {
        Record::all(base)?
            .into_iter()
            .rev()
            .find(|r| r.id == id)
            .ok_or_else(|| BatchError::UnknownJob(id.to_string()))
    }

    /// The batch system the job was submitted to.
    pub fn kind(&self) -> Result<Kind, BatchError> {
        Kind::from_name(&self.batch).ok_or_else(|| BatchError::Record {
            path: self.dir.join(RECORD),
            source: io::Error::new(
                io::ErrorKind::InvalidData,
                format!("unknown batch system '{}'", self.batch),
            ),
        })
    }

    /// A file of the job's directory.
    pub fn file(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    /// The command's exit code, once it ended.
    pub fn exit_code(&self) -> Option<i32> {
        self.read(EXIT)?.trim().parse().ok()
    }

    /// Seconds since the job last started, up to its end when it ended.
    pub fn elapsed(&self) -> Option<u64> {
        let started: u64 = self.read(STARTED)?.trim().parse().ok()?;
        let end = std::fs::metadata(self.file(EXIT))
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map_or_else(now, |d| d.as_secs());
        Some(end.saturating_sub(started))
    }

    /// Tasks done and tasks in all, as the run last wrote them.
    pub fn progress(&self) -> Option<(u64, u64)> {
        let text = self.read(PROGRESS)?;
        let mut numbers = text.split_whitespace().map(str::parse);
        match (numbers.next(), numbers.next()) {
            (Some(Ok(done)), Some(Ok(total))) => Some((done, total)),
            _ => None,
        }
    }

    /// Whether `taskloom cancel` asked for the job to end.
    pub fn cancelled(&self) -> bool {
        self.file(CANCELLED).exists()
    }

    /// Notes that the job was asked to end.
    pub fn mark_cancelled(&self) -> Result<(), BatchError> {
        write_atomically(&self.file(CANCELLED), b"").map_err(|source| BatchError::Record {
            path: self.file(CANCELLED),
            source,
        })
    }

    fn read(&self, name: &str) -> Option<String> {
        std::fs::read_to_string(self.file(name)).ok()
    }
}

/// The directory commands run in: jobs are submitted from it and recorded under it.
pub fn submit_dir() -> Result<PathBuf, BatchError> {
    std::env::current_dir().map_err(|source| BatchError::Record {
        path: PathBuf::from("."),
        source,
    })
}

/// The Unix time now, in seconds.
pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Writes `bytes` to a file beside `path`, then renames it over `path`.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::Builder::new()
        .prefix(".record.")
        .tempfile_in(dir)?;
    io::Write::write_all(&mut tmp, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

//! `taskloom jobs`, `peek`, `cancel` and `wait`: the jobs `taskloom submit` sent from
//! this directory, as `squeue`/`bjobs`, `bpeek`, `scancel`/`bkill` and a blocking wait
//! show them, for every batch system alike.
//!
//! - Each reads the job's record (`batch::record`) and asks the batch system it was
//!   submitted to (`batch::status`).
//! - `peek` prints the job's output so far (its stdout on stdout, its stderr on stderr)
//!   and then its state and progress on stderr; `-f` follows the output until the job
//!   is over.
//! - `jobs` shows a job whose batch system does not answer as `unknown`, with a warning.
//! - `wait` polls until the job is over and exits with the job's exit code.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::batch::record::{self, Record, STDERR, STDOUT};
use super::batch::status::{status, Status};
use super::batch::BatchError;
use super::exit::stderr_line;
use super::{CommandError, Outcome};

/// How often `wait` and `peek -f` look again: a batch system's query costs a few
/// milliseconds, and jobs last minutes.
const POLL: Duration = Duration::from_millis(500);

/// Arguments naming one job.
#[derive(clap::Args)]
pub struct JobArgs {
    /// The job id, as `taskloom submit` printed it.
    id: String,
}

/// Arguments of `taskloom peek`.
#[derive(clap::Args)]
pub struct PeekArgs {
    #[command(flatten)]
    job: JobArgs,
    /// Follow the output until the job is over.
    #[arg(long, short = 'f')]
    follow: bool,
}

/// `taskloom jobs`: one line per job, oldest first.
pub fn jobs() -> Outcome {
    let records = Record::all(&record::submit_dir()?)?;
    let mut rows = vec![[
        "ID".to_string(),
        "NAME".into(),
        "BATCH".into(),
        "STATE".into(),
        "PROGRESS".into(),
        "ELAPSED".into(),
    ]];
    for record in &records {
        // One batch system that does not answer hides no other job.
        let state = status(record).map_err(|error| {
            stderr_line(format_args!(
                "taskloom: warning: job {}: {error}",
                record.id
            ));
        });
        // A job that ended without its exit code has no known end: no elapsed time.
        let endless = state.as_ref().is_ok_and(Status::over) && record.exit_code().is_none();
        let elapsed = record.elapsed().filter(|_| !endless);
        rows.push([
            record.id.clone(),
            record.name.clone(),
            record.batch.clone(),
            state.map_or("unknown".into(), |state| state.word()),
            progress(record),
            elapsed.map_or("-".into(), clock),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].len()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for row in &rows {
        let cells: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    Ok(out)
}

/// `taskloom peek ID [-f]`.
pub fn peek(args: PeekArgs) -> Outcome {
    let record = Record::find(&record::submit_dir()?, &args.job.id)?;
    let mut out = Follower::new(record.file(STDOUT));
    let mut err = Follower::new(record.file(STDERR));
    let over = loop {
        let state = status(&record)?;
        // Read after asking: a job that is over has written all it will.
        let written = io::stdout().lock().write_all(&out.read_new()?);
        match written.and_then(|()| io::stdout().lock().flush()) {
            Err(e) if e.kind() == io::ErrorKind::BrokenPipe => return Ok(String::new()),
            other => other.map_err(CommandError::Stdout)?,
        }
        // A stderr that cannot be written loses the job's messages, not our exit code.
        let _ = io::stderr().lock().write_all(&err.read_new()?);
        if !args.follow || state.over() {
            break state;
        }
        std::thread::sleep(POLL);
    };
    stderr_line(format_args!(
        "taskloom: job {} {}{}",
        record.id,
        over.word(),
        match record.progress() {
            Some(_) => format!(", {} tasks", progress(&record)),
            None => String::new(),
        }
    ));
    Ok(String::new())
}

/// `taskloom cancel ID`.
pub fn cancel(args: JobArgs) -> Outcome {
    let record = Record::find(&record::submit_dir()?, &args.id)?;
    if status(&record)?.over() {
        return Ok(String::new());
    }
    record.mark_cancelled()?;
    record.kind()?.system().cancel(&record.id)?;
    Ok(String::new())
}

/// `taskloom wait ID`: exits with the job's exit code.
pub fn wait(args: JobArgs) -> Outcome {
    let record = Record::find(&record::submit_dir()?, &args.id)?;
    loop {
        let state = status(&record)?;
        match state {
            Status::Done => return Ok(String::new()),
            state if state.over() => {
                return Err(CommandError::Job {
                    id: record.id,
                    state: state.sentence(),
                    code: state.exit_code(),
                })
            }
            _ => std::thread::sleep(POLL),
        }
    }
}

/// `DONE/TOTAL`, or `-` before the run wrote any.
fn progress(record: &Record) -> String {
    record
        .progress()
        .map_or("-".into(), |(done, total)| format!("{done}/{total}"))
}

/// Seconds as `H:MM:SS`.
fn clock(seconds: u64) -> String {
    format!(
        "{}:{:02}:{:02}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60
    )
}

/// A file read from where the last read stopped, as `tail -f` reads it.
struct Follower {
    path: PathBuf,
    offset: u64,
}

impl Follower {
    fn new(path: PathBuf) -> Self {
        Follower { path, offset: 0 }
    }

    /// What was added since the last call; a file not made yet has nothing.
    fn read_new(&mut self) -> Result<Vec<u8>, BatchError> {
        let mut bytes = Vec::new();
        let read = open_if_there(&self.path).and_then(|file| match file {
            Some(mut file) => {
                file.seek(SeekFrom::Start(self.offset))?;
                file.read_to_end(&mut bytes).map(drop)
            }
            None => Ok(()),
        });
        read.map_err(|source| BatchError::Record {
            path: self.path.clone(),
            source,
        })?;
        self.offset += bytes.len() as u64;
        Ok(bytes)
    }
}

fn open_if_there(path: &Path) -> io::Result<Option<File>> {
    match File::open(path) {
        Ok(file) => Ok(Some(file)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

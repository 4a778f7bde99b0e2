//! `taskloom checkpoint DIR --stats | --clear`: what a checkpoint store holds, and
//! emptying it.
//!
//! - Only a store is read or cleared: a directory without the store's marker is
//!   refused (exit 2), so a mistyped path never loses files.
//! - `--clear` keeps the directory a store (the marker stays), ready for the next run.

use std::path::PathBuf;

use taskloom::checkpoint::{Store, StoreError};

use super::Outcome;

#[derive(clap::Args)]
#[command(
    after_help = "Exit codes: 0, or 2 when DIR is not a checkpoint store (it is left as it is)."
)]
#[command(group(clap::ArgGroup::new("action").required(true).args(["stats", "clear"])))]
pub struct CheckpointArgs {
    /// The checkpoint store: a directory given to `taskloom run --checkpoint`.
    dir: PathBuf,
    /// Print how many results the store holds and their size in bytes.
    #[arg(long)]
    stats: bool,
    /// Remove every stored result (and temporary files left by killed runs); the
    /// directory stays a store.
    #[arg(long)]
    clear: bool,
}

pub fn checkpoint(args: CheckpointArgs) -> Outcome {
    let store = Store::existing(&args.dir).map_err(taskloom::Error::from)?;
    let unreadable = |source| {
        taskloom::Error::from(StoreError::Io {
            dir: args.dir.clone(),
            source,
        })
    };
    if args.clear {
        let removed = store.clear().map_err(unreadable)?;
        return Ok(format!(
            "removed {} entries ({} bytes)\n",
            removed.entries, removed.bytes
        ));
    }
    let stats = store.stats().map_err(unreadable)?;
    Ok(format!(
        "entries: {}\nbytes: {}\ntemporary files: {}\n",
        stats.entries, stats.bytes, stats.temporary
    ))
}

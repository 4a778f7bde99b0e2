//! Where out-of-core sorts keep their files while a run lasts.
//!
//! - Lowering only names the directory: building a graph touches no disk. The job
//!   makes it when it starts to run (readable by this user only, as `tempfile` makes
//!   directories), and an `array.scratch` task, which every partition of a sort waits
//!   for, makes the sort's own directory inside it.
//! - It is an owned directory (`taskloom_exec::owned`): named for this process,
//!   locked while the run lasts, and removed when the job is dropped, on every path
//!   (success, failure, a signal, or a job never run). Making one first removes those
//!   of runs that were killed outright.

use std::fs::DirBuilder;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};

use taskloom_exec::owned::{fresh_name, remove_stale, OwnedDir};
use taskloom_graph::{OpError, Value};

use crate::wire::array_op;

/// How scratch directories are named in the system's temporary directory.
const PREFIX: &str = "taskloom-sort-";

/// The directory the sorts of one run write under, removed when dropped.
pub(crate) struct ScratchRoot {
    path: PathBuf,
    /// Once made.
    dir: Option<OwnedDir>,
}

impl ScratchRoot {
    /// A fresh name under the system's temporary directory; nothing is created.
    pub(crate) fn new() -> ScratchRoot {
        ScratchRoot {
            path: std::env::temp_dir().join(fresh_name(PREFIX, "")),
            dir: None,
        }
    }

    /// The directory's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Makes the directory, for this user only, having removed what killed runs left.
    pub(crate) fn make(&mut self) -> std::io::Result<()> {
        if let Some(parent) = self.path.parent() {
            remove_stale(parent, PREFIX, "");
        }
        self.dir = Some(OwnedDir::create(&self.path, 0o700)?);
        Ok(())
    }
}

array_op! {
    /// `array.scratch(dir)`: makes directory `dir` (and its parents), for this user
    /// only, and returns its path.
    pub(crate) struct Scratch = "array.scratch" {
        dir: PathBuf,
    }
    fn run(self) -> OpResult {
        DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&self.dir)
            .map_err(|e| {
                OpError::new(format!(
                    "cannot create a scratch directory for sort at {}: {e}",
                    self.dir.display()
                ))
            })?;
        Ok(Value::str(&self.dir.to_string_lossy()))
    }
}

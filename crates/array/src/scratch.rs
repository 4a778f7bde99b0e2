//! Where out-of-core sorts keep their files while a run lasts.
//!
//! - Lowering only names the directory: building a graph touches no disk. An
//!   `array.scratch` task, which every partition of a sort waits for, makes it when the
//!   graph runs.
//! - The name holds 64 random bits beside the process id, so no other run or process
//!   uses it; it is made readable by this user only, as `tempfile` makes directories.
//! - The run's `Job` holds the `ScratchRoot`; dropping it removes the directory on
//!   every path: success, failure, or a job never run (when there is nothing to remove).

use std::fs::DirBuilder;
use std::hash::{BuildHasher, RandomState};
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use taskloom_graph::{OpError, Value};

use crate::wire::array_op;

/// The directory the sorts of one run write under, removed when dropped.
pub(crate) struct ScratchRoot {
    path: PathBuf,
}

impl ScratchRoot {
    /// A fresh name under the system's temporary directory; nothing is created.
    pub(crate) fn new() -> ScratchRoot {
        static ROOTS: AtomicU64 = AtomicU64::new(0);
        let pid = std::process::id();
        let n = ROOTS.fetch_add(1, Ordering::Relaxed);
        // `RandomState` keys come from the system's randomness.
        let random = RandomState::new().hash_one((pid, n, SystemTime::now()));
        let name = format!("taskloom-sort-{pid}-{random:016x}");
        ScratchRoot {
            path: std::env::temp_dir().join(name),
        }
    }

    /// The directory's path.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for ScratchRoot {
    fn drop(&mut self) {
        // Not found when no sort task ran; nothing else can be done about other errors.
        let _ = std::fs::remove_dir_all(&self.path);
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

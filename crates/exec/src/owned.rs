//! Directories a run owns while it writes them (results spilled past a memory limit,
//! an array being written, a sort's scratch), and removing what a run killed outright
//! (SIGKILL, a power cut) left of its own. One implementation for every crate that
//! makes such directories: here, the lowest of them.
//!
//! - The name says who owns it: `{prefix}{pid}-{64 random bits}{suffix}`, so every run
//!   gets a fresh one and its owner can be looked for.
//! - The owner holds an exclusive `flock` on the directory while it lives; the kernel
//!   releases it when the process ends, however it ends.
//! - A later run removes a directory matching its prefix and suffix only when both say
//!   the owner is gone: no process has the pid in the name (which also covers the
//!   moment between making the directory and locking it), and the lock is free (which
//!   covers a pid reused, or a writer in another pid namespace sharing the
//!   filesystem). A live writer's directory is never removed.
//! - Dropping an `OwnedDir` removes it, unless it was kept (it became the array).

use std::fs::{DirBuilder, File};
use std::hash::{BuildHasher, RandomState};
use std::io;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use rustix::fs::{flock, FlockOperation};
use rustix::process::{test_kill_process, Pid};

/// A directory made and locked by this process, removed when dropped unless kept.
pub struct OwnedDir {
    path: PathBuf,
    /// Holds the lock; `None` once kept.
    lock: Option<File>,
}

impl OwnedDir {
    /// Makes directory `path` (named by [`fresh_name`]) with `mode` (less the umask)
    /// and locks it.
    pub fn create(path: &Path, mode: u32) -> io::Result<OwnedDir> {
        let path = path.to_path_buf();
        DirBuilder::new().mode(mode).create(&path)?;
        // From here on the directory is ours to remove, on any error too.
        let mut dir = OwnedDir { path, lock: None };
        let lock = File::open(&dir.path)?;
        flock(&lock, FlockOperation::NonBlockingLockExclusive)?;
        dir.lock = Some(lock);
        Ok(dir)
    }

    /// The directory's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Leaves the directory in place (it was renamed into what it was made for).
    pub fn keep(mut self) {
        self.lock = None;
        self.path = PathBuf::new();
    }
}

impl Drop for OwnedDir {
    fn drop(&mut self) {
        if !self.path.as_os_str().is_empty() {
            // Nothing else can be done about an error here; a later run retries.
            let _ = std::fs::remove_dir_all(&self.path);
        }
    }
}

/// A name no other run uses, `prefix{pid}-{random}suffix`: the pid, and 64 bits from
/// the system's randomness.
pub fn fresh_name(prefix: &str, suffix: &str) -> String {
    static MADE: AtomicU64 = AtomicU64::new(0);
    let pid = std::process::id();
    let n = MADE.fetch_add(1, Ordering::Relaxed);
    // `RandomState` keys come from the system's randomness.
    let random = RandomState::new().hash_one((pid, n, SystemTime::now()));
    format!("{prefix}{pid}-{random:016x}{suffix}")
}

/// Removes the directories in `parent` named `prefix{pid}-{random}suffix` whose owner
/// is gone. Best effort: what cannot be read or removed is left for another time.
pub fn remove_stale(parent: &Path, prefix: &str, suffix: &str) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(owner) = name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix))
            .and_then(|n| n.strip_suffix(suffix))
            .and_then(|n| n.split_once('-'))
            .and_then(|(pid, _)| pid.parse::<i32>().ok())
        else {
            continue;
        };
        if is_running(owner) {
            continue;
        }
        let path = entry.path();
        let Ok(dir) = File::open(&path) else {
            continue;
        };
        // Held while removing, so no other cleaner works on the same directory.
        if flock(&dir, FlockOperation::NonBlockingLockExclusive).is_ok() {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// Whether a process with this pid exists (one we may not signal exists too).
fn is_running(pid: i32) -> bool {
    match Pid::from_raw(pid) {
        Some(pid) => !matches!(test_kill_process(pid), Err(rustix::io::Errno::SRCH)),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_directories_of_dead_owners_are_removed() {
        let parent = tempfile::tempdir().unwrap();
        let name = fresh_name(".a.", ".partial");
        let live = OwnedDir::create(&parent.path().join(name), 0o777).unwrap();
        // No process has pid 2^22 + 1 (above the kernel's largest pid).
        let dead = parent.path().join(".a.4194305-0123456789abcdef.partial");
        std::fs::create_dir_all(dead.join("c/0")).unwrap();
        let other = parent.path().join(".b.4194305-0123456789abcdef.partial");
        std::fs::create_dir(&other).unwrap();
        remove_stale(parent.path(), ".a.", ".partial");
        assert!(live.path().exists(), "a live owner's directory was removed");
        assert!(!dead.exists(), "a dead owner's directory was left");
        assert!(other.exists(), "another prefix's directory was removed");
        let path = live.path().to_path_buf();
        drop(live);
        assert!(!path.exists(), "dropping did not remove {}", path.display());
    }

    #[test]
    fn a_locked_directory_is_kept_whatever_its_pid() {
        let parent = tempfile::tempdir().unwrap();
        let held = parent.path().join(".a.4194305-0123456789abcdef.partial");
        std::fs::create_dir(&held).unwrap();
        let lock = File::open(&held).unwrap();
        flock(&lock, FlockOperation::NonBlockingLockExclusive).unwrap();
        remove_stale(parent.path(), ".a.", ".partial");
        assert!(held.exists(), "a locked directory was removed");
    }
}

//! A single-file output a command writes besides stdout (`--out`, `--profile`,
//! `--trace`, `--plot`): written where and as the user said, and checked before the work.
//!
//! - [`OutputFile::check`] runs before the work starts, so a path that cannot be written
//!   (a missing directory, no permission, a directory) fails at once, naming the path,
//!   instead of after a long run.
//! - [`OutputFile::write`] looks at the path again (it may have changed during the run):
//!   a symlink is followed to its target, and a dangling one creates its target.
//! - A regular file, or one that does not exist yet, is replaced atomically: written to
//!   a hidden temporary file in the target's directory, then renamed over it, so a reader
//!   never sees half a file and a failed write leaves nothing behind. A new file gets
//!   mode 0666 less the umask (the kernel applies it, as for `cp` or an editor); an
//!   existing one keeps its mode.
//! - Anything else (a device such as `/dev/full`, a FIFO, a socket), and a path that
//!   names an open descriptor (`/dev/stdout`, `/dev/fd/N`, `/proc/self/fd/N`: whatever
//!   the shell redirected), is opened and written in place, appending: never replaced,
//!   never truncated, so `--out /dev/stdout >> log` adds to the log.
//! - Every error names the path the user gave, never the temporary name: exit 2 when
//!   found by the check (nothing ran), 1 when the write after the work fails.

use std::fs::{OpenOptions, Permissions};
use std::io::{self, Write};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use rustix::fs::{Access, AtFlags, CWD};

use super::CommandError;

/// Mode asked for a new file; the umask takes away what the user does not want.
const NEW_FILE_MODE: u32 = 0o666;

/// The bits of `st_mode` that `chmod` sets (permissions, setuid, setgid, sticky).
const PERMISSION_BITS: u32 = 0o7777;

/// Symlinks followed before giving up, as the kernel's own limit (`ELOOP`).
const MAX_LINKS: usize = 40;

/// Paths that alias an open descriptor (with `/dev/fd/N` and `/proc/PID/fd/N`).
const DESCRIPTORS: [&str; 3] = ["/dev/stdout", "/dev/stderr", "/dev/stdin"];

/// An output path named on the command line, checked to be writable.
#[derive(Debug, Clone)]
pub struct OutputFile {
    path: PathBuf,
}

/// Where the bytes go, as the path is now.
enum Target {
    /// A regular file, existing (`mode` is its mode) or to be created: replaced atomically.
    Replace { file: PathBuf, mode: Option<u32> },
    /// A device, FIFO or socket: written in place.
    InPlace(PathBuf),
}

impl OutputFile {
    /// Checks that `path` can be written, before any work: the target's directory
    /// accepts a new file, an existing file is writable, a device or FIFO is writable.
    /// A failure is [`CommandError::Unwritable`] (input the command cannot accept).
    pub fn check(path: &Path) -> Result<OutputFile, CommandError> {
        let output = OutputFile {
            path: path.to_path_buf(),
        };
        let writable = |p: &Path, access| rustix::fs::accessat(CWD, p, access, AtFlags::EACCESS);
        let checked = output.target().and_then(|target| {
            match target {
                Target::Replace { file, mode } => {
                    if mode.is_some() {
                        writable(&file, Access::WRITE_OK)?;
                    }
                    writable(directory(&file), Access::WRITE_OK | Access::EXEC_OK)?;
                }
                Target::InPlace(file) => writable(&file, Access::WRITE_OK)?,
            }
            Ok(())
        });
        match checked {
            Ok(()) => Ok(output),
            Err(source) => Err(CommandError::Unwritable {
                path: output.path,
                source,
            }),
        }
    }

    /// The path as the user gave it.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` as the whole content of the output.
    pub fn write(&self, bytes: &[u8]) -> Result<(), CommandError> {
        self.target()
            .and_then(|target| match target {
                Target::Replace { file, mode } => replace(&file, mode, bytes),
                Target::InPlace(file) => OpenOptions::new()
                    .append(true)
                    .open(file)
                    .and_then(|mut f| f.write_all(bytes)),
            })
            .map_err(|source| CommandError::Write {
                path: self.path.clone(),
                source,
            })
    }

    /// What the path is now: symlinks followed to their end.
    fn target(&self) -> io::Result<Target> {
        if names_descriptor(&self.path) {
            return Ok(Target::InPlace(self.path.clone()));
        }
        let mut file = self.path.clone();
        for _ in 0..MAX_LINKS {
            let meta = match std::fs::symlink_metadata(&file) {
                Ok(meta) => meta,
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Ok(Target::Replace { file, mode: None });
                }
                Err(e) => return Err(e),
            };
            let kind = meta.file_type();
            if kind.is_symlink() {
                let link = std::fs::read_link(&file)?;
                // A relative link is relative to the directory holding it.
                file = directory(&file).join(link);
            } else if kind.is_file() {
                let mode = Some(meta.permissions().mode() & PERMISSION_BITS);
                return Ok(Target::Replace { file, mode });
            } else if kind.is_dir() {
                return Err(rustix::io::Errno::ISDIR.into());
            } else {
                // A device, FIFO or socket.
                return Ok(Target::InPlace(file));
            }
        }
        Err(rustix::io::Errno::LOOP.into())
    }
}

/// Writes `bytes` to a temporary file beside `file` and renames it over `file`.
fn replace(file: &Path, mode: Option<u32>, bytes: &[u8]) -> io::Result<()> {
    let name = file.file_name().unwrap_or_default().to_string_lossy();
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{name}."))
        .suffix(".partial")
        .permissions(Permissions::from_mode(NEW_FILE_MODE))
        .tempfile_in(directory(file))?;
    if let Some(mode) = mode {
        tmp.as_file()
            .set_permissions(Permissions::from_mode(mode))?;
    }
    tmp.write_all(bytes)?;
    tmp.persist(file).map_err(|e| e.error)?;
    Ok(())
}

/// Whether `path` names an open descriptor rather than a file of its own.
fn names_descriptor(path: &Path) -> bool {
    let parts: Vec<&str> = path.iter().map(|p| p.to_str().unwrap_or("")).collect();
    DESCRIPTORS.iter().any(|d| path == Path::new(d))
        || matches!(parts[..], ["/", "dev", "fd", _] | ["/", "proc", _, "fd", _])
}

/// The directory holding `file` (`.` for a bare file name).
fn directory(file: &Path) -> &Path {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    }
}

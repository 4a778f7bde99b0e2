//! Starting an item's process from its command line, and telling apart what one item
//! got wrong from what stops the whole run.
//!
//! - The program is found in `PATH` as `execvp` finds it, once per name
//!   ([`Programs`]).
//! - A file the kernel cannot execute for want of a `#!` line (ENOEXEC) runs under
//!   `/bin/sh`, as `execvp`, xargs and GNU parallel run it.
//! - A program that is the same for every item is looked up before any item starts
//!   ([`check`]): when it is missing, every item would fail the same way, so that is
//!   one usage error for the run.
//! - Otherwise a command line that cannot be started (its program is missing or not
//!   executable, it holds a NUL byte, it is over the kernel's argument limit) is that
//!   item's failure alone ([`Unstartable`]): the other items go on. Only the machine
//!   refusing processes or pipes (no file descriptors, no memory) stops the run.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use rustix::io::Errno;
use taskloom_child::{Child, Group};

use crate::items::display;
use crate::runner::Ended;
use crate::Error;

/// The shell that runs a script without a `#!` line, where `execvp` runs it.
const BOURNE_SHELL: &str = "/bin/sh";

/// The status a shell gives a command it cannot find, and one it finds but cannot
/// execute: what an unstartable item is logged with, so that it reads like the same
/// command run by `sh`, xargs or GNU parallel.
const NOT_FOUND: i32 = 127;
const NOT_EXECUTABLE: i32 = 126;

/// An item whose command line could not be started.
#[derive(Debug)]
pub struct Unstartable {
    /// What went wrong, naming the program: `cannot run './job2.sh': No such file or
    /// directory (os error 2)`.
    pub message: String,
    /// [`NOT_FOUND`] or [`NOT_EXECUTABLE`].
    pub code: i32,
}

impl Unstartable {
    /// The item ended as this attempt: failed, with the message as its stderr (where a
    /// shell would have written its own) and the status a shell gives. It is not
    /// retried: the same command line would fail the same way.
    pub fn ended(self, index: usize, lane: usize, first_start: Instant, attempts: u32) -> Ended {
        Ended {
            index,
            exit: Some(self.code),
            signal: None,
            stdout: Vec::new(),
            stderr: format!("taskloom: {}\n", self.message).into_bytes(),
            seconds: first_start.elapsed().as_secs_f64(),
            attempts,
            started: first_start,
            stopped: None,
            lane,
            unstartable: Some(self.message),
        }
    }
}

/// Why [`start`] started nothing.
#[derive(Debug)]
pub enum StartError {
    /// This command line cannot run; other items may.
    Item(Unstartable),
    /// The machine refused a process or a pipe; no item can start.
    Run(io::Error),
}

/// Starts `argv` in a process group of its own, stdin empty, stdout and stderr piped.
pub fn start(argv: &[OsString], programs: &mut Programs) -> Result<Child, StartError> {
    let Some((program, args)) = argv.split_first() else {
        return Err(StartError::Item(Unstartable {
            message: "cannot run an empty command line".to_string(),
            code: NOT_FOUND,
        }));
    };
    let path = programs.resolve(program).map(Path::to_path_buf);
    let mut command = piped(Command::new(path.as_deref().unwrap_or(program.as_ref())));
    command.arg0(program).args(args);
    let error = match Child::spawn(&mut command, Group::Own) {
        Ok(child) => return Ok(child),
        Err(error) => error,
    };
    if Errno::from_io_error(&error) != Some(Errno::NOEXEC) {
        return Err(refused(program, argv, error));
    }
    // What `execvp` does: `sh FILE ARGS...`, `$0` being the file.
    let mut command = piped(Command::new(BOURNE_SHELL));
    command
        .arg0("sh")
        .arg(path.as_deref().unwrap_or(program.as_ref()))
        .args(args);
    Child::spawn(&mut command, Group::Own).map_err(|error| refused(program, argv, error))
}

fn piped(mut command: Command) -> Command {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Sorts a failed start into the item's fault or the machine's.
fn refused(program: &OsStr, argv: &[OsString], error: io::Error) -> StartError {
    let errno = Errno::from_io_error(&error);
    if matches!(
        errno,
        Some(Errno::MFILE | Errno::NFILE | Errno::AGAIN | Errno::NOMEM)
    ) {
        return StartError::Run(error);
    }
    let program = display(program.as_bytes());
    let message = if let Some(at) = argv.iter().position(|a| a.as_bytes().contains(&0)) {
        format!("cannot run '{program}': argument {at} holds a NUL byte, which no command line can carry")
    } else if errno == Some(Errno::TOOBIG) {
        let bytes: usize = argv.iter().map(|a| a.len() + 1).sum();
        format!("cannot run '{program}': {error}: its arguments take {bytes} bytes")
    } else {
        format!("cannot run '{program}': {error}")
    };
    let code = match errno {
        Some(Errno::NOENT) => NOT_FOUND,
        _ => NOT_EXECUTABLE,
    };
    StartError::Item(Unstartable { message, code })
}

/// Refuses a program that is the same for every item and that `execvp` would not find
/// or could not execute: the whole run would fail item by item, so it is one usage
/// error, found before any item starts.
pub fn check(program: &OsStr) -> Result<(), Error> {
    let missing = |errno: Errno| Error::Spawn {
        program: display(program.as_bytes()),
        source: io::Error::from_raw_os_error(errno.raw_os_error()),
    };
    if program.is_empty() {
        return Err(missing(Errno::NOENT));
    }
    if !program.as_bytes().contains(&b'/') {
        return match std::env::var_os("PATH") {
            // Without PATH, `execvp`'s default search is left to the start.
            None => Ok(()),
            Some(_) if Programs::default().resolve(program).is_some() => Ok(()),
            Some(_) => Err(missing(Errno::NOENT)),
        };
    }
    match std::fs::metadata(program) {
        Ok(meta) if executable(&meta) => Ok(()),
        Ok(_) => Err(missing(Errno::ACCESS)),
        Err(source) => Err(Error::Spawn {
            program: display(program.as_bytes()),
            source,
        }),
    }
}

/// A regular file with an execute bit: what `execve` may run.
fn executable(meta: &std::fs::Metadata) -> bool {
    meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

/// Programs found in `PATH` once, not at every start: `execvp` tries each directory in
/// turn, and with a long `PATH` the failed `execve`s cost more than the spawn itself
/// for short commands.
#[derive(Default)]
pub struct Programs {
    found: HashMap<OsString, Option<PathBuf>>,
}

impl Programs {
    /// Where `execvp` would find `program`; `None` leaves the search (and its error
    /// message) to the spawn.
    fn resolve(&mut self, program: &OsStr) -> Option<&Path> {
        if program.is_empty() || program.as_bytes().contains(&b'/') {
            return None;
        }
        self.found
            .entry(program.to_os_string())
            .or_insert_with(|| {
                let path = std::env::var_os("PATH")?;
                std::env::split_paths(&path)
                    .map(|dir| dir.join(program))
                    .find(|candidate| std::fs::metadata(candidate).is_ok_and(|m| executable(&m)))
            })
            .as_deref()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::ffi::OsStringExt;

    fn argv(words: &[&str]) -> Vec<OsString> {
        words.iter().map(OsString::from).collect()
    }

    fn output(child: Child) -> String {
        let mut child = child;
        let mut out = String::new();
        let pipes = child.pipes();
        std::io::Read::read_to_string(&mut pipes.stdout.unwrap(), &mut out).unwrap();
        child.wait().unwrap();
        out
    }

    fn unstartable(result: Result<Child, StartError>) -> Unstartable {
        match result {
            Err(StartError::Item(why)) => why,
            Err(StartError::Run(e)) => panic!("refused for the run: {e}"),
            Ok(_) => panic!("started"),
        }
    }

    #[test]
    fn a_script_without_a_shebang_runs_under_sh() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("plain.sh");
        std::fs::write(&script, "echo \"$0:$1\"\n").unwrap();
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
        let path = script.to_str().unwrap();
        let child = start(&argv(&[path, "x y"]), &mut Programs::default()).unwrap();
        assert_eq!(output(child), format!("{path}:x y\n"));
    }

    #[test]
    fn what_one_command_line_gets_wrong_is_its_own_failure() {
        let mut programs = Programs::default();
        let why = unstartable(start(&argv(&["./no-such-job.sh"]), &mut programs));
        assert_eq!(why.code, NOT_FOUND);
        assert!(
            why.message
                .starts_with("cannot run './no-such-job.sh': No such file"),
            "{}",
            why.message
        );
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::write(&data, "").unwrap();
        let why = unstartable(start(&[data.into_os_string()], &mut programs));
        assert_eq!(why.code, NOT_EXECUTABLE);
        assert!(why.message.contains("Permission denied"), "{}", why.message);
        let nul = OsString::from_vec(b"a\0b".to_vec());
        let why = unstartable(start(&[OsString::from("echo"), nul], &mut programs));
        assert!(
            why.message.contains("argument 1 holds a NUL byte"),
            "{}",
            why.message
        );
        let huge = OsString::from("x".repeat(300_000));
        let why = unstartable(start(&[OsString::from("echo"), huge], &mut programs));
        assert_eq!(why.code, NOT_EXECUTABLE);
        assert!(
            why.message.contains("Argument list too long"),
            "{}",
            why.message
        );
        assert!(why.message.contains("300006 bytes"), "{}", why.message);
    }

    #[test]
    fn check_refuses_what_no_item_could_run() {
        assert!(check(OsStr::new("sh")).is_ok());
        assert!(check(OsStr::new("/bin/sh")).is_ok());
        for (program, error) in [
            (
                "taskloom-no-such-program",
                "No such file or directory (os error 2)",
            ),
            (
                "./no-such-program",
                "No such file or directory (os error 2)",
            ),
            ("/", "Permission denied (os error 13)"),
            ("", "No such file or directory (os error 2)"),
        ] {
            let message = check(OsStr::new(program)).unwrap_err().to_string();
            assert_eq!(message, format!("cannot run '{program}': {error}"));
        }
    }
}

//! The batch script `taskloom submit` writes: the same body for every batch system,
//! under that system's resource lines.
//!
//! - The script sends its own output to the job's `stdout` and `stderr` files at once,
//!   appending, so that `peek` reads them while the job runs on any system (PBS would
//!   otherwise copy them back only at the end) and a requeued job adds to them.
//! - It runs the command in the background and forwards SIGUSR1 and SIGTERM to it: the
//!   run stops dispatching, lets running tasks end and exits 128 + N. The walltime
//!   warning is SIGUSR1, from the batch system or, where it has none (PBS), from a
//!   timer of the script's own.
//! - With a checkpoint, a run stopped by the warning ([`WARNED_CODE`]) puts the job back
//!   in the queue, and the next start resumes from the checkpoint. A run stopped by
//!   SIGTERM (a cancel) is not requeued: cancelling must end the job.
//! - It writes the time it started and, at the end, the command's exit code, each
//!   atomically (written beside, then renamed): `jobs` and `wait` read them, whatever the
//!   batch system keeps or forgets.

use std::path::Path;

use super::record::{EXIT, STARTED, STDERR, STDOUT};
use super::{Resources, System};

/// The exit code of a run stopped by SIGUSR1 (128 + 10): the walltime warning.
pub const WARNED_CODE: u32 = 138;

/// The script for `command` (the whole command line, program first), run in `workdir`
/// and recording into `job_dir` (absolute).
pub fn script(
    system: &dyn System,
    resources: &Resources,
    workdir: &Path,
    job_dir: &Path,
    command: &[String],
) -> String {
    let mut run = Vec::new();
    if resources.ranks() > 1 {
        run.extend_from_slice(system.launcher(resources.ranks()).as_bytes());
        run.push(b' ');
    }
    for (i, word) in command.iter().enumerate() {
        if i > 0 {
            run.push(b' ');
        }
        taskloom_map::template::shell_quote(&mut run, word.as_bytes());
    }
    let run = String::from_utf8_lossy(&run);
    let job = quote(job_dir);
    let workdir = quote(workdir);
    let timer = match resources.time {
        Some(time) if !system.warns_before_limit() => {
            let delay = time.saturating_sub(resources.grace).as_secs();
            format!(
                "# PBS does not warn before the walltime: warn {grace}s before it here.\n\
                 (trap 'kill \"$sleeper\" 2>/dev/null; exit' TERM\n \
                 sleep {delay} & sleeper=$!\n \
                 wait \"$sleeper\" && kill -USR1 \"$run\" 2>/dev/null) &\n\
                 timer=$!\n",
                grace = resources.grace.as_secs(),
            )
        }
        _ => String::new(),
    };
    let end_timer = if timer.is_empty() {
        ""
    } else {
        "kill \"$timer\" 2>/dev/null\n"
    };
    let requeue = if resources.requeue {
        format!(
            "# Stopped by the walltime warning: back in the queue, to resume from the checkpoint.\n\
             if [ \"$code\" -eq {WARNED_CODE} ] && {}; then\n    exit \"$code\"\nfi\n",
            system.requeue()
        )
    } else {
        String::new()
    };
    format!(
        "#!/bin/bash\n\
         {directives}\
         # Written by taskloom submit: runs the command, passes the walltime warning on to\n\
         # it, and records its start and exit code for taskloom jobs, peek and wait.\n\
         job={job}\n\
         exec >>\"$job/{STDOUT}\" 2>>\"$job/{STDERR}\"\n\
         cd {workdir} || exit 1\n\
         rm -f \"$job/{EXIT}\"\n\
         date +%s >\"$job/{STARTED}.tmp\" && mv \"$job/{STARTED}.tmp\" \"$job/{STARTED}\"\n\
         {run} &\n\
         run=$!\n\
         trap 'kill -USR1 \"$run\" 2>/dev/null' USR1\n\
         trap 'kill -TERM \"$run\" 2>/dev/null' TERM\n\
         {timer}\
         # wait returns early when a trapped signal arrives: wait again until the run ends.\n\
         while kill -0 \"$run\" 2>/dev/null; do wait \"$run\"; done\n\
         wait \"$run\"\n\
         code=$?\n\
         {end_timer}\
         {requeue}\
         echo \"$code\" >\"$job/{EXIT}.tmp\" && mv \"$job/{EXIT}.tmp\" \"$job/{EXIT}\"\n\
         exit \"$code\"\n",
        directives = system.directives(resources),
    )
}

/// A path as one shell word.
fn quote(path: &Path) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut word = Vec::new();
    taskloom_map::template::shell_quote(&mut word, path.as_os_str().as_bytes());
    String::from_utf8_lossy(&word).into_owned()
}

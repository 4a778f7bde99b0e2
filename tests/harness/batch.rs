//! Batch systems for `taskloom submit` and its job commands: the real single-node
//! Slurm cluster of `scripts/slurm.sh`, and stand-ins for LSF and PBS.
//!
//! - The cluster starts once per test run ([`slurm_conf`]); `scripts/test.sh` stops it
//!   at the end. Its clients find it through `SLURM_CONF`.
//! - The stand-ins (`tests/stand-ins/lsf`, `tests/stand-ins/pbs`) run each job at once
//!   in the background and keep their state in a directory of the test's own
//!   (`STANDIN_STATE`); they fail with exit 99 on any argument they do not expect.

use std::path::Path;
use std::sync::OnceLock;

use super::{Dir, Outcome, TestCommand};

/// The project's root, where `scripts/` is.
fn project() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The cores the test cluster offers, whatever the machine has: the Slurm tests run
/// at once (four test threads), each job on one core or two, and a job that waited,
/// pending, behind another test's would miss its test's deadlines. The jobs mostly
/// sleep, so offering more cores than there are costs nothing.
const SLURM_CPUS: &str = "8";

/// The configuration of the running single-node Slurm cluster, started on first use.
pub fn slurm_conf() -> &'static str {
    static CONF: OnceLock<String> = OnceLock::new();
    CONF.get_or_init(|| {
        let script = project().join("scripts/slurm.sh");
        let started = std::process::Command::new(&script)
            .arg("start")
            .env("TASKLOOM_SLURM_CPUS", SLURM_CPUS)
            .output()
            .expect("run scripts/slurm.sh");
        assert!(
            started.status.success(),
            "scripts/slurm.sh start failed: {}",
            String::from_utf8_lossy(&started.stderr)
        );
        let env = std::process::Command::new(&script)
            .arg("env")
            .output()
            .expect("run scripts/slurm.sh env");
        let line = String::from_utf8(env.stdout).expect("UTF-8");
        line.trim()
            .strip_prefix("export SLURM_CONF=")
            .expect("scripts/slurm.sh env prints SLURM_CONF")
            .to_string()
    })
}

/// A directory whose commands submit to a batch system.
pub struct BatchDir {
    pub dir: Dir,
    /// Variables every command gets (the batch system's PATH or configuration).
    env: Vec<(String, String)>,
}

impl BatchDir {
    /// Commands that reach the single-node Slurm cluster.
    pub fn slurm() -> Self {
        BatchDir {
            dir: Dir::new(),
            env: vec![("SLURM_CONF".into(), slurm_conf().into())],
        }
    }

    /// Commands that find the stand-ins of `system` (`lsf` or `pbs`) first on PATH.
    pub fn stand_in(system: &str) -> Self {
        let dir = Dir::new();
        let state = dir.path(".stand-in");
        std::fs::create_dir(&state).expect("stand-in state directory");
        let stand_ins = project().join("tests/stand-ins").join(system);
        let path = format!(
            "{}:{}",
            stand_ins.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        BatchDir {
            dir,
            env: vec![
                ("PATH".into(), path),
                ("STANDIN_STATE".into(), state.display().to_string()),
            ],
        }
    }

    /// `taskloom ARGS...` here, with the batch system's environment.
    pub fn command(&self, args: &[&str]) -> TestCommand {
        self.env
            .iter()
            .fold(self.dir.command(args), |c, (name, value)| {
                c.env(name, value)
            })
    }

    pub fn taskloom(&self, args: &[&str]) -> Outcome {
        self.command(args).output()
    }

    /// Submits `args` and returns the job id.
    pub fn submit(&self, args: &[&str]) -> String {
        let id = self
            .taskloom(&[&["submit"], args].concat())
            .ok()
            .trim()
            .to_string();
        assert!(
            !id.is_empty() && !id.contains(char::is_whitespace),
            "job id {id:?}"
        );
        id
    }

    /// The row of `taskloom jobs` for job `id`, split into its columns.
    pub fn row(&self, id: &str) -> Vec<String> {
        let jobs = self.taskloom(&["jobs"]);
        let listing = jobs.ok();
        let row = listing
            .lines()
            .find(|line| line.split_whitespace().next() == Some(id))
            .unwrap_or_else(|| panic!("job {id} missing from:\n{listing}"));
        row.split_whitespace().map(str::to_string).collect()
    }
}

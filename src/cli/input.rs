//! Where every command that takes a graph gets it: a file, or standard input for `-`.
//!
//! - Any form: the library tells the binary form (`taskloom convert`) by its magic,
//!   JSON by its first non-blank `{`, and reads anything else as the text form.
//! - `-` reads standard input, named `<stdin>` in messages, as `cat -` and most Unix
//!   tools do; every other path is a file (`./-` names a file called `-`).
//! - Both are read by the library, which refuses a source larger than
//!   `MAX_SOURCE_BYTES`, so an endless input (`/dev/zero`, `yes |`) ends with an error.
//! - A graph with no keys is valid but is hardly what anyone meant (an empty file, the
//!   wrong file, `{}`): it gets a warning on stderr and the command goes on, exit 0.
//!   With `--get`, the missing key is the error, so the warning would only repeat it.

use std::path::Path;

use taskloom::{Error, Program, Runtime};

use super::GraphFile;

/// The path that stands for standard input.
const STDIN: &str = "-";

/// Standard input's name in messages.
const STDIN_NAME: &str = "<stdin>";

impl GraphFile {
    /// Reads, parses and validates the graph with `runtime`'s ops.
    pub(super) fn load(&self, runtime: &Runtime) -> Result<Program, Error> {
        let program = load(&self.file, runtime)?;
        if program.graph().is_empty() && self.keys.is_empty() {
            eprintln!(
                "taskloom: warning: {} defines no keys",
                self.name().display()
            );
        }
        Ok(program)
    }

    /// The graph's name in messages, titles and reports.
    pub(super) fn name(&self) -> &Path {
        name(&self.file)
    }
}

/// Reads, parses and validates the graph at `path` (`-`: standard input) with
/// `runtime`'s ops.
pub(super) fn load(path: &Path, runtime: &Runtime) -> Result<Program, Error> {
    if is_stdin(path) {
        runtime.load_from(std::io::stdin().lock(), name(path))
    } else {
        runtime.load(path)
    }
}

/// The name of the graph at `path` in messages, titles and reports.
fn name(path: &Path) -> &Path {
    if is_stdin(path) {
        Path::new(STDIN_NAME)
    } else {
        path
    }
}

fn is_stdin(path: &Path) -> bool {
    path.as_os_str() == STDIN
}

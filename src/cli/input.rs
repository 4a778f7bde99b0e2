//! Where every command that takes a graph gets it: a file, or standard input for `-`.
//!
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
        let program = if self.is_stdin() {
            runtime.load_from(std::io::stdin().lock(), self.name())?
        } else {
            runtime.load(&self.file)?
        };
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
        if self.is_stdin() {
            Path::new(STDIN_NAME)
        } else {
            &self.file
        }
    }

    fn is_stdin(&self) -> bool {
        self.file.as_os_str() == STDIN
    }
}

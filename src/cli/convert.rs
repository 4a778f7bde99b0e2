//! `taskloom convert`: a graph file in the binary form (`.tlg`), which loads without
//! parsing text: for a graph generated once and run many times.
//!
//! - The graph is checked as `taskloom run` checks it (syntax, references, ops,
//!   cycles): what converts, runs.
//! - The output is checked writable before the input is read, and replaced whole
//!   (`OutputFile`), never left half written.

use std::path::PathBuf;

use taskloom::Runtime;

use super::{input, CommandError, Outcome, OutputFile};

#[derive(clap::Args)]
#[command(after_help = "\
taskloom run, graph and scale read the binary form as they read the others, whatever
the file's name: by its first bytes. Programs write it with Graph::write_binary.")]
pub struct ConvertArgs {
    /// The graph to convert, in any form, or - for standard input.
    file: PathBuf,
    /// Where to write it in the binary form (by convention, a name ending in .tlg).
    out: PathBuf,
}

pub fn convert(args: ConvertArgs) -> Outcome {
    let out = OutputFile::check(&args.out)?;
    let program = input::load(&args.file, &Runtime::new())?;
    let mut bytes = Vec::new();
    program
        .graph()
        .write_binary(&mut bytes)
        .map_err(|source| CommandError::Write {
            path: args.out.clone(),
            source,
        })?;
    out.write(&bytes)?;
    Ok(String::new())
}

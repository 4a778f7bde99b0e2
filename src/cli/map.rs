//! `taskloom map`: being written; replaced by its implementation before it is used.

use std::process::ExitCode;

/// Arguments of `taskloom map`.
#[derive(clap::Args)]
pub struct MapArgs {
    /// Anything, for now.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub fn main(args: MapArgs) -> ExitCode {
    let _ = args.rest;
    eprintln!("taskloom map: not available yet");
    ExitCode::from(2)
}

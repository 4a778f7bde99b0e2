//! `taskloom scale`: being written; replaced by its implementation before it is used.

use std::process::ExitCode;

/// Arguments of `taskloom scale`.
#[derive(clap::Args)]
pub struct ScaleArgs {
    /// Anything, for now.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub fn main(args: ScaleArgs) -> ExitCode {
    let _ = args.rest;
    eprintln!("taskloom scale: not available yet");
    ExitCode::from(2)
}

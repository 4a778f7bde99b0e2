//! `taskloom plan`: being written; replaced by its implementation before it is used.

use std::process::ExitCode;

/// Arguments of `taskloom plan`.
#[derive(clap::Args)]
pub struct PlanArgs {
    /// Anything, for now.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    rest: Vec<String>,
}

pub fn main(args: PlanArgs) -> ExitCode {
    let _ = args.rest;
    eprintln!("taskloom plan: not available yet");
    ExitCode::from(2)
}

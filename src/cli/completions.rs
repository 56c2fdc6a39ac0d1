//! `pyslim completions SHELL`: the shell completion script, generated from the command
//! line's own definition (so it knows every command, flag and value).

use std::process::ExitCode;

use anyhow::Result;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// Prints the completion script for `shell` on stdout.
pub fn print(shell: Shell) -> Result<ExitCode> {
    let mut command = Cli::command();
    let mut out = std::io::stdout().lock();
    clap_complete::generate(shell, &mut command, "pyslim", &mut out);
    Ok(ExitCode::SUCCESS)
}

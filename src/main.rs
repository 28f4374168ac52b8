//! `allseq`: parse the command line, run it, map errors to a message and an exit code.

use allseq::cli::{Cli, execute};
use allseq::error::Error;
use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match execute(cli, &mut stdout) {
        Ok(status) => ExitCode::from(status),
        // A closed pipe (`allseq trace ... | head`) is how the reader says it has enough.
        Err(Error::Output { source, .. }) if source.kind() == std::io::ErrorKind::BrokenPipe => {
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

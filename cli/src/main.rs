//! The `argus` binary.

use std::process::ExitCode;

use argus_cli::cli::{Cli, run};
use clap::Parser;

fn main() -> ExitCode {
    match run(Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            if !failure.message.is_empty() {
                eprintln!("error: {}", failure.message);
            }
            failure.exit_code()
        }
    }
}

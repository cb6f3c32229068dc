//! The `rbig` command-line tool: a thin layer over the library. `args` says what each
//! command takes, `commands` does the work through the library, `report` prints it.

mod args;
mod commands;
mod report;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    match commands::run(args::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("rbig: error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

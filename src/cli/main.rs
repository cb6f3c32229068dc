//! The `rbig` command-line tool: a thin layer over the library. `args` says what each
//! command takes, `commands` does the work through the library, `report` prints it.

mod args;
mod commands;
mod data;
mod plot;
mod report;

use std::process::ExitCode;

use clap::Parser;

/// On SIGINT or SIGTERM, removes the temporary files of outputs being written and
/// exits with 128 + the signal's number, as a shell reports a killed command.
fn remove_unfinished_outputs_on_signals() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    // Without the handler the signal still stops the tool; only the cleanup is lost.
    if let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) {
        std::thread::spawn(move || {
            if let Some(signal) = signals.forever().next() {
                rbig::io::remove_unfinished_outputs();
                std::process::exit(128 + signal);
            }
        });
    }
}

fn main() -> ExitCode {
    remove_unfinished_outputs_on_signals();
    match commands::run(args::Cli::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("rbig: error: {}", f.message);
            ExitCode::from(f.code)
        }
    }
}

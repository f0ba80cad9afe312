//! Runs the tuning CLI without the broker binary:
//! `cargo run -p sluice-tuning --example tune -- tune check`
//! `cargo run -p sluice-tuning --example tune -- iotune --dir /var/lib/sluice`

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use sluice_tuning::cli::{run_iotune, run_tune, IotuneArgs, TuneArgs};

#[derive(Parser)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    Tune(TuneArgs),
    Iotune(IotuneArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Tune(args) => run_tune(args),
        Command::Iotune(args) => run_iotune(args),
    }
}

//! `sluice`: the Kafka-compatible broker (see README.md and the `sluice_server` library).

fn main() -> std::process::ExitCode {
    sluice_server::cli::main()
}

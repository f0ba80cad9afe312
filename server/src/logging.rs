//! tracing set-up. `RUST_LOG` overrides the default `info` level. `--log-format json` writes one
//! JSON object per line (timestamp, level, fields, message) for log shippers.
//!
//! glommio 0.9 logs "got unexpected error when probing iopoll support" at ERROR on every DmaFile
//! open on file systems without iopoll; it is harmless (glommio falls back to the normal ring), so
//! its only source, target `glommio::reactor`, is switched off.

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// Human-readable text (colour only on a terminal).
    Text,
    /// One JSON object per line.
    Json,
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(
            "glommio::reactor=off"
                .parse()
                .unwrap_or_else(|err| panic!("static directive must parse: {err}")),
        );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false);
    match format {
        LogFormat::Json => builder.json().with_current_span(false).init(),
        LogFormat::Text => {
            // Colour codes only on a terminal: logs redirected to a file stay plain text.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            builder.with_ansi(ansi).init()
        }
    }
}

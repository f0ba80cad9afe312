//! tracing set-up. `RUST_LOG` overrides the default `info` level.
//!
//! glommio 0.9 logs "got unexpected error when probing iopoll support" at ERROR on every DmaFile
//! open on file systems without iopoll; it is harmless (glommio falls back to the normal ring), so
//! its only source, target `glommio::reactor`, is switched off.

use tracing_subscriber::EnvFilter;

pub fn init() {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info"))
        .add_directive(
            "glommio::reactor=off"
                .parse()
                .unwrap_or_else(|err| panic!("static directive must parse: {err}")),
        );
    // Colour codes only on a terminal: logs redirected to a file stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .init();
}

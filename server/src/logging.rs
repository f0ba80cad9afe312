//! tracing set-up. `RUST_LOG` overrides the default `info` level. `--log-format json` writes one
//! JSON object per line (timestamp, level, fields, message) for log shippers.
//!
//! glommio 0.9 logs "got unexpected error when probing iopoll support" at ERROR on every DmaFile
//! open on file systems without iopoll; it is harmless (glommio falls back to the normal ring), so
//! its only source, target `glommio::reactor`, is switched off.

use tracing::Subscriber;
use tracing_subscriber::fmt::MakeWriter;
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
    // Colour codes only on a terminal: logs redirected to a file stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let subscriber = subscriber(format, ansi, filter, std::io::stdout);
    // try_init (not set_global_default) also forwards `log` records (glommio's) to tracing.
    if let Err(err) = tracing_subscriber::util::SubscriberInitExt::try_init(subscriber) {
        eprintln!("cannot install the log subscriber: {err}");
    }
}

/// The subscriber `init` installs, writing what `filter` lets through to `writer`.
fn subscriber<W>(
    format: LogFormat,
    ansi: bool,
    filter: EnvFilter,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let filter = filter.add_directive(
        "glommio::reactor=off"
            .parse()
            .unwrap_or_else(|err| panic!("static directive must parse: {err}")),
    );
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(writer);
    match format {
        LogFormat::Json => Box::new(builder.json().with_current_span(false).finish()),
        LogFormat::Text => Box::new(builder.with_ansi(ansi).finish()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::sync::{Arc, Mutex};

    use super::*;

    /// Collects what the subscriber writes.
    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl Write for Captured {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0
                .lock()
                .expect("capture lock")
                .extend_from_slice(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    fn log_lines(format: LogFormat) -> Vec<String> {
        let captured = Captured::default();
        let writer = captured.clone();
        let filter = EnvFilter::new("info");
        let subscriber = subscriber(format, false, filter, move || writer.clone());
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(shard = 1, topic = "orders", "partition opened");
            tracing::warn!("second line");
        });
        let bytes = captured.0.lock().expect("capture lock").clone();
        String::from_utf8(bytes)
            .expect("utf-8 logs")
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn json_format_writes_one_object_per_line_with_level_fields_and_message() {
        let lines = log_lines(LogFormat::Json);
        assert_eq!(lines.len(), 2, "{lines:?}");
        let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("a JSON line");
        assert_eq!(first["level"], "INFO");
        assert_eq!(first["fields"]["message"], "partition opened");
        assert_eq!(first["fields"]["shard"], 1);
        assert_eq!(first["fields"]["topic"], "orders");
        assert!(first["timestamp"].is_string(), "{first}");
        let second: serde_json::Value = serde_json::from_str(&lines[1]).expect("a JSON line");
        assert_eq!(second["level"], "WARN");
    }

    #[test]
    fn text_format_is_plain_text() {
        let lines = log_lines(LogFormat::Text);
        assert_eq!(lines.len(), 2, "{lines:?}");
        assert!(lines[0].contains("INFO"), "{}", lines[0]);
        assert!(
            lines[0].contains("partition opened shard=1 topic=\"orders\""),
            "{}",
            lines[0]
        );
        assert!(serde_json::from_str::<serde_json::Value>(&lines[0]).is_err());
    }
}

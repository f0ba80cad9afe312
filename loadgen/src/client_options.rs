//! How the load generator connects: its client id in brokers' logs, the client library's
//! defaults (5 s to connect, reads without a timeout unless a caller sets one), and the
//! security the flags ask for. Every connection of a run (produce, consume, verify, topic
//! admin) is made with the one [`ConnectOptions`] built here.

use std::sync::Arc;

use sluice_kafka_client::{ConnectOptions, SecurityConfig, SecurityProtocol};

use crate::cli::SecurityArgs;
use crate::error::{Error, Result};

pub const CLIENT_ID: &str = "sluice-loadgen";

/// The options for `security`: PLAINTEXT connections carry no security at all (the path is
/// the same as before TLS existed); anything else reads its PEM files now, so a bad path
/// fails the run before it starts.
pub fn connect_options(security: &SecurityArgs) -> Result<ConnectOptions> {
    let config = security_config(security)?;
    let plain = ConnectOptions::new(CLIENT_ID);
    if config == SecurityConfig::default() {
        return Ok(plain);
    }
    if config.protocol == SecurityProtocol::Plaintext {
        eprintln!("note: SSL and SASL settings are ignored with security.protocol=PLAINTEXT");
        return Ok(plain);
    }
    let built = config.build()?;
    Ok(plain.with_security(Arc::new(built)))
}

/// The file's properties (if any), then the flags over them.
pub fn security_config(security: &SecurityArgs) -> Result<SecurityConfig> {
    let mut config = match &security.client_config {
        Some(path) => {
            let (config, ignored) = SecurityConfig::from_properties_file(path)?;
            for key in ignored {
                eprintln!(
                    "note: {}: {key} is not a security property; ignored",
                    path.display()
                );
            }
            config
        }
        None => SecurityConfig::default(),
    };
    let flags = [
        ("security.protocol", &security.security_protocol),
        ("ssl.ca.location", &security.ssl_ca_location),
        (
            "ssl.certificate.location",
            &security.ssl_certificate_location,
        ),
        ("ssl.key.location", &security.ssl_key_location),
        ("sasl.mechanism", &security.sasl_mechanism),
        ("sasl.username", &security.sasl_username),
        ("sasl.password", &security.sasl_password),
    ];
    for (key, value) in flags {
        if let Some(value) = value {
            let known = config.set(key, value)?;
            if !known {
                return Err(Error::Config(format!("{key}: not a security property")));
            }
        }
    }
    Ok(config)
}

/// The command line as reports store it: a `--sasl-password` value is replaced by `***`.
pub fn redacted_command_line(args: impl IntoIterator<Item = String>) -> String {
    let mut out = Vec::new();
    let mut hide_next = false;
    for arg in args {
        if hide_next {
            out.push("***".to_string());
            hide_next = false;
        } else if arg == "--sasl-password" {
            hide_next = true;
            out.push(arg);
        } else if arg.starts_with("--sasl-password=") {
            out.push("--sasl-password=***".to_string());
        } else {
            out.push(arg);
        }
    }
    out.join(" ")
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::cli::{Cli, Command};
    use clap::Parser;
    use sluice_kafka_client::SaslMechanism;

    fn security(extra: &[&str]) -> SecurityArgs {
        let mut argv = vec!["sluice-loadgen", "produce", "--bootstrap", "127.0.0.1:9094"];
        argv.extend_from_slice(extra);
        match Cli::parse_from(argv).command {
            Command::Produce(a) => a.security,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn no_flags_is_plaintext_without_security() {
        let options = connect_options(&security(&[])).expect("options");
        assert!(options.security.is_none());
    }

    #[test]
    fn flags_override_the_client_config_file() {
        let mut file = tempfile::NamedTempFile::new().expect("temp file");
        writeln!(
            file,
            "security.protocol=SASL_PLAINTEXT\nsasl.mechanism=SCRAM-SHA-256\n\
             sasl.username=alice\nsasl.password=from-file\nlinger.ms=5"
        )
        .expect("write");
        let path = file.path().to_string_lossy().into_owned();
        let args = security(&[
            "--client-config",
            &path,
            "--sasl-mechanism",
            "SCRAM-SHA-512",
        ]);
        let config = security_config(&args).expect("config");
        assert_eq!(config.sasl_mechanism, SaslMechanism::ScramSha512);
        assert_eq!(config.sasl_password.as_deref(), Some("from-file"));
        let options = connect_options(&args).expect("no TLS files to read");
        let sasl = options.security.as_ref().and_then(|s| s.sasl.as_ref());
        assert_eq!(sasl.map(|s| s.username.as_str()), Some("alice"));
    }

    #[test]
    fn bad_security_values_fail_before_the_run() {
        let wrong = security(&["--security-protocol", "TLS"]);
        assert!(connect_options(&wrong).is_err());
        let missing_ca = security(&[
            "--security-protocol",
            "SSL",
            "--ssl-ca-location",
            "/nonexistent/ca.pem",
        ]);
        let error = connect_options(&missing_ca)
            .map(|_| ())
            .map_err(|e| e.to_string());
        assert!(error.is_err_and(|e| e.contains("/nonexistent/ca.pem")));
    }

    #[test]
    fn the_password_never_reaches_the_report() {
        let line = redacted_command_line(
            [
                "loadgen",
                "--sasl-password",
                "hunter2",
                "--sasl-password=x2",
                "--acks",
                "1",
            ]
            .map(String::from),
        );
        assert_eq!(
            line,
            "loadgen --sasl-password *** --sasl-password=*** --acks 1"
        );
        let args = security(&["--sasl-username", "u", "--sasl-password", "hunter2"]);
        let json = serde_json::to_string(&args).expect("json");
        assert!(json.contains("\"sasl_username\":\"u\""), "{json}");
        assert!(!json.contains("hunter2"), "{json}");
    }
}

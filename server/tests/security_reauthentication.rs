//! KIP-368 re-authentication: with `connections.max.reauth.ms` set, SaslAuthenticate tells the
//! client its session lifetime, and librdkafka re-authenticates in band before it ends: a
//! producer streaming across several lifetimes loses nothing and its connection is never
//! closed for expiry. The metrics count every authentication.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;
use std::time::Duration;

use common::broker::{free_loopback_port, Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
const REAUTH_MS: u64 = 1_000;
const STREAM_SECONDS: u64 = 5;

#[test]
fn a_producer_re_authenticates_across_session_lifetimes_without_losing_a_record() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let sasl = free_loopback_port();
    let (metrics, metrics_config) = common::metrics::listen_config();
    let config = format!(
        "listeners = \"SASL_PLAINTEXT://127.0.0.1:{sasl}\"\n\
         \"sasl.enabled.mechanisms\" = \"SCRAM-SHA-512\"\n\
         \"connections.max.reauth.ms\" = {REAUTH_MS}\n{metrics_config}"
    );
    let broker = Broker::start(BrokerOptions::default().config(&config));
    let script = clients::python_scripts_dir().join("secure_clients.py");
    // No authorizer: the PLAINTEXT admin may create the user.
    let admin = serde_json::json!({
        "bootstrap": broker.bootstrap(), "security_protocol": "PLAINTEXT",
        "users": [["carol", "carol-secret", "SCRAM-SHA-512"]],
    });
    let mut command = Command::new(&python);
    command.arg(&script).arg("admin").arg(admin.to_string());
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, "admin");
    assert!(
        finished.stdout.contains("\"carol\": \"ok\""),
        "{}",
        finished.transcript()
    );

    let args = serde_json::json!({
        "bootstrap": format!("127.0.0.1:{sasl}"), "security_protocol": "SASL_PLAINTEXT",
        "mechanism": "SCRAM-SHA-512", "user": "carol", "password": "carol-secret",
        "topic": "ticks", "seconds": STREAM_SECONDS,
    });
    let mut command = Command::new(&python);
    command.arg(&script).arg("stream").arg(args.to_string());
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, "stream");
    assert!(finished.status.success(), "{}", finished.transcript());
    let answer: serde_json::Value =
        serde_json::from_str(finished.stdout.lines().last().unwrap()).unwrap();
    assert_eq!(answer["delivered"], answer["sent"], "{answer}");
    assert_eq!(answer["failed"], serde_json::json!([]), "{answer}");
    assert_eq!(answer["errors"], serde_json::json!([]), "{answer}");
    let (_, text) = common::metrics::scrape(metrics);
    let successes =
        common::metrics::total(&text, "sluice_authentication_successes_total").unwrap_or(0.0);
    // Every connection authenticated at least once, and the long-lived ones again each second.
    assert!(
        successes >= (STREAM_SECONDS * 1000 / REAUTH_MS) as f64,
        "{successes} authentications in {STREAM_SECONDS} s with {REAUTH_MS} ms sessions"
    );
    let log = broker.log_text();
    assert!(!log.contains("after the SASL session expired"), "{log}");
}

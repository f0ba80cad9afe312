//! Issue 17: Fetch responses over TLS of several MB each (many TLS records, many file ranges,
//! each read into memory before it is encrypted: `write_response_through`) reach a real client
//! (confluent-kafka over SSL) byte for byte and in order: from the in-memory cache while the
//! data is fresh, and from the segment files (file ranges) after a restart. Any change to the
//! TLS fetch path (windows, read-ahead: `benches/results/security-tls-2026-12-03.md`) must
//! keep this passing.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::broker::{free_loopback_port, Broker, BrokerOptions};
use common::clients;
use common::process::run_with_timeout;
use common::tls::TestPki;

const CLIENT_TIMEOUT: Duration = Duration::from_secs(120);
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(30);
const PARTITIONS: usize = 4;
/// 4 partitions x 160 records x 20 KB: 12.8 MB, a few fetches of several MB each.
const RECORDS: usize = 640;
const VALUE_BYTES: usize = 20_000;
/// Per partition and fetch: one response may carry up to 4 x 8 MiB.
const PARTITION_FETCH_BYTES: usize = 8 << 20;
const TOPIC: &str = "tls-windows";

fn secure_clients(python: &Path, mode: &str, args: &serde_json::Value) -> serde_json::Value {
    let script = clients::python_scripts_dir().join("secure_clients.py");
    let mut command = Command::new(python);
    command.arg(script).arg(mode).arg(args.to_string());
    let finished = run_with_timeout(&mut command, CLIENT_TIMEOUT, mode);
    assert!(finished.status.success(), "{}", finished.transcript());
    serde_json::from_str(finished.stdout.lines().last().unwrap()).unwrap()
}

fn assert_read_back_exactly(python: &Path, pki: &TestPki, tls_port: u16, when: &str) {
    let args = serde_json::json!({
        "bootstrap": format!("127.0.0.1:{tls_port}"),
        "security_protocol": "SSL",
        "ca": pki.ca().to_string_lossy(),
        "topic": TOPIC,
        "partitions": PARTITIONS,
        "count": RECORDS,
        "value_bytes": VALUE_BYTES,
        "partition_fetch_bytes": PARTITION_FETCH_BYTES,
    });
    let read = secure_clients(python, "read_payloads", &args);
    assert_eq!(read["records"], RECORDS, "{when}: {read}");
    assert_eq!(read["mismatched"], serde_json::json!([]), "{when}: {read}");
    assert_eq!(read["out_of_order"], 0, "{when}: {read}");
}

#[test]
fn multi_megabyte_fetches_read_back_byte_exact_over_ssl_hot_and_cold() {
    let Some(python) = clients::python_with("confluent_kafka") else {
        return;
    };
    let pki = TestPki::new();
    let tls_port = free_loopback_port();
    let config = format!(
        r#"
listeners = "SSL://127.0.0.1:{tls_port}"
"ssl.keystore.location" = "{keystore}"
"num.partitions" = {PARTITIONS}
"#,
        keystore = pki.keystore().display(),
    );
    let mut broker = Broker::start(BrokerOptions::default().config(&config));
    // Written in the clear (the broker's plain --listen port): only the reads are under test.
    let produced = secure_clients(
        &python,
        "produce_payloads",
        &serde_json::json!({
            "bootstrap": broker.bootstrap(),
            "security_protocol": "PLAINTEXT",
            "topic": TOPIC,
            "partitions": PARTITIONS,
            "count": RECORDS,
            "value_bytes": VALUE_BYTES,
        }),
    );
    assert_eq!(produced["delivered"], RECORDS, "{produced}");

    assert_read_back_exactly(&python, &pki, tls_port, "fresh data");

    // After a clean restart nothing is cached: every record byte comes from a file range.
    assert!(broker.terminate(SHUTDOWN_TIMEOUT).success());
    broker.respawn();
    broker.wait_started();
    assert_read_back_exactly(&python, &pki, tls_port, "after a restart");
}

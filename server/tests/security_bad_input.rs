//! Issue 17's bad input: each case gets Kafka's error or a closed connection, one log line,
//! and the broker keeps serving. A TLS handshake on the plaintext port, plaintext on the TLS
//! port, requests before SASL authentication, an unknown mechanism, malformed and oversized
//! SCRAM tokens, SaslAuthenticate without a handshake, and the failed-authentication delay.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::broker::{free_loopback_port, Broker, BrokerOptions};
use common::tls::TestPki;
use common::wire::KafkaConnection;
use kafka_protocol::messages::{
    ApiVersionsRequest, MetadataRequest, SaslAuthenticateRequest, SaslHandshakeRequest,
};
use kafka_protocol::protocol::StrBytes;

const SASL_AUTHENTICATION_FAILED: i16 = 58;
const UNSUPPORTED_SASL_MECHANISM: i16 = 33;
const ILLEGAL_SASL_STATE: i16 = 34;
const FAILED_AUTHENTICATION_DELAY_MS: u64 = 500;
const CLOSE_TIMEOUT: Duration = Duration::from_secs(10);
const LOG_TIMEOUT: Duration = Duration::from_secs(10);

struct Ports {
    broker: Broker,
    sasl: SocketAddr,
    tls: SocketAddr,
    _pki: TestPki,
}

fn broker() -> Ports {
    let pki = TestPki::new();
    let sasl = free_loopback_port();
    let tls = free_loopback_port();
    let config = format!(
        r#"
listeners = "SASL_PLAINTEXT://127.0.0.1:{sasl},SSL://127.0.0.1:{tls}"
"ssl.keystore.location" = "{keystore}"
"sasl.enabled.mechanisms" = "SCRAM-SHA-256,PLAIN"
"connection.failed.authentication.delay.ms" = {FAILED_AUTHENTICATION_DELAY_MS}
"#,
        keystore = pki.keystore().display(),
    );
    let broker = Broker::start(BrokerOptions::default().config(&config));
    Ports {
        broker,
        sasl: SocketAddr::from(([127, 0, 0, 1], sasl)),
        tls: SocketAddr::from(([127, 0, 0, 1], tls)),
        _pki: pki,
    }
}

fn handshake(conn: &mut KafkaConnection, mechanism: &str) -> i16 {
    let mut request = SaslHandshakeRequest::default();
    request.mechanism = StrBytes::from_string(mechanism.to_string());
    conn.request(1, &request).error_code
}

fn authenticate(conn: &mut KafkaConnection, token: Vec<u8>) -> (i16, String) {
    let mut request = SaslAuthenticateRequest::default();
    request.auth_bytes = Bytes::from(token);
    let response = conn.request(2, &request);
    let message = response
        .error_message
        .map(|m| m.to_string())
        .unwrap_or_default();
    (response.error_code, message)
}

/// Reads until end of stream; the broker must close within the timeout.
fn assert_closed_raw(mut stream: TcpStream) {
    stream.set_read_timeout(Some(CLOSE_TIMEOUT)).unwrap();
    let mut sink = [0u8; 4096];
    loop {
        match stream.read(&mut sink) {
            Ok(0) => return,
            Ok(_) => continue,
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return,
            Err(e) => panic!("the broker did not close the connection: {e}"),
        }
    }
}

fn assert_still_serving(ports: &Ports) {
    ports.broker.connect().ping().unwrap();
}

#[test]
fn a_tls_handshake_on_the_plaintext_port_and_plaintext_on_the_tls_port_close_with_a_log_line() {
    let ports = broker();
    // A TLS ClientHello record header and some of its body, to the PLAINTEXT listener.
    let mut stream = TcpStream::connect(ports.broker.addr()).unwrap();
    stream
        .write_all(&[
            0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03,
        ])
        .unwrap();
    assert_closed_raw(stream);
    // A Kafka ApiVersions frame to the TLS listener.
    let mut stream = TcpStream::connect(ports.tls).unwrap();
    let frame = [0, 0, 0, 10, 0, 18, 0, 0, 0, 0, 0, 1, 0, 0];
    stream.write_all(&frame).unwrap();
    assert_closed_raw(stream);
    ports.broker.wait_for_log(
        "began a TLS handshake, but this listener is PLAINTEXT",
        LOG_TIMEOUT,
    );
    ports
        .broker
        .wait_for_log("TLS handshake failed", LOG_TIMEOUT);
    assert_still_serving(&ports);
}

#[test]
fn requests_before_sasl_authentication_close_the_connection() {
    let ports = broker();
    // ApiVersions is served before authentication; Metadata is not.
    let mut conn = KafkaConnection::connect(ports.sasl).unwrap();
    conn.request(3, &ApiVersionsRequest::default());
    conn.send_request(12, &MetadataRequest::default()).unwrap();
    conn.expect_closed().unwrap();
    // SaslAuthenticate without a handshake closes it too (Kafka: unexpected request during
    // the SASL handshake).
    let mut conn = KafkaConnection::connect(ports.sasl).unwrap();
    let mut request = SaslAuthenticateRequest::default();
    request.auth_bytes = Bytes::from_static(b"n,,n=a,r=abc");
    conn.send_request(2, &request).unwrap();
    conn.expect_closed().unwrap();
    // A handshake on a listener without SASL (the PLAINTEXT one): ILLEGAL_SASL_STATE.
    let mut conn = ports.broker.connect();
    assert_eq!(handshake(&mut conn, "PLAIN"), ILLEGAL_SASL_STATE);
    conn.expect_closed().unwrap();
    let log = ports
        .broker
        .wait_for_log("SaslHandshake on a listener without SASL", LOG_TIMEOUT);
    assert!(
        log.contains("unexpected Metadata request before SASL authentication"),
        "{log}"
    );
    assert!(
        log.contains("unexpected SaslAuthenticate request before SASL"),
        "{log}"
    );
    assert_still_serving(&ports);
}

#[test]
fn an_unknown_mechanism_is_refused_with_the_enabled_ones() {
    let ports = broker();
    let mut conn = KafkaConnection::connect(ports.sasl).unwrap();
    let mut request = SaslHandshakeRequest::default();
    request.mechanism = StrBytes::from_static_str("GSSAPI");
    let response = conn.request(1, &request);
    assert_eq!(response.error_code, UNSUPPORTED_SASL_MECHANISM);
    let offered: Vec<String> = response.mechanisms.iter().map(|m| m.to_string()).collect();
    assert_eq!(offered, ["SCRAM-SHA-256", "PLAIN"]);
    conn.expect_closed().unwrap();
    ports
        .broker
        .wait_for_log("SASL mechanism \"GSSAPI\" is not enabled", LOG_TIMEOUT);
}

#[test]
fn malformed_and_oversized_tokens_fail_authentication_after_the_delay() {
    let ports = broker();
    for token in [
        b"this is not scram".to_vec(),
        b"n,,n=user,r=".to_vec(),
        vec![b'x'; 1 << 20],
        b"n,,n=a=ZZ,r=abc".to_vec(),
    ] {
        let mut conn = KafkaConnection::connect(ports.sasl).unwrap();
        assert_eq!(handshake(&mut conn, "SCRAM-SHA-256"), 0);
        let started = Instant::now();
        let (code, message) = authenticate(&mut conn, token);
        let elapsed = started.elapsed();
        assert_eq!(code, SASL_AUTHENTICATION_FAILED, "{message}");
        assert!(!message.is_empty());
        assert!(
            elapsed >= Duration::from_millis(FAILED_AUTHENTICATION_DELAY_MS),
            "answered after {elapsed:?}, before connection.failed.authentication.delay.ms"
        );
        conn.expect_closed().unwrap();
    }
    // PLAIN with two fields instead of three.
    let mut conn = KafkaConnection::connect(ports.sasl).unwrap();
    assert_eq!(handshake(&mut conn, "PLAIN"), 0);
    let (code, message) = authenticate(&mut conn, b"user\0password".to_vec());
    assert_eq!(code, SASL_AUTHENTICATION_FAILED);
    assert!(message.contains("expected 3 tokens"), "{message}");
    conn.expect_closed().unwrap();
    let counted = |log: &String| log.matches("authentication failed").count();
    let log = common::wait::wait_until("five failure lines", LOG_TIMEOUT, || {
        let log = ports.broker.log_text();
        (counted(&log) >= 5).then_some(log)
    });
    assert_eq!(counted(&log), 5, "one log line per failed authentication");
    assert_still_serving(&ports);
}

//! Every way securing a connection can fail ends in one error that names the cause: the
//! broker's SASL error code and message, the certificate that did not verify, or a TLS
//! client talking to a plaintext port. PLAIN and mTLS succeed where they should.

mod common;

use std::path::Path;
use std::sync::Arc;

use common::{start_broker, BrokerScript, Pki, SASL_AUTHENTICATION_FAILED, TEST_TIMEOUT};
use sluice_kafka_client::kafka_protocol::messages::ApiKey;
use sluice_kafka_client::{Client, ConnectOptions, Error, SecurityConfig};

fn options(lines: &[String]) -> ConnectOptions {
    let (config, _) = SecurityConfig::from_properties(&lines.join("\n")).expect("properties");
    let security = config.build().expect("builds");
    ConnectOptions::new("sluice-tests")
        .with_timeout(TEST_TIMEOUT)
        .with_security(Arc::new(security))
}

fn users() -> Vec<(String, String)> {
    vec![("alice".into(), "alice-secret".into())]
}

fn ca(path: &Path) -> String {
    format!("ssl.ca.location={}", path.display())
}

#[test]
fn a_wrong_scram_password_carries_the_brokers_error() {
    let script = BrokerScript {
        tls: None,
        users: users(),
        sasl: true,
    };
    let (addr, broker) = start_broker(script, 1);
    let options = options(&[
        "security.protocol=SASL_PLAINTEXT".into(),
        "sasl.mechanism=SCRAM-SHA-256".into(),
        "sasl.username=alice".into(),
        "sasl.password=wrong".into(),
    ]);
    let error = Client::connect(&addr, &options)
        .map(|_| ())
        .expect_err("refused");
    assert!(
        matches!(
            error,
            Error::Authentication {
                code: SASL_AUTHENTICATION_FAILED,
                ..
            }
        ),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(
        text.starts_with(&format!(
            "SASL SCRAM-SHA-256 authentication to {addr} failed: SASL_AUTHENTICATION_FAILED (58): \
             Authentication failed during authentication due to invalid credentials"
        )),
        "{text}"
    );
    let seen = broker.join().expect("broker");
    assert_eq!(seen[0].user, None);
}

#[test]
fn plain_over_plaintext_authenticates_and_refuses_a_wrong_password() {
    let script = BrokerScript {
        tls: None,
        users: users(),
        sasl: true,
    };
    let (addr, broker) = start_broker(script, 2);
    let plain = |password: &str| {
        options(&[
            "security.protocol=SASL_PLAINTEXT".into(),
            "sasl.mechanism=PLAIN".into(),
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \
             username=\"alice\" password=\""
                .to_string()
                + password
                + "\";",
        ])
    };
    let mut client = Client::connect(&addr, &plain("alice-secret")).expect("authenticates");
    assert!(!client.connection().is_tls());
    drop(client);
    let error = Client::connect(&addr, &plain("nope"))
        .map(|_| ())
        .expect_err("refused");
    assert!(
        error.to_string().ends_with(
            "SASL_AUTHENTICATION_FAILED (58): Authentication failed: Invalid username or password"
        ),
        "{error}"
    );
    let seen = broker.join().expect("broker");
    assert_eq!(seen[0].user.as_deref(), Some("alice"));
    assert_eq!(
        seen[0].apis,
        [
            ApiKey::ApiVersions,
            ApiKey::SaslHandshake,
            ApiKey::SaslAuthenticate
        ]
    );
    assert_eq!(seen[1].user, None);
}

#[test]
fn a_certificate_from_another_ca_does_not_verify() {
    let pki = Pki::new();
    let script = BrokerScript {
        tls: Some(pki.server_config(false)),
        users: Vec::new(),
        sasl: false,
    };
    let (addr, broker) = start_broker(script, 1);
    let options = options(&["security.protocol=SSL".into(), ca(&pki.path("rogue.crt"))]);
    let error = Client::connect(&addr, &options)
        .map(|_| ())
        .expect_err("refused");
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(error.to_string().contains("UnknownIssuer"), "{error}");
    let seen = broker.join().expect("broker");
    assert!(seen[0].apis.is_empty());
}

#[test]
fn tls_to_a_plaintext_port_says_so() {
    let pki = Pki::new();
    let script = BrokerScript {
        tls: None,
        users: Vec::new(),
        sasl: false,
    };
    let (addr, broker) = start_broker(script, 1);
    let options = options(&["security.protocol=SSL".into(), ca(&pki.path("ca.crt"))]);
    let error = Client::connect(&addr, &options)
        .map(|_| ())
        .expect_err("refused");
    assert!(matches!(error, Error::Tls { .. }), "{error:?}");
    assert!(
        error.to_string().contains("is it a TLS listener?"),
        "{error}"
    );
    let seen = broker.join().expect("broker");
    assert!(
        seen[0].error.is_some(),
        "the scripted broker saw a ClientHello as a frame"
    );
}

#[test]
fn mutual_tls_needs_the_client_certificate() {
    let pki = Pki::new();
    let script = BrokerScript {
        tls: Some(pki.server_config(true)),
        users: Vec::new(),
        sasl: false,
    };
    let (addr, broker) = start_broker(script, 2);
    let with_cert = options(&[
        "security.protocol=SSL".into(),
        ca(&pki.path("ca.crt")),
        format!(
            "ssl.certificate.location={}",
            pki.path("client.crt").display()
        ),
        format!("ssl.key.location={}", pki.path("client.key").display()),
    ]);
    let client = Client::connect(&addr, &with_cert).expect("mTLS connects");
    assert!(client.broker_versions().len() >= 2);
    drop(client);
    let without = options(&["security.protocol=SSL".into(), ca(&pki.path("ca.crt"))]);
    let error = Client::connect(&addr, &without)
        .map(|_| ())
        .expect_err("refused");
    // TLS 1.3: the broker refuses the missing certificate after the client's handshake ends,
    // so the refusal arrives as the answer to the first request.
    assert!(error.to_string().contains("CertificateRequired"), "{error}");
    let seen = broker.join().expect("broker");
    assert_eq!(seen[0].apis, [ApiKey::ApiVersions]);
    assert!(seen[1].apis.is_empty());
}

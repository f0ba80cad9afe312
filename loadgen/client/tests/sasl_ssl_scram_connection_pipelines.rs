//! SASL_SSL with SCRAM against a scripted broker: the client verifies the broker's
//! certificate (IP SAN 127.0.0.1), asks ApiVersions once, authenticates with SaslHandshake
//! and two SaslAuthenticate rounds, and then pipelines large requests while another thread
//! reads large responses over the same TLS session, in order.

mod common;

use std::sync::Arc;
use std::thread;

use common::{start_broker, BrokerScript, Pki, TEST_TIMEOUT};
use sluice_kafka_client::kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use sluice_kafka_client::kafka_protocol::messages::{ApiKey, MetadataRequest};
use sluice_kafka_client::{decode_response, topic_name, Client, ConnectOptions, SecurityConfig};

/// Requests pipelined, and topic names per request (about 160 KiB each way per request).
const REQUESTS: usize = 40;
const TOPICS_PER_REQUEST: usize = 4000;

fn options(pki: &Pki, mechanism: &str) -> ConnectOptions {
    let properties = format!(
        "security.protocol=SASL_SSL\nsasl.mechanism={mechanism}\nsasl.username=alice\n\
         sasl.password=alice-secret\nssl.ca.location={}\n",
        pki.path("ca.crt").display()
    );
    let (config, ignored) = SecurityConfig::from_properties(&properties).expect("properties");
    assert!(ignored.is_empty());
    let security = config.build().expect("reads the CA");
    ConnectOptions::new("sluice-tests")
        .with_timeout(TEST_TIMEOUT)
        .with_security(Arc::new(security))
}

fn request(round: usize) -> MetadataRequest {
    let topics = (0..TOPICS_PER_REQUEST)
        .map(|i| {
            MetadataRequestTopic::default().with_name(Some(topic_name(&format!(
                "round-{round:03}-topic-{i:05}-padding"
            ))))
        })
        .collect();
    MetadataRequest::default().with_topics(Some(topics))
}

#[test]
fn scram_over_tls_authenticates_then_pipelines_in_order() {
    let pki = Pki::new();
    for mechanism in ["SCRAM-SHA-256", "SCRAM-SHA-512"] {
        let script = BrokerScript {
            tls: Some(pki.server_config(false)),
            users: vec![("alice".into(), "alice-secret".into())],
            sasl: true,
        };
        let (addr, broker) = start_broker(script, 1);
        let mut client = Client::connect(&addr, &options(&pki, mechanism)).expect("connects");
        assert!(client.connection().is_tls());
        let version = client
            .versions()
            .of(ApiKey::Metadata)
            .expect("metadata version");
        let conn = client.connection();
        let mut reader = conn.take_reader().expect("reader");
        let reading = thread::spawn(move || {
            (0..REQUESTS)
                .map(|_| reader.read_frame().expect("response frame"))
                .collect::<Vec<_>>()
        });
        let mut correlation_ids = Vec::new();
        for round in 0..REQUESTS {
            correlation_ids.push(conn.send(&request(round), version).expect("send"));
        }
        let frames = reading.join().expect("reader thread");
        for (round, (frame, sent)) in frames.into_iter().zip(&correlation_ids).enumerate() {
            let (got, response) =
                decode_response::<MetadataRequest>(frame, version).expect("decodes");
            assert_eq!(got, *sent, "responses in request order");
            assert_eq!(response.topics.len(), TOPICS_PER_REQUEST);
            let first = response.topics[0].name.as_ref().map(|n| n.0.to_string());
            assert_eq!(
                first.as_deref(),
                Some(format!("round-{round:03}-topic-00000-padding").as_str())
            );
        }
        conn.shutdown();
        drop(client);
        let seen = broker.join().expect("broker thread");
        assert_eq!(seen[0].user.as_deref(), Some("alice"), "{mechanism}");
        assert_eq!(
            seen[0].apis[..4],
            [
                ApiKey::ApiVersions,
                ApiKey::SaslHandshake,
                ApiKey::SaslAuthenticate,
                ApiKey::SaslAuthenticate
            ],
            "ApiVersions once, then SCRAM's two rounds ({mechanism})"
        );
        assert_eq!(seen[0].apis.len(), 4 + REQUESTS);
    }
}

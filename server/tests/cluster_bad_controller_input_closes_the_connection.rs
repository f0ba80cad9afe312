//! Bad input on the controller listener: garbage, a hello from another cluster, an undecodable
//! Raft message, an undecodable request, an oversized frame. Each closes that connection with
//! one log line; the node goes on serving Kafka clients and stays the controller.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::broker::{free_fixed_port, Broker, BrokerOptions};
use common::wait::wait_until;

const NODE_ID: i32 = 1;
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const LOG_TIMEOUT: Duration = Duration::from_secs(10);
const KIND_HELLO: u8 = 0;
const KIND_RAFT: u8 = 1;
const KIND_REQUEST: u8 = 2;

fn frame(kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&((1 + 8 + payload.len()) as u32).to_be_bytes());
    out.push(kind);
    out.extend_from_slice(&0u64.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

fn hello(cluster_id: &str) -> Vec<u8> {
    frame(
        KIND_HELLO,
        format!(r#"{{"cluster_id":"{cluster_id}","node_id":{NODE_ID}}}"#).as_bytes(),
    )
}

/// Sends `bytes` and expects the node to close the connection without answering.
fn expect_closed(address: SocketAddr, bytes: &[u8], what: &str) {
    let mut stream = TcpStream::connect(address).expect("connect to the controller listener");
    stream
        .set_read_timeout(Some(READ_TIMEOUT))
        .expect("read timeout");
    stream.write_all(bytes).expect("send");
    let mut buffer = [0u8; 64];
    match stream.read(&mut buffer) {
        Ok(0) => {}
        Err(err) if err.kind() == std::io::ErrorKind::ConnectionReset => {}
        other => panic!("{what}: expected the connection closed, got {other:?}"),
    }
}

fn cluster_id(broker: &Broker) -> String {
    let text = std::fs::read_to_string(broker.data_dir().join("meta.properties"))
        .expect("meta.properties");
    text.lines()
        .find_map(|l| l.strip_prefix("cluster.id="))
        .expect("a cluster id")
        .trim()
        .to_string()
}

#[test]
fn bad_controller_input_closes_only_that_connection() {
    let port = free_fixed_port();
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let options = BrokerOptions {
        extra_args: vec![
            "--node-id".into(),
            NODE_ID.to_string(),
            "--controller-listen".into(),
            address.to_string(),
            "--controller-voters".into(),
            format!("{NODE_ID}@{address}"),
        ],
        ..BrokerOptions::default()
    };
    let mut broker = Broker::start(options);
    let ours = cluster_id(&broker);

    expect_closed(address, b"GET / HTTP/1.1\r\n\r\n", "garbage");
    expect_closed(
        address,
        &hello("another-cluster"),
        "another cluster's hello",
    );
    let mut raft = hello(&ours);
    raft.extend(frame(KIND_RAFT, &[0xff; 32]));
    expect_closed(address, &raft, "an undecodable raft message");
    let mut request = hello(&ours);
    request.extend(frame(KIND_REQUEST, b"{not json"));
    expect_closed(address, &request, "an undecodable request");
    let mut oversized = hello(&ours);
    oversized.extend_from_slice(&u32::MAX.to_be_bytes());
    expect_closed(address, &oversized, "an oversized frame");

    wait_until("one log line per refused connection", LOG_TIMEOUT, || {
        let log = broker.log_text();
        let lines = log
            .lines()
            .filter(|l| l.contains("controller connection"))
            .count();
        (lines >= 5).then_some(())
    });
    broker.assert_alive();
    let mut conn = broker.connect();
    conn.ping().expect("Kafka clients are still served");
    let meta = common::kafka::metadata(&mut conn, &[]);
    assert_eq!(meta.controller_id.0, NODE_ID);
}

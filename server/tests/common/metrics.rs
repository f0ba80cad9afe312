//! The broker's Prometheus endpoint as tests read it: choose its address, scrape it, and read
//! a family's total straight from the text (strict OpenMetrics parsing is the metrics test's).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::broker::{free_loopback_port, Broker};
use super::wait::wait_until;

/// Connect, read and write bound for one scrape.
pub const SCRAPE_TIMEOUT: Duration = Duration::from_secs(30);
/// Until a started broker logged its metrics address.
const METRICS_ADDRESS_TIMEOUT: Duration = Duration::from_secs(10);

/// The address the broker's metrics endpoint bound (the harness asks for port 0; the broker
/// logs `metrics on http://ADDRESS/metrics`).
pub fn metrics_address(broker: &Broker) -> SocketAddr {
    wait_until(
        "the broker to log its metrics address",
        METRICS_ADDRESS_TIMEOUT,
        || {
            let log = broker.log_text();
            let (_, rest) = log.split_once("metrics on http://")?;
            let (address, _) = rest.split_once("/metrics")?;
            address.parse::<SocketAddr>().ok()
        },
    )
}

/// A loopback metrics address picked now and the broker config line that serves it.
pub fn listen_config() -> (SocketAddr, String) {
    let addr = SocketAddr::from(([127, 0, 0, 1], free_loopback_port()));
    (addr, format!("\"sluice.metrics.listen\" = \"{addr}\"\n"))
}

/// GET /metrics; returns the Content-Type and the body.
pub fn scrape(addr: SocketAddr) -> (String, String) {
    let mut stream =
        TcpStream::connect_timeout(&addr, SCRAPE_TIMEOUT).expect("connect to /metrics");
    stream
        .set_read_timeout(Some(SCRAPE_TIMEOUT))
        .expect("read timeout");
    stream
        .set_write_timeout(Some(SCRAPE_TIMEOUT))
        .expect("write timeout");
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .expect("send scrape request");
    let mut response = String::new();
    stream
        .read_to_string(&mut response)
        .expect("read scrape response");
    let (head, body) = response
        .split_once("\r\n\r\n")
        .expect("an HTTP head and body");
    assert!(head.starts_with("HTTP/1.1 200 "), "scrape answered {head}");
    let content_type = head
        .lines()
        .find_map(|l| l.strip_prefix("Content-Type: "))
        .expect("a Content-Type header")
        .to_string();
    (content_type, body.to_string())
}

/// The sum of every sample named `name` (any labels) in an exposition; None if it has none.
pub fn total(text: &str, name: &str) -> Option<f64> {
    let values: Vec<f64> = text
        .lines()
        .filter_map(|line| {
            let rest = line.strip_prefix(name)?;
            let value = match rest.strip_prefix('{') {
                Some(labelled) => labelled.split_once("} ")?.1,
                None => rest.strip_prefix(' ')?,
            };
            Some(
                value
                    .parse()
                    .unwrap_or_else(|e| panic!("sample {line:?}: {e}")),
            )
        })
        .collect();
    (!values.is_empty()).then(|| values.iter().sum())
}

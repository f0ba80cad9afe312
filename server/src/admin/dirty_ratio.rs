//! The dirty ratio of compacted partitions, for `sluice topic describe`. Kafka has no wire API
//! for it (its tools read the `LogCleanerManager` JMX metrics), so neither does Sluice: the CLI
//! reads the `sluice_log_cleaner_dirty_ratio` gauge from the brokers' Prometheus endpoints,
//! which each broker serves for the compacted partitions it hosts (`metrics/cleaner.rs`).

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The gauge each broker exports per compacted partition.
pub const DIRTY_RATIO_METRIC: &str = "sluice_log_cleaner_dirty_ratio";
/// Port of a broker's metrics endpoint unless `--metrics-listen` moved it.
pub const METRICS_PORT_DEFAULT: u16 = 9644;
/// Connect, read and write bound of one scrape.
const SCRAPE_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest exposition read from one endpoint.
const SCRAPE_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// Dirty ratios of one topic's partitions, and where they came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DirtyRatios {
    /// Partition -> dirty bytes / cleanable bytes, as its host last computed it.
    pub by_partition: BTreeMap<i32, f64>,
    /// Endpoints read.
    pub endpoints: Vec<String>,
    /// Endpoints that could not be read, with why.
    pub errors: Vec<String>,
}

/// The samples of `topic` in an exposition: partition -> ratio.
pub fn parse_dirty_ratios(exposition: &str, topic: &str) -> BTreeMap<i32, f64> {
    let mut out = BTreeMap::new();
    for line in exposition.lines() {
        let Some(rest) = line.strip_prefix(DIRTY_RATIO_METRIC) else {
            continue;
        };
        let Some((labels, value)) = rest.strip_prefix('{').and_then(|r| r.split_once("} ")) else {
            continue;
        };
        let label = |name: &str| {
            labels.split(',').find_map(|pair| {
                let (key, value) = pair.split_once('=')?;
                (key.trim() == name).then(|| value.trim().trim_matches('"').to_string())
            })
        };
        if label("topic").as_deref() != Some(topic) {
            continue;
        }
        let partition = label("partition").and_then(|p| p.parse::<i32>().ok());
        let ratio = value.trim().parse::<f64>().ok();
        if let (Some(partition), Some(ratio)) = (partition, ratio) {
            out.insert(partition, ratio);
        }
    }
    out
}

/// GET /metrics from `endpoint` (HOST:PORT); the body.
fn scrape(endpoint: &str) -> Result<String, String> {
    let addr: SocketAddr = endpoint
        .to_socket_addrs()
        .map_err(|e| e.to_string())?
        .next()
        .ok_or_else(|| "no address".to_string())?;
    let mut stream =
        TcpStream::connect_timeout(&addr, SCRAPE_TIMEOUT).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(SCRAPE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    stream
        .set_write_timeout(Some(SCRAPE_TIMEOUT))
        .map_err(|e| e.to_string())?;
    write!(
        stream,
        "GET /metrics HTTP/1.1\r\nHost: {endpoint}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut response = String::new();
    stream
        .take(SCRAPE_BYTES_MAX)
        .read_to_string(&mut response)
        .map_err(|e| e.to_string())?;
    let (head, body) = response
        .split_once("\r\n\r\n")
        .ok_or_else(|| "not an HTTP response".to_string())?;
    if !head.starts_with("HTTP/1.1 200") && !head.starts_with("HTTP/1.0 200") {
        let status = head.lines().next().unwrap_or_default();
        return Err(format!("answered {status}"));
    }
    Ok(body.to_string())
}

/// The dirty ratios of `topic` from every endpoint (later endpoints do not override earlier
/// ones: a partition is hosted by one broker's shard at a time, its leader or a replica).
pub fn read_dirty_ratios(endpoints: &[String], topic: &str) -> DirtyRatios {
    let mut ratios = DirtyRatios {
        endpoints: endpoints.to_vec(),
        ..DirtyRatios::default()
    };
    for endpoint in endpoints {
        match scrape(endpoint) {
            Ok(body) => {
                for (partition, ratio) in parse_dirty_ratios(&body, topic) {
                    ratios.by_partition.entry(partition).or_insert(ratio);
                }
            }
            Err(why) => ratios.errors.push(format!("{endpoint}: {why}")),
        }
    }
    ratios
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_topics_samples_are_read() {
        let text = "# HELP sluice_log_cleaner_dirty_ratio Dirty bytes\n\
                    sluice_log_cleaner_dirty_ratio{shard=\"0\",topic=\"t\",partition=\"1\"} 0.25\n\
                    sluice_log_cleaner_dirty_ratio{shard=\"1\",topic=\"t\",partition=\"0\"} 0.5\n\
                    sluice_log_cleaner_dirty_ratio{shard=\"1\",topic=\"tt\",partition=\"2\"} 0.75\n\
                    sluice_log_cleaner_passes_total{shard=\"0\"} 3\n";
        let ratios = parse_dirty_ratios(text, "t");
        assert_eq!(ratios, BTreeMap::from([(0, 0.5), (1, 0.25)]));
    }

    #[test]
    fn an_unreachable_endpoint_is_reported_not_fatal() {
        // Port 1 on loopback: nothing listens there.
        let ratios = read_dirty_ratios(&["127.0.0.1:1".to_string()], "t");
        assert!(ratios.by_partition.is_empty());
        assert_eq!(ratios.errors.len(), 1);
    }
}

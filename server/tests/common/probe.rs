//! A producer pinned to one broker while it is paused or cut off: it sends acks=all writes
//! straight to that broker (pipelined on one connection, which the kernel buffers while the
//! process is stopped) and records what each one got. A broker deposed meanwhile must not
//! acknowledge a write that then vanishes: every write it acknowledged must be read back at
//! the offset it was given ([`assert_acknowledged_kept`]); refusals and silence are fine.

use std::collections::HashMap;
use std::net::SocketAddr;

use bytes::Bytes;
use kafka_protocol::messages::ProduceRequest;

use super::kafka::produce_request;
use super::records::{encode_batch, now_ms, TestRecord};
use super::wire::KafkaConnection;

/// The broker's own wait for acks=all, sent in each probe write: well under the connection's
/// I/O timeout, so every answer arrives before the client gives up.
pub const PROBE_PRODUCE_TIMEOUT_MS: i32 = 5_000;
/// Writes one probe may have in flight (bounded, so a stuck broker cannot buffer without end).
const PROBE_WRITES_MAX: usize = 200;

/// What one probe write got.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProbeOutcome {
    Acknowledged {
        offset: i64,
    },
    Refused {
        code: i16,
    },
    /// The connection broke or timed out first.
    NoAnswer {
        why: String,
    },
}

#[derive(Clone, Debug)]
pub struct ProbeWrite {
    pub partition: i32,
    pub value: String,
    pub outcome: ProbeOutcome,
}

pub struct Probe {
    conn: KafkaConnection,
    version: i16,
    topic: String,
    partition: i32,
    sent: Vec<(i32, String)>,
    broken: Option<String>,
}

impl Probe {
    /// Connects to the broker at `addr` (which must be serving now: versions are negotiated
    /// here) for writes to `topic`-`partition`.
    pub fn connect(addr: SocketAddr, topic: &str, partition: i32) -> Probe {
        let mut conn = KafkaConnection::connect(addr)
            .unwrap_or_else(|e| panic!("probe connection to {addr}: {e}"));
        let version = conn.version_for::<ProduceRequest>(3, 12);
        Probe {
            conn,
            version,
            topic: topic.to_string(),
            partition,
            sent: Vec::new(),
            broken: None,
        }
    }

    /// Sends `count` acks=all writes, one record each, valued `probe-<label>-<i>`.
    pub fn send(&mut self, label: &str, count: usize) {
        assert!(
            self.sent.len() + count <= PROBE_WRITES_MAX,
            "too many probe writes"
        );
        for i in 0..count {
            if self.broken.is_some() {
                return;
            }
            let value = format!("probe-{label}-{i}");
            let record = TestRecord {
                key: Bytes::from(format!("probe-{label}")),
                value: Bytes::from(value.clone()),
                timestamp_ms: now_ms(),
            };
            let mut request =
                produce_request(&self.topic, self.partition, encode_batch(&[record]), -1);
            request.timeout_ms = PROBE_PRODUCE_TIMEOUT_MS;
            match self.conn.send_request(self.version, &request) {
                Ok(correlation) => self.sent.push((correlation, value)),
                Err(e) => self.broken = Some(format!("send: {e}")),
            }
        }
    }

    /// Reads every answer (in order; the first I/O error ends the reading) and returns each
    /// write's outcome.
    pub fn collect(mut self) -> Vec<ProbeWrite> {
        let mut writes = Vec::new();
        for (correlation, value) in std::mem::take(&mut self.sent) {
            let outcome = match &self.broken {
                Some(why) => ProbeOutcome::NoAnswer { why: why.clone() },
                None => match self
                    .conn
                    .receive_response::<ProduceRequest>(self.version, correlation)
                {
                    Ok(response) => {
                        let result = &response.responses[0].partition_responses[0];
                        if result.error_code == 0 {
                            ProbeOutcome::Acknowledged {
                                offset: result.base_offset,
                            }
                        } else {
                            ProbeOutcome::Refused {
                                code: result.error_code,
                            }
                        }
                    }
                    Err(e) => {
                        self.broken = Some(format!("receive: {e}"));
                        ProbeOutcome::NoAnswer {
                            why: format!("receive: {e}"),
                        }
                    }
                },
            };
            writes.push(ProbeWrite {
                partition: self.partition,
                value,
                outcome,
            });
        }
        writes
    }
}

/// Counts of outcomes, for the test's report.
pub fn summary(writes: &[ProbeWrite]) -> String {
    let mut refusals: HashMap<i16, usize> = HashMap::new();
    let mut acknowledged = 0;
    let mut silent = 0;
    for write in writes {
        match write.outcome {
            ProbeOutcome::Acknowledged { .. } => acknowledged += 1,
            ProbeOutcome::Refused { code } => *refusals.entry(code).or_default() += 1,
            ProbeOutcome::NoAnswer { .. } => silent += 1,
        }
    }
    let mut refusals: Vec<String> = refusals
        .iter()
        .map(|(code, n)| format!("{}x{n}", super::kafka::error_code::name(*code)))
        .collect();
    refusals.sort();
    format!(
        "{} probe writes: {acknowledged} acknowledged, refused [{}], {silent} unanswered",
        writes.len(),
        refusals.join(" ")
    )
}

/// Every acknowledged probe write is in `stored` (partition, offset → value, as read back
/// after healing) at the offset it was acknowledged with.
pub fn assert_acknowledged_kept(writes: &[ProbeWrite], stored: &HashMap<(i32, i64), String>) {
    for write in writes {
        if let ProbeOutcome::Acknowledged { offset } = write.outcome {
            assert_eq!(
                stored.get(&(write.partition, offset)),
                Some(&write.value),
                "probe write {} was acknowledged at {}/{offset} and is not there: an \
                 acknowledged write vanished ({})",
                write.value,
                write.partition,
                summary(writes)
            );
        }
    }
}

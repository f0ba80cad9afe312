//! What the simulated processes say to one another: the Kafka requests one partition's
//! replication needs (Fetch, Produce, a consumer's Fetch, AlterPartition, BrokerHeartbeat, and
//! the metadata the controller publishes), reduced to the fields that matter here.

use sluice_replica::{Assignment, EpochEnd};

use super::log::Batch;

/// Who sends and receives. Brokers are `Node(1..=3)`; the controller never crashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Endpoint {
    Controller,
    Node(i32),
    Producer(usize),
    Consumer(usize),
}

/// Kafka's error codes, as far as this partition needs them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    NotLeaderOrFollower,
    FencedLeaderEpoch,
    UnknownLeaderEpoch,
    NotEnoughReplicas,
    NotEnoughReplicasAfterAppend,
    InvalidUpdateVersion,
    IneligibleReplica,
    RequestTimedOut,
}

#[derive(Debug, Clone)]
pub enum Message {
    /// Broker to controller. A new incarnation (a restart) registers again with it.
    Heartbeat { incarnation: u64 },
    /// Controller to broker: the partition as the metadata shows it, published on every change
    /// (KRaft brokers follow the metadata log).
    Metadata(Assignment),
    /// The heartbeat's answer: the incarnation the controller registered, and the partition
    /// as of then. A restarted broker acts on no metadata before this (KRaft brokers publish
    /// the metadata only once caught up past their registration).
    HeartbeatAnswer {
        incarnation: u64,
        assignment: Assignment,
    },
    AlterPartition {
        request: u64,
        leader_epoch: i32,
        partition_epoch: i32,
        isr: Vec<i32>,
    },
    AlterPartitionAnswer {
        request: u64,
        result: Result<Assignment, ErrorCode>,
    },
    /// A follower's fetch: `fetch_offset` is its durable log end, `last_fetched_epoch` the
    /// epoch of its last batch, `leader_epoch` the epoch it follows (KIP-320's current epoch).
    Fetch {
        request: u64,
        leader_epoch: i32,
        fetch_offset: i64,
        last_fetched_epoch: i32,
    },
    FetchAnswer {
        request: u64,
        result: Result<FetchData, ErrorCode>,
    },
    /// An acks=all produce of one batch of `records` records.
    Produce {
        request: u64,
        payload: u64,
        records: i64,
    },
    ProduceAnswer {
        request: u64,
        result: Result<(i64, i64), ErrorCode>,
    },
    /// A consumer's fetch: whole batches from `offset`, below the leader's high watermark.
    Read { request: u64, offset: i64 },
    ReadAnswer {
        request: u64,
        result: Result<Vec<Batch>, ErrorCode>,
    },
}

#[derive(Debug, Clone)]
pub enum FetchData {
    /// KIP-279: the logs parted; truncate and fetch again. No data this time.
    Diverging(EpochEnd),
    Batches {
        batches: Vec<Batch>,
        high_watermark: i64,
    },
}

impl Message {
    /// One line for the trace.
    pub fn describe(&self) -> String {
        match self {
            Message::FetchAnswer {
                request,
                result:
                    Ok(FetchData::Batches {
                        batches,
                        high_watermark,
                    }),
            } => {
                let range = match (batches.first(), batches.last()) {
                    (Some(first), Some(last)) => {
                        format!("{}..={}", first.offset_base, last.offset_last)
                    }
                    _ => "nothing".to_string(),
                };
                format!("FetchAnswer #{request}: {range}, high watermark {high_watermark}")
            }
            Message::ReadAnswer {
                request,
                result: Ok(batches),
            } => format!("ReadAnswer #{request}: {} batches", batches.len()),
            other => format!("{other:?}"),
        }
    }
}

//! Reads a whole topic back from its earliest offsets, for the checker.

use std::sync::Arc;

use super::checker::PartitionReads;
use crate::consume::{self, ConsumeSpec};
use crate::error::{Error, Result};
use crate::produce::outcome::LiveCounters;
use crate::produce::window_from_now;
use sluice_kafka_client::{Admin, ConnectOptions, TIMESTAMP_EARLIEST, TIMESTAMP_LATEST};

/// Upper bound on how long reading back may take.
const READ_BACK_TIMEOUT_S: f64 = 600.0;

/// Every partition of `topic`, from its log start to the end offset at call time;
/// `read_committed` reads as a read_committed consumer does (transactional runs): up to the
/// last stable offset, without aborted transactions' batches. The end offset is the high
/// watermark, which every transaction marker is below once the producers' EndTxn returned
/// and the coordinator wrote them, so the read waits for the last stable offset to reach it.
pub fn read_back(
    bootstrap: &str,
    connect: &ConnectOptions,
    topic: &str,
    consumers: u32,
    read_committed: bool,
) -> Result<Vec<PartitionReads>> {
    let mut admin = Admin::connect(bootstrap, connect)?;
    let route = admin
        .route(topic)?
        .ok_or_else(|| Error::Config(format!("topic {topic} does not exist")))?;
    let start = admin.list_offsets(&route, TIMESTAMP_EARLIEST)?;
    let end = admin.list_offsets(&route, TIMESTAMP_LATEST)?;
    let spec = ConsumeSpec {
        bootstrap: bootstrap.to_string(),
        connect: connect.clone(),
        topic: topic.to_string(),
        consumers,
        collect: true,
        stop_at: Some(end.clone()),
        read_committed,
    };
    let window = window_from_now(0.0, READ_BACK_TIMEOUT_S);
    let outcome = consume::run(
        &spec,
        &route,
        start,
        window,
        Arc::new(LiveCounters::default()),
    )?;
    Ok(outcome.reads)
}

//! `sluice producers describe TOPIC PARTITION`: the idempotent producers a partition
//! remembers (DescribeProducers, asked of the partition's leader): producer id, epoch, last
//! sequence, the time of its last batch, the coordinator epoch of its last transaction
//! marker, and the first offset of its open transaction (`-` when none: Kafka's
//! CurrentTransactionStartOffset, which holds back the partition's last stable offset).

use clap::{Args, Subcommand};
use kafka_protocol::messages::describe_producers_request::TopicRequest;
use kafka_protocol::messages::describe_producers_response::PartitionResponse;
use kafka_protocol::messages::DescribeProducersRequest;
use sluice_kafka_client::error_code::ResponseError;
use sluice_kafka_client::topic_name;

use super::error::AdminError;
use super::pool::BrokerPool;
use super::render::table;
use super::{versions, ConnectArgs};

/// Inspect producer state over the Kafka protocol.
#[derive(Debug, Args)]
pub struct ProducersArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(subcommand)]
    pub command: ProducersCommand,
}

#[derive(Debug, Subcommand)]
pub enum ProducersCommand {
    /// The producers one partition remembers (its leader answers).
    Describe { topic: String, partition: i32 },
}

pub fn describe_producers_request(
    _version: i16,
    topic: &str,
    partition: i32,
) -> DescribeProducersRequest {
    let mut entry = TopicRequest::default();
    entry.name = topic_name(topic);
    entry.partition_indexes = vec![partition];
    let mut request = DescribeProducersRequest::default();
    request.topics = vec![entry];
    request
}

pub fn describe(pool: &mut BrokerPool, topic: &str, partition: i32) -> Result<String, AdminError> {
    let metadata = pool.metadata(Some(&[topic.to_string()]))?;
    let leader = metadata
        .topics
        .iter()
        .find(|t| t.name.as_ref().is_some_and(|n| n.as_str() == topic))
        .and_then(|t| t.partitions.iter().find(|p| p.partition_index == partition))
        .map(|p| p.leader_id.0)
        .ok_or_else(|| AdminError::Kafka {
            context: format!("describe producers of {topic}-{partition}"),
            code: ResponseError::UnknownTopicOrPartition.code(),
            message: None,
        })?;
    let response = pool.node(leader)?.call(versions::DESCRIBE_PRODUCERS, |v| {
        describe_producers_request(v, topic, partition)
    })?;
    let answer = response
        .topics
        .into_iter()
        .flat_map(|t| t.partitions)
        .find(|p| p.partition_index == partition)
        .ok_or_else(|| AdminError::Usage("empty DescribeProducers response".into()))?;
    let message = answer.error_message.as_ref().map(|m| m.to_string());
    AdminError::check(answer.error_code, message.as_deref(), || {
        format!("describe producers of {topic}-{partition}")
    })?;
    Ok(render(&answer))
}

pub fn render(answer: &PartitionResponse) -> String {
    let rows: Vec<Vec<String>> = answer
        .active_producers
        .iter()
        .map(|p| {
            vec![
                p.producer_id.0.to_string(),
                p.producer_epoch.to_string(),
                p.last_sequence.to_string(),
                p.last_timestamp.to_string(),
                p.coordinator_epoch.to_string(),
                if p.current_txn_start_offset < 0 {
                    "-".to_string()
                } else {
                    p.current_txn_start_offset.to_string()
                },
            ]
        })
        .collect();
    table(
        &[
            "PRODUCER-ID",
            "EPOCH",
            "LAST-SEQUENCE",
            "LAST-TIMESTAMP-MS",
            "COORDINATOR-EPOCH",
            "TXN-START-OFFSET",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::describe_producers_response::ProducerState;
    use kafka_protocol::messages::ProducerId;

    use super::*;

    #[test]
    fn producers_render_one_row_each() {
        let mut answer = PartitionResponse::default();
        let mut state = ProducerState::default();
        state.producer_id = ProducerId(1000);
        state.producer_epoch = 2;
        state.last_sequence = 41;
        state.last_timestamp = 1_700_000_000_000;
        state.coordinator_epoch = -1;
        state.current_txn_start_offset = -1;
        let mut in_txn = state.clone();
        in_txn.producer_id = ProducerId(1001);
        in_txn.coordinator_epoch = 4;
        in_txn.current_txn_start_offset = 17;
        answer.active_producers = vec![state, in_txn];
        let text = render(&answer);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(lines[0].starts_with("PRODUCER-ID"));
        let cells: Vec<&str> = lines[1].split_whitespace().collect();
        assert_eq!(cells, ["1000", "2", "41", "1700000000000", "-1", "-"]);
        let cells: Vec<&str> = lines[2].split_whitespace().collect();
        assert_eq!(cells, ["1001", "2", "41", "1700000000000", "4", "17"]);
    }
}

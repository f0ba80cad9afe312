//! `sluice topic reassign`: move a partition's replicas (AlterPartitionReassignments),
//! cancel a move, or list the moves in progress (ListPartitionReassignments), as Kafka's
//! `kafka-reassign-partitions.sh` does through the admin API (KIP-455).

use kafka_protocol::messages::alter_partition_reassignments_request::{
    ReassignablePartition, ReassignableTopic,
};
use kafka_protocol::messages::{
    AlterPartitionReassignmentsRequest, BrokerId, ListPartitionReassignmentsRequest,
    ListPartitionReassignmentsResponse,
};
use kafka_protocol::protocol::StrBytes;

use super::error::AdminError;
use super::pool::BrokerPool;
use super::render::table;
use super::versions;

/// Request timeout sent with both requests (Kafka's admin client default).
const REASSIGN_TIMEOUT_MS: i32 = 60_000;

/// What `sluice topic reassign` was asked to do, checked before connecting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reassign {
    /// Move `topic`-`partition` to `replicas` (`None`: cancel the move in progress).
    Alter {
        topic: String,
        partition: i32,
        replicas: Option<Vec<i32>>,
    },
    /// The moves in progress, of every topic or of one.
    List { topic: Option<String> },
}

impl Reassign {
    /// The command from its flags: `--list [--topic T]`, or `--topic T --partition P` with
    /// exactly one of `--replicas 1,2,3` and `--cancel`.
    pub fn from_flags(
        topic: Option<&str>,
        partition: Option<i32>,
        replicas: Option<&[i32]>,
        cancel: bool,
        list: bool,
    ) -> Result<Reassign, AdminError> {
        let usage = |why: &str| Err(AdminError::Usage(format!("reassign: {why}")));
        if list {
            if partition.is_some() || replicas.is_some() || cancel {
                return usage("--list takes only --topic");
            }
            return Ok(Reassign::List {
                topic: topic.map(str::to_string),
            });
        }
        let (Some(topic), Some(partition)) = (topic, partition) else {
            return usage("needs --topic and --partition (or --list)");
        };
        if partition < 0 {
            return usage("--partition must not be negative");
        }
        let replicas = match (replicas, cancel) {
            (Some(_), true) | (None, false) => {
                return usage("needs exactly one of --replicas 1,2,3 and --cancel")
            }
            (None, true) => None,
            (Some(replicas), false) => {
                if replicas.is_empty() {
                    return usage("--replicas names no broker");
                }
                let mut sorted = replicas.to_vec();
                sorted.sort_unstable();
                sorted.dedup();
                if sorted.len() != replicas.len() {
                    return usage("--replicas repeats a broker");
                }
                Some(replicas.to_vec())
            }
        };
        Ok(Reassign::Alter {
            topic: topic.to_string(),
            partition,
            replicas,
        })
    }
}

pub fn alter_request(
    _version: i16,
    topic: &str,
    partition: i32,
    replicas: Option<&[i32]>,
) -> AlterPartitionReassignmentsRequest {
    let mut target = ReassignablePartition::default();
    target.partition_index = partition;
    target.replicas = replicas.map(|ids| ids.iter().map(|id| BrokerId(*id)).collect());
    let mut reassignable = ReassignableTopic::default();
    reassignable.name = StrBytes::from_string(topic.to_string()).into();
    reassignable.partitions = vec![target];
    let mut request = AlterPartitionReassignmentsRequest::default();
    request.timeout_ms = REASSIGN_TIMEOUT_MS;
    request.topics = vec![reassignable];
    request
}

/// Every reassignment in progress (a null topic list).
pub fn list_request(_version: i16) -> ListPartitionReassignmentsRequest {
    let mut request = ListPartitionReassignmentsRequest::default();
    request.timeout_ms = REASSIGN_TIMEOUT_MS;
    request.topics = None;
    request
}

/// One row per partition being reassigned (of `topic` only, if given), sorted.
pub fn render_list(response: &ListPartitionReassignmentsResponse, topic: Option<&str>) -> String {
    let ids = |ids: &[BrokerId]| {
        let ids: Vec<String> = ids.iter().map(|id| id.0.to_string()).collect();
        ids.join(",")
    };
    let mut rows: Vec<(String, i32, Vec<String>)> = Vec::new();
    for ongoing in &response.topics {
        let name = ongoing.name.0.to_string();
        if topic.is_some_and(|wanted| wanted != name) {
            continue;
        }
        for p in &ongoing.partitions {
            let row = vec![
                name.clone(),
                p.partition_index.to_string(),
                ids(&p.replicas),
                ids(&p.adding_replicas),
                ids(&p.removing_replicas),
            ];
            rows.push((name.clone(), p.partition_index, row));
        }
    }
    if rows.is_empty() {
        return "no reassignment in progress\n".to_string();
    }
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    let rows: Vec<Vec<String>> = rows.into_iter().map(|(_, _, row)| row).collect();
    table(
        &["TOPIC", "PARTITION", "REPLICAS", "ADDING", "REMOVING"],
        &rows,
    )
}

/// Runs the command; returns what to print.
pub fn execute(pool: &mut BrokerPool, command: &Reassign) -> Result<String, AdminError> {
    match command {
        Reassign::List { topic } => {
            let response = pool
                .bootstrap()
                .call(versions::LIST_PARTITION_REASSIGNMENTS, list_request)?;
            let message = response.error_message.as_ref().map(|m| m.as_str());
            AdminError::check(response.error_code, message, || {
                "list reassignments".to_string()
            })?;
            Ok(render_list(&response, topic.as_deref()))
        }
        Reassign::Alter {
            topic,
            partition,
            replicas,
        } => {
            let response = pool
                .bootstrap()
                .call(versions::ALTER_PARTITION_REASSIGNMENTS, |v| {
                    alter_request(v, topic, *partition, replicas.as_deref())
                })?;
            let context = || format!("reassign {topic}-{partition}");
            let message = response.error_message.as_ref().map(|m| m.as_str());
            AdminError::check(response.error_code, message, context)?;
            let results = response.responses.iter().flat_map(|t| t.partitions.iter());
            let mut answered = false;
            for result in results {
                answered = true;
                let message = result.error_message.as_ref().map(|m| m.as_str());
                AdminError::check(result.error_code, message, context)?;
            }
            if !answered {
                return Err(AdminError::Usage(format!(
                    "reassign {topic}-{partition}: the broker answered for no partition"
                )));
            }
            Ok(match replicas {
                Some(replicas) => {
                    let ids: Vec<String> = replicas.iter().map(i32::to_string).collect();
                    format!(
                        "reassigning {topic}-{partition} to {}; it completes once every \
                         target replica is in sync (see --list)\n",
                        ids.join(",")
                    )
                }
                None => format!("cancelled the reassignment of {topic}-{partition}\n"),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    // A test's unwrap is its assertion.
    #![allow(clippy::unwrap_used)]

    use kafka_protocol::messages::list_partition_reassignments_response::{
        OngoingPartitionReassignment, OngoingTopicReassignment,
    };

    use super::*;

    #[test]
    fn flags_make_exactly_one_command() {
        assert_eq!(
            Reassign::from_flags(Some("t"), Some(2), Some(&[1, 2, 3]), false, false).unwrap(),
            Reassign::Alter {
                topic: "t".into(),
                partition: 2,
                replicas: Some(vec![1, 2, 3])
            }
        );
        assert_eq!(
            Reassign::from_flags(Some("t"), Some(0), None, true, false).unwrap(),
            Reassign::Alter {
                topic: "t".into(),
                partition: 0,
                replicas: None
            }
        );
        assert_eq!(
            Reassign::from_flags(None, None, None, false, true).unwrap(),
            Reassign::List { topic: None }
        );
        let refused = [
            Reassign::from_flags(Some("t"), None, Some(&[1]), false, false),
            Reassign::from_flags(Some("t"), Some(0), None, false, false),
            Reassign::from_flags(Some("t"), Some(0), Some(&[1]), true, false),
            Reassign::from_flags(Some("t"), Some(0), Some(&[1, 1]), false, false),
            Reassign::from_flags(Some("t"), Some(0), Some(&[]), false, false),
            Reassign::from_flags(Some("t"), Some(-1), Some(&[1]), false, false),
            Reassign::from_flags(None, Some(0), None, false, true),
        ];
        for result in refused {
            assert!(matches!(result, Err(AdminError::Usage(_))), "{result:?}");
        }
    }

    #[test]
    fn the_request_names_the_target_or_null_to_cancel() {
        let request = alter_request(1, "orders", 3, Some(&[2, 1]));
        let partition = &request.topics[0].partitions[0];
        assert_eq!(request.topics[0].name.0.as_str(), "orders");
        assert_eq!(partition.partition_index, 3);
        assert_eq!(partition.replicas, Some(vec![BrokerId(2), BrokerId(1)]));
        assert!(request.allow_replication_factor_change);
        let cancel = alter_request(1, "orders", 3, None);
        assert_eq!(cancel.topics[0].partitions[0].replicas, None);
        assert!(list_request(0).topics.is_none());
    }

    #[test]
    fn the_list_is_sorted_and_filtered() {
        let partition = |index: i32, replicas: &[i32], adding: &[i32], removing: &[i32]| {
            let ids = |ids: &[i32]| ids.iter().map(|id| BrokerId(*id)).collect();
            let mut p = OngoingPartitionReassignment::default();
            p.partition_index = index;
            p.replicas = ids(replicas);
            p.adding_replicas = ids(adding);
            p.removing_replicas = ids(removing);
            p
        };
        let topic = |name: &str, partitions| {
            let mut t = OngoingTopicReassignment::default();
            t.name = StrBytes::from_string(name.to_string()).into();
            t.partitions = partitions;
            t
        };
        let mut response = ListPartitionReassignmentsResponse::default();
        response.topics = vec![
            topic("zeta", vec![partition(0, &[2, 3, 1], &[3], &[1])]),
            topic(
                "alpha",
                vec![
                    partition(4, &[1, 2], &[2], &[]),
                    partition(1, &[3, 1], &[], &[1]),
                ],
            ),
        ];
        let text = render_list(&response, None);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[0].starts_with("TOPIC"), "{text}");
        assert!(lines[1].starts_with("alpha  1"), "{text}");
        assert!(lines[2].starts_with("alpha  4"), "{text}");
        assert!(lines[3].starts_with("zeta   0"), "{text}");
        assert!(lines[3].contains("2,3,1"), "{text}");
        let zeta = render_list(&response, Some("zeta"));
        assert_eq!(zeta.lines().count(), 2, "{zeta}");
        assert_eq!(
            render_list(&response, Some("none")),
            "no reassignment in progress\n"
        );
    }
}

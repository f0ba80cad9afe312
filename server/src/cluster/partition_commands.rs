//! The controller requests about partitions' replicas, run by the active controller like the
//! other commands (one decision at a time, through the `ActiveGate`): AlterPartition (a
//! leader's ISR change, KIP-497), AlterPartitionReassignments and ListPartitionReassignments
//! (KIP-455). The decisions are `sluice_controller`'s; this file translates the wire.

use std::rc::Rc;

use sluice_controller::controller::{AlterPartition, ControllerError, PartitionReassignment};
use sluice_controller::image::MetadataImage;
use sluice_controller::records::RecordBatch;

use super::raft_node::{refused, RaftNode};
use super::wire::{ControllerReply, ControllerRequest, OngoingReassignment};
use crate::error_code::ResponseError;

/// Runs one of this file's requests on `node`; the other requests are `raft_node.rs`'s.
pub(super) async fn execute(node: &Rc<RaftNode>, request: ControllerRequest) -> ControllerReply {
    match request {
        ControllerRequest::AlterPartition {
            broker_id,
            broker_epoch,
            topic_id,
            partition,
            leader_epoch,
            partition_epoch,
            new_isr,
            leader_recovered,
        } => {
            let command = AlterPartition {
                broker_id,
                broker_epoch,
                topic_id,
                partition,
                leader_epoch,
                partition_epoch,
                new_isr,
                leader_recovered,
            };
            node.run_command(move |controller, image, now_ms| {
                let (batch, reply) = controller.alter_partition(image, now_ms, command)?;
                let reply = ControllerReply::AlterPartition {
                    leader_epoch: reply.leader_epoch,
                    partition_epoch: reply.partition_epoch,
                    isr: reply.isr,
                    // Nothing to commit: the caller waits for the image the decision saw.
                    offset: image.offset,
                };
                Ok((reply, batch))
            })
            .await
        }
        ControllerRequest::AlterPartitionReassignments {
            reassignments,
            allow_replication_factor_change,
        } => {
            let entries: Vec<PartitionReassignment> = reassignments
                .into_iter()
                .map(|entry| PartitionReassignment {
                    topic: entry.topic,
                    partition: entry.partition,
                    replicas: entry.replicas,
                    allow_replication_factor_change,
                })
                .collect();
            node.run_command(move |controller, image, _| {
                let (batch, results) = controller.alter_partition_reassignments(image, &entries)?;
                let results = results
                    .into_iter()
                    .map(|result| result.err().map(code_and_message))
                    .collect();
                let offset = image.offset;
                Ok((ControllerReply::Reassignments { results, offset }, batch))
            })
            .await
        }
        ControllerRequest::ListPartitionReassignments { partitions } => {
            // A read, but of the active controller's image once its gate is open: it holds
            // every committed reassignment, as Kafka's controller answers it.
            node.run_command(move |_, image, _| {
                let ongoing = list_reassignments(image, partitions.as_deref());
                Ok((
                    ControllerReply::PartitionReassignments(ongoing),
                    RecordBatch::default(),
                ))
            })
            .await
        }
        other => unreachable!("not a partition command: {other:?}"),
    }
}

/// The reassignments in progress, of every partition or of the ones named (a partition named
/// but unknown or not reassigning is left out, as Kafka does).
fn list_reassignments(
    image: &MetadataImage,
    partitions: Option<&[(String, i32)]>,
) -> Vec<OngoingReassignment> {
    let wanted = |topic: &str, partition: i32| {
        partitions.is_none_or(|list| list.iter().any(|(t, p)| t == topic && *p == partition))
    };
    image
        .reassigning_partitions()
        .filter(|view| wanted(&view.topic.name, view.partition))
        .map(|view| OngoingReassignment {
            topic: view.topic.name.clone(),
            partition: view.partition,
            replicas: view.image.replicas.clone(),
            adding_replicas: view.image.adding_replicas.clone(),
            removing_replicas: view.image.removing_replicas.clone(),
        })
        .collect()
}

/// A per-item refusal's Kafka code and message.
pub(super) fn code_and_message(error: ControllerError) -> (i16, String) {
    match refused(error) {
        ControllerReply::Refused { code, message } => (code, message),
        _ => (
            ResponseError::NotController.code(),
            "this controller is no longer active".to_string(),
        ),
    }
}

#[cfg(test)]
mod tests {
    // A test's unwrap is its assertion.
    #![allow(clippy::unwrap_used)]

    use sluice_controller::records::{Endpoint, MetadataRecord, TopicId};

    use super::*;

    /// Topics "a" (two partitions) and "b", the second partition of "a" and "b"'s only one
    /// being reassigned.
    fn image() -> MetadataImage {
        let mut records = Vec::new();
        for broker_id in [1, 2, 3] {
            records.push(MetadataRecord::RegisterBroker {
                broker_id,
                incarnation_id: 1,
                broker_epoch: i64::from(broker_id),
                endpoints: vec![Endpoint {
                    name: "PLAINTEXT".into(),
                    host: "localhost".into(),
                    port: 9092,
                    security_protocol: "PLAINTEXT".into(),
                }],
                rack: None,
            });
            records.push(MetadataRecord::UnfenceBroker {
                broker_id,
                broker_epoch: i64::from(broker_id),
            });
        }
        for (name, id, partitions) in [("a", 0xa, 2), ("b", 0xb, 1)] {
            let topic_id = TopicId(id);
            records.push(MetadataRecord::Topic {
                name: name.into(),
                topic_id,
            });
            for partition in 0..partitions {
                records.push(MetadataRecord::Partition {
                    topic_id,
                    partition,
                    replicas: vec![1, 2],
                    isr: vec![1, 2],
                    leader: 1,
                    leader_epoch: 0,
                    partition_epoch: 0,
                    leader_recovery_state: Default::default(),
                });
            }
            records.push(MetadataRecord::PartitionChange {
                topic_id,
                partition: partitions - 1,
                leader: None,
                isr: None,
                replicas: Some(vec![2, 3, 1]),
                leader_recovery_state: None,
                adding_replicas: Some(vec![3]),
                removing_replicas: Some(vec![1]),
                bump_leader_epoch: false,
            });
        }
        let mut image = MetadataImage::default();
        image.apply(1, &RecordBatch { records }).unwrap();
        image
    }

    #[test]
    fn every_reassignment_or_only_the_partitions_named() {
        let image = image();
        let all = list_reassignments(&image, None);
        let names: Vec<(&str, i32)> = all
            .iter()
            .map(|r| (r.topic.as_str(), r.partition))
            .collect();
        assert_eq!(names, vec![("a", 1), ("b", 0)]);
        assert_eq!(all[0].replicas, vec![2, 3, 1]);
        assert_eq!(all[0].adding_replicas, vec![3]);
        assert_eq!(all[0].removing_replicas, vec![1]);
        let named = [
            ("a".to_string(), 0),
            ("b".to_string(), 0),
            ("c".to_string(), 0),
        ];
        let some = list_reassignments(&image, Some(&named));
        assert_eq!(some.len(), 1, "a-0 is not moving and c does not exist");
        assert_eq!((some[0].topic.as_str(), some[0].partition), ("b", 0));
    }
}

//! Applying committed entries: the only way an image changes.

use super::{ApplyError, MetadataImage};
use crate::records::{MetadataRecord, RecordBatch};

impl MetadataImage {
    /// Applies one committed entry at Raft index `offset`, which must be above `self.offset`
    /// (indexes of entries that carry no batch are skipped, so gaps are fine).
    ///
    /// A batch applies whole or not at all: the records go to a copy, the copy's invariants are
    /// checked, and only then does the copy replace the image. On error the image is unchanged;
    /// a committed entry that fails to apply means the log and this node's code disagree, and
    /// the caller must stop applying rather than skip it (every node would diverge).
    pub fn apply(&mut self, offset: u64, batch: &RecordBatch) -> Result<(), ApplyError> {
        if offset <= self.offset {
            return Err(ApplyError::Inconsistent(format!(
                "entry at offset {offset} does not follow the applied offset {}",
                self.offset
            )));
        }
        if batch.records.is_empty() {
            self.offset = offset;
            return Ok(());
        }
        let mut next = self.clone();
        for record in &batch.records {
            next.apply_record(record)?;
        }
        if batch.records.iter().any(MetadataRecord::is_scram_change) {
            next.scram_offset = offset;
        }
        if batch.records.iter().any(MetadataRecord::is_acl_change) {
            next.acls_offset = offset;
        }
        next.check_invariants()?;
        next.offset = offset;
        assert!(next.offset > self.offset);
        *self = next;
        Ok(())
    }

    /// Applies one record. On error the image is unchanged (each record is validated before
    /// anything is written). Checks what one record can break on its own (a partition's
    /// replicas, ISR and leader; epochs moving forward); the cross-entity invariants (a leader
    /// is an unfenced broker) may be broken between the records of one batch and are checked
    /// by [`apply`](MetadataImage::apply) after the whole batch.
    pub fn apply_record(&mut self, record: &MetadataRecord) -> Result<(), ApplyError> {
        match record {
            MetadataRecord::RegisterBroker {
                broker_id,
                incarnation_id,
                broker_epoch,
                endpoints,
                rack,
            } => self.apply_register_broker(
                *broker_id,
                *incarnation_id,
                *broker_epoch,
                endpoints,
                rack,
            ),
            MetadataRecord::FenceBroker {
                broker_id,
                broker_epoch,
            } => self.apply_broker_change(*broker_id, *broker_epoch, BrokerChange::Fence),
            MetadataRecord::UnfenceBroker {
                broker_id,
                broker_epoch,
            } => self.apply_broker_change(*broker_id, *broker_epoch, BrokerChange::Unfence),
            MetadataRecord::BrokerShuttingDown {
                broker_id,
                broker_epoch,
            } => self.apply_broker_change(*broker_id, *broker_epoch, BrokerChange::ShuttingDown),
            MetadataRecord::Topic { name, topic_id } => self.apply_topic(name, *topic_id),
            MetadataRecord::Partition {
                topic_id,
                partition,
                replicas,
                isr,
                leader,
                leader_epoch,
                partition_epoch,
                leader_recovery_state,
            } => self.apply_partition(
                *topic_id,
                *partition,
                super::PartitionImage {
                    replicas: replicas.clone(),
                    isr: isr.clone(),
                    leader: *leader,
                    leader_epoch: *leader_epoch,
                    partition_epoch: *partition_epoch,
                    leader_recovery_state: *leader_recovery_state,
                    adding_replicas: Vec::new(),
                    removing_replicas: Vec::new(),
                },
            ),
            MetadataRecord::PartitionChange {
                topic_id,
                partition,
                leader,
                isr,
                replicas,
                leader_recovery_state,
                adding_replicas,
                removing_replicas,
                bump_leader_epoch,
            } => self.apply_partition_change(
                *topic_id,
                *partition,
                super::apply_topic::PartitionChange {
                    leader: *leader,
                    isr: isr.as_deref(),
                    replicas: replicas.as_deref(),
                    leader_recovery_state: *leader_recovery_state,
                    adding_replicas: adding_replicas.as_deref(),
                    removing_replicas: removing_replicas.as_deref(),
                    bump_leader_epoch: *bump_leader_epoch,
                },
            ),
            MetadataRecord::Config {
                resource,
                resource_name,
                name,
                value,
            } => self.apply_config(*resource, resource_name, name, value.as_deref()),
            MetadataRecord::RemoveTopic { topic_id } => self.apply_remove_topic(*topic_id),
            MetadataRecord::ProducerIdsBlock {
                broker_id,
                broker_epoch,
                first_producer_id,
                size,
            } => {
                self.apply_producer_ids_block(*broker_id, *broker_epoch, *first_producer_id, *size)
            }
            MetadataRecord::UserScramCredential {
                name,
                mechanism,
                salt,
                stored_key,
                server_key,
                iterations,
            } => self.apply_scram_credential(
                name,
                *mechanism,
                crate::records::ScramCredential {
                    salt: salt.clone(),
                    stored_key: stored_key.clone(),
                    server_key: server_key.clone(),
                    iterations: *iterations,
                },
            ),
            MetadataRecord::RemoveUserScramCredential { name, mechanism } => {
                self.apply_remove_scram_credential(name, *mechanism)
            }
            MetadataRecord::AccessControlEntry {
                id,
                resource_type,
                resource_name,
                pattern_type,
                principal,
                host,
                operation,
                permission_type,
            } => self.apply_acl(
                *id,
                crate::records::AclEntry {
                    resource_type: *resource_type,
                    resource_name: resource_name.clone(),
                    pattern_type: *pattern_type,
                    principal: principal.clone(),
                    host: host.clone(),
                    operation: *operation,
                    permission_type: *permission_type,
                },
            ),
            MetadataRecord::RemoveAccessControlEntry { id } => self.apply_remove_acl(*id),
        }
    }
}

/// A change of a registered broker's state, carried by a record naming its broker epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum BrokerChange {
    Fence,
    Unfence,
    ShuttingDown,
}

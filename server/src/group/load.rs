//! Loading a `__consumer_offsets` partition by replaying its records, the group metadata
//! record the coordinator writes.
//!
//! Transactions on replay (Kafka's loader): an offset record in a transactional batch is a
//! pending offset of that batch's producer until the producer's commit or abort marker in the
//! same partition; at the log end, what is still pending stays pending (its transaction is
//! still open, its marker comes later through `complete_txn`). An offset tombstone drops the
//! partition from every open transaction of the group.
//!
//! Compaction (`cleanup.policy=compact`, Kafka's rules) leaves, per key, the latest record at
//! its own offset, drops aborted transactions' records and keeps markers while their records
//! remain; committed offsets compare record offsets (`put_if_newer`), so a compacted log
//! replays to the same state as the whole one. The cleaner stops at the last stable offset, so
//! an open transaction's records and the commits competing with them stay as written.

use super::batch::LoadedRecord;
use super::classic_group::Group;
use super::coordinator::{GroupCoordinator, PartitionStatus, TimerKey};
use super::member::Member;
use super::offsets::{put_if_newer, CommittedOffset};
use super::records::{
    decode_group_value, decode_key, decode_offset_value, encode_group_value, encode_key,
    GroupMetadataValue, MemberMetadata, OffsetsKey, OffsetsRecord, RecordFormatError,
};

use super::state::GroupState;

impl GroupCoordinator {
    /// This shard now owns `partition`; until `finish_load`, its groups answer
    /// COORDINATOR_LOAD_IN_PROGRESS.
    pub fn begin_load(&mut self, partition: i32) {
        assert!((0..self.config.offsets_partitions).contains(&partition));
        self.unload(partition);
        self.partitions.insert(partition, PartitionStatus::Loading);
    }

    /// Replays one record of `partition`, in log order. A record that doesn't decode is
    /// reported and skipped by the caller; it never aborts the load.
    pub fn load_record(
        &mut self,
        partition: i32,
        record: LoadedRecord,
        now_ms: u64,
    ) -> Result<(), RecordFormatError> {
        assert_eq!(
            self.partitions.get(&partition),
            Some(&PartitionStatus::Loading)
        );
        assert!(record.offset >= 0);
        let key = record.key.ok_or(RecordFormatError::MissingKey)?;
        match decode_key(key)? {
            OffsetsKey::Offset {
                group,
                topic,
                partition: p,
            } => {
                let value = record.value.map(decode_offset_value).transpose()?;
                let g = self.loaded_group(&group, partition, now_ms);
                let tp = (topic, p);
                match value {
                    None => {
                        g.offsets.remove(&tp);
                        g.remove_pending_txn_offset(&tp);
                    }
                    Some(v) => {
                        let committed = CommittedOffset {
                            offset: v.offset,
                            leader_epoch: v.leader_epoch,
                            metadata: v.metadata,
                            commit_timestamp_ms: u64::try_from(v.commit_timestamp_ms).unwrap_or(0),
                            record_offset: record.offset,
                        };
                        match record.txn_producer_id {
                            None => {
                                put_if_newer(&mut g.offsets, tp, committed);
                            }
                            Some(producer_id) => {
                                let pending = g.pending_txn.entry(producer_id).or_default();
                                pending.insert(tp, committed);
                            }
                        }
                    }
                }
            }
            OffsetsKey::Group { group } => {
                if record.txn_producer_id.is_some() {
                    // Kafka's coordinator writes group records outside transactions only.
                    return Err(RecordFormatError::TransactionalGroupRecord);
                }
                let value = record.value.map(decode_group_value).transpose()?;
                let g = self.loaded_group(&group, partition, now_ms);
                let offsets = std::mem::take(&mut g.offsets);
                let pending_txn = std::mem::take(&mut g.pending_txn);
                let mut fresh = Group::new(&group, partition, now_ms);
                fresh.offsets = offsets;
                fresh.pending_txn = pending_txn;
                if let Some(v) = value {
                    apply_group_value(&mut fresh, v, now_ms);
                }
                *g = fresh;
            }
        }
        Ok(())
    }

    fn loaded_group(&mut self, group_id: &str, partition: i32, now_ms: u64) -> &mut Group {
        self.groups
            .entry(group_id.to_string())
            .or_insert_with(|| Group::new(group_id, partition, now_ms))
    }

    /// The partition is replayed: its groups are served, and every restored member gets a
    /// full session to heartbeat again.
    pub fn finish_load(&mut self, partition: i32, now_ms: u64) {
        assert_eq!(
            self.partitions.get(&partition),
            Some(&PartitionStatus::Loading)
        );
        self.partitions.insert(partition, PartitionStatus::Loaded);
        // A tombstoned group without offsets (committed or pending) is gone.
        self.groups.retain(|_, g| {
            g.partition != partition || g.protocol_type.is_some() || g.has_offsets()
        });
        // Transactions that ended while the partition loaded, after the replay's end.
        for (producer_id, commit) in self
            .deferred_txn_ends
            .remove(&partition)
            .unwrap_or_default()
        {
            self.end_txn(partition, producer_id, commit);
        }
        let mut sessions = Vec::new();
        for g in self.groups.values().filter(|g| g.partition == partition) {
            for m in g.members.values() {
                sessions.push((
                    g.group_id.clone(),
                    m.member_id.clone(),
                    m.session_timeout_ms,
                ));
            }
        }
        for (group_id, member_id, session_ms) in sessions {
            self.arm_heartbeat(&group_id, &member_id, now_ms + session_ms);
        }
        if self.timers.deadline_ms(&TimerKey::OffsetExpiry).is_none() {
            let next = now_ms + self.config.offsets_retention_check_interval_ms;
            self.timers.arm(TimerKey::OffsetExpiry, next);
        }
        tracing::debug!(
            partition,
            groups = self.groups_in(partition),
            "offsets partition loaded"
        );
    }

    /// The shard no longer serves `partition`: its groups are dropped from memory.
    /// True while `partition` is being replayed (not unloaded or reloaded meanwhile).
    pub fn is_loading(&self, partition: i32) -> bool {
        self.partitions.get(&partition) == Some(&PartitionStatus::Loading)
    }

    pub fn unload(&mut self, partition: i32) {
        self.partitions.remove(&partition);
        self.deferred_txn_ends.remove(&partition);
        let gone: Vec<String> = self
            .groups
            .values()
            .filter(|g| g.partition == partition)
            .map(|g| g.group_id.clone())
            .collect();
        for group_id in gone {
            self.groups.remove(&group_id);
            self.join_phases.remove(&group_id);
            self.timers.cancel(&TimerKey::Join {
                group: group_id.clone(),
            });
            self.timers
                .cancel(&TimerKey::PendingSync { group: group_id });
        }
    }

    pub fn groups_in(&self, partition: i32) -> usize {
        self.groups
            .values()
            .filter(|g| g.partition == partition)
            .count()
    }

    /// The GroupMetadata record of a group's current state.
    pub(super) fn group_record(&self, group_id: &str) -> OffsetsRecord {
        let g = self.group(group_id);
        let protocol = g.protocol_name.clone().unwrap_or_default();
        let members = g
            .members
            .values()
            .map(|m| MemberMetadata {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                rebalance_timeout_ms: i32::try_from(m.rebalance_timeout_ms).unwrap_or(i32::MAX),
                session_timeout_ms: i32::try_from(m.session_timeout_ms).unwrap_or(i32::MAX),
                subscription: m.protocol_metadata(&protocol).cloned().unwrap_or_default(),
                assignment: m.assignment.clone(),
            })
            .collect();
        let value = GroupMetadataValue {
            protocol_type: g.protocol_type.clone().unwrap_or_default(),
            generation: g.generation_id,
            protocol: g.protocol_name.clone(),
            leader: g.leader_id.clone(),
            current_state_timestamp_ms: i64::try_from(g.state_timestamp_ms).unwrap_or(i64::MAX),
            members,
        };
        let key = encode_key(&OffsetsKey::Group {
            group: group_id.into(),
        });
        OffsetsRecord {
            key,
            value: Some(encode_group_value(&value)),
        }
    }
}

/// Restores a group from its metadata record: Stable with its members, or Empty.
fn apply_group_value(g: &mut Group, v: GroupMetadataValue, now_ms: u64) {
    g.protocol_type = Some(v.protocol_type.clone()).filter(|t| !t.is_empty());
    g.generation_id = v.generation;
    g.protocol_name = v.protocol.clone();
    g.state_timestamp_ms = u64::try_from(v.current_state_timestamp_ms).unwrap_or(now_ms);
    let protocol = v.protocol.unwrap_or_default();
    for m in v.members {
        if let Some(instance) = &m.group_instance_id {
            g.static_members
                .insert(instance.clone(), m.member_id.clone());
        }
        let member = Member {
            member_id: m.member_id.clone(),
            group_instance_id: m.group_instance_id,
            client_id: m.client_id,
            client_host: m.client_host,
            session_timeout_ms: u64::try_from(m.session_timeout_ms).unwrap_or(0),
            rebalance_timeout_ms: u64::try_from(m.rebalance_timeout_ms).unwrap_or(0),
            protocols: vec![(protocol.clone(), m.subscription)],
            assignment: m.assignment,
            join_ticket: None,
            sync_ticket: None,
            is_new: false,
        };
        g.members.insert(m.member_id, member);
    }
    g.leader_id = v.leader.filter(|l| g.members.contains_key(l));
    if g.members.is_empty() {
        g.protocol_name = None;
        g.state = GroupState::Empty;
    } else {
        if g.leader_id.is_none() {
            g.leader_id = g.members.keys().next().cloned();
        }
        g.state = GroupState::Stable;
    }
}

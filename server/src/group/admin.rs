//! ListGroups, DescribeGroups and DeleteGroups.

use std::collections::BTreeMap;

use bytes::Bytes;
use kafka_protocol::ResponseError;

use super::coordinator::{GroupCoordinator, PartitionStatus};
use super::offsets::offset_tombstone;
use super::records::{encode_key, OffsetsKey, OffsetsRecord};
use super::state::GroupState;

/// Group type of every group this coordinator runs (KIP-848 names the classic protocol so).
pub const GROUP_TYPE_CLASSIC: &str = "classic";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedGroup {
    pub group_id: String,
    pub protocol_type: String,
    pub state: GroupState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedMember {
    pub member_id: String,
    pub group_instance_id: Option<String>,
    pub client_id: String,
    pub client_host: String,
    pub metadata: Bytes,
    pub assignment: Bytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DescribedGroup {
    pub group_id: String,
    /// `None` for a group this shard holds (or an unknown one: state Dead, as Kafka answers).
    pub error: Option<ResponseError>,
    pub state: GroupState,
    pub protocol_type: String,
    /// The selected protocol, shown only when Stable (as Kafka does).
    pub protocol_data: String,
    pub members: Vec<DescribedMember>,
}

/// DeleteGroups results plus the tombstones to persist (by partition) before answering.
#[derive(Debug, Clone, Default)]
pub struct DeleteGroupsPlan {
    pub results: Vec<(String, Option<ResponseError>)>,
    pub records: BTreeMap<i32, Vec<OffsetsRecord>>,
}

impl GroupCoordinator {
    /// Groups of this shard matching the filters (empty filter = all). `Err` while any of its
    /// partitions is still loading.
    pub fn list_groups(
        &self,
        states: &[String],
        types: &[String],
    ) -> Result<Vec<ListedGroup>, ResponseError> {
        if self
            .partitions
            .values()
            .any(|s| *s == PartitionStatus::Loading)
        {
            return Err(ResponseError::CoordinatorLoadInProgress);
        }
        let type_ok = types.is_empty()
            || types
                .iter()
                .any(|t| t.eq_ignore_ascii_case(GROUP_TYPE_CLASSIC));
        if !type_ok {
            return Ok(Vec::new());
        }
        let wanted: Vec<Option<GroupState>> = states.iter().map(|s| GroupState::parse(s)).collect();
        let mut listed: Vec<ListedGroup> = self
            .groups
            .values()
            .filter(|g| !g.is(GroupState::Dead))
            .filter(|g| states.is_empty() || wanted.contains(&Some(g.state)))
            .map(|g| ListedGroup {
                group_id: g.group_id.clone(),
                protocol_type: g.protocol_type.clone().unwrap_or_default(),
                state: g.state,
            })
            .collect();
        listed.sort_by(|a, b| a.group_id.cmp(&b.group_id));
        Ok(listed)
    }

    /// Kafka's `handleDescribeGroup`.
    pub fn describe_group(&self, group_id: &str) -> DescribedGroup {
        let mut described = DescribedGroup {
            group_id: group_id.to_string(),
            error: None,
            state: GroupState::Dead,
            protocol_type: String::new(),
            protocol_data: String::new(),
            members: Vec::new(),
        };
        if let Err(e) = self.access(group_id) {
            described.error = Some(e);
            return described;
        }
        let Some(group) = self.groups.get(group_id) else {
            return described;
        };
        let stable = group.is(GroupState::Stable);
        let protocol = group.protocol_name.clone().unwrap_or_default();
        described.state = group.state;
        described.protocol_type = group.protocol_type.clone().unwrap_or_default();
        described.protocol_data = if stable {
            protocol.clone()
        } else {
            String::new()
        };
        described.members = group
            .members
            .values()
            .map(|m| DescribedMember {
                member_id: m.member_id.clone(),
                group_instance_id: m.group_instance_id.clone(),
                client_id: m.client_id.clone(),
                client_host: m.client_host.clone(),
                metadata: if stable {
                    m.protocol_metadata(&protocol).cloned().unwrap_or_default()
                } else {
                    Bytes::new()
                },
                assignment: if stable {
                    m.assignment.clone()
                } else {
                    Bytes::new()
                },
            })
            .collect();
        described
    }

    /// Kafka's `handleDeleteGroups`: only empty groups go; their offsets go with them.
    pub fn delete_groups(&mut self, group_ids: &[String], now_ms: u64) -> DeleteGroupsPlan {
        let mut plan = DeleteGroupsPlan::default();
        for group_id in group_ids {
            let result = self.delete_group(group_id, now_ms, &mut plan.records);
            plan.results.push((group_id.clone(), result.err()));
        }
        plan
    }

    fn delete_group(
        &mut self,
        group_id: &str,
        now_ms: u64,
        records: &mut BTreeMap<i32, Vec<OffsetsRecord>>,
    ) -> Result<(), ResponseError> {
        let partition = self.access(group_id)?;
        match self.groups.get(group_id) {
            None => return Err(ResponseError::GroupIdNotFound),
            Some(g) if g.is(GroupState::Dead) => return Err(ResponseError::GroupIdNotFound),
            Some(g) if !g.is(GroupState::Empty) => return Err(ResponseError::NonEmptyGroup),
            Some(_) => {}
        }
        let mut group = self.groups.remove(group_id).expect("checked above");
        group.transition(GroupState::Dead, now_ms);
        let out = records.entry(partition).or_default();
        for (topic, p) in group.offsets.keys() {
            out.push(offset_tombstone(group_id, topic, *p));
        }
        // Kafka deletes an empty group even with an open transaction: its pending offsets get
        // a tombstone too (one per partition), so a later commit marker materializes nothing.
        let pending: std::collections::BTreeSet<_> =
            group.pending_txn.values().flat_map(|o| o.keys()).collect();
        for (topic, p) in pending
            .into_iter()
            .filter(|tp| !group.offsets.contains_key(*tp))
        {
            out.push(offset_tombstone(group_id, topic, *p));
        }
        out.push(OffsetsRecord {
            key: encode_key(&OffsetsKey::Group {
                group: group_id.into(),
            }),
            value: None,
        });
        Ok(())
    }
}

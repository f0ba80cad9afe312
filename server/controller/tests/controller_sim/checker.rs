//! What the simulated controller cluster promises, checked after every image change:
//!
//! - every node's image at an offset is the same (the hash of its JSON);
//! - every image keeps its invariants (`MetadataImage::check_invariants`);
//! - a topic name never maps to two live topic ids, a topic id is created at one offset;
//! - broker epochs are unique (one registration each) and increase in log order;
//! - a partition's leader epoch and partition epoch never go back on a node, across its
//!   restarts too, and its image offset never goes back; a partition that changed has a
//!   larger partition epoch, and one whose leader changed a larger leader epoch (the leader
//!   ∈ ISR ⊆ replicas rule is one of the image's invariants);
//! - an acknowledged decision is in the image at its offset ([`Expectation`]).
//!
//! That every committed entry applies cleanly is checked where it is applied (`mod.rs`).

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use sluice_controller::image::{MetadataImage, PartitionImage};
use sluice_controller::records::{LeaderRecoveryState, MetadataRecord, RecordBatch, TopicId};

use super::clients::Command;
use super::voter::Reply;

/// What an acknowledged decision guarantees of the image at its offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expectation {
    Registered {
        broker_id: i32,
        incarnation_id: u128,
        broker_epoch: i64,
    },
    /// A heartbeat's reply says whether the broker is fenced once its records apply.
    Fencing {
        broker_id: i32,
        broker_epoch: i64,
        fenced: bool,
    },
    TopicCreated {
        name: String,
        topic_id: TopicId,
        partitions: usize,
    },
    TopicDeleted {
        topic_id: TopicId,
    },
    Partitions {
        topic_id: TopicId,
        count: usize,
    },
    Configs {
        topic_id: TopicId,
        configs: BTreeMap<String, String>,
    },
    /// An AlterPartition's answer: the partition at these epochs with this ISR, one change
    /// after the state its leader saw (`seen_partition_epoch`): an ISR change is a
    /// compare-and-set, never applied over a change the leader did not know of.
    Isr {
        topic_id: TopicId,
        partition: usize,
        seen_partition_epoch: i32,
        leader_epoch: i32,
        partition_epoch: i32,
        isr: Vec<i32>,
    },
    /// A reassignment runs towards, or reached, `target`; `None`: none runs (cancelled).
    Reassigned {
        topic_id: TopicId,
        partition: usize,
        target: Option<Vec<i32>>,
    },
}

impl Expectation {
    /// What `command`, decided on `image` into `batch` with `reply`, promises once committed.
    pub fn of(
        command: &Command,
        reply: Reply,
        batch: &RecordBatch,
        image: &MetadataImage,
    ) -> Option<Expectation> {
        let created = batch.records.iter().find_map(|record| match record {
            MetadataRecord::Topic { topic_id, .. } => Some(*topic_id),
            _ => None,
        });
        let topic_id = |name: &str| image.topic(name).map(|topic| topic.topic_id);
        match (command, reply) {
            (
                Command::Register {
                    broker_id,
                    incarnation_id,
                },
                Reply::Registered { broker_epoch },
            ) => Some(Expectation::Registered {
                broker_id: *broker_id,
                incarnation_id: *incarnation_id,
                broker_epoch,
            }),
            (Command::Heartbeat(heartbeat), Reply::Heartbeat(reply)) => {
                Some(Expectation::Fencing {
                    broker_id: heartbeat.broker_id,
                    broker_epoch: heartbeat.broker_epoch,
                    fenced: reply.is_fenced,
                })
            }
            (Command::CreateTopic { name, .. }, _) => Some(Expectation::TopicCreated {
                name: name.clone(),
                topic_id: created?,
                partitions: batch
                    .records
                    .iter()
                    .filter(|r| matches!(r, MetadataRecord::Partition { .. }))
                    .count(),
            }),
            (Command::DeleteTopic { name }, _) => Some(Expectation::TopicDeleted {
                topic_id: topic_id(name)?,
            }),
            (Command::CreatePartitions { name, count }, _) => Some(Expectation::Partitions {
                topic_id: topic_id(name)?,
                count: usize::try_from(*count).ok()?,
            }),
            (Command::SetConfigs { name, configs }, _) => Some(Expectation::Configs {
                topic_id: topic_id(name)?,
                configs: configs.clone(),
            }),
            (
                Command::AlterPartition(alter),
                Reply::Isr {
                    leader_epoch,
                    partition_epoch,
                },
            ) => {
                // The ISR asked for, less the replicas a reassignment it completes removes.
                let current = image
                    .topic_by_id(alter.topic_id)?
                    .partitions
                    .get(usize::try_from(alter.partition).ok()?)?;
                let removed = |r: &i32| current.removing_replicas.contains(r);
                let completes = current.is_reassigning()
                    && current
                        .target_replicas()
                        .iter()
                        .all(|r| alter.new_isr.contains(r));
                let isr = alter
                    .new_isr
                    .iter()
                    .copied()
                    .filter(|r| !(completes && removed(r)))
                    .collect();
                Some(Expectation::Isr {
                    topic_id: alter.topic_id,
                    partition: usize::try_from(alter.partition).ok()?,
                    seen_partition_epoch: alter.partition_epoch,
                    leader_epoch,
                    partition_epoch,
                    isr,
                })
            }
            (Command::Reassign(entry), _) => Some(Expectation::Reassigned {
                topic_id: topic_id(&entry.topic)?,
                partition: usize::try_from(entry.partition).ok()?,
                target: entry.replicas.clone(),
            }),
            _ => None,
        }
    }

    /// Holds in `image` (at the decision's offset)?
    pub fn check(&self, image: &MetadataImage) -> Result<(), String> {
        let holds = match self {
            Expectation::Registered {
                broker_id,
                incarnation_id,
                broker_epoch,
            } => image.broker(*broker_id).is_some_and(|broker| {
                broker.incarnation_id == *incarnation_id && broker.broker_epoch == *broker_epoch
            }),
            Expectation::Fencing {
                broker_id,
                broker_epoch,
                fenced,
            } => image.broker(*broker_id).is_some_and(|broker| {
                broker.broker_epoch == *broker_epoch && broker.fenced == *fenced
            }),
            Expectation::TopicCreated {
                name,
                topic_id,
                partitions,
            } => image.topic(name).is_some_and(|topic| {
                topic.topic_id == *topic_id && topic.partitions.len() == *partitions
            }),
            Expectation::TopicDeleted { topic_id } => image.topic_by_id(*topic_id).is_none(),
            Expectation::Partitions { topic_id, count } => image
                .topic_by_id(*topic_id)
                .is_some_and(|topic| topic.partitions.len() == *count),
            Expectation::Configs { topic_id, configs } => image
                .topic_by_id(*topic_id)
                .is_some_and(|topic| topic.configs == *configs),
            Expectation::Isr {
                topic_id,
                partition,
                seen_partition_epoch,
                leader_epoch,
                partition_epoch,
                isr,
            } => partition_of(image, *topic_id, *partition).is_some_and(|p| {
                p.partition_epoch == seen_partition_epoch + 1
                    && p.leader_epoch == *leader_epoch
                    && p.partition_epoch == *partition_epoch
                    && p.isr == *isr
            }),
            Expectation::Reassigned {
                topic_id,
                partition,
                target,
            } => partition_of(image, *topic_id, *partition).is_some_and(|p| match target {
                Some(target) => p.target_replicas() == *target,
                None => !p.is_reassigning(),
            }),
        };
        if holds {
            Ok(())
        } else {
            Err(format!(
                "acknowledged {self:?} does not hold in the image at offset {}",
                image.offset
            ))
        }
    }
}

fn partition_of(
    image: &MetadataImage,
    topic_id: TopicId,
    partition: usize,
) -> Option<&PartitionImage> {
    image.topic_by_id(topic_id)?.partitions.get(partition)
}

/// A topic id's life in the log.
struct TopicLife {
    name: String,
    created: u64,
    removed: Option<u64>,
}

/// What a node's images showed so far, kept across its restarts.
#[derive(Default)]
pub struct NodeHistory {
    offset: u64,
    /// (topic id, partition) -> the partition as last seen.
    partitions: BTreeMap<(TopicId, usize), PartitionImage>,
}

#[derive(Default)]
pub struct Checker {
    /// Hash of the image JSON at each offset some node reached, and who reached it first.
    image_hashes: BTreeMap<u64, (u64, i32)>,
    topics: BTreeMap<TopicId, TopicLife>,
    /// Broker epoch -> (broker id, incarnation id, offset of its registration).
    epochs: BTreeMap<i64, (i32, u128, u64)>,
    /// Acknowledged decisions by offset, checked on every image that reaches the offset.
    acknowledged: BTreeMap<u64, Expectation>,
    histories: BTreeMap<i32, NodeHistory>,
    /// Offsets whose entry fences a broker (for the totals).
    fencings: std::collections::BTreeSet<u64>,
    /// Offsets whose entry changes an ISR, completes a reassignment, or elects uncleanly.
    isr_changes: std::collections::BTreeSet<u64>,
    reassignments_completed: std::collections::BTreeSet<u64>,
    unclean_elections: std::collections::BTreeSet<u64>,
}

impl Checker {
    /// `node` applied `batch` at `offset` onto `before`: the records' global properties.
    pub fn observe_batch(
        &mut self,
        node: i32,
        before: &MetadataImage,
        offset: u64,
        batch: &RecordBatch,
    ) -> Result<(), String> {
        let mut epoch_max = before.broker_epoch_max;
        for record in &batch.records {
            match record {
                MetadataRecord::Topic { name, topic_id } => {
                    self.observe_topic_created(node, name, *topic_id, offset)?
                }
                MetadataRecord::RemoveTopic { topic_id } => {
                    let life = self.topics.get_mut(topic_id).ok_or_else(|| {
                        format!("node {node}: offset {offset} removes an unknown topic id")
                    })?;
                    match life.removed {
                        Some(removed) if removed != offset => {
                            return Err(format!(
                                "topic {} removed at {removed} and at {offset}",
                                life.name
                            ))
                        }
                        _ => life.removed = Some(offset),
                    }
                }
                MetadataRecord::RegisterBroker {
                    broker_id,
                    incarnation_id,
                    broker_epoch,
                    ..
                } => {
                    if *broker_epoch <= epoch_max {
                        return Err(format!(
                            "node {node}: offset {offset} registers broker {broker_id} with \
                             epoch {broker_epoch}, not above {epoch_max}"
                        ));
                    }
                    epoch_max = *broker_epoch;
                    let registration = (*broker_id, *incarnation_id, offset);
                    let first = *self.epochs.entry(*broker_epoch).or_insert(registration);
                    if first != registration {
                        return Err(format!(
                            "broker epoch {broker_epoch} handed out twice: {first:?} and \
                             {registration:?}"
                        ));
                    }
                }
                MetadataRecord::FenceBroker { .. } => {
                    self.fencings.insert(offset);
                }
                MetadataRecord::PartitionChange {
                    isr,
                    removing_replicas,
                    adding_replicas,
                    replicas,
                    leader_recovery_state,
                    ..
                } => {
                    if isr.is_some() {
                        self.isr_changes.insert(offset);
                    }
                    let ends = |list: &Option<Vec<i32>>| list.as_ref().is_some_and(Vec::is_empty);
                    if replicas.is_some() && (ends(adding_replicas) || ends(removing_replicas)) {
                        self.reassignments_completed.insert(offset);
                    }
                    if *leader_recovery_state == Some(LeaderRecoveryState::Recovering) {
                        self.unclean_elections.insert(offset);
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    fn observe_topic_created(
        &mut self,
        node: i32,
        name: &str,
        topic_id: TopicId,
        offset: u64,
    ) -> Result<(), String> {
        if let Some(life) = self.topics.get(&topic_id) {
            if life.created != offset || life.name != name {
                return Err(format!(
                    "node {node}: topic id of {} created at {} is created again at {offset} \
                     as {name}",
                    life.name, life.created
                ));
            }
            return Ok(());
        }
        for (other, life) in &self.topics {
            let live = life.removed.is_none_or(|removed| removed > offset);
            if life.name == name && life.created < offset && live {
                return Err(format!(
                    "topic {name} gets id {:032x} at {offset} while id {:032x} (created at {}) \
                     lives",
                    topic_id.0, other.0, life.created
                ));
            }
        }
        let life = TopicLife {
            name: name.to_owned(),
            created: offset,
            removed: None,
        };
        self.topics.insert(topic_id, life);
        Ok(())
    }

    /// `node`'s image changed (an entry applied, a snapshot loaded). While a restarted node
    /// replays (`replaying`), its images are older than the one it had before the crash:
    /// they are compared with the others' but not with its own history, which
    /// [`observe_history`](Self::observe_history) checks once the replay is done.
    pub fn observe_image(
        &mut self,
        node: i32,
        image: &MetadataImage,
        replaying: bool,
    ) -> Result<(), String> {
        image
            .check_invariants()
            .map_err(|error| format!("node {node}: image at {}: {error}", image.offset))?;
        let json = serde_json::to_vec(image).map_err(|error| error.to_string())?;
        let mut hasher = DefaultHasher::new();
        json.hash(&mut hasher);
        let hash = hasher.finish();
        let (first_hash, first_node) = *self
            .image_hashes
            .entry(image.offset)
            .or_insert((hash, node));
        if first_hash != hash {
            return Err(format!(
                "node {node}'s image at offset {} differs from node {first_node}'s",
                image.offset
            ));
        }
        if let Some(expectation) = self.acknowledged.get(&image.offset) {
            expectation
                .check(image)
                .map_err(|e| format!("node {node}: {e}"))?;
        }
        if replaying {
            return Ok(());
        }
        self.observe_history(node, image)
    }

    /// `node`'s image offset and partition epochs never go back, across restarts too.
    pub fn observe_history(&mut self, node: i32, image: &MetadataImage) -> Result<(), String> {
        let history = self.histories.entry(node).or_default();
        if image.offset < history.offset {
            return Err(format!(
                "node {node}: image offset went back from {} to {}",
                history.offset, image.offset
            ));
        }
        history.offset = image.offset;
        for topic in image.topics.values() {
            for (partition, state) in topic.partitions.iter().enumerate() {
                let key = (topic.topic_id, partition);
                if let Some(seen) = history.partitions.get(&key) {
                    check_partition_change(seen, state).map_err(|error| {
                        format!(
                            "node {node}: {}-{partition} at offset {}: {error}",
                            topic.name, image.offset
                        )
                    })?;
                }
                history.partitions.insert(key, state.clone());
            }
        }
        Ok(())
    }

    /// A decision at `offset` was acknowledged: it holds in `image` (the acknowledging
    /// node's, at `offset`) and in every image at `offset` from now on.
    pub fn acknowledge(
        &mut self,
        image: &MetadataImage,
        expectation: Expectation,
    ) -> Result<(), String> {
        expectation.check(image)?;
        self.acknowledged.insert(image.offset, expectation);
        Ok(())
    }

    pub fn acknowledged(&self) -> usize {
        self.acknowledged.len()
    }

    pub fn offset_max(&self) -> u64 {
        self.image_hashes.keys().next_back().copied().unwrap_or(0)
    }

    pub fn topics_created(&self) -> usize {
        self.topics.len()
    }

    pub fn fencings(&self) -> usize {
        self.fencings.len()
    }

    pub fn registrations(&self) -> usize {
        self.epochs.len()
    }

    /// Entries that changed an ISR, completed a reassignment, elected a leader uncleanly.
    pub fn partition_changes(&self) -> (u64, u64, u64) {
        (
            self.isr_changes.len() as u64,
            self.reassignments_completed.len() as u64,
            self.unclean_elections.len() as u64,
        )
    }
}

/// From `seen` to `now` (one partition, earlier and later on one node): epochs never go back,
/// any change bumps the partition epoch, and a new leader comes with a new leader epoch.
fn check_partition_change(seen: &PartitionImage, now: &PartitionImage) -> Result<(), String> {
    let epochs = |p: &PartitionImage| (p.leader_epoch, p.partition_epoch);
    if now.leader_epoch < seen.leader_epoch || now.partition_epoch < seen.partition_epoch {
        return Err(format!(
            "epochs (leader, partition) went back from {:?} to {:?}",
            epochs(seen),
            epochs(now)
        ));
    }
    if now != seen && now.partition_epoch == seen.partition_epoch {
        return Err(format!(
            "changed from {seen:?} to {now:?} at the same partition epoch"
        ));
    }
    if now.leader != seen.leader && now.leader_epoch == seen.leader_epoch {
        return Err(format!(
            "leader moved from {} to {} at the same leader epoch {}",
            seen.leader, now.leader, now.leader_epoch
        ));
    }
    Ok(())
}

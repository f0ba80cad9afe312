//! What the simulated controller cluster promises, checked after every image change:
//!
//! - every node's image at an offset is the same (the hash of its JSON);
//! - every image keeps its invariants (`MetadataImage::check_invariants`);
//! - a topic name never maps to two live topic ids, a topic id is created at one offset;
//! - broker epochs are unique (one registration each) and increase in log order;
//! - a partition's leader epoch and partition epoch never go back on a node, across its
//!   restarts too, and its image offset never goes back;
//! - an acknowledged decision is in the image at its offset ([`Expectation`]).
//!
//! That every committed entry applies cleanly is checked where it is applied (`mod.rs`).

use std::collections::hash_map::DefaultHasher;
use std::collections::BTreeMap;
use std::hash::{Hash, Hasher};

use sluice_controller::image::MetadataImage;
use sluice_controller::records::{MetadataRecord, RecordBatch, TopicId};

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
    /// (topic id, partition) -> (leader epoch, partition epoch), the largest seen.
    epochs: BTreeMap<(TopicId, usize), (i32, i32)>,
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
                let now = (state.leader_epoch, state.partition_epoch);
                let seen = history
                    .epochs
                    .entry((topic.topic_id, partition))
                    .or_insert(now);
                if now.0 < seen.0 || now.1 < seen.1 {
                    return Err(format!(
                        "node {node}: {}-{partition} epochs (leader, partition) went back from \
                         {seen:?} to {now:?} at offset {}",
                        topic.name, image.offset
                    ));
                }
                *seen = now;
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
}

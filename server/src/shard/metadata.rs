//! Topic metadata changes. They are made in one place, shard 0 ([`METADATA_SHARD`]): it
//! serialises them, persists the new topic list, then broadcasts the new snapshot to every shard
//! and waits until each has applied it (opened, reconfigured or deleted the logs it owns) before
//! the admin request is answered.

use std::rc::Rc;
use std::sync::Arc;

use super::messages::{AdminOp, AdminResult, ShardRequest};
use super::shard::Shard;
use crate::config::BrokerConfig;
use crate::kafka::errors;
use crate::limits::PARTITIONS_PER_TOPIC_MAX;
use crate::topics::meta::{new_topic_id, validate_topic_name};
use crate::topics::{store, ClusterMeta, TopicMeta};
use crate::util::join_all;

pub const METADATA_SHARD: usize = 0;
/// On a full data dir, how often and how long a DeleteTopics waits for the deleted logs' files
/// to be removed before it can persist the metadata (5 s in all).
const FULL_DISK_SAVE_RETRIES_MAX: u32 = 100;
const FULL_DISK_SAVE_RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

/// Runs an admin op on shard 0: validate, persist, broadcast.
pub async fn execute(shard: &Rc<Shard>, op: AdminOp) -> AdminResult {
    assert_eq!(
        shard.id, METADATA_SHARD,
        "admin ops run on the metadata shard"
    );
    let _permit = shard
        .admin_lock
        .acquire_permit(1)
        .await
        .map_err(|err| (errors::UNKNOWN_SERVER_ERROR, err.to_string()))?;
    let current = shard.meta();
    let frees_space = matches!(op, AdminOp::DeleteTopic { .. });
    let Some(next) = change(&current, &shard.config, op)? else {
        return Ok(());
    };
    match save(shard, &next).await {
        Ok(()) => {}
        // A full data dir must not block the one operation that frees it: delete the topic's
        // logs first, then persist. A crash in between brings the topic back, empty.
        Err(err) if frees_space && err.is_no_space() => {
            tracing::warn!("data dir full: deleting the topic's logs before persisting that");
            broadcast(shard, Arc::new(next.clone())).await;
            // The logs' files are removed in the background: retry while the space comes back.
            let mut retries = 0;
            loop {
                match save(shard, &next).await {
                    Ok(()) => return Ok(()),
                    Err(err) if err.is_no_space() && retries < FULL_DISK_SAVE_RETRIES_MAX => {
                        retries += 1;
                        glommio::timer::sleep(FULL_DISK_SAVE_RETRY_INTERVAL).await;
                    }
                    Err(err) => return Err(storage_error(err)),
                }
            }
        }
        Err(err) => return Err(storage_error(err)),
    }
    broadcast(shard, Arc::new(next)).await;
    Ok(())
}

async fn save(shard: &Rc<Shard>, meta: &ClusterMeta) -> Result<(), store::StoreError> {
    let data_dir = shard.config.data_dir.clone();
    let to_save = meta.clone();
    glommio::executor()
        .spawn_blocking(move || store::save(&data_dir, &to_save))
        .await
}

fn storage_error(err: store::StoreError) -> (i16, String) {
    tracing::error!("cannot persist topic metadata: {err}");
    (errors::KAFKA_STORAGE_ERROR, err.to_string())
}

async fn broadcast(shard: &Rc<Shard>, meta: Arc<ClusterMeta>) {
    let calls = (0..shard.shards)
        .map(|target| {
            let meta = meta.clone();
            let shard = shard.clone();
            async move {
                let result = shard
                    .call(target, |reply| ShardRequest::ApplyMeta { meta, reply })
                    .await;
                if let Err(err) = result {
                    tracing::warn!("metadata broadcast: {err}");
                }
            }
        })
        .collect();
    join_all(calls).await;
}

/// Applies a new snapshot on this shard: opens the logs of new partitions it owns, pushes config
/// changes into open logs, deletes the logs of deleted topics.
pub async fn apply(shard: &Rc<Shard>, meta: Arc<ClusterMeta>) {
    let old = shard.meta();
    if meta.version < old.version {
        tracing::warn!(
            old = old.version,
            new = meta.version,
            "ignoring stale metadata"
        );
        return;
    }
    apply_diff(shard, &old, &meta).await;
    shard.set_meta(meta);
}

/// Opens, reconfigures and deletes this shard's logs to go from `old` to `new`.
pub async fn apply_diff(shard: &Rc<Shard>, old: &ClusterMeta, new: &ClusterMeta) {
    for (name, topic) in &old.topics {
        let replaced = new.topic(name).is_none_or(|t| t.id_hex != topic.id_hex);
        if replaced {
            delete_owned_logs(shard, topic).await;
        }
    }
    for topic in new.topics.values() {
        let old_topic = old.topic(&topic.name).filter(|t| t.id_hex == topic.id_hex);
        let log_config = topic.configs.log_config(&shard.config);
        let configs_changed = old_topic.is_some_and(|t| t.configs != topic.configs);
        for partition in 0..topic.partitions {
            if !shard.owns(&topic.name, partition) {
                continue;
            }
            match shard.log(&topic.name, partition) {
                Some(log) if configs_changed => log.set_config(log_config.clone()),
                Some(_) => {}
                None => {
                    let opened = shard
                        .logs
                        .open_log(&topic.name, partition, log_config.clone())
                        .await;
                    if let Err(err) = opened {
                        tracing::error!(topic = %topic.name, partition, "cannot open log: {err}");
                    }
                }
            }
        }
    }
}

async fn delete_owned_logs(shard: &Rc<Shard>, topic: &TopicMeta) {
    let owned: Vec<(String, i32)> = (0..topic.partitions)
        .filter(|&partition| shard.owns(&topic.name, partition))
        .map(|partition| (topic.name.clone(), partition))
        .collect();
    if let Err(err) = shard.logs.delete_logs(&owned).await {
        tracing::error!(topic = %topic.name, "cannot delete every log: {err}");
    }
}

/// The metadata after `op`, or None for a successful validate-only op. Pure: no I/O.
pub fn change(
    current: &ClusterMeta,
    broker: &BrokerConfig,
    op: AdminOp,
) -> Result<Option<ClusterMeta>, (i16, String)> {
    let mut next = current.clone();
    next.version = current.version + 1;
    let missing = |name: &str| {
        (
            errors::UNKNOWN_TOPIC_OR_PARTITION,
            format!("topic '{name}' does not exist"),
        )
    };
    match op {
        AdminOp::CreateTopic {
            name,
            partitions,
            configs,
            validate_only,
        } => {
            validate_topic_name(&name).map_err(|msg| (errors::INVALID_TOPIC_EXCEPTION, msg))?;
            if current.topic(&name).is_some() {
                let msg = format!("topic '{name}' already exists");
                return Err((errors::TOPIC_ALREADY_EXISTS, msg));
            }
            let partitions = if partitions == -1 {
                broker.num_partitions
            } else {
                partitions
            };
            check_partition_count(partitions)?;
            if validate_only {
                return Ok(None);
            }
            let id_hex = new_topic_id(&name);
            let topic = TopicMeta {
                name: name.clone(),
                id_hex,
                partitions,
                configs,
            };
            next.topics.insert(name, topic);
        }
        AdminOp::DeleteTopic { name } => {
            next.topics.remove(&name).ok_or_else(|| missing(&name))?;
        }
        AdminOp::CreatePartitions {
            name,
            count,
            validate_only,
        } => {
            let topic = next.topics.get_mut(&name).ok_or_else(|| missing(&name))?;
            if count <= topic.partitions {
                let msg = format!(
                    "topic '{name}' has {} partitions; the new count must be larger, not {count}",
                    topic.partitions
                );
                return Err((errors::INVALID_PARTITIONS, msg));
            }
            check_partition_count(count)?;
            if validate_only {
                return Ok(None);
            }
            topic.partitions = count;
        }
        AdminOp::SetConfigs {
            name,
            configs,
            validate_only,
        } => {
            let topic = next.topics.get_mut(&name).ok_or_else(|| missing(&name))?;
            if validate_only {
                return Ok(None);
            }
            topic.configs = configs;
        }
    }
    Ok(Some(next))
}

fn check_partition_count(partitions: i32) -> Result<(), (i16, String)> {
    if !(1..=PARTITIONS_PER_TOPIC_MAX).contains(&partitions) {
        let msg = format!("partition count must be between 1 and {PARTITIONS_PER_TOPIC_MAX}");
        return Err((errors::INVALID_PARTITIONS, msg));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::TopicConfigs;

    fn create(name: &str, partitions: i32) -> AdminOp {
        AdminOp::CreateTopic {
            name: name.into(),
            partitions,
            configs: TopicConfigs::default(),
            validate_only: false,
        }
    }

    #[test]
    fn create_then_grow_then_delete() {
        let broker = BrokerConfig::default();
        let meta = change(&ClusterMeta::default(), &broker, create("t", 3))
            .unwrap()
            .unwrap();
        assert_eq!(meta.topic("t").unwrap().partitions, 3);
        assert_eq!(meta.version, 1);
        let dup = change(&meta, &broker, create("t", 3)).unwrap_err();
        assert_eq!(dup.0, errors::TOPIC_ALREADY_EXISTS);
        let shrink = AdminOp::CreatePartitions {
            name: "t".into(),
            count: 2,
            validate_only: false,
        };
        assert_eq!(
            change(&meta, &broker, shrink).unwrap_err().0,
            errors::INVALID_PARTITIONS
        );
        let grow = AdminOp::CreatePartitions {
            name: "t".into(),
            count: 5,
            validate_only: false,
        };
        let meta = change(&meta, &broker, grow).unwrap().unwrap();
        assert_eq!(meta.topic("t").unwrap().partitions, 5);
        let delete = AdminOp::DeleteTopic { name: "t".into() };
        let meta = change(&meta, &broker, delete).unwrap().unwrap();
        assert!(meta.topics.is_empty());
    }

    #[test]
    fn bad_names_and_counts_are_refused() {
        let broker = BrokerConfig::default();
        let empty = ClusterMeta::default();
        let bad_name = change(&empty, &broker, create("a/b", 1)).unwrap_err();
        assert_eq!(bad_name.0, errors::INVALID_TOPIC_EXCEPTION);
        let zero = change(&empty, &broker, create("t", 0)).unwrap_err();
        assert_eq!(zero.0, errors::INVALID_PARTITIONS);
        let default = change(&empty, &broker, create("t", -1)).unwrap().unwrap();
        assert_eq!(
            default.topic("t").unwrap().partitions,
            broker.num_partitions
        );
    }
}

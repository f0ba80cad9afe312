//! `Partitions`: the partitions one shard owns, by topic and index, over the engine's
//! `LogManager` (which owns the files). Opening, deleting, flushing and retention of the shard's
//! logs go through here so that every open log has its `Partition`. Also holds the shard's
//! readable-data notifier: appends and flushes wake fetches waiting in a long poll.
//! Lives on exactly one shard (not `Send`).

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use sluice_engine::{LogConfig, LogError, LogManager};

use super::flush_rounds::{FlushRounds, RoundFailed};
use super::partition::Partition;
use crate::shard::notify::Notify;

pub struct Partitions {
    logs: Rc<LogManager>,
    /// Topic name → partitions by index (`None`: not open here). Looked up by `&str`, so the
    /// data path never allocates a key.
    by_topic: RefCell<HashMap<String, Vec<Option<Rc<Partition>>>>>,
    /// Bumped after appends and flushes: long polls re-check their partitions.
    data: Notify,
    /// Bumped after the metadata changed roles: the replica fetcher re-checks what it follows.
    roles: Notify,
    /// Group commit across the shard's partitions (see `flush_rounds.rs`).
    rounds: Rc<FlushRounds>,
}

impl Partitions {
    pub fn new(logs: Rc<LogManager>) -> Partitions {
        Partitions {
            logs,
            by_topic: RefCell::new(HashMap::new()),
            data: Notify::default(),
            roles: Notify::default(),
            rounds: Rc::new(FlushRounds::default()),
        }
    }

    pub fn get(&self, topic: &str, index: i32) -> Option<Rc<Partition>> {
        let by_topic = self.by_topic.borrow();
        let slot = by_topic.get(topic)?.get(usize::try_from(index).ok()?)?;
        slot.clone()
    }

    /// Every partition open here.
    pub fn all(&self) -> Vec<Rc<Partition>> {
        let by_topic = self.by_topic.borrow();
        by_topic.values().flatten().flatten().cloned().collect()
    }

    /// Opens (creating and recovering if needed) a partition's log; an open one gets `config`.
    pub async fn open(
        &self,
        topic: &str,
        index: i32,
        config: LogConfig,
    ) -> Result<Rc<Partition>, LogError> {
        if let Some(partition) = self.get(topic, index) {
            partition.log().set_config(config);
            return Ok(partition);
        }
        let log = self.logs.open_log(topic, index, config).await?;
        let opened = Rc::new(Partition::open(log).await?);
        let at = usize::try_from(index).map_err(|_| LogError::InvalidArgument {
            detail: format!("negative partition {index}"),
        })?;
        let mut by_topic = self.by_topic.borrow_mut();
        let slots = by_topic.entry(topic.to_string()).or_default();
        if slots.len() <= at {
            slots.resize(at + 1, None);
        }
        // Another task may have opened it while we recovered: keep the first.
        let partition = slots[at].get_or_insert(opened);
        Ok(partition.clone())
    }

    /// Deletes partitions (see `LogManager::delete_logs`: durable when this returns).
    pub async fn delete(&self, partitions: &[(String, i32)]) -> Result<(), LogError> {
        {
            let mut by_topic = self.by_topic.borrow_mut();
            for (topic, index) in partitions {
                let Some(slots) = by_topic.get_mut(topic.as_str()) else {
                    continue;
                };
                if let Some(slot) = usize::try_from(*index).ok().and_then(|i| slots.get_mut(i)) {
                    *slot = None;
                }
                if slots.iter().all(Option::is_none) {
                    by_topic.remove(topic.as_str());
                }
            }
        }
        self.logs.delete_logs(partitions).await
    }

    /// Group commit of every partition with unflushed data; wakes readers of what it flushed.
    pub async fn flush_all(&self) -> Result<(), LogError> {
        let flushed = self.logs.flush_all().await;
        self.data.notify();
        flushed
    }

    /// Waits for the shard's next flush round (see `flush_rounds.rs`): everything appended to
    /// any partition here before this call is durable when it returns `Ok`. The round runs in a
    /// task of its own, so a caller that goes away (a closed connection) cannot cut it short.
    pub async fn flush_round(self: &Rc<Self>) -> Result<(), RoundFailed> {
        let partitions = self.clone();
        let flush_all = move || {
            let partitions = partitions.clone();
            async move {
                match crate::metrics::hooks::flush_round(partitions.flush_all()).await {
                    Ok(()) => true,
                    Err(err) => {
                        tracing::error!("flush round failed: {err}");
                        false
                    }
                }
            }
        };
        self.rounds.join(flush_all).await
    }

    /// Flush rounds run on this shard so far.
    pub fn flush_rounds_run(&self) -> u64 {
        self.rounds.rounds_run()
    }

    /// Deletes segments past retention; returns how many.
    pub async fn apply_retention(&self, now_ms: i64) -> Result<usize, LogError> {
        self.logs.apply_retention(now_ms).await
    }

    /// Flushes every log, writes each partition's producer snapshot at its end, and closes
    /// every log (shutdown).
    pub async fn close_all(&self) -> Result<(), LogError> {
        self.logs.flush_all().await?;
        for partition in self.all() {
            partition.snapshot_producers().await;
        }
        self.logs.close_all().await
    }

    /// Forgets producers idle for `expiration_ms` in every partition; returns how many.
    pub fn expire_producers(&self, now_ms: i64, expiration_ms: i64) -> usize {
        self.all()
            .iter()
            .map(|partition| partition.expire_producers(now_ms, expiration_ms))
            .sum()
    }

    /// Removes leftovers of interrupted deletions (one shard, at start).
    pub async fn remove_deleted_dirs(&self) -> Result<usize, LogError> {
        self.logs.remove_deleted_dirs().await
    }

    /// The notifier of role changes on this shard.
    pub fn roles_notify(&self) -> &Notify {
        &self.roles
    }

    /// The notifier of newly readable (or newly appended) data on this shard.
    pub fn data_notify(&self) -> &Notify {
        &self.data
    }
}

//! `MetadataService`: topic metadata changes on one shard. Changes are made in one place,
//! shard 0 ([`METADATA_SHARD`]): it serialises them, persists the new topic list, then
//! broadcasts the new snapshot to every shard and waits until each has applied it (opened,
//! reconfigured or deleted the partitions it owns) before the admin request is answered.
//! Lives on one shard; cross-shard work travels on the metadata mesh.

use std::rc::Rc;
use std::sync::Arc;

use glommio::sync::Semaphore;

use super::change::change;
use super::messages::{AdminOp, AdminResult, MetadataReply, MetadataRequest};
use crate::config::BrokerConfig;
use crate::error_code::ResponseError;
use crate::partition::Partitions;
use crate::shard::context::ShardContext;
use crate::shard::mesh::{Handler, Mesh};
use crate::topics::{store, ClusterMeta, MetaCell, TopicMeta};
use crate::util::join_all;

pub type MetadataMesh = Mesh<MetadataRequest, MetadataReply>;

pub const METADATA_SHARD: usize = 0;
/// On a full data dir, how often and how long a DeleteTopics waits for the deleted logs' files
/// to be removed before it can persist the metadata (5 s in all).
const FULL_DISK_SAVE_RETRIES_MAX: u32 = 100;
const FULL_DISK_SAVE_RETRY_INTERVAL: std::time::Duration = std::time::Duration::from_millis(50);

pub struct MetadataService {
    ctx: Rc<ShardContext>,
    config: Arc<BrokerConfig>,
    meta: Rc<MetaCell>,
    partitions: Rc<Partitions>,
    mesh: Rc<MetadataMesh>,
    /// Serialises metadata changes; only used on the metadata shard.
    admin_lock: Semaphore,
}

impl MetadataService {
    pub fn new(
        ctx: Rc<ShardContext>,
        config: Arc<BrokerConfig>,
        meta: Rc<MetaCell>,
        partitions: Rc<Partitions>,
        mesh: Rc<MetadataMesh>,
    ) -> Rc<MetadataService> {
        assert_eq!(mesh.shard_id(), ctx.id());
        let service = Rc::new(MetadataService {
            ctx,
            config,
            meta,
            partitions,
            mesh,
            admin_lock: Semaphore::new(1),
        });
        service.mesh.serve(service.clone());
        service
    }

    /// The current topic metadata snapshot of this shard.
    pub fn meta(&self) -> Arc<ClusterMeta> {
        self.meta.get()
    }

    pub fn config(&self) -> &Arc<BrokerConfig> {
        &self.config
    }

    /// Runs a metadata change on the metadata shard; answers once every shard applied it.
    pub async fn admin(self: &Rc<Self>, op: AdminOp) -> AdminResult {
        if self.ctx.id() == METADATA_SHARD {
            return self.execute(op).await;
        }
        match self
            .mesh
            .call(METADATA_SHARD, MetadataRequest::Admin(op))
            .await
        {
            Ok(MetadataReply::Admin(result)) => result,
            Ok(MetadataReply::Applied) => unreachable!("an admin op is answered with its result"),
            Err(err) => Err((ResponseError::UnknownServerError.code(), err.to_string())),
        }
    }

    /// Opens this shard's partitions of the snapshot it started with.
    pub async fn open_initial(&self) {
        let meta = self.meta.get();
        self.apply_diff(&ClusterMeta::default(), &meta).await;
    }

    async fn serve(self: &Rc<Self>, request: MetadataRequest) -> MetadataReply {
        match request {
            MetadataRequest::Admin(op) => MetadataReply::Admin(self.execute(op).await),
            MetadataRequest::Apply(meta) => {
                self.apply(meta).await;
                MetadataReply::Applied
            }
        }
    }

    /// Runs an admin op on shard 0: validate, persist, broadcast.
    async fn execute(self: &Rc<Self>, op: AdminOp) -> AdminResult {
        assert_eq!(
            self.ctx.id(),
            METADATA_SHARD,
            "admin ops run on the metadata shard"
        );
        let _permit = self
            .admin_lock
            .acquire_permit(1)
            .await
            .map_err(|err| (ResponseError::UnknownServerError.code(), err.to_string()))?;
        let current = self.meta.get();
        let frees_space = matches!(op, AdminOp::DeleteTopic { .. });
        let Some(next) = change(&current, &self.config, op)? else {
            return Ok(());
        };
        match self.save(&next).await {
            Ok(()) => {}
            // A full data dir must not block the one operation that frees it: delete the topic's
            // logs first, then persist. A crash in between brings the topic back, empty.
            Err(err) if frees_space && err.is_no_space() => {
                tracing::warn!("data dir full: deleting the topic's logs before persisting that");
                self.broadcast(Arc::new(next.clone())).await;
                // The logs' files are removed in the background: retry while the space comes back.
                let mut retries = 0;
                loop {
                    match self.save(&next).await {
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
        self.broadcast(Arc::new(next)).await;
        Ok(())
    }

    async fn save(&self, meta: &ClusterMeta) -> Result<(), store::StoreError> {
        let data_dir = self.config.data_dir.clone();
        let to_save = meta.clone();
        glommio::executor()
            .spawn_blocking(move || store::save(&data_dir, &to_save))
            .await
    }

    async fn broadcast(self: &Rc<Self>, meta: Arc<ClusterMeta>) {
        let calls = (0..self.ctx.shards())
            .map(|target| {
                let meta = meta.clone();
                async move {
                    if target == self.ctx.id() {
                        self.apply(meta).await;
                    } else if let Err(err) =
                        self.mesh.call(target, MetadataRequest::Apply(meta)).await
                    {
                        tracing::warn!("metadata broadcast: {err}");
                    }
                }
            })
            .collect();
        join_all(calls).await;
    }

    /// Applies a new snapshot on this shard: opens the logs of new partitions it owns, pushes config
    /// changes into open logs, deletes the logs of deleted topics.
    async fn apply(&self, meta: Arc<ClusterMeta>) {
        let old = self.meta.get();
        if meta.version < old.version {
            tracing::warn!(
                old = old.version,
                new = meta.version,
                "ignoring stale metadata"
            );
            return;
        }
        self.apply_diff(&old, &meta).await;
        self.meta.set(meta);
    }

    /// Opens, reconfigures and deletes this shard's logs to go from `old` to `new`.
    async fn apply_diff(&self, old: &ClusterMeta, new: &ClusterMeta) {
        for (name, topic) in &old.topics {
            let replaced = new.topic(name).is_none_or(|t| t.id_hex != topic.id_hex);
            if replaced {
                self.delete_owned(topic).await;
            }
        }
        for topic in new.topics.values() {
            let old_topic = old.topic(&topic.name).filter(|t| t.id_hex == topic.id_hex);
            let log_config = topic.configs.log_config(&self.config);
            let configs_changed = old_topic.is_some_and(|t| t.configs != topic.configs);
            for partition in 0..topic.partitions {
                if !self.ctx.owns(&topic.name, partition) {
                    continue;
                }
                match self.partitions.get(&topic.name, partition) {
                    Some(open) if configs_changed => open.log().set_config(log_config.clone()),
                    Some(_) => {}
                    None => {
                        let opened = self
                            .partitions
                            .open(&topic.name, partition, log_config.clone())
                            .await;
                        if let Err(err) = opened {
                            tracing::error!(topic = %topic.name, partition, "cannot open log: {err}");
                        }
                    }
                }
            }
        }
    }

    async fn delete_owned(&self, topic: &TopicMeta) {
        let owned: Vec<(String, i32)> = (0..topic.partitions)
            .filter(|&partition| self.ctx.owns(&topic.name, partition))
            .map(|partition| (topic.name.clone(), partition))
            .collect();
        if let Err(err) = self.partitions.delete(&owned).await {
            tracing::error!(topic = %topic.name, "cannot delete every log: {err}");
        }
    }
}

fn storage_error(err: store::StoreError) -> (i16, String) {
    tracing::error!("cannot persist topic metadata: {err}");
    (ResponseError::KafkaStorageError.code(), err.to_string())
}

impl Handler<MetadataRequest, MetadataReply> for MetadataService {
    async fn handle(self: Rc<Self>, request: MetadataRequest) -> MetadataReply {
        self.serve(request).await
    }

    fn in_order(_request: &MetadataRequest) -> bool {
        false
    }
}

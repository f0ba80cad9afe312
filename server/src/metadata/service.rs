//! `MetadataService`: what each shard serves of the cluster's metadata, and the way admin
//! requests reach the controller.
//!
//! On the controller shard ([`CONTROLLER_SHARD`]) it follows the cluster subsystem's metadata
//! image: for every change it builds a [`ClusterMeta`], has every shard apply it (open the
//! partitions this broker hosts, reconfigure or delete the others), and then reports the
//! applied offset to the broker lifecycle (the controller unfences a broker that caught up).
//! Admin requests from any shard travel to the controller shard, go to the active controller
//! (here or on another node), and are answered once this broker applied their records, so a
//! client that created a topic here can use it here at once.

use std::collections::BTreeSet;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use super::messages::{
    AdminOp, AdminResult, AlterPartitionOutcome, AlterPartitionRequest, DescribedScramUser,
    MetadataReply, MetadataRequest, Refusal, ScramUserResult,
};
use super::{partition_control, replication_factor, security_control};
use crate::cluster::raft_node::QuorumView;
use crate::cluster::wire::{
    ControllerReply, ControllerRequest, OngoingReassignment, WireReassignment, WireScramDeletion,
    WireScramUpsertion,
};
use crate::cluster::{ClusterService, CONTROLLER_SHARD};
use crate::config::BrokerConfig;
use crate::error_code::ResponseError;
use crate::group::service::GroupService;
use crate::limits::METADATA_APPLY_MS_MAX;
use crate::partition::replica::RoleChange;
use crate::partition::Partitions;
use crate::shard::context::ShardContext;
use crate::shard::mesh::{Handler, Mesh};
use crate::topics::{ClusterMeta, MetaCell, TopicMeta, OFFSETS_TOPIC};
use crate::util::join_all;
use sluice_controller::image::AclTable;
use sluice_controller::records::{AclEntry, AclId, ScramCredential};
use sluice_replica::Assignment;

pub type MetadataMesh = Mesh<MetadataRequest, MetadataReply>;

/// Kept for callers that name the shard admin requests run on.
pub const METADATA_SHARD: usize = CONTROLLER_SHARD;

pub struct MetadataService {
    ctx: Rc<ShardContext>,
    config: Arc<BrokerConfig>,
    meta: Rc<MetaCell>,
    partitions: Rc<Partitions>,
    groups: Rc<GroupService>,
    mesh: Rc<MetadataMesh>,
    /// Only on the controller shard.
    cluster: Option<Rc<ClusterService>>,
}

impl MetadataService {
    pub fn new(
        ctx: Rc<ShardContext>,
        config: Arc<BrokerConfig>,
        meta: Rc<MetaCell>,
        partitions: Rc<Partitions>,
        groups: Rc<GroupService>,
        mesh: Rc<MetadataMesh>,
        cluster: Option<Rc<ClusterService>>,
    ) -> Rc<MetadataService> {
        assert_eq!(mesh.shard_id(), ctx.id());
        assert_eq!(cluster.is_some(), ctx.id() == CONTROLLER_SHARD);
        let service = Rc::new(MetadataService {
            ctx,
            config,
            meta,
            partitions,
            groups,
            mesh,
            cluster,
        });
        service.mesh.serve(service.clone());
        service
    }

    /// The current metadata snapshot of this shard.
    pub fn meta(&self) -> Arc<ClusterMeta> {
        self.meta.get()
    }

    pub fn config(&self) -> &Arc<BrokerConfig> {
        &self.config
    }

    /// The cluster subsystem, on the controller shard only.
    pub fn cluster(&self) -> Option<&Rc<ClusterService>> {
        self.cluster.as_ref()
    }

    /// Runs a metadata change through the active controller; answers once this broker applied it.
    pub async fn admin(self: &Rc<Self>, op: AdminOp) -> AdminResult {
        if self.cluster.is_some() {
            return self.execute(op).await;
        }
        match self
            .mesh
            .call(CONTROLLER_SHARD, MetadataRequest::Admin(op))
            .await
        {
            Ok(MetadataReply::Admin(result)) => result,
            Ok(_) => Err((
                ResponseError::UnknownServerError.code(),
                "unexpected metadata reply".to_string(),
            )),
            Err(err) => Err((ResponseError::UnknownServerError.code(), err.to_string())),
        }
    }

    /// The controller quorum's state, from its leader wherever it is (None: no leader
    /// answered).
    pub async fn describe_quorum(self: &Rc<Self>) -> Option<QuorumView> {
        if let Some(cluster) = &self.cluster {
            return match cluster.request(ControllerRequest::DescribeQuorum).await {
                ControllerReply::Quorum(view) => Some(view),
                _ => None,
            };
        }
        match self
            .mesh
            .call(CONTROLLER_SHARD, MetadataRequest::DescribeQuorum)
            .await
        {
            Ok(MetadataReply::Quorum(view)) => view,
            _ => None,
        }
    }

    /// A partition leader's ISR change (AlterPartition), from any shard: goes to the active
    /// controller with this broker's id and epoch, and returns once this broker applied the
    /// change (at most `METADATA_APPLY_MS_MAX` later), so that its metadata shows the new ISR.
    /// Refusals carry Kafka's codes: STALE_BROKER_EPOCH, UNKNOWN_TOPIC_OR_PARTITION,
    /// NOT_LEADER_OR_FOLLOWER, FENCED_LEADER_EPOCH, INVALID_UPDATE_VERSION (another change came
    /// first: refresh and decide again), INVALID_REQUEST, INELIGIBLE_REPLICA, NOT_CONTROLLER.
    pub async fn alter_partition(
        self: &Rc<Self>,
        request: AlterPartitionRequest,
    ) -> Result<AlterPartitionOutcome, (i16, String)> {
        if let Some(cluster) = &self.cluster {
            return partition_control::alter_partition(cluster, request).await;
        }
        match self
            .call_controller_shard(MetadataRequest::AlterPartition(request))
            .await
        {
            Ok(MetadataReply::AlterPartition(result)) => result,
            Ok(_) => Err(unexpected_reply()),
            Err(refusal) => Err(refusal),
        }
    }

    /// AlterPartitionReassignments, from any shard: one result per entry (`None`: accepted),
    /// answered once this broker applied the accepted ones.
    pub async fn alter_partition_reassignments(
        self: &Rc<Self>,
        reassignments: Vec<WireReassignment>,
        allow_replication_factor_change: bool,
    ) -> Result<Vec<Option<Refusal>>, Refusal> {
        if let Some(cluster) = &self.cluster {
            let allow = allow_replication_factor_change;
            return partition_control::alter_reassignments(cluster, reassignments, allow).await;
        }
        let request = MetadataRequest::AlterReassignments {
            reassignments,
            allow_replication_factor_change,
        };
        match self.call_controller_shard(request).await {
            Ok(MetadataReply::Reassignments(result)) => result,
            Ok(_) => Err(unexpected_reply()),
            Err(refusal) => Err(refusal),
        }
    }

    /// ListPartitionReassignments, from any shard: as the active controller sees them.
    pub async fn list_partition_reassignments(
        self: &Rc<Self>,
        partitions: Option<Vec<(String, i32)>>,
    ) -> Result<Vec<OngoingReassignment>, Refusal> {
        if let Some(cluster) = &self.cluster {
            return partition_control::list_reassignments(cluster, partitions).await;
        }
        let request = MetadataRequest::ListReassignments { partitions };
        match self.call_controller_shard(request).await {
            Ok(MetadataReply::ReassignmentList(result)) => result,
            Ok(_) => Err(unexpected_reply()),
            Err(refusal) => Err(refusal),
        }
    }

    /// AlterUserScramCredentials, from any shard: deletes and sets credentials (each
    /// upsertion's StoredKey and ServerKey already derived here from its salted password), and
    /// answers once this broker applied the changes. One result per distinct user, in the
    /// order users first appear (deletions first); `None`: done. Kafka's per-user codes:
    /// UNACCEPTABLE_CREDENTIAL (empty name, iterations outside 4096..=16384, bad salt or
    /// keys), UNSUPPORTED_SASL_MECHANISM, RESOURCE_NOT_FOUND (deleting what does not exist),
    /// DUPLICATE_RESOURCE (a user named twice). The whole request is refused (INVALID_REQUEST,
    /// NOT_CONTROLLER) only past its limit or when no controller answers.
    pub async fn alter_user_scram_credentials(
        self: &Rc<Self>,
        deletions: Vec<WireScramDeletion>,
        upsertions: Vec<WireScramUpsertion>,
    ) -> Result<Vec<ScramUserResult>, Refusal> {
        if let Some(cluster) = &self.cluster {
            return security_control::alter_scram_credentials(cluster, deletions, upsertions).await;
        }
        let request = MetadataRequest::AlterScramCredentials {
            deletions,
            upsertions,
        };
        match self.call_controller_shard(request).await {
            Ok(MetadataReply::ScramAlterations(result)) => result,
            Ok(_) => Err(unexpected_reply()),
            Err(refusal) => Err(refusal),
        }
    }

    /// CreateAcls, from any shard, with bindings the broker validated (Kafka's codes): one
    /// result per binding, in order: the ACL's id (a binding identical to a live ACL is a
    /// no-op success with that ACL's id) or INVALID_REQUEST; answered once this broker
    /// applied the new ACLs.
    pub async fn create_acls(
        self: &Rc<Self>,
        bindings: Vec<AclEntry>,
    ) -> Result<Vec<Result<AclId, Refusal>>, Refusal> {
        if let Some(cluster) = &self.cluster {
            return security_control::create_acls(cluster, bindings).await;
        }
        match self
            .call_controller_shard(MetadataRequest::CreateAcls(bindings))
            .await
        {
            Ok(MetadataReply::AclsCreated(result)) => result,
            Ok(_) => Err(unexpected_reply()),
            Err(refusal) => Err(refusal),
        }
    }

    /// DeleteAcls, from any shard, by id (match the request's filters against
    /// [`acl_entries`](Self::acl_entries) first): removes those that still live and returns
    /// them, once this broker applied the removal.
    pub async fn delete_acls(self: &Rc<Self>, ids: Vec<AclId>) -> Result<Vec<AclId>, Refusal> {
        if let Some(cluster) = &self.cluster {
            return security_control::delete_acls(cluster, ids).await;
        }
        match self
            .call_controller_shard(MetadataRequest::DeleteAcls(ids))
            .await
        {
            Ok(MetadataReply::AclsDeleted(result)) => result,
            Ok(_) => Err(unexpected_reply()),
            Err(refusal) => Err(refusal),
        }
    }

    /// `user`'s SCRAM credential for `mechanism` (1 SCRAM-SHA-256, 2 SCRAM-SHA-512), from
    /// this shard's metadata.
    pub fn scram_credential(&self, user: &str, mechanism: i8) -> Option<ScramCredential> {
        let meta = self.meta();
        let credential = meta.scram_credentials.get(user)?.get(&mechanism)?;
        Some(credential.clone())
    }

    /// DescribeUserScramCredentials from this shard's metadata: every user when `users` is
    /// None or empty, else each one named (RESOURCE_NOT_FOUND, DUPLICATE_RESOURCE as Kafka).
    pub fn scram_credentials_described(&self, users: Option<&[String]>) -> Vec<DescribedScramUser> {
        security_control::describe_scram(&self.meta(), users)
    }

    /// Every ACL of this shard's metadata (iterate with `.iter()`, by id; look one up by its
    /// fields with `.id_of()`), shared with the image, and the metadata offset of its last
    /// change: equal offsets, equal ACLs.
    pub fn acl_entries(&self) -> (Arc<AclTable>, u64) {
        let meta = self.meta();
        (meta.acls.clone(), meta.acls_offset)
    }

    async fn call_controller_shard(
        &self,
        request: MetadataRequest,
    ) -> Result<MetadataReply, Refusal> {
        self.mesh
            .call(CONTROLLER_SHARD, request)
            .await
            .map_err(|err| (ResponseError::UnknownServerError.code(), err.to_string()))
    }

    /// On the controller shard: follows the metadata image until the shard stops, applying
    /// every change on every shard.
    pub async fn follow_images(self: Rc<Self>) {
        let Some(cluster) = self.cluster.clone() else {
            return;
        };
        let mut applied = u64::MAX;
        let mut applied_controller = None;
        while !self.ctx.is_stopping() {
            let generation = cluster.image_changed().generation();
            let image = cluster.image();
            let controller = cluster.controller_id();
            if image.offset != applied || controller != applied_controller {
                let meta = Arc::new(ClusterMeta::from_image(&image, controller));
                self.broadcast(meta).await;
                applied = image.offset;
                applied_controller = controller;
                cluster.broker().set_applied_offset(image.offset);
                continue;
            }
            futures_lite::future::or(
                cluster.image_changed().changed_since(generation),
                // The controller id is not in the image: look at it now and then.
                glommio::timer::sleep(Duration::from_millis(crate::limits::RAFT_TICK_MS)),
            )
            .await;
        }
    }

    /// On the controller shard of a one-node cluster: carries the topics of a data dir written
    /// before the metadata log existed (`meta/topics.json`) into the log, placed on this node
    /// where their logs are, then retires the file.
    pub async fn migrate_legacy_topics(self: &Rc<Self>) {
        let Some(cluster) = &self.cluster else {
            return;
        };
        let data_dir = self.config.data_dir.clone();
        let legacy = match crate::topics::store::load(&data_dir) {
            Ok(legacy) => legacy,
            Err(err) => {
                tracing::warn!("cannot read the topic list of an older data dir: {err}");
                return;
            }
        };
        if legacy.topics.is_empty() {
            return;
        }
        if cluster.settings().voters.len() > 1 {
            tracing::warn!(
                "{} holds a one-node topic list; not migrating it into a cluster of several voters",
                data_dir.display()
            );
            return;
        }
        let image = cluster.image();
        for topic in legacy.topics.into_values() {
            if image.topic(&topic.name).is_some() {
                continue;
            }
            let name = topic.name.clone();
            // One node: its one broker holds the only replica, where the logs already are.
            let op = AdminOp::CreateTopic {
                name: topic.name,
                partitions: topic.partitions,
                replication_factor: 1,
                assignments: None,
                configs: topic.configs,
                validate_only: false,
            };
            match self.execute(op).await {
                Ok(()) => tracing::info!(topic = %name, "topic carried into the metadata log"),
                Err((code, message)) => {
                    tracing::warn!(topic = %name, code, "cannot carry topic into the metadata log: {message}");
                    return;
                }
            }
        }
        if let Err(err) = crate::topics::store::retire(&data_dir) {
            tracing::warn!("cannot retire the older topic list: {err}");
        }
    }

    /// Creates `__consumer_offsets` unless it exists. A cluster creates it at the first
    /// FindCoordinator, as Kafka does, so that its partitions spread over the brokers alive
    /// then; a one-node cluster creates it at start, so that its group coordinator is ready
    /// as soon as the broker serves. Its replication factor is `offsets.topic.replication.factor`
    /// bounded by the brokers alive then (`replication_factor::offsets_topic`).
    ///
    /// It is compacted (`cleanup.policy=compact`, Kafka's rule). A topic created before
    /// compaction existed has no such config: its stored config is corrected here (its logs are
    /// compacted anyway, `group::loader::offsets_log_config`), so that it describes truly.
    pub async fn ensure_offsets_topic(self: &Rc<Self>) -> AdminResult {
        let partitions = self.config.offsets_topic_num_partitions;
        let factor = self.config.offsets_topic_replication_factor;
        let mut configs = crate::topics::TopicConfigs::default();
        configs
            .set(crate::topics::config::CLEANUP_POLICY, "compact")
            .map_err(|err| (ResponseError::InvalidConfig.code(), err.to_string()))?;
        let stored = self.meta().topic(OFFSETS_TOPIC).map(|t| t.configs.clone());
        let Some(mut stored) = stored else {
            return self
                .ensure_internal_topic(OFFSETS_TOPIC, partitions, factor, configs)
                .await;
        };
        let policy = stored.overrides.get(crate::topics::config::CLEANUP_POLICY);
        if policy.is_some_and(|p| p.split(',').any(|p| p.trim() == "compact")) {
            return Ok(());
        }
        stored
            .set(crate::topics::config::CLEANUP_POLICY, "compact")
            .map_err(|err| (ResponseError::InvalidConfig.code(), err.to_string()))?;
        let op = AdminOp::SetConfigs {
            name: OFFSETS_TOPIC.to_string(),
            configs: stored,
            validate_only: false,
        };
        self.admin(op).await?;
        tracing::info!("{OFFSETS_TOPIC} is compacted now (cleanup.policy=compact)");
        Ok(())
    }

    /// Creates `__transaction_state` unless it exists, at the first FindCoordinator for a
    /// transactional id (Kafka's rule): `transaction.state.log.num.partitions` partitions,
    /// `transaction.state.log.replication.factor` replicas (bounded by the brokers alive),
    /// compacted, with `min.insync.replicas` = `transaction.state.log.min.isr` (bounded by
    /// the replication factor).
    pub async fn ensure_transaction_topic(self: &Rc<Self>) -> AdminResult {
        let partitions = self.config.transaction_state_log_num_partitions;
        let factor = replication_factor::offsets_topic(
            self.config.transaction_state_log_replication_factor,
            self.alive_brokers(),
        );
        let min_isr = i32::from(factor).min(self.config.transaction_state_log_min_isr);
        let mut configs = crate::topics::TopicConfigs::default();
        let settings = [
            (crate::topics::config::CLEANUP_POLICY, "compact".to_string()),
            (
                crate::topics::config::MIN_INSYNC_REPLICAS,
                min_isr.to_string(),
            ),
            (
                crate::topics::config::SEGMENT_BYTES,
                self.config.transaction_state_log_segment_bytes.to_string(),
            ),
        ];
        for (key, value) in settings {
            configs
                .set(key, &value)
                .map_err(|err| (ResponseError::InvalidConfig.code(), err.to_string()))?;
        }
        self.ensure_internal_topic(crate::topics::TXN_TOPIC, partitions, factor, configs)
            .await
    }

    fn alive_brokers(&self) -> usize {
        let meta = self.meta();
        let alive = meta.brokers.values();
        alive
            .filter(|broker| !broker.fenced && !broker.shutting_down)
            .count()
    }

    async fn ensure_internal_topic(
        self: &Rc<Self>,
        name: &str,
        partitions: i32,
        replication_factor: i16,
        configs: crate::topics::TopicConfigs,
    ) -> AdminResult {
        if self.meta().topic(name).is_some() {
            return Ok(());
        }
        let op = AdminOp::CreateTopic {
            name: name.to_string(),
            partitions,
            replication_factor: replication_factor::offsets_topic(
                replication_factor,
                self.alive_brokers(),
            ),
            assignments: None,
            configs,
            validate_only: false,
        };
        match self.admin(op).await {
            Ok(()) => {
                tracing::info!("created {name}");
                Ok(())
            }
            Err((code, _)) if code == ResponseError::TopicAlreadyExists.code() => Ok(()),
            Err(err) => Err(err),
        }
    }

    async fn serve(self: &Rc<Self>, request: MetadataRequest) -> MetadataReply {
        match request {
            MetadataRequest::Admin(op) => MetadataReply::Admin(self.execute(op).await),
            MetadataRequest::Apply(meta) => {
                self.apply(meta).await;
                MetadataReply::Applied
            }
            MetadataRequest::DescribeQuorum => MetadataReply::Quorum(self.describe_quorum().await),
            MetadataRequest::AlterPartition(request) => {
                MetadataReply::AlterPartition(self.alter_partition(request).await)
            }
            MetadataRequest::AlterReassignments {
                reassignments,
                allow_replication_factor_change,
            } => MetadataReply::Reassignments(
                self.alter_partition_reassignments(reassignments, allow_replication_factor_change)
                    .await,
            ),
            MetadataRequest::ListReassignments { partitions } => {
                MetadataReply::ReassignmentList(self.list_partition_reassignments(partitions).await)
            }
            MetadataRequest::AlterScramCredentials {
                deletions,
                upsertions,
            } => MetadataReply::ScramAlterations(
                self.alter_user_scram_credentials(deletions, upsertions)
                    .await,
            ),
            MetadataRequest::CreateAcls(bindings) => {
                MetadataReply::AclsCreated(self.create_acls(bindings).await)
            }
            MetadataRequest::DeleteAcls(ids) => {
                MetadataReply::AclsDeleted(self.delete_acls(ids).await)
            }
        }
    }

    /// On the controller shard: sends the op to the active controller, then waits until this
    /// broker applied its records.
    async fn execute(self: &Rc<Self>, op: AdminOp) -> AdminResult {
        let Some(cluster) = &self.cluster else {
            unreachable!("admin ops run on the controller shard")
        };
        let request = match op {
            AdminOp::CreateTopic {
                name,
                partitions,
                replication_factor,
                assignments,
                configs,
                validate_only,
            } => {
                let internal = crate::topics::is_internal(&name);
                if !internal {
                    crate::topics::meta::validate_topic_name(&name)
                        .map_err(|msg| (ResponseError::InvalidTopicException.code(), msg))?;
                }
                replication_factor::check_requested(replication_factor)?;
                ControllerRequest::CreateTopic {
                    name,
                    partitions,
                    replication_factor,
                    assignments,
                    configs: configs.overrides,
                    validate_only,
                    internal,
                }
            }
            AdminOp::DeleteTopic { name } => ControllerRequest::DeleteTopic { name },
            AdminOp::CreatePartitions {
                name,
                count,
                validate_only,
            } => ControllerRequest::CreatePartitions {
                name,
                count,
                validate_only,
            },
            AdminOp::SetConfigs {
                name,
                configs,
                validate_only,
            } => ControllerRequest::SetTopicConfigs {
                name,
                configs: configs.overrides,
                validate_only,
            },
        };
        // For a refusal's wording: the factor the controller placed, when it placed one.
        let placed_factor = match &request {
            ControllerRequest::CreateTopic {
                replication_factor,
                assignments: None,
                ..
            } => Some(replication_factor::resolve(
                *replication_factor,
                self.config.default_replication_factor,
            )),
            _ => None,
        };
        match cluster.request(request).await {
            ControllerReply::Committed { offset } => {
                let limit = Duration::from_millis(METADATA_APPLY_MS_MAX);
                if !cluster.broker().applied(offset, limit).await {
                    tracing::warn!(
                        offset,
                        "metadata change committed but not applied here in time"
                    );
                }
                Ok(())
            }
            ControllerReply::Refused { code, message } => {
                Err(self.kafka_refusal(code, message, placed_factor))
            }
            other => Err((
                ResponseError::UnknownServerError.code(),
                format!("unexpected controller answer {other:?}"),
            )),
        }
    }

    /// The controller's refusal, in Kafka's words where Kafka has them: a replication factor
    /// above the brokers alive reads as `ReplicationControlManager` puts it. The counts are this
    /// broker's image; when it disagrees with the controller's, the controller's message stands.
    fn kafka_refusal(
        &self,
        code: i16,
        message: String,
        placed_factor: Option<i16>,
    ) -> (i16, String) {
        let (Some(factor), Some(cluster)) = (placed_factor, &self.cluster) else {
            return (code, message);
        };
        if code != ResponseError::InvalidReplicationFactor.code() || factor < 1 {
            return (code, message);
        }
        let image = cluster.image();
        let registered = image.brokers.len();
        let alive = image.active_broker_ids().len();
        match replication_factor::unreachable_message(factor, registered, alive) {
            Some(kafka) => (code, kafka),
            None => (code, message),
        }
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

    /// Applies a new snapshot on this shard: opens the logs of partitions this broker now
    /// hosts, pushes config changes into open logs, deletes the logs of deleted topics, and
    /// tells the group coordinator which offsets partitions it leads.
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
        self.meta.set(meta.clone());
        self.update_offsets_leadership(&meta);
    }

    /// Opens, reconfigures and deletes this shard's logs to go from `old` to `new`, and gives
    /// every hosted partition its role (leader, follower) from the new assignment.
    async fn apply_diff(&self, old: &ClusterMeta, new: &ClusterMeta) {
        let node = self.config.node_id;
        for (name, topic) in &old.topics {
            let replaced = new.topic(name).is_none_or(|t| t.id_hex != topic.id_hex);
            if replaced {
                self.delete_owned(topic).await;
            } else {
                self.delete_moved_away(old, new, topic).await;
            }
        }
        let now_ms = crate::util::now_ms().max(0) as u64;
        for topic in new.topics.values() {
            let old_topic = old.topic(&topic.name).filter(|t| t.id_hex == topic.id_hex);
            let log_config = if topic.name == OFFSETS_TOPIC {
                let compaction = topic
                    .configs
                    .log_config(&self.config)
                    .cleanup_policy
                    .compact;
                crate::group::loader::offsets_log_config(
                    self.config.offsets_segment_bytes,
                    compaction.unwrap_or_default(),
                )
            } else {
                topic.configs.log_config(&self.config)
            };
            let configs_changed = old_topic.is_some_and(|t| t.configs != topic.configs);
            let min_insync = topic.configs.min_insync_replicas(&self.config);
            for partition in 0..topic.partitions {
                if !self.ctx.owns(&topic.name, partition)
                    || !new.hosts(node, &topic.name, partition)
                {
                    continue;
                }
                let opened = match self.partitions.get(&topic.name, partition) {
                    Some(open) => {
                        if configs_changed {
                            open.log().set_config(log_config.clone());
                        }
                        Some(open)
                    }
                    None => match self
                        .partitions
                        .open(&topic.name, partition, log_config.clone())
                        .await
                    {
                        Ok(open) => Some(open),
                        Err(err) => {
                            tracing::error!(topic = %topic.name, partition, "cannot open log: {err}");
                            None
                        }
                    },
                };
                let (Some(open), Some(state)) = (opened, topic.state(partition)) else {
                    continue;
                };
                if state.leader == sluice_controller::records::NO_LEADER {
                    continue;
                }
                let change = RoleChange {
                    node_id: node,
                    assignment: Assignment {
                        replicas: state.replicas.clone(),
                        isr: state.isr.clone(),
                        leader: state.leader,
                        leader_epoch: state.leader_epoch,
                        partition_epoch: state.partition_epoch,
                    },
                    min_insync,
                    lag_max_ms: self.config.replica_lag_time_max_ms,
                    now_ms,
                };
                if let Err(err) = open.apply_role(change).await {
                    tracing::error!(topic = %topic.name, partition, "cannot take the partition's new role: {err}");
                }
            }
        }
        // Waiting acks=all produces and long polls look again: the ISR or the role changed.
        self.partitions.data_notify().notify();
        self.partitions.roles_notify().notify();
    }

    /// Deletes this shard's logs of partitions a reassignment moved off this broker.
    async fn delete_moved_away(&self, old: &ClusterMeta, new: &ClusterMeta, topic: &TopicMeta) {
        let node = self.config.node_id;
        let moved: Vec<(String, i32)> = (0..topic.partitions)
            .filter(|&p| self.ctx.owns(&topic.name, p))
            .filter(|&p| old.hosts(node, &topic.name, p) && !new.hosts(node, &topic.name, p))
            .filter(|&p| self.partitions.get(&topic.name, p).is_some())
            .map(|p| (topic.name.clone(), p))
            .collect();
        if moved.is_empty() {
            return;
        }
        tracing::info!(topic = %topic.name, partitions = ?moved.iter().map(|m| m.1).collect::<Vec<_>>(), "replicas moved off this broker: deleting their logs");
        if let Err(err) = self.partitions.delete(&moved).await {
            tracing::error!(topic = %topic.name, "cannot delete moved replicas: {err}");
        }
    }

    /// Tells the group coordinator of this shard which of its offsets partitions this broker
    /// leads now.
    fn update_offsets_leadership(&self, meta: &ClusterMeta) {
        let node = self.config.node_id;
        let led: BTreeSet<i32> = match meta.topic(OFFSETS_TOPIC) {
            Some(topic) => (0..topic.partitions)
                .filter(|&p| {
                    self.ctx.owns(OFFSETS_TOPIC, p) && meta.leader(OFFSETS_TOPIC, p) == Some(node)
                })
                .collect(),
            None => BTreeSet::new(),
        };
        self.groups.set_led_partitions(led);
    }

    async fn delete_owned(&self, topic: &TopicMeta) {
        let owned: Vec<(String, i32)> = (0..topic.partitions)
            .filter(|&partition| self.ctx.owns(&topic.name, partition))
            .filter(|&partition| self.partitions.get(&topic.name, partition).is_some())
            .map(|partition| (topic.name.clone(), partition))
            .collect();
        if let Err(err) = self.partitions.delete(&owned).await {
            tracing::error!(topic = %topic.name, "cannot delete every log: {err}");
        }
    }
}

fn unexpected_reply() -> Refusal {
    (
        ResponseError::UnknownServerError.code(),
        "unexpected metadata reply".to_string(),
    )
}

impl Handler<MetadataRequest, MetadataReply> for MetadataService {
    async fn handle(self: Rc<Self>, request: MetadataRequest) -> MetadataReply {
        self.serve(request).await
    }

    fn in_order(_request: &MetadataRequest) -> bool {
        false
    }
}

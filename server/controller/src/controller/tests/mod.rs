//! The controller's behaviour, driven like the server drives it: one command at a time, its
//! batch committed (applied to the image at the next offset) before the next, with a manual
//! clock. Each file is one area of the specification.
// A test's unwrap is its assertion: the panic names the failing step.
#![allow(clippy::unwrap_used)]

mod acls;
mod alter_partition;
mod errors;
mod fencing;
mod heartbeat;
mod producer_ids;
mod random_walk;
mod reassignment;
mod rebalance;
mod registration;
mod scram_credentials;
mod shutdown;
mod topics;
mod unclean_election;

use std::collections::BTreeMap;

use super::*;
use crate::records::{Endpoint, RecordBatch};

pub(super) const SESSION_TIMEOUT_MS: u64 = 9_000;

/// The tests' settings: Kafka's defaults but for short sessions and small topics.
pub(super) fn config() -> ControllerConfig {
    ControllerConfig {
        session_timeout_ms: SESSION_TIMEOUT_MS,
        default_partitions: 3,
        default_replication_factor: 1,
        partitions_per_topic_max: 100,
        unclean_leader_election_enable: false,
        auto_leader_rebalance_enable: true,
        leader_imbalance_check_interval_ms: 300_000,
    }
}

pub(super) struct Cluster {
    pub(super) image: MetadataImage,
    pub(super) controller: Controller,
    pub(super) now_ms: u64,
    incarnations_issued: u128,
}

pub(super) fn endpoint(broker_id: i32) -> Endpoint {
    Endpoint {
        name: "PLAINTEXT".into(),
        host: format!("broker{broker_id}.test"),
        port: 9092,
        security_protocol: "PLAINTEXT".into(),
    }
}

pub(super) fn create(name: &str, partitions: i32, replication_factor: i16) -> CreateTopic {
    CreateTopic {
        name: name.into(),
        partitions,
        replication_factor,
        assignments: None,
        configs: BTreeMap::new(),
        validate_only: false,
        internal: false,
    }
}

impl Cluster {
    pub(super) fn new() -> Cluster {
        Cluster::with_seed(1)
    }

    pub(super) fn with_seed(seed: u64) -> Cluster {
        Cluster::with_config(config(), seed)
    }

    pub(super) fn with_config(config: ControllerConfig, seed: u64) -> Cluster {
        let image = MetadataImage::default();
        let mut controller = Controller::new(config, seed);
        controller.activate(&image, 0);
        Cluster {
            image,
            controller,
            now_ms: 0,
            incarnations_issued: 0,
        }
    }

    /// Brokers `1..=count`, registered, caught up and unfenced.
    pub(super) fn with_brokers(count: i32) -> Cluster {
        let mut cluster = Cluster::new();
        for broker_id in 1..=count {
            cluster.start_broker(broker_id);
        }
        cluster
    }

    /// Applies `batch` at the next offset, as every node would once it is committed.
    pub(super) fn commit(&mut self, batch: RecordBatch) {
        if !batch.records.is_empty() {
            let offset = self.image.offset + 1;
            self.image.apply(offset, &batch).unwrap();
        }
    }

    pub(super) fn next_incarnation(&mut self) -> u128 {
        self.incarnations_issued += 1;
        0xfeed_0000 + self.incarnations_issued
    }

    pub(super) fn try_register(
        &mut self,
        broker_id: i32,
        incarnation_id: u128,
    ) -> Result<i64, ControllerError> {
        let registration = Registration {
            broker_id,
            incarnation_id,
            endpoints: vec![endpoint(broker_id)],
            rack: None,
        };
        let (epoch, batch) = self
            .controller
            .register(&self.image, registration, self.now_ms)?;
        self.commit(batch);
        Ok(epoch)
    }

    /// Registers a new incarnation of `broker_id`.
    pub(super) fn register(&mut self, broker_id: i32) -> i64 {
        let incarnation_id = self.next_incarnation();
        self.try_register(broker_id, incarnation_id).unwrap()
    }

    pub(super) fn epoch(&self, broker_id: i32) -> i64 {
        self.image.broker(broker_id).unwrap().broker_epoch
    }

    pub(super) fn try_heartbeat(
        &mut self,
        broker_id: i32,
        metadata_offset: u64,
        want_shutdown: bool,
    ) -> Result<HeartbeatReply, ControllerError> {
        let heartbeat = Heartbeat {
            broker_id,
            broker_epoch: self.epoch(broker_id),
            metadata_offset,
            want_shutdown,
        };
        let (reply, batch) = self
            .controller
            .heartbeat(&self.image, heartbeat, self.now_ms)?;
        self.commit(batch);
        Ok(reply)
    }

    /// A heartbeat from a broker whose metadata is as current as the controller's.
    pub(super) fn heartbeat(&mut self, broker_id: i32) -> HeartbeatReply {
        self.try_heartbeat(broker_id, self.image.offset, false)
            .unwrap()
    }

    pub(super) fn shutdown_heartbeat(&mut self, broker_id: i32) -> HeartbeatReply {
        self.try_heartbeat(broker_id, self.image.offset, true)
            .unwrap()
    }

    /// Registers a new incarnation and heartbeats until unfenced.
    pub(super) fn start_broker(&mut self, broker_id: i32) {
        self.register(broker_id);
        let reply = self.heartbeat(broker_id);
        assert!(!reply.is_fenced, "{reply:?}");
    }

    pub(super) fn advance(&mut self, elapsed_ms: u64) {
        self.now_ms += elapsed_ms;
    }

    pub(super) fn tick(&mut self) -> RecordBatch {
        let batch = self.controller.tick(&self.image, self.now_ms);
        self.commit(batch.clone());
        batch
    }

    pub(super) fn create_topic(&mut self, command: CreateTopic) -> Result<(), ControllerError> {
        let batch = self.controller.create_topic(&self.image, command)?;
        self.commit(batch);
        Ok(())
    }

    pub(super) fn leader(&self, topic: &str, partition: i32) -> i32 {
        self.image.partition(topic, partition).unwrap().leader
    }

    pub(super) fn isr(&self, topic: &str, partition: i32) -> Vec<i32> {
        self.image.partition(topic, partition).unwrap().isr.clone()
    }

    pub(super) fn is_fenced(&self, broker_id: i32) -> bool {
        self.image.broker(broker_id).unwrap().fenced
    }

    /// Creates `name` with one partition per replica list, as given.
    pub(super) fn create_assigned(&mut self, name: &str, assignments: &[&[i32]]) {
        let mut command = create(name, -1, -1);
        command.assignments = Some(assignments.iter().map(|r| r.to_vec()).collect());
        self.create_topic(command).unwrap();
    }

    /// An AlterPartition from the partition's current leader, made from the current state.
    pub(super) fn alter_request(
        &self,
        topic: &str,
        partition: i32,
        new_isr: &[i32],
    ) -> AlterPartition {
        let current = self.image.partition(topic, partition).unwrap();
        let broker_id = current.leader;
        AlterPartition {
            broker_id,
            broker_epoch: self.epoch(broker_id),
            topic_id: self.image.topic(topic).unwrap().topic_id,
            partition,
            leader_epoch: current.leader_epoch,
            partition_epoch: current.partition_epoch,
            new_isr: new_isr.to_vec(),
            leader_recovered: true,
        }
    }

    /// Sends `request`; on success commits its batch. On refusal checks that nothing changed.
    pub(super) fn try_alter(
        &mut self,
        request: AlterPartition,
    ) -> Result<(RecordBatch, AlterPartitionReply), ControllerError> {
        let before = self.image.clone();
        match self
            .controller
            .alter_partition(&self.image, self.now_ms, request)
        {
            Ok((batch, reply)) => {
                self.commit(batch.clone());
                Ok((batch, reply))
            }
            Err(error) => {
                assert_eq!(self.image, before, "a refusal changes nothing");
                Err(error)
            }
        }
    }

    /// The leader of `topic`-`partition` sets its ISR to `new_isr`.
    pub(super) fn alter_isr(
        &mut self,
        topic: &str,
        partition: i32,
        new_isr: &[i32],
    ) -> AlterPartitionReply {
        let request = self.alter_request(topic, partition, new_isr);
        self.try_alter(request).unwrap().1
    }

    pub(super) fn partition(&self, topic: &str, partition: i32) -> crate::image::PartitionImage {
        self.image.partition(topic, partition).unwrap().clone()
    }

    /// Stops `broker_id`'s heartbeats until it is fenced, keeping every other registered
    /// broker alive.
    pub(super) fn fence_by_silence(&mut self, broker_id: i32) {
        self.advance(SESSION_TIMEOUT_MS + 1);
        let others: Vec<i32> = self
            .image
            .brokers
            .values()
            .filter(|b| b.broker_id != broker_id && !b.fenced)
            .map(|b| b.broker_id)
            .collect();
        for other in others {
            self.heartbeat(other);
        }
        self.tick();
        assert!(self.is_fenced(broker_id));
    }

    pub(super) fn reassign(
        &mut self,
        topic: &str,
        partition: i32,
        replicas: Option<&[i32]>,
    ) -> ReassignmentResult {
        let entry = PartitionReassignment {
            topic: topic.into(),
            partition,
            replicas: replicas.map(<[i32]>::to_vec),
            allow_replication_factor_change: true,
        };
        let (batch, mut results) = self
            .controller
            .alter_partition_reassignments(&self.image, &[entry])
            .unwrap();
        self.commit(batch);
        assert_eq!(results.len(), 1);
        results.remove(0)
    }
}

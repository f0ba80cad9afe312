//! `ProducerIdService`: on the controller shard it owns the blocks and asks the active
//! controller (here or on another node) for more; every other shard asks the controller shard
//! over its mesh. Lives on one shard.

use std::cell::RefCell;
use std::rc::Rc;

use glommio::sync::Semaphore;

use super::blocks::ProducerIdBlocks;
use crate::cluster::wire::{ControllerReply, ControllerRequest};
use crate::cluster::{ClusterService, CONTROLLER_SHARD};
use crate::error_code::ResponseError;
use crate::shard::mesh::{Handler, Mesh};

/// Another shard's InitProducerId asks the controller shard for one id.
pub struct ProducerIdRequest;

/// A new producer id, or a Kafka error code and why.
pub type ProducerIdReply = Result<i64, (i16, String)>;

pub type ProducerIdMesh = Mesh<ProducerIdRequest, ProducerIdReply>;

/// Times the controller is asked for a block within one `generate` before giving up (each
/// ask already waits out elections for `CONTROLLER_REQUEST_MS_MAX`).
const BLOCK_REQUESTS_PER_CALL_MAX: usize = 2;

pub struct ProducerIdService {
    mesh: Rc<ProducerIdMesh>,
    /// Only on the controller shard.
    cluster: Option<Rc<ClusterService>>,
    blocks: RefCell<ProducerIdBlocks>,
    /// One AllocateProducerIds in flight at a time.
    fetching: Semaphore,
}

impl ProducerIdService {
    pub fn new(mesh: Rc<ProducerIdMesh>, cluster: Option<Rc<ClusterService>>) -> Rc<Self> {
        assert_eq!(cluster.is_some(), mesh.shard_id() == CONTROLLER_SHARD);
        let service = Rc::new(ProducerIdService {
            mesh,
            cluster,
            blocks: RefCell::new(ProducerIdBlocks::default()),
            fetching: Semaphore::new(1),
        });
        service.mesh.serve(service.clone());
        service
    }

    /// A producer id no one else in the cluster has had or will get.
    pub async fn generate(self: &Rc<Self>) -> ProducerIdReply {
        if self.cluster.is_none() {
            return match self.mesh.call(CONTROLLER_SHARD, ProducerIdRequest).await {
                Ok(reply) => reply,
                Err(down) => Err(load_in_progress(down.to_string())),
            };
        }
        for _ in 0..=BLOCK_REQUESTS_PER_CALL_MAX {
            let next = self.blocks.borrow_mut().next_id();
            if let Some(id) = next {
                if self.blocks.borrow().wants_block() {
                    let service = self.clone();
                    glommio::spawn_local(async move { service.fetch_block().await }).detach();
                }
                return Ok(id);
            }
            self.fetch_block().await?;
        }
        Err(load_in_progress(
            "no producer-id block arrived from the controller".to_string(),
        ))
    }

    /// Asks the active controller for a block unless another ask is under way or enough ids
    /// are left; on the controller shard only.
    async fn fetch_block(&self) -> Result<(), (i16, String)> {
        let Some(cluster) = &self.cluster else {
            unreachable!("blocks are fetched on the controller shard")
        };
        let Ok(_permit) = self.fetching.acquire_permit(1).await else {
            return Err(load_in_progress("the shard is stopping".to_string()));
        };
        if !self.blocks.borrow().wants_block() {
            return Ok(());
        }
        let request = ControllerRequest::AllocateProducerIds {
            broker_id: cluster.node_id(),
            broker_epoch: cluster.broker().epoch(),
        };
        match cluster.request(request).await {
            ControllerReply::ProducerIds {
                first_producer_id,
                size,
            } => {
                tracing::debug!(first_producer_id, size, "producer-id block received");
                self.blocks.borrow_mut().add(first_producer_id, size);
                Ok(())
            }
            ControllerReply::Refused { code, message } => {
                tracing::warn!(
                    code,
                    "the controller refused a producer-id block: {message}"
                );
                Err(load_in_progress(message))
            }
            other => {
                tracing::warn!("unexpected controller reply to AllocateProducerIds: {other:?}");
                Err(load_in_progress("unexpected controller reply".to_string()))
            }
        }
    }
}

/// What a client gets while no id can be handed out: Kafka's retriable
/// COORDINATOR_LOAD_IN_PROGRESS (its broker answers so while it waits for a block).
fn load_in_progress(message: String) -> (i16, String) {
    (ResponseError::CoordinatorLoadInProgress.code(), message)
}

impl Handler<ProducerIdRequest, ProducerIdReply> for ProducerIdService {
    async fn handle(self: Rc<Self>, _request: ProducerIdRequest) -> ProducerIdReply {
        self.generate().await
    }

    fn in_order(_request: &ProducerIdRequest) -> bool {
        false
    }
}

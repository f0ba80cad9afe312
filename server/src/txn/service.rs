//! `TxnService`: the transaction subsystem on one shard. A request for a transactional id runs
//! on the shard owning the id's `__transaction_state` partition (the transaction mesh carries
//! it there), against that shard's `TxnRuntime`. Answers carry Kafka error codes. Lives on one
//! shard.

use std::cell::Cell;
use std::rc::Rc;

use sluice_txn::{EndOutcome, InitOutcome, TopicPartition, TxnMetadata};

use crate::error_code::ResponseError;
use crate::group::service::GroupService;
use crate::partition::{PartitionService, Partitions};
use crate::producer_ids::ProducerIdService;
use crate::shard::context::ShardContext;
use crate::shard::mesh::{Handler, Mesh};
use crate::topics::{MetaCell, TXN_TOPIC};

use super::config::TxnSettings;
use super::peers::Peers;
use super::persist;
use super::runtime::TxnRuntime;

/// Times InitProducerId asks for a fresh producer id within one request: the coordinator asks
/// at most once per call, and the state may change while the id is fetched.
const FRESH_ID_ATTEMPTS_MAX: usize = 3;

/// One operation for the coordinator shard of a transactional id.
#[derive(Debug)]
pub enum TxnOp {
    Init {
        transactional_id: String,
        timeout_ms: i32,
        /// KIP-360: the producer id and epoch the client has, if any.
        expected: Option<(i64, i16)>,
    },
    AddPartitions {
        transactional_id: String,
        producer_id: i64,
        producer_epoch: i16,
        partitions: Vec<TopicPartition>,
    },
    /// KIP-890: are these partitions in the producer's ongoing transaction? Changes nothing.
    Verify {
        transactional_id: String,
        producer_id: i64,
        producer_epoch: i16,
        partitions: Vec<TopicPartition>,
    },
    End {
        transactional_id: String,
        producer_id: i64,
        producer_epoch: i16,
        commit: bool,
    },
    Describe {
        transactional_id: String,
    },
    /// Answered by every shard for the transactional ids it coordinates.
    List,
}

#[derive(Debug)]
pub enum TxnAnswer {
    Init(Result<(i64, i16), i16>),
    Done(Result<(), i16>),
    Verify(Result<Vec<(TopicPartition, i16)>, i16>),
    Describe(Result<TxnMetadata, i16>),
    List(Vec<TxnMetadata>),
}

pub struct TxnRequest {
    pub op: TxnOp,
}

pub type TxnMesh = Mesh<TxnRequest, TxnAnswer>;

pub struct TxnService {
    ctx: Rc<ShardContext>,
    runtime: TxnRuntime,
    mesh: Rc<TxnMesh>,
    partitions: Rc<Partitions>,
    /// Writes the markers of the partitions this broker leads (on their owner shards).
    partition_service: Rc<PartitionService>,
    /// Learns of transactions ending in its offsets partitions.
    groups: Rc<GroupService>,
    meta: Rc<MetaCell>,
    producer_ids: Rc<ProducerIdService>,
    peers: Peers,
    /// When this shard last logged a marker refusal for authorization.
    marker_refusal_logged_ms: Cell<Option<i64>>,
}

/// What the transaction subsystem uses of the others on its shard.
pub struct TxnDeps {
    pub partitions: Rc<Partitions>,
    pub partition_service: Rc<PartitionService>,
    pub groups: Rc<GroupService>,
    pub meta: Rc<MetaCell>,
    pub producer_ids: Rc<ProducerIdService>,
}

impl TxnService {
    pub fn new(
        ctx: Rc<ShardContext>,
        settings: TxnSettings,
        deps: TxnDeps,
        mesh: Rc<TxnMesh>,
    ) -> Rc<TxnService> {
        assert_eq!(mesh.shard_id(), ctx.id());
        let peers = Peers::new(settings.node_id, ctx.id());
        let service = Rc::new(TxnService {
            ctx,
            runtime: TxnRuntime::new(settings),
            mesh,
            partitions: deps.partitions,
            partition_service: deps.partition_service,
            groups: deps.groups,
            meta: deps.meta,
            producer_ids: deps.producer_ids,
            peers,
            marker_refusal_logged_ms: Cell::new(None),
        });
        service.mesh.serve(service.clone());
        service
    }

    /// Starts watching leadership of `__transaction_state` and the coordinator's timers.
    pub fn start(self: &Rc<Self>) {
        glommio::spawn_local(super::loader::watch(self.clone())).detach();
        glommio::spawn_local(super::timers::run(self.clone())).detach();
    }

    pub fn ctx(&self) -> &Rc<ShardContext> {
        &self.ctx
    }

    pub fn runtime(&self) -> &TxnRuntime {
        &self.runtime
    }

    pub fn settings(&self) -> &TxnSettings {
        self.runtime.settings()
    }

    pub fn partitions(&self) -> &Rc<Partitions> {
        &self.partitions
    }

    pub fn partition_service(&self) -> &PartitionService {
        &self.partition_service
    }

    pub fn groups(&self) -> &Rc<GroupService> {
        &self.groups
    }

    /// True (and the time noted) when no marker refusal was logged in the last `interval_ms`.
    pub fn marker_refusal_log_due(&self, now_ms: i64, interval_ms: i64) -> bool {
        let due = log_due(self.marker_refusal_logged_ms.get(), now_ms, interval_ms);
        if due {
            self.marker_refusal_logged_ms.set(Some(now_ms));
        }
        due
    }

    pub fn meta(&self) -> &MetaCell {
        &self.meta
    }

    pub fn peers(&self) -> &Peers {
        &self.peers
    }

    /// The broker coordinating `transactional_id` now (the leader of its partition).
    pub fn coordinator_node(&self, transactional_id: &str) -> Option<i32> {
        let partition = self.settings().partition_of(transactional_id);
        self.meta.get().leader(TXN_TOPIC, partition)
    }

    /// Runs `op` for `transactional_id` on its coordinator shard of this broker.
    pub async fn call(self: &Rc<Self>, transactional_id: &str, op: TxnOp) -> TxnAnswer {
        let partition = self.settings().partition_of(transactional_id);
        let target = self.ctx.owner_of(TXN_TOPIC, partition);
        self.call_shard(target, op).await
    }

    async fn call_shard(self: &Rc<Self>, target: usize, op: TxnOp) -> TxnAnswer {
        if target == self.ctx.id() {
            return execute(self, op).await;
        }
        let down = |op_name: &str| {
            tracing::debug!(target, "{op_name}: coordinator shard is gone");
            ResponseError::CoordinatorNotAvailable.code()
        };
        match self.mesh.call(target, TxnRequest { op }).await {
            Ok(answer) => answer,
            Err(_) => TxnAnswer::Done(Err(down("transaction request"))),
        }
    }

    /// Every transaction this broker coordinates (ListTransactions), from every shard.
    pub async fn list_all(self: &Rc<Self>) -> Vec<TxnMetadata> {
        let calls = (0..self.ctx.shards()).map(|shard| self.call_shard(shard, TxnOp::List));
        let answers = crate::util::join_all(calls.collect()).await;
        answers
            .into_iter()
            .flat_map(|answer| match answer {
                TxnAnswer::List(rows) => rows,
                _ => Vec::new(),
            })
            .collect()
    }
}

/// True when nothing was logged yet, or the last line is at least `interval_ms` old (a clock
/// stepping back counts as no time passed).
fn log_due(logged_ms: Option<i64>, now_ms: i64, interval_ms: i64) -> bool {
    assert!(interval_ms > 0);
    logged_ms.is_none_or(|logged_ms| now_ms.saturating_sub(logged_ms) >= interval_ms)
}

impl Handler<TxnRequest, TxnAnswer> for TxnService {
    async fn handle(self: Rc<Self>, request: TxnRequest) -> TxnAnswer {
        execute(&self, request.op).await
    }

    fn in_order(_request: &TxnRequest) -> bool {
        false
    }
}

/// Runs `op` on this (the coordinator) shard.
async fn execute(service: &Rc<TxnService>, op: TxnOp) -> TxnAnswer {
    let code = |e: ResponseError| e.code();
    let rt = service.runtime();
    match op {
        TxnOp::Init {
            transactional_id,
            timeout_ms,
            expected,
        } => TxnAnswer::Init(init(service, &transactional_id, timeout_ms, expected).await),
        TxnOp::AddPartitions {
            transactional_id,
            producer_id,
            producer_epoch,
            partitions,
        } => {
            let id = transactional_id.as_str();
            let answer = async {
                rt.ready(id).map_err(code)?;
                let now_ms = crate::util::now_ms();
                let step = rt.with(|c| {
                    c.add_partitions(id, producer_id, producer_epoch, &partitions, now_ms)
                });
                match step.map_err(|e| e.code())? {
                    None => Ok(()),
                    Some(transition) => persist::write(service, transition).await.map_err(code),
                }
            };
            TxnAnswer::Done(answer.await)
        }
        TxnOp::Verify {
            transactional_id,
            producer_id,
            producer_epoch,
            partitions,
        } => {
            let id = transactional_id.as_str();
            let answer = rt.ready(id).map_err(code).map(|_| {
                let rows =
                    rt.with(|c| c.verify_partitions(id, producer_id, producer_epoch, &partitions));
                rows.into_iter()
                    .map(|(tp, result)| (tp, result.err().map_or(0, |e| e.code())))
                    .collect()
            });
            TxnAnswer::Verify(answer)
        }
        TxnOp::End {
            transactional_id,
            producer_id,
            producer_epoch,
            commit,
        } => {
            let id = transactional_id.as_str();
            let answer = async {
                rt.ready(id).map_err(code)?;
                let now_ms = crate::util::now_ms();
                let step = rt.with(|c| c.end_txn(id, producer_id, producer_epoch, commit, now_ms));
                match step.map_err(|e| e.code())? {
                    EndOutcome::AlreadyDone => Ok(()),
                    EndOutcome::Persist(transition) => {
                        persist::write(service, transition).await.map_err(code)
                    }
                }
            };
            TxnAnswer::Done(answer.await)
        }
        TxnOp::Describe { transactional_id } => {
            let id = transactional_id.as_str();
            let answer = rt.ready(id).map_err(code).and_then(|_| {
                rt.with(|c| c.describe(id).cloned())
                    .ok_or(ResponseError::TransactionalIdNotFound.code())
            });
            TxnAnswer::Describe(answer)
        }
        TxnOp::List => {
            let led = rt.led_partitions();
            let settings = rt.settings();
            let rows = rt.with(|c| {
                c.list()
                    .filter(|txn| {
                        let partition = settings.partition_of(&txn.transactional_id);
                        led.get(&partition).is_some_and(|p| p.loaded)
                    })
                    .cloned()
                    .collect()
            });
            TxnAnswer::List(rows)
        }
    }
}

/// InitProducerId for a transactional id (Kafka's `handleInitProducerId`).
async fn init(
    service: &Rc<TxnService>,
    id: &str,
    timeout_ms: i32,
    expected: Option<(i64, i16)>,
) -> Result<(i64, i16), i16> {
    let rt = service.runtime();
    let mut fresh: Option<i64> = None;
    for _ in 0..FRESH_ID_ATTEMPTS_MAX {
        rt.ready(id).map_err(|e| e.code())?;
        let now_ms = crate::util::now_ms();
        let outcome = rt
            .with(|c| c.init_producer_id(id, timeout_ms, expected, fresh, now_ms))
            .map_err(|e| e.code())?;
        match outcome {
            InitOutcome::NeedProducerId => {
                let generated = service.producer_ids.generate().await;
                fresh = Some(generated.map_err(|(code, message)| {
                    tracing::warn!(code, "no producer id for InitProducerId: {message}");
                    code
                })?);
            }
            InitOutcome::Answer {
                producer_id,
                producer_epoch,
            } => return Ok((producer_id, producer_epoch)),
            InitOutcome::Persist(transition) => {
                let answer = (
                    transition.target.producer_id,
                    transition.target.producer_epoch,
                );
                persist::write(service, transition)
                    .await
                    .map_err(|e| e.code())?;
                return Ok(answer);
            }
            InitOutcome::FenceOngoing { fence } => {
                // The ongoing transaction is aborted with a bumped epoch first; the client
                // retries and then gets the epoch after it.
                persist::write(service, fence).await.map_err(|e| e.code())?;
                return Err(ResponseError::ConcurrentTransactions.code());
            }
        }
    }
    Err(ResponseError::ConcurrentTransactions.code())
}

#[cfg(test)]
mod tests {
    use super::log_due;

    #[test]
    fn a_refusal_is_logged_at_most_once_per_interval() {
        assert!(log_due(None, 1_000, 60_000));
        assert!(!log_due(Some(1_000), 1_100, 60_000));
        assert!(!log_due(Some(1_000), 60_999, 60_000));
        assert!(log_due(Some(1_000), 61_000, 60_000));
        // The clock stepped back: not due.
        assert!(!log_due(Some(61_000), 1_000, 60_000));
    }
}

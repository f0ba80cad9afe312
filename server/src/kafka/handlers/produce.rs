//! Produce (key 0). Record batches are split on their length fields (not decoded or
//! decompressed) and routed to the shard owning each partition, which validates and appends them.
//!
//! Durability per acks:
//! - acks=0: appended, then no response at all.
//! - acks=1: answered once the batches are in the leader's log (not yet fsynced, not readable
//!   until every in-sync replica has them durably).
//! - acks=-1 (all): refused unwritten (NOT_ENOUGH_REPLICAS) when the ISR is below
//!   `min.insync.replicas`; after the append, the owners flush the partitions (fdatasync,
//!   coalesced with every other flush on that shard: group commit) and answer once every
//!   in-sync replica has fdatasynced them (the high watermark passed them), or with
//!   NOT_ENOUGH_REPLICAS_AFTER_APPEND / REQUEST_TIMED_OUT (`partition/replicate.rs`).
//!
//! Appends start in the reader's turn, so a connection's batches keep their order: the
//! partitions this shard owns are appended there and then, and those of other shards are
//! queued on the owners' channels (which they serve in arrival order). The wait for the
//! owners' answers (and, for acks=all, the flush) is deferred, so the reader goes on with the
//! connection's next request instead of waiting a cross-shard round trip per request (which,
//! with one client and several shards, capped the client at one request per round trip).
//! Requests with transactional batches still wait in the reader's turn: a batch refused for a
//! transaction verification is retried, and that retry must come before the next request's.
//! So do acks=0 requests: a failed append closes the connection before the next is read.
//!
//! Transactions (KIP-890 part 1): a transactional batch that would start a transaction in a
//! partition is refused by the owner with a verification token. The handler then asks the
//! transaction coordinator (`TxnVerifier`, with the request's `transactional_id`) whether the
//! transaction includes the partition, and retries once with the token. The coordinator's
//! "no" is its error (INVALID_TXN_STATE and the like); a coordinator that is unavailable, or
//! no verifier at all, answers NOT_ENOUGH_REPLICAS, which producers retry (Kafka converts the
//! coordinator's retriable errors the same way, since produce clients do not know them).
//!
//! Authorization (Kafka's order): transactional batches need WRITE on the request's
//! transactional id, else every partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED; then
//! each topic needs WRITE (TOPIC_AUTHORIZATION_FAILED per partition), checked before whether
//! the topic exists.

use std::collections::BTreeMap;
use std::rc::Rc;

use bytes::Bytes;

use kafka_protocol::messages::produce_response::{
    NodeEndpoint, PartitionProduceResponse, TopicProduceResponse,
};
use kafka_protocol::messages::{BrokerId, ProduceRequest, ProduceResponse, TopicName};
use kafka_protocol::protocol::{StrBytes, VersionRange};

use sluice_security::acl::AclOperation;

use crate::error_code::{ResponseError, NONE};
use crate::kafka::authz::Authz;
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::kafka::txn_verifier::{TxnVerifier, TxnVerifyRequest};
use crate::metadata::MetadataService;
use crate::partition::messages::{
    NeedsVerification, ProducePart, ProducePartResult, ReplicatePart,
};
use crate::partition::service::StartedProduce;
use crate::partition::PartitionService;
use crate::shard::mesh::ShardDown;
use crate::topics::ClusterMeta;
use crate::util::{join_all, now_ms};

/// Advertised from 0 because librdkafka misbehaves when Produce's minimum is above 0
/// (KAFKA-18659); versions below [`CODEC_VERSION_MIN`] (message format v0/v1) are refused.
pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 11 };
pub const CODEC_VERSION_MIN: i16 = 3;
/// KIP-951 leader hints (current leader, node endpoints) exist from v10.
const LEADER_HINTS_VERSION_MIN: i16 = 10;

const ACKS_NONE: i16 = 0;
const ACKS_LEADER: i16 = 1;
const ACKS_ALL: i16 = -1;

/// Splits a records blob into whole batches (shared with the follower's fetch path).
pub use sluice_engine::batch::split_batches;

/// Where each partition's result goes: (topic index, partition index) in request order.
struct Slot {
    topic: usize,
    name: String,
    index: i32,
    owner: Option<usize>,
    result: ProducePartResult,
    /// The batches (shared, not copied), kept for a retry after a verification.
    batches: Vec<Bytes>,
}

fn error_result(error_code: i16, message: String) -> ProducePartResult {
    ProducePartResult::error(error_code, message)
}

pub async fn handle(
    partitions: &Rc<PartitionService>,
    metadata: &MetadataService,
    authz: &Authz,
    verifier: Option<TxnVerifier>,
    request: Request,
) -> Result<Outcome, RequestError> {
    if request.version < CODEC_VERSION_MIN {
        return Err(RequestError::UnsupportedVersion {
            api: request.api_key,
            version: request.version,
        });
    }
    let body: ProduceRequest = request.decode()?;
    let refused = refusal_of_transaction(authz, &body);
    let partitions = partitions.clone();
    let acks = body.acks;
    let timeout_ms = body.timeout_ms.clamp(0, i32::MAX) as u64;
    let transactional_id = body.transactional_id.as_ref().map(|id| id.0.to_string());
    let topic_names: Vec<TopicName> = body.topic_data.iter().map(|t| t.name.clone()).collect();
    let routed = route(&partitions, metadata, authz, refused, body);
    let (mut slots, work) = (routed.slots, routed.work);
    // KIP-951: a NOT_LEADER_OR_FOLLOWER answer names the current leader, from v10.
    let hints = (request.version >= LEADER_HINTS_VERSION_MIN).then(|| metadata.meta());
    if acks != ACKS_NONE && acks != ACKS_LEADER && acks != ACKS_ALL {
        for slot in slots.iter_mut() {
            let message = format!("acks must be 0, 1 or -1, not {acks}");
            slot.result = error_result(ResponseError::InvalidRequiredAcks.code(), message);
        }
    } else if acks != ACKS_NONE && !routed.transactional {
        let started = start_appends(&partitions, work, acks == ACKS_ALL).await;
        if started.iter().all(|(_, answer)| answer.is_done()) && acks == ACKS_LEADER {
            record(&mut slots, collect(started).await);
            let response = response(&topic_names, slots, hints.as_deref());
            return Ok(request.respond(&response)?.into());
        }
        return Ok(Outcome::Deferred(Box::pin(async move {
            record(&mut slots, collect(started).await);
            if acks == ACKS_ALL {
                replicate(&partitions, &mut slots, timeout_ms).await;
            }
            let response = response(&topic_names, slots, hints.as_deref());
            Ok(Some(request.respond(&response)?))
        })));
    } else {
        append(&*partitions, &mut slots, work, acks == ACKS_ALL).await;
        let txn = transactional_id.as_deref();
        verify_and_retry(
            &*partitions,
            verifier.as_ref(),
            txn,
            &mut slots,
            acks == ACKS_ALL,
        )
        .await;
    }
    match acks {
        ACKS_NONE => match slots.iter().find(|s| s.result.error_code != NONE) {
            Some(failed) => Err(RequestError::AcksZeroFailed(format!(
                "{}-{}: error {}",
                failed.name, failed.index, failed.result.error_code
            ))),
            None => Ok(Outcome::Ready(None)),
        },
        ACKS_ALL => Ok(Outcome::Deferred(Box::pin(async move {
            replicate(&partitions, &mut slots, timeout_ms).await;
            let response = response(&topic_names, slots, hints.as_deref());
            Ok(Some(request.respond(&response)?))
        }))),
        _ => {
            let response = response(&topic_names, slots, hints.as_deref());
            Ok(request.respond(&response)?.into())
        }
    }
}

type Work = BTreeMap<usize, Vec<(usize, ProducePart)>>;

/// A request's partitions after the checks: a result slot each, the valid ones by owner.
struct Routed {
    slots: Vec<Slot>,
    work: Work,
    /// Some batch is transactional (it may be refused for a verification and retried).
    transactional: bool,
}

/// Kafka's first check: a request carrying transactional batches needs WRITE on its
/// transactional id, or every partition gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED.
fn refusal_of_transaction(authz: &Authz, body: &ProduceRequest) -> Option<i16> {
    if authz.is_off() || !has_transactional_batches(body) {
        return None;
    }
    let allowed = body
        .transactional_id
        .as_ref()
        .is_some_and(|id| authz.transactional_id(AclOperation::Write, id.0.as_str()));
    (!allowed).then(|| ResponseError::TransactionalIdAuthorizationFailed.code())
}

/// Whether any well-formed batch of the request is transactional (Kafka's
/// `RequestUtils.hasTransactionalRecords`); malformed records are refused later, per partition.
fn has_transactional_batches(body: &ProduceRequest) -> bool {
    let records = body
        .topic_data
        .iter()
        .flat_map(|topic| &topic.partition_data)
        .filter_map(|partition| partition.records.as_ref());
    records
        .filter_map(|records| split_batches(records).ok())
        .flatten()
        .any(|batch| is_transactional(&batch))
}

/// Whether `batch` is a well-formed transactional batch (a malformed one is refused later).
fn is_transactional(batch: &Bytes) -> bool {
    sluice_engine::batch::parse_header(batch).is_ok_and(|header| header.is_transactional())
}

/// Checks each partition against the ACLs (a request-wide `refused` first, then WRITE on its
/// topic, before anything tells whether the topic exists, as Kafka does) and the metadata,
/// and groups the valid ones by owner shard.
fn route(
    partitions: &PartitionService,
    metadata: &MetadataService,
    authz: &Authz,
    refused: Option<i16>,
    body: ProduceRequest,
) -> Routed {
    let meta = metadata.meta();
    let mut slots = Vec::new();
    let mut work: Work = BTreeMap::new();
    let mut transactional = false;
    for (topic_index, topic) in body.topic_data.into_iter().enumerate() {
        let name = topic.name.0.to_string();
        let node = metadata.config().node_id;
        let refused = refused.or_else(|| {
            let allowed = authz.topic(AclOperation::Write, &name);
            (!allowed).then(|| ResponseError::TopicAuthorizationFailed.code())
        });
        for partition in topic.partition_data {
            let mut slot = Slot {
                topic: topic_index,
                name: name.clone(),
                index: partition.index,
                owner: None,
                result: error_result(NONE, String::new()),
                batches: Vec::new(),
            };
            if let Some(code) = refused {
                let message = format!("not authorized for {name}-{}", partition.index);
                slot.result = error_result(code, message);
                slots.push(slot);
                continue;
            }
            let served = meta.check_leader(node, &name, partition.index);
            let known = served.is_ok();
            let batches = partition.records.as_ref().map(split_batches);
            match (known, batches) {
                (false, _) => {
                    let code = served.err().unwrap_or(NONE);
                    let message = if code == ResponseError::NotLeaderOrFollower.code() {
                        format!("this broker does not lead {name}-{}", partition.index)
                    } else {
                        format!("unknown topic or partition {name}-{}", partition.index)
                    };
                    slot.result = error_result(code, message);
                }
                (true, None) => {
                    let code = ResponseError::CorruptMessage.code();
                    slot.result = error_result(code, "no records".into());
                }
                (true, Some(Err(message))) => {
                    slot.result = error_result(ResponseError::CorruptMessage.code(), message);
                }
                (true, Some(Ok(batches))) => {
                    transactional |= batches.iter().any(is_transactional);
                    let owner = partitions.owner_of(&name, partition.index);
                    slot.owner = Some(owner);
                    slot.batches = batches.clone();
                    let part = ProducePart {
                        topic: name.clone(),
                        partition: partition.index,
                        batches,
                        verification: None,
                    };
                    work.entry(owner).or_default().push((slots.len(), part));
                }
            }
            slots.push(slot);
        }
    }
    Routed {
        slots,
        work,
        transactional,
    }
}

/// Sends each owner its partitions (concurrently across owners) and records the results.
/// Where appends go: the owner shards (a seam for the verification tests).
trait Owners {
    fn produce(
        &self,
        owner: usize,
        parts: Vec<ProducePart>,
        acks_all: bool,
        now_ms: i64,
    ) -> impl std::future::Future<Output = Result<Vec<ProducePartResult>, crate::shard::mesh::ShardDown>>;
}

impl Owners for PartitionService {
    fn produce(
        &self,
        owner: usize,
        parts: Vec<ProducePart>,
        acks_all: bool,
        now_ms: i64,
    ) -> impl std::future::Future<Output = Result<Vec<ProducePartResult>, crate::shard::mesh::ShardDown>>
    {
        PartitionService::produce(self, owner, parts, acks_all, now_ms)
    }
}

async fn append(partitions: &impl Owners, slots: &mut [Slot], work: Work, acks_all: bool) {
    let now = now_ms();
    let calls = work
        .into_iter()
        .map(|(owner, parts)| {
            let (positions, parts): (Vec<usize>, Vec<ProducePart>) = parts.into_iter().unzip();
            async move {
                let results = partitions.produce(owner, parts, acks_all, now).await;
                (positions, results)
            }
        })
        .collect();
    record(slots, join_all(calls).await);
}

type Started = Vec<(Vec<usize>, StartedProduce)>;
type Answers = Vec<(Vec<usize>, Result<Vec<ProducePartResult>, ShardDown>)>;

/// Starts every owner's appends in the reader's turn, one owner after another (each is only a
/// local append or a channel send); see the module docs.
async fn start_appends(partitions: &PartitionService, work: Work, acks_all: bool) -> Started {
    let now = now_ms();
    let mut started = Vec::with_capacity(work.len());
    for (owner, parts) in work {
        let (positions, parts): (Vec<usize>, Vec<ProducePart>) = parts.into_iter().unzip();
        let answer = partitions.start_produce(owner, parts, acks_all, now).await;
        started.push((positions, answer));
    }
    started
}

/// The owners' answers to started appends, awaited together.
async fn collect(started: Started) -> Answers {
    let waits = started
        .into_iter()
        .map(|(positions, answer)| async move { (positions, answer.results().await) })
        .collect();
    join_all(waits).await
}

/// Puts each owner's results (or its failure) in the partitions' slots.
fn record(slots: &mut [Slot], answers: Answers) {
    for (positions, results) in answers {
        match results {
            Ok(results) => {
                assert_eq!(results.len(), positions.len());
                for (position, result) in positions.into_iter().zip(results) {
                    slots[position].result = result;
                }
            }
            Err(err) => {
                for position in positions {
                    slots[position].result =
                        error_result(ResponseError::KafkaStorageError.code(), err.to_string());
                    slots[position].owner = None;
                }
            }
        }
    }
}

/// Partitions refused for want of a transaction verification: ask the coordinator for each
/// (concurrently) and append again, once, with the token of a "yes".
async fn verify_and_retry(
    partitions: &impl Owners,
    verifier: Option<&TxnVerifier>,
    transactional_id: Option<&str>,
    slots: &mut [Slot],
    acks_all: bool,
) {
    let waiting: Vec<(usize, NeedsVerification)> = slots
        .iter()
        .enumerate()
        .filter_map(|(at, slot)| Some((at, slot.result.needs_verification?)))
        .collect();
    if waiting.is_empty() {
        return;
    }
    let (Some(verifier), Some(transactional_id)) = (verifier, transactional_id) else {
        for (at, _) in waiting {
            let (code, message) = match transactional_id {
                None => (
                    ResponseError::InvalidTxnState.code(),
                    "a transactional batch needs the request's transactional_id",
                ),
                Some(_) => (
                    ResponseError::NotEnoughReplicas.code(),
                    "the transaction coordinator is not available to verify the transaction",
                ),
            };
            slots[at].result = error_result(code, message.to_string());
        }
        return;
    };
    let asks = waiting
        .iter()
        .map(|(at, needs)| {
            let ask = verifier(TxnVerifyRequest {
                transactional_id: transactional_id.to_string(),
                producer_id: needs.producer_id,
                producer_epoch: needs.epoch,
                topic: slots[*at].name.clone(),
                partition: slots[*at].index,
            });
            let at = *at;
            async move { (at, ask.await) }
        })
        .collect();
    let mut work: Work = BTreeMap::new();
    for (at, answer) in join_all(asks).await {
        let needs = slots[at]
            .result
            .needs_verification
            .expect("listed as waiting");
        match answer {
            Ok(()) => {
                let Some(owner) = slots[at].owner else {
                    unreachable!("only appended partitions wait for a verification");
                };
                let part = ProducePart {
                    topic: slots[at].name.clone(),
                    partition: slots[at].index,
                    batches: slots[at].batches.clone(),
                    verification: Some(needs.token),
                };
                work.entry(owner).or_default().push((at, part));
            }
            Err(code) => {
                let message = format!("the transaction coordinator refused (error {code})");
                slots[at].result = error_result(produce_code_of_verification(code), message);
            }
        }
    }
    append(partitions, slots, work, acks_all).await;
    for slot in slots.iter_mut() {
        if slot.result.needs_verification.take().is_some() {
            // Verified, yet refused again: the transaction ended meanwhile (a marker dropped
            // the token), so this batch must not open a new one.
            slot.result.error_message = Some("the transaction was not verified".into());
        }
    }
}

/// A coordinator's answer as a produce error: its retriable errors become NOT_ENOUGH_REPLICAS
/// (produce clients retry that; they do not know coordinator errors), the rest pass.
fn produce_code_of_verification(code: i16) -> i16 {
    let retriable = [
        ResponseError::CoordinatorNotAvailable.code(),
        ResponseError::NotCoordinator.code(),
        ResponseError::CoordinatorLoadInProgress.code(),
        ResponseError::ConcurrentTransactions.code(),
    ];
    if retriable.contains(&code) {
        ResponseError::NotEnoughReplicas.code()
    } else {
        code
    }
}

/// acks=all: every successfully appended partition is flushed on its owner and waited for until
/// every in-sync replica has it durably (the high watermark passed it), at most the request's
/// `timeout_ms`.
async fn replicate(partitions: &PartitionService, slots: &mut [Slot], timeout_ms: u64) {
    let mut by_owner: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (position, slot) in slots.iter().enumerate() {
        if let (Some(owner), NONE) = (slot.owner, slot.result.error_code) {
            by_owner.entry(owner).or_default().push(position);
        }
    }
    let calls = by_owner
        .into_iter()
        .map(|(owner, positions)| {
            let parts = positions
                .iter()
                .map(|&p| ReplicatePart {
                    topic: slots[p].name.clone(),
                    partition: slots[p].index,
                    last_offset: slots[p].result.last_offset,
                })
                .collect();
            async move {
                let codes = partitions.replicate(owner, parts, timeout_ms).await;
                (positions, codes)
            }
        })
        .collect::<Vec<_>>();
    for (positions, codes) in join_all(calls).await {
        let storage_error = ResponseError::KafkaStorageError.code();
        let codes = codes.unwrap_or_else(|_| vec![storage_error; positions.len()]);
        for (position, code) in positions.into_iter().zip(codes) {
            if code != NONE {
                let message = format!("the batch was appended but not replicated (error {code})");
                slots[position].result = error_result(code, message);
            }
        }
    }
}

fn response(
    topic_names: &[TopicName],
    slots: Vec<Slot>,
    hints: Option<&ClusterMeta>,
) -> ProduceResponse {
    let mut hinted_leaders = std::collections::BTreeSet::new();
    let mut topics: Vec<TopicProduceResponse> = topic_names
        .iter()
        .map(|name| {
            let mut topic = TopicProduceResponse::default();
            topic.name = name.clone();
            topic
        })
        .collect();
    for slot in slots {
        let mut partition = PartitionProduceResponse::default();
        partition.index = slot.index;
        partition.error_code = slot.result.error_code;
        partition.base_offset = slot.result.base_offset;
        partition.log_append_time_ms = slot.result.log_append_time_ms;
        partition.log_start_offset = slot.result.log_start_offset;
        if slot.result.error_code != NONE {
            partition.error_message = slot.result.error_message.map(StrBytes::from_string);
        }
        if slot.result.error_code == ResponseError::NotLeaderOrFollower.code() {
            let state = hints.and_then(|meta| meta.topic(&slot.name)?.state(slot.index));
            if let Some(state) = state {
                partition.current_leader.leader_id = BrokerId(state.leader);
                partition.current_leader.leader_epoch = state.leader_epoch;
                hinted_leaders.insert(state.leader);
            }
        }
        topics[slot.topic].partition_responses.push(partition);
    }
    let mut response = ProduceResponse::default();
    response.responses = topics;
    if let Some(meta) = hints {
        response.node_endpoints = hinted_leaders
            .into_iter()
            .filter_map(|id| {
                let (host, port) = meta.endpoint(id)?;
                let mut node = NodeEndpoint::default();
                node.node_id = BrokerId(id);
                node.host = StrBytes::from_string(host);
                node.port = i32::from(port);
                Some(node)
            })
            .collect();
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn batch(length: i32, fill: u8) -> Vec<u8> {
        let mut bytes = vec![0u8; 8];
        bytes.extend_from_slice(&length.to_be_bytes());
        bytes.extend(std::iter::repeat_n(fill, length as usize));
        bytes
    }

    #[test]
    fn records_split_into_whole_batches() {
        let mut blob = batch(60, 1);
        blob.extend(batch(70, 2));
        let batches = split_batches(&Bytes::from(blob)).unwrap();
        assert_eq!(batches.len(), 2);
        assert_eq!(batches[0].len(), 72);
        assert_eq!(batches[1].len(), 82);
    }

    #[test]
    fn truncated_or_tiny_batches_are_corrupt() {
        let mut blob = batch(60, 1);
        blob.truncate(50);
        assert!(split_batches(&Bytes::from(blob)).is_err());
        assert!(split_batches(&Bytes::from(batch(10, 0))).is_err());
        assert!(split_batches(&Bytes::new()).is_err());
        let mut trailing = batch(60, 1);
        trailing.extend_from_slice(&[0; 5]);
        assert!(split_batches(&Bytes::from(trailing)).is_err());
    }

    /// Owner shards that refuse partition 3 even with a token (a marker raced the
    /// verification) and take a batch of the other partitions once it carries token 7.
    struct FakeOwners {
        calls: std::cell::RefCell<Vec<(i32, Option<u64>)>>,
    }

    const TOKEN: u64 = 7;

    impl Owners for FakeOwners {
        async fn produce(
            &self,
            _owner: usize,
            parts: Vec<ProducePart>,
            _acks_all: bool,
            _now_ms: i64,
        ) -> Result<Vec<ProducePartResult>, crate::shard::mesh::ShardDown> {
            use crate::partition::VerificationToken;
            let mut results = Vec::new();
            for part in parts {
                let token = part.verification.map(|VerificationToken(t)| t);
                self.calls.borrow_mut().push((part.partition, token));
                if token == Some(TOKEN) && part.partition != 3 {
                    results.push(ProducePartResult {
                        error_code: NONE,
                        error_message: None,
                        needs_verification: None,
                        base_offset: 10,
                        last_offset: 10,
                        log_append_time_ms: -1,
                        log_start_offset: 0,
                    });
                    continue;
                }
                let code = ResponseError::InvalidTxnState.code();
                let mut refused = ProducePartResult::error(code, "verify".into());
                refused.needs_verification = Some(NeedsVerification {
                    producer_id: 5,
                    epoch: 1,
                    token: VerificationToken(TOKEN),
                });
                results.push(refused);
            }
            Ok(results)
        }
    }

    fn refused_slots(partitions: i32) -> Vec<Slot> {
        (0..partitions)
            .map(|index| {
                let mut result = error_result(ResponseError::InvalidTxnState.code(), "v".into());
                result.needs_verification = Some(NeedsVerification {
                    producer_id: 5,
                    epoch: 1,
                    token: crate::partition::VerificationToken(TOKEN),
                });
                Slot {
                    topic: 0,
                    name: "t".into(),
                    index,
                    owner: Some(0),
                    result,
                    batches: vec![Bytes::from_static(b"batch")],
                }
            })
            .collect()
    }

    /// Partition 0: yes; 1: coordinator unavailable; 2: not in the transaction; 3: yes, but
    /// the owner refuses the retry.
    fn verifier() -> TxnVerifier {
        Rc::new(|ask: TxnVerifyRequest| {
            Box::pin(async move {
                assert_eq!(ask.transactional_id, "tx");
                assert_eq!((ask.producer_id, ask.producer_epoch), (5, 1));
                match ask.partition {
                    1 => Err(ResponseError::CoordinatorNotAvailable.code()),
                    2 => Err(ResponseError::InvalidTxnState.code()),
                    _ => Ok(()),
                }
            })
        })
    }

    #[test]
    fn a_refused_transactional_batch_is_verified_and_retried_once_with_its_token() {
        let owners = FakeOwners {
            calls: Default::default(),
        };
        let mut slots = refused_slots(4);
        let verifier = verifier();
        futures_lite::future::block_on(verify_and_retry(
            &owners,
            Some(&verifier),
            Some("tx"),
            &mut slots,
            false,
        ));
        let codes: Vec<i16> = slots.iter().map(|slot| slot.result.error_code).collect();
        assert_eq!(
            codes,
            vec![
                NONE,
                ResponseError::NotEnoughReplicas.code(),
                ResponseError::InvalidTxnState.code(),
                ResponseError::InvalidTxnState.code(),
            ]
        );
        assert_eq!(slots[0].result.base_offset, 10);
        assert!(slots
            .iter()
            .all(|slot| slot.result.needs_verification.is_none()));
        // Only the coordinator's "yes" were retried, once, with the token.
        assert_eq!(
            *owners.calls.borrow(),
            vec![(0, Some(TOKEN)), (3, Some(TOKEN))]
        );
    }

    #[test]
    fn without_a_verifier_or_a_transactional_id_nothing_is_retried() {
        let owners = FakeOwners {
            calls: Default::default(),
        };
        let mut slots = refused_slots(1);
        futures_lite::future::block_on(verify_and_retry(
            &owners,
            None,
            Some("tx"),
            &mut slots,
            false,
        ));
        assert_eq!(
            slots[0].result.error_code,
            ResponseError::NotEnoughReplicas.code()
        );
        let mut slots = refused_slots(1);
        let verifier = verifier();
        futures_lite::future::block_on(verify_and_retry(
            &owners,
            Some(&verifier),
            None,
            &mut slots,
            false,
        ));
        assert_eq!(
            slots[0].result.error_code,
            ResponseError::InvalidTxnState.code()
        );
        assert!(owners.calls.borrow().is_empty());
    }
}

//! Writing a transaction's markers (Kafka's `TransactionMarkerChannelManager`): once
//! PrepareCommit/PrepareAbort is durable, a COMMIT or ABORT control batch goes to every
//! partition of the transaction, on the partition's leader (acks=all there). Partitions are
//! grouped by leader, one write per leader and round: the partitions this broker leads are
//! written in process (`marker_write`, through the partition layer: no connection to itself,
//! no authorization of the broker by itself), the others get WriteTxnMarkers over the
//! inter-broker connection. What failed is retried after `MARKER_RETRY_BACKOFF_MS` against
//! the leader the metadata names then. When every partition has its marker,
//! CompleteCommit/CompleteAbort is written.
//!
//! Answers, as Kafka's `TransactionMarkerRequestCompletionHandler` treats them:
//! - NONE: done. A partition of a deleted topic is dropped as done (nothing left to mark).
//! - NOT_LEADER_OR_FOLLOWER, UNKNOWN_TOPIC_OR_PARTITION, NOT_ENOUGH_REPLICAS(_AFTER_APPEND),
//!   REQUEST_TIMED_OUT, KAFKA_STORAGE_ERROR, a lost connection: retried.
//! - TRANSACTION_COORDINATOR_FENCED, INVALID_PRODUCER_EPOCH: this coordinator is stale (a newer
//!   one took over, or the producer moved on): stop; whoever coordinates now finishes it.
//! - CLUSTER_AUTHORIZATION_FAILED: the leader's authorizer refuses this broker's inter-broker
//!   principal. Kafka throws an IllegalStateException in its completion handler, which drops
//!   the markers silently until the coordinator moves. Here an operator is told instead: one
//!   error line naming the missing ACL, at most every `MARKER_REFUSED_LOG_INTERVAL_MS` per
//!   shard; the transaction stays in PrepareCommit/PrepareAbort (what `sluice txn describe`
//!   and DescribeTransactions show), and the markers are retried with a backoff growing to
//!   `MARKER_REFUSED_BACKOFF_MS_MAX`, so they are written once the ACL exists.
//! - Anything else is logged and retried.
//!
//! The task also stops when this broker no longer coordinates the partition at the epoch the
//! markers carry: the next coordinator resumes every transaction it loads in a Prepare state.

use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;
use std::time::Duration;

use kafka_protocol::messages::write_txn_markers_request::{
    WritableTxnMarker, WritableTxnMarkerTopic,
};
use kafka_protocol::messages::{
    ApiKey, ProducerId, TopicName, WriteTxnMarkersRequest, WriteTxnMarkersResponse,
};
use kafka_protocol::protocol::StrBytes;
use sluice_txn::{MarkerJob, TopicPartition};

use crate::error_code::{ResponseError, NONE};
use crate::partition::messages::TxnMarkerWrite;

use super::config::{
    COMPLETE_WRITE_ATTEMPTS_MAX, MARKER_REFUSED_BACKOFF_MS_MAX, MARKER_REFUSED_LOG_INTERVAL_MS,
    MARKER_REQUEST_TIMEOUT_MS, MARKER_RETRY_BACKOFF_MS,
};
use super::service::TxnService;

/// WriteTxnMarkers version sent (v1 is flexible; every broker of ours serves it).
const WRITE_TXN_MARKERS_VERSION: i16 = 1;

/// What one partition's marker came to, in increasing precedence for a round's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum MarkerResult {
    Written,
    Retry,
    /// CLUSTER_AUTHORIZATION_FAILED from the leader: retried, with a longer backoff.
    Refused,
    Stale,
}

/// Waits between checks for an earlier marker task of the same id to finish.
const CLAIM_WAIT_MS: u64 = 20;
/// Checks before giving a job up to the next load (an earlier task stuck on an unreachable
/// leader holds the id that long).
const CLAIM_ATTEMPTS_MAX: u32 = 3_000;

/// Starts writing `job`'s markers in the background (the client was answered already). One
/// task per transactional id at a time: a job waits for the previous task of its id.
pub fn spawn(service: &Rc<TxnService>, job: MarkerJob) {
    let service = service.clone();
    glommio::spawn_local(async move {
        let rt = service.runtime();
        let id = job.transactional_id.clone();
        let mut attempts = 0u32;
        while !rt.claim_markers(&id) {
            attempts += 1;
            if attempts > CLAIM_ATTEMPTS_MAX || service.ctx().is_stopping() {
                tracing::warn!(transactional_id = %id, "markers left to the next coordinator load: an earlier task still holds them");
                return;
            }
            glommio::timer::sleep(Duration::from_millis(CLAIM_WAIT_MS)).await;
        }
        run(&service, job).await;
        rt.release_markers(&id);
    })
    .detach();
}

async fn run(service: &Rc<TxnService>, job: MarkerJob) {
    let rt = service.runtime();
    let Ok((partition, led)) = rt.ready(&job.transactional_id) else {
        return;
    };
    let epoch = led.coordinator_epoch;
    let current = |rt: &super::runtime::TxnRuntime| rt.with(|c| c.is_marker_job_current(&job));
    let mut remaining: BTreeSet<TopicPartition> = job.partitions.iter().cloned().collect();
    tracing::debug!(transactional_id = %job.transactional_id, commit = job.commit, partitions = remaining.len(), "writing transaction markers");
    let mut refused_backoff_ms = MARKER_RETRY_BACKOFF_MS;
    while !remaining.is_empty() {
        if service.ctx().is_stopping() || !rt.still_leads(partition, epoch) || !current(rt) {
            return;
        }
        match round(service, &job, epoch, &mut remaining).await {
            MarkerResult::Stale => {
                tracing::info!(transactional_id = %job.transactional_id, "markers fenced: a newer coordinator or producer epoch exists");
                return;
            }
            MarkerResult::Written => {}
            MarkerResult::Retry => {
                refused_backoff_ms = MARKER_RETRY_BACKOFF_MS;
                glommio::timer::sleep(Duration::from_millis(MARKER_RETRY_BACKOFF_MS)).await;
            }
            MarkerResult::Refused => {
                glommio::timer::sleep(Duration::from_millis(refused_backoff_ms)).await;
                refused_backoff_ms = (refused_backoff_ms * 2).min(MARKER_REFUSED_BACKOFF_MS_MAX);
            }
        }
    }
    if current(rt) {
        complete(service, &job, partition, epoch).await;
    }
}

/// Writes the Complete* record once every marker is durable.
async fn complete(service: &Rc<TxnService>, job: &MarkerJob, partition: i32, epoch: i32) {
    let rt = service.runtime();
    for attempt in 1..=COMPLETE_WRITE_ATTEMPTS_MAX {
        if !rt.still_leads(partition, epoch) {
            return;
        }
        let now_ms = crate::util::now_ms();
        let transition = rt.with(|c| {
            c.markers_written(
                &job.transactional_id,
                job.producer_id,
                job.producer_epoch,
                now_ms,
            )
        });
        let Some(transition) = transition else {
            return;
        };
        match super::persist::write(service, transition).await {
            Ok(()) => return,
            Err(error) => {
                tracing::warn!(transactional_id = %job.transactional_id, attempt, "cannot write the transaction's completion: {error:?}");
                glommio::timer::sleep(Duration::from_millis(MARKER_RETRY_BACKOFF_MS)).await;
            }
        }
    }
}

/// One request per leader for the partitions still without their marker.
async fn round(
    service: &Rc<TxnService>,
    job: &MarkerJob,
    epoch: i32,
    remaining: &mut BTreeSet<TopicPartition>,
) -> MarkerResult {
    let meta = service.meta().get();
    let mut by_leader: BTreeMap<i32, Vec<TopicPartition>> = BTreeMap::new();
    let mut leaderless = false;
    for tp in remaining.clone() {
        let Some(topic) = meta.topic(&tp.topic) else {
            // Deleted topic: nothing left to mark.
            remaining.remove(&tp);
            continue;
        };
        if tp.partition >= topic.partitions {
            remaining.remove(&tp);
            continue;
        }
        match meta.leader(&tp.topic, tp.partition) {
            Some(leader) => by_leader.entry(leader).or_default().push(tp),
            None => leaderless = true,
        }
    }
    let sends = by_leader
        .into_iter()
        .map(|(leader, partitions)| send(service, job, epoch, leader, partitions));
    let results = crate::util::join_all(sends.collect()).await;
    let mut outcome = if leaderless {
        MarkerResult::Retry
    } else {
        MarkerResult::Written
    };
    for (tp, result) in results.into_iter().flatten() {
        if result == MarkerResult::Written {
            remaining.remove(&tp);
        }
        outcome = outcome.max(result);
    }
    outcome
}

async fn send(
    service: &Rc<TxnService>,
    job: &MarkerJob,
    epoch: i32,
    leader: i32,
    partitions: Vec<TopicPartition>,
) -> Vec<(TopicPartition, MarkerResult)> {
    if leader == service.settings().node_id {
        return write_local(service, job, epoch, partitions).await;
    }
    let request = request(job, epoch, &partitions);
    let timeout = Duration::from_millis(MARKER_REQUEST_TIMEOUT_MS);
    let answer: Result<WriteTxnMarkersResponse, _> = service
        .peers()
        .call(
            service.meta(),
            leader,
            ApiKey::WriteTxnMarkers,
            &request,
            WRITE_TXN_MARKERS_VERSION,
            timeout,
        )
        .await;
    let response = match answer {
        Ok(response) => response,
        Err(err) => {
            tracing::debug!(leader, "WriteTxnMarkers failed: {err}");
            return partitions
                .into_iter()
                .map(|tp| (tp, MarkerResult::Retry))
                .collect();
        }
    };
    let mut codes: BTreeMap<TopicPartition, i16> = BTreeMap::new();
    for marker in &response.markers {
        if marker.producer_id.0 != job.producer_id {
            continue;
        }
        for topic in &marker.topics {
            for p in &topic.partitions {
                let tp = TopicPartition {
                    topic: topic.name.0.to_string(),
                    partition: p.partition_index,
                };
                codes.insert(tp, p.error_code);
            }
        }
    }
    let results: Vec<_> = partitions
        .into_iter()
        .map(|tp| {
            let code = codes.get(&tp).copied();
            let result = classify(&tp, code);
            (tp, result)
        })
        .collect();
    if results.iter().any(|(_, r)| *r == MarkerResult::Refused) {
        report_refusal(service, job, leader);
    }
    results
}

/// The markers of the partitions this broker leads, written in process on their owner shards
/// (acks=all), as the WriteTxnMarkers handler would write them for a remote coordinator.
async fn write_local(
    service: &Rc<TxnService>,
    job: &MarkerJob,
    epoch: i32,
    partitions: Vec<TopicPartition>,
) -> Vec<(TopicPartition, MarkerResult)> {
    let meta = service.meta().get();
    let node = service.settings().node_id;
    let mut results = Vec::with_capacity(partitions.len());
    let mut writes = Vec::new();
    let mut written = Vec::new();
    for tp in partitions {
        // The metadata may have moved the leader since the round grouped the partitions.
        if let Err(code) = meta.check_leader(node, &tp.topic, tp.partition) {
            let result = classify(&tp, Some(code));
            results.push((tp, result));
            continue;
        }
        writes.push(TxnMarkerWrite {
            topic: tp.topic.clone(),
            partition: tp.partition,
            producer_id: job.producer_id,
            producer_epoch: job.producer_epoch,
            coordinator_epoch: epoch,
            commit: job.commit,
        });
        written.push(tp);
    }
    let codes =
        super::marker_write::write_markers(service.partition_service(), service.groups(), writes)
            .await;
    assert_eq!(codes.len(), written.len());
    for (tp, code) in written.into_iter().zip(codes) {
        let result = classify(&tp, Some(code));
        results.push((tp, result));
    }
    results
}

/// One error line, at most every `MARKER_REFUSED_LOG_INTERVAL_MS` on this shard, telling the
/// operator which ACL is missing.
fn report_refusal(service: &TxnService, job: &MarkerJob, leader: i32) {
    let now_ms = crate::util::now_ms();
    if !service.marker_refusal_log_due(now_ms, MARKER_REFUSED_LOG_INTERVAL_MS as i64) {
        return;
    }
    tracing::error!(
        transactional_id = %job.transactional_id,
        leader,
        "broker {leader} refused this broker's transaction markers (CLUSTER_AUTHORIZATION_FAILED): \
         the inter-broker principal (User:ANONYMOUS on a PLAINTEXT inter-broker listener) needs \
         CLUSTER_ACTION on the cluster, allowed and not denied (`sluice acl add --allow \
         --principal User:ANONYMOUS --operation CLUSTER_ACTION --cluster`), or a place in \
         super.users; transactions stay in \
         PrepareCommit/PrepareAbort until then, retrying"
    );
}

fn classify(tp: &TopicPartition, code: Option<i16>) -> MarkerResult {
    let Some(code) = code else {
        tracing::warn!(topic = %tp.topic, partition = tp.partition, "WriteTxnMarkers answered without this partition");
        return MarkerResult::Retry;
    };
    if code == NONE {
        return MarkerResult::Written;
    }
    if code == ResponseError::ClusterAuthorizationFailed.code() {
        return MarkerResult::Refused;
    }
    let stale = [
        ResponseError::TransactionCoordinatorFenced.code(),
        ResponseError::InvalidProducerEpoch.code(),
    ];
    if stale.contains(&code) {
        return MarkerResult::Stale;
    }
    let retriable = [
        ResponseError::NotLeaderOrFollower.code(),
        ResponseError::UnknownTopicOrPartition.code(),
        ResponseError::NotEnoughReplicas.code(),
        ResponseError::NotEnoughReplicasAfterAppend.code(),
        ResponseError::RequestTimedOut.code(),
        ResponseError::KafkaStorageError.code(),
    ];
    if !retriable.contains(&code) {
        tracing::warn!(topic = %tp.topic, partition = tp.partition, code, "unexpected WriteTxnMarkers error, retrying");
    }
    MarkerResult::Retry
}

fn request(job: &MarkerJob, epoch: i32, partitions: &[TopicPartition]) -> WriteTxnMarkersRequest {
    let mut topics: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
    for tp in partitions {
        topics
            .entry(tp.topic.as_str())
            .or_default()
            .push(tp.partition);
    }
    let topics = topics
        .into_iter()
        .map(|(name, partition_indexes)| {
            let mut topic = WritableTxnMarkerTopic::default();
            topic.name = TopicName(StrBytes::from_string(name.to_string()));
            topic.partition_indexes = partition_indexes;
            topic
        })
        .collect();
    let mut marker = WritableTxnMarker::default();
    marker.producer_id = ProducerId(job.producer_id);
    marker.producer_epoch = job.producer_epoch;
    marker.transaction_result = job.commit;
    marker.topics = topics;
    marker.coordinator_epoch = epoch;
    let mut request = WriteTxnMarkersRequest::default();
    request.markers = vec![marker];
    request
}

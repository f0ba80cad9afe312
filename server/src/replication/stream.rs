//! One replication stream: a follower shard fetching every partition it follows from one
//! leader broker over one connection (Kafka Fetch v12, ReplicaId = this broker).
//!
//! Each round: every partition's fetch offset is its durable log end (a partition with
//! unsynced batches is flushed first), the leader answers with batches up to its log end, or
//! with DivergingEpoch (truncate, then fetch again), or an error; the batches are appended as
//! the leader wrote them, the touched partitions are fdatasynced together, and only then does
//! the next round ask from the new ends, which acknowledges them to the leader.
//!
//! Errors: a broken or slow connection is dropped and re-made after `replica.fetch.backoff.ms`;
//! a partition the leader refuses for its epoch or leadership is parked (`parking.rs`) until
//! this broker's metadata changes or a short retry passes (the leader may just not have
//! applied the same change yet: a follower can be faster than its new leader, and a new
//! partition's first acks=all write waits for its followers' first fetch).
//!
//! A partition this shard starts following from the leader while a long poll is out (a new
//! topic, a leader change) does not wait for that poll to end: once the fetch has been out for
//! `REPLICA_JOIN_GRACE_MS` the connection is dropped, and the next round, which names the
//! partition, goes out at once. Kafka's fetcher threads wait out the poll
//! (`replica.fetch.wait.max.ms`), so there the first acks=all write to a new topic takes about
//! that long.

use std::collections::{BTreeMap, HashSet};
use std::net::{SocketAddr, ToSocketAddrs};
use std::rc::Rc;
use std::time::{Duration, Instant};

use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::fetch_response::PartitionData;
use kafka_protocol::messages::{ApiKey, BrokerId, FetchRequest, FetchResponse, TopicName};
use kafka_protocol::protocol::StrBytes;
use sluice_replica::EpochEnd;

use super::connection::{Connection, SteerTo};
use super::fetcher::ReplicaFetcher;
use super::parking::{Key, Parking};
use super::session::FollowerSession;
use crate::error_code::{ResponseError, NONE};
use crate::limits::{
    REPLICA_CONNECT_TIMEOUT_MS, REPLICA_FETCH_TIMEOUT_MARGIN_MS, REPLICA_JOIN_GRACE_MS,
};
use crate::partition::follower::FetchPosition;
use crate::partition::Partition;

/// Fetch v12: topic names, ReplicaId in the body, LastFetchedEpoch and DivergingEpoch.
const FETCH_VERSION: i16 = 12;

pub async fn run(fetcher: &Rc<ReplicaFetcher>, leader: i32) {
    let mut connection: Option<Connection> = None;
    // The incremental fetch session with this leader (KIP-227), while the connection lasts.
    let mut session = FollowerSession::default();
    let mut parking = Parking::new(fetcher.config.replica_fetch_backoff_ms);
    // A refused login or certificate is said once (at warn) until a connection succeeds:
    // the retries every backoff would otherwise repeat it.
    let mut refusal_logged = false;
    tracing::info!(
        shard = fetcher.ctx.id(),
        leader,
        "replication stream started"
    );
    while !fetcher.ctx.is_stopping() {
        // Before `following`: a role change after this is seen by `joined_while_waiting`.
        let roles_generation = fetcher.partitions.roles_notify().generation();
        let following = fetcher.following(leader);
        if following.is_empty() {
            break;
        }
        let version = fetcher.meta.get().version;
        let now = Instant::now();
        parking.sweep(version, now);
        let round = positions(&following, &parking).await;
        if round.is_empty() {
            // A new stream's partitions are often all parked (it can start before its leader
            // leads them): the earliest park ends long before a backoff would.
            match parking.ends_ms(now) {
                Some(wait_ms) => pause(fetcher, wait_ms).await,
                None => backoff(fetcher).await,
            }
            continue;
        }
        let Some((host, address)) = leader_address(fetcher, leader) else {
            backoff(fetcher).await;
            continue;
        };
        if connection.as_ref().is_none_or(|c| c.address() != address) {
            let client_id = format!(
                "sluice-replica-{}-{}",
                fetcher.config.node_id,
                fetcher.ctx.id()
            );
            let timeout = Duration::from_millis(REPLICA_CONNECT_TIMEOUT_MS);
            session = FollowerSession::default();
            let steer_to = SteerTo {
                shard: fetcher.ctx.id(),
                shards: fetcher.ctx.shards(),
            };
            match Connection::connect(address, &host, client_id, timeout, Some(steer_to)).await {
                Ok(made) => {
                    refusal_logged = false;
                    connection = Some(made);
                }
                Err(err) if err.is_refusal() => {
                    if !refusal_logged {
                        tracing::warn!(leader, "replication connection refused: {err}");
                        refusal_logged = true;
                    }
                    backoff(fetcher).await;
                    continue;
                }
                Err(err) => {
                    tracing::debug!(leader, "replication connection: {err}");
                    backoff(fetcher).await;
                    continue;
                }
            }
        }
        let Some(open) = connection.as_mut() else {
            continue;
        };
        let wait_ms = parking.long_poll_ms(fetcher.config.replica_fetch_wait_max_ms, now);
        let request = session.request(fetch_request(fetcher, &round, wait_ms), &round);
        let timeout = Duration::from_millis(wait_ms + REPLICA_FETCH_TIMEOUT_MARGIN_MS);
        let call = async {
            Some(
                open.call::<_, FetchResponse>(ApiKey::Fetch, &request, FETCH_VERSION, timeout)
                    .await,
            )
        };
        let sent = Instant::now();
        let joined = async {
            joined_while_waiting(fetcher, leader, &following, roles_generation, sent).await;
            None
        };
        let response: FetchResponse = match futures_lite::future::or(call, joined).await {
            None => {
                // The answer cannot be taken back from the connection, so it goes with it.
                tracing::debug!(
                    leader,
                    "this shard follows a new partition from the leader: dropping the long poll"
                );
                crate::metrics::hooks::replica_fetch_abandoned();
                connection = None;
                session = FollowerSession::default();
                continue;
            }
            Some(Ok(response)) => {
                crate::metrics::hooks::replica_fetch_answered();
                response
            }
            Some(Err(err)) => {
                tracing::warn!(leader, "replication fetch failed: {err}");
                connection = None;
                session = FollowerSession::default();
                backoff(fetcher).await;
                continue;
            }
        };
        if response.error_code != NONE {
            tracing::warn!(
                leader,
                code = response.error_code,
                "replication fetch refused"
            );
            // A refused session (unknown id, wrong epoch) starts afresh with a full fetch,
            // which no session refuses: no need to wait.
            session = FollowerSession::default();
            if !refused_for_session(response.error_code) {
                backoff(fetcher).await;
            }
            continue;
        }
        // Commits what this request told the leader's session, so the next names only the
        // partitions whose position moved.
        session.answered(response.session_id);
        let by_key: BTreeMap<Key, (Rc<Partition>, FetchPosition)> = round
            .into_iter()
            .map(|(p, pos)| ((p.topic().to_string(), p.index()), (p, pos)))
            .collect();
        apply_response(leader, version, response, &by_key, &mut parking).await;
    }
    tracing::info!(
        shard = fetcher.ctx.id(),
        leader,
        "replication stream stopped"
    );
}

/// The partitions to fetch this round, each at its durable end; a partition owing a flush is
/// flushed first (a failed flush keeps it out of this round).
async fn positions(
    following: &[Rc<Partition>],
    parking: &Parking,
) -> Vec<(Rc<Partition>, FetchPosition)> {
    let candidates: Vec<&Rc<Partition>> = following
        .iter()
        .filter(|p| !parking.is_parked(&(p.topic().to_string(), p.index())))
        .collect();
    // A partition owing a flush (a failed one earlier) is synced first, all at once.
    let owing: Vec<&Rc<Partition>> = candidates
        .iter()
        .copied()
        .filter(|p| p.log().needs_flush())
        .collect();
    let flushed = crate::util::join_all(owing.iter().map(|p| p.flush()).collect()).await;
    for (partition, flushed) in owing.iter().zip(flushed) {
        if let Err(err) = flushed {
            tracing::error!(topic = %partition.topic(), partition = partition.index(), "follower flush failed: {err}");
        }
    }
    candidates
        .into_iter()
        .filter_map(|p| p.fetch_position().map(|position| (p.clone(), position)))
        .collect()
}

/// Resolves once this shard follows, from `leader`, a partition that `following` (what the
/// round in flight was made of, under roles `generation`) lacks, but not before
/// `REPLICA_JOIN_GRACE_MS` after `sent`: a fetch out for longer is most likely a long poll of
/// an idle stream, a younger one is probably about to bring a busy stream's data. Looks only
/// when the roles change, so a steady stream pays nothing for it.
async fn joined_while_waiting(
    fetcher: &ReplicaFetcher,
    leader: i32,
    following: &[Rc<Partition>],
    mut generation: u64,
    sent: Instant,
) {
    let roles = fetcher.partitions.roles_notify();
    let known: HashSet<*const Partition> = following.iter().map(Rc::as_ptr).collect();
    loop {
        roles.changed_since(generation).await;
        generation = roles.generation();
        let now_following = fetcher.following(leader);
        if now_following
            .iter()
            .any(|p| !known.contains(&Rc::as_ptr(p)))
        {
            break;
        }
    }
    let grace_ends = sent + Duration::from_millis(REPLICA_JOIN_GRACE_MS);
    let grace_left = grace_ends.saturating_duration_since(Instant::now());
    if !grace_left.is_zero() {
        glommio::timer::sleep(grace_left).await;
    }
}

/// The leader's advertised host (what its TLS certificate names) and its address.
fn leader_address(fetcher: &ReplicaFetcher, leader: i32) -> Option<(String, SocketAddr)> {
    let (host, port) = fetcher.meta.get().endpoint(leader)?;
    // Advertised hosts are addresses or names; a name resolves through the system resolver.
    let address = (host.as_str(), port).to_socket_addrs().ok()?.next()?;
    Some((host, address))
}

fn fetch_request(
    fetcher: &ReplicaFetcher,
    round: &[(Rc<Partition>, FetchPosition)],
    wait_ms: u64,
) -> FetchRequest {
    let config = &fetcher.config;
    let mut topics: BTreeMap<&str, Vec<FetchPartition>> = BTreeMap::new();
    for (partition, position) in round {
        topics.entry(partition.topic()).or_default().push(
            FetchPartition::default()
                .with_partition(partition.index())
                .with_current_leader_epoch(position.leader_epoch)
                .with_fetch_offset(position.fetch_offset)
                .with_last_fetched_epoch(position.last_fetched_epoch)
                .with_log_start_offset(position.log_start_offset)
                .with_partition_max_bytes(config.replica_fetch_max_bytes as i32),
        );
    }
    let topics = topics
        .into_iter()
        .map(|(name, partitions)| {
            FetchTopic::default()
                .with_topic(TopicName(StrBytes::from_string(name.to_string())))
                .with_partitions(partitions)
        })
        .collect();
    FetchRequest::default()
        .with_replica_id(BrokerId(config.node_id))
        .with_max_wait_ms(wait_ms as i32)
        .with_min_bytes(1)
        .with_max_bytes(config.replica_fetch_response_max_bytes as i32)
        .with_isolation_level(0)
        .with_session_id(0)
        .with_session_epoch(-1)
        .with_topics(topics)
}

async fn apply_response(
    leader: i32,
    version: u64,
    response: FetchResponse,
    round: &BTreeMap<Key, (Rc<Partition>, FetchPosition)>,
    parking: &mut Parking,
) {
    let mut refused_now: HashSet<Key> = HashSet::new();
    let mut touched: Vec<(Rc<Partition>, i64, i64)> = Vec::new();
    for topic in response.responses {
        let name = topic.topic.0.to_string();
        for data in topic.partitions {
            let key = (name.clone(), data.partition_index);
            let Some((partition, position)) = round.get(&key) else {
                tracing::warn!(leader, topic = %name, partition = data.partition_index, "leader answered a partition we did not ask for");
                continue;
            };
            if apply_partition(leader, partition, position, &data).await {
                touched.push((
                    partition.clone(),
                    data.high_watermark,
                    data.log_start_offset,
                ));
            } else if refused_for_metadata(data.error_code) {
                parking.refuse(key.clone(), version, Instant::now());
                refused_now.insert(key);
            }
        }
    }
    parking.answered(|key| round.contains_key(key), &refused_now);
    // Durable before the next fetch acknowledges it to the leader: every touched partition's
    // fdatasync in flight at once (one group commit), not one after another.
    let flushes = touched
        .iter()
        .map(|(partition, _, _)| partition.flush())
        .collect();
    let flushed = crate::util::join_all(flushes).await;
    for ((partition, high_watermark, log_start), flushed) in touched.into_iter().zip(flushed) {
        if let Err(err) = flushed {
            tracing::error!(topic = %partition.topic(), partition = partition.index(), "follower flush failed: {err}");
            continue;
        }
        partition
            .follow_leader_marks(high_watermark, log_start)
            .await;
    }
}

/// Applies one partition's answer; true when the follower should now sync and take the
/// leader's marks.
async fn apply_partition(
    leader: i32,
    partition: &Partition,
    position: &FetchPosition,
    data: &PartitionData,
) -> bool {
    let topic = partition.topic();
    let index = partition.index();
    if data.error_code == ResponseError::OffsetOutOfRange.code() {
        out_of_range(partition, position, data).await;
        return false;
    }
    if data.error_code != NONE {
        if !refused_for_metadata(data.error_code) {
            tracing::warn!(leader, %topic, partition = index, code = data.error_code, "leader refused a replica fetch");
        }
        return false;
    }
    if data.diverging_epoch.end_offset >= 0 || data.diverging_epoch.epoch >= 0 {
        let diverging = EpochEnd {
            epoch: data.diverging_epoch.epoch,
            end_offset: data.diverging_epoch.end_offset,
        };
        if let Err(err) = partition.truncate_diverged(diverging).await {
            tracing::error!(leader, %topic, partition = index, "truncation failed: {err}");
        }
        return false;
    }
    let Some(records) = data.records.as_ref().filter(|r| !r.is_empty()) else {
        return true;
    };
    let batches = match sluice_engine::batch::split_batches(records) {
        Ok(batches) => batches,
        Err(err) => {
            tracing::error!(leader, %topic, partition = index, "leader sent unreadable batches: {err}");
            return false;
        }
    };
    crate::metrics::hooks::replica_batches_fetched(records.len(), batches.len());
    match partition.append_from_leader(&batches).await {
        Ok(_) => true,
        Err(err) => {
            tracing::error!(leader, %topic, partition = index, "cannot append the leader's batches: {err}");
            false
        }
    }
}

/// OFFSET_OUT_OF_RANGE: behind the leader's log start (it deleted what we lack) we start over
/// at its start; ahead of its log (it cannot be, with epochs) we fall back to our high
/// watermark, as Kafka does.
async fn out_of_range(partition: &Partition, position: &FetchPosition, data: &PartitionData) {
    let result = if data.log_start_offset > position.fetch_offset {
        partition
            .restart_at(data.log_start_offset)
            .await
            .map(|_| ())
    } else {
        partition
            .truncate_diverged(EpochEnd::UNDEFINED)
            .await
            .map(|_| ())
    };
    if let Err(err) = result {
        tracing::error!(topic = %partition.topic(), partition = partition.index(), "recovering from out of range: {err}");
    }
}

/// Refusals that last until the metadata moves on (a new leader or epoch).
fn refused_for_metadata(code: i16) -> bool {
    [
        ResponseError::NotLeaderOrFollower.code(),
        ResponseError::FencedLeaderEpoch.code(),
        ResponseError::UnknownLeaderEpoch.code(),
        ResponseError::UnknownTopicOrPartition.code(),
        ResponseError::ReplicaNotAvailable.code(),
    ]
    .contains(&code)
}

/// Refusals of the fetch session itself: a full fetch, which opens a new one, is not refused.
fn refused_for_session(code: i16) -> bool {
    [
        ResponseError::FetchSessionIdNotFound.code(),
        ResponseError::InvalidFetchSessionEpoch.code(),
    ]
    .contains(&code)
}

async fn backoff(fetcher: &ReplicaFetcher) {
    pause(fetcher, fetcher.config.replica_fetch_backoff_ms).await;
}

async fn pause(fetcher: &ReplicaFetcher, wait_ms: u64) {
    let wait = Duration::from_millis(wait_ms);
    futures_lite::future::or(fetcher.ctx.stopping(), glommio::timer::sleep(wait)).await;
}

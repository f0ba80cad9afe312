//! FindCoordinator (key 10): a group's coordinator is the broker leading the group's
//! `__consumer_offsets` partition, a transactional id's the broker leading the id's
//! `__transaction_state` partition (Kafka's rules). The first request of each kind creates its
//! topic, as Kafka does.
//!
//! Authorization, per key and before anything else (Kafka's `getCoordinator`): DESCRIBE on the
//! group (GROUP_AUTHORIZATION_FAILED) or on the transactional id
//! (TRANSACTIONAL_ID_AUTHORIZATION_FAILED). No internal topic is created for refused keys only.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use kafka_protocol::ResponseError;

use crate::group::placement::offsets_partition;
use crate::group::wire::str_bytes;
use sluice_security::acl::AclOperation;

use crate::kafka::authz::Authz;
use crate::kafka::cluster_view::endpoint;
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};
use crate::metadata::MetadataService;
use crate::topics::{OFFSETS_TOPIC, TXN_TOPIC};
use std::rc::Rc;

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

/// v4 batches keys in `coordinator_keys`.
const BATCHED_KEYS_VERSION_MIN: i16 = 4;
const KEY_TYPE_GROUP: i8 = 0;
const KEY_TYPE_TRANSACTION: i8 = 1;

pub async fn handle(
    conn: &Conn,
    metadata: &Rc<MetadataService>,
    authz: &Authz,
    request: Request,
) -> Result<Outcome, RequestError> {
    let body: FindCoordinatorRequest = request.decode()?;
    let keys: Vec<&StrBytes> = if request.version >= BATCHED_KEYS_VERSION_MIN {
        body.coordinator_keys.iter().collect()
    } else {
        vec![&body.key]
    };
    // Kafka asks before anything else, per key: DESCRIBE on the group or transactional id.
    let refusals: Vec<Option<ResponseError>> = keys
        .iter()
        .map(|key| refusal(authz, body.key_type, key.as_str()))
        .collect();
    let (topic, partitions) = match body.key_type {
        KEY_TYPE_GROUP => (OFFSETS_TOPIC, conn.config.offsets_topic_num_partitions),
        KEY_TYPE_TRANSACTION => (TXN_TOPIC, conn.config.transaction_state_log_num_partitions),
        _ => ("", 0),
    };
    let any_allowed = refusals.iter().any(Option::is_none);
    let created = match body.key_type {
        KEY_TYPE_GROUP if any_allowed => metadata.ensure_offsets_topic().await,
        KEY_TYPE_TRANSACTION if any_allowed => metadata.ensure_transaction_topic().await,
        _ => Ok(()),
    };
    if let Err((code, message)) = created {
        tracing::warn!(code, "cannot create {topic}: {message}");
    }
    let meta = metadata.meta();
    let answer = |key: &StrBytes, refused: Option<ResponseError>| {
        let mut c = Coordinator::default();
        c.key = key.clone();
        c.node_id = BrokerId(-1);
        c.port = -1;
        if let Some(error) = refused {
            c.error_code = error.code();
            return c;
        }
        if topic.is_empty() {
            c.error_code = ResponseError::InvalidRequest.code();
            c.error_message = Some(str_bytes(format!("unknown key type {}", body.key_type)));
            return c;
        }
        if key.is_empty() {
            c.error_code = ResponseError::InvalidRequest.code();
            return c;
        }
        // Both internal topics place a key by Kafka's abs(String.hashCode) % partitions.
        let partition = offsets_partition(key.as_str(), partitions);
        let leader = meta.leader(topic, partition);
        match leader.and_then(|id| endpoint(conn, &meta, id).map(|e| (id, e))) {
            Some((id, (host, port))) => {
                c.node_id = BrokerId(id);
                c.host = str_bytes(host);
                c.port = port;
            }
            None => {
                c.error_code = ResponseError::CoordinatorNotAvailable.code();
                c.error_message = Some(str_bytes(format!("{topic}-{partition} has no leader")));
            }
        }
        c
    };
    let mut answers = keys
        .into_iter()
        .zip(refusals)
        .map(|(key, refused)| answer(key, refused));
    let mut response = FindCoordinatorResponse::default();
    if request.version >= BATCHED_KEYS_VERSION_MIN {
        response.coordinators = answers.collect();
    } else {
        let c = answers.next().expect("one key before v4");
        response.error_code = c.error_code;
        if request.version >= 1 {
            response.error_message = c.error_message;
        }
        response.node_id = c.node_id;
        response.host = c.host;
        response.port = c.port;
    }
    Ok(request.respond(&response)?.into())
}

/// Kafka's check of one key: DESCRIBE on the group (GROUP_AUTHORIZATION_FAILED) or on the
/// transactional id (TRANSACTIONAL_ID_AUTHORIZATION_FAILED).
fn refusal(authz: &Authz, key_type: i8, key: &str) -> Option<ResponseError> {
    match key_type {
        KEY_TYPE_GROUP if !authz.group(AclOperation::Describe, key) => {
            Some(ResponseError::GroupAuthorizationFailed)
        }
        KEY_TYPE_TRANSACTION if !authz.transactional_id(AclOperation::Describe, key) => {
            Some(ResponseError::TransactionalIdAuthorizationFailed)
        }
        _ => None,
    }
}

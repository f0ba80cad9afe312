//! FindCoordinator (key 10): every group's coordinator is this broker (the shard owning the
//! group's `__consumer_offsets` partition is reached internally). Transaction coordinators
//! don't exist yet.

use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::{BrokerId, FindCoordinatorRequest, FindCoordinatorResponse};
use kafka_protocol::protocol::{StrBytes, VersionRange};
use kafka_protocol::ResponseError;

use crate::group::wire::str_bytes;
use crate::kafka::dispatch::{Conn, Outcome, Request, RequestError};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 4 };

/// v4 batches keys in `coordinator_keys`.
const BATCHED_KEYS_VERSION_MIN: i16 = 4;
const KEY_TYPE_GROUP: i8 = 0;

pub fn handle(conn: &Conn, request: Request) -> Result<Outcome, RequestError> {
    let body: FindCoordinatorRequest = request.decode()?;
    let (host, port) = conn.advertised();
    let node_id = conn.config.node_id;
    let answer = |key: &StrBytes| {
        let mut c = Coordinator::default();
        c.key = key.clone();
        if body.key_type != KEY_TYPE_GROUP {
            c.error_code = ResponseError::CoordinatorNotAvailable.code();
            c.error_message = Some(str_bytes("only group coordinators exist"));
            c.node_id = BrokerId(-1);
            c.port = -1;
        } else if key.is_empty() {
            c.error_code = ResponseError::InvalidRequest.code();
            c.node_id = BrokerId(-1);
            c.port = -1;
        } else {
            c.node_id = BrokerId(node_id);
            c.host = str_bytes(host.clone());
            c.port = port;
        }
        c
    };
    let mut response = FindCoordinatorResponse::default();
    if request.version >= BATCHED_KEYS_VERSION_MIN {
        response.coordinators = body.coordinator_keys.iter().map(answer).collect();
    } else {
        let c = answer(&body.key);
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

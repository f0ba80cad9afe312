//! ApiVersions (key 18). A version newer than ours gets a v0-encoded UNSUPPORTED_VERSION answer
//! carrying our ranges, so the client retries with one we know. No tagged fields are emitted
//! (Debian's librdkafka 2.0.2 mis-skips them; server/README.md, "Protocol and runtime facts").

use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::ApiVersionsResponse;
use kafka_protocol::protocol::VersionRange;

use super::APIS;
use crate::error_code::{ResponseError, NONE};
use crate::kafka::dispatch::{Outcome, Request, RequestError};
use crate::kafka::response::{self, Response};

pub const VERSIONS: VersionRange = VersionRange { min: 0, max: 3 };

fn body(error_code: i16) -> ApiVersionsResponse {
    let mut body = ApiVersionsResponse::default();
    body.error_code = error_code;
    body.api_keys = APIS
        .iter()
        .map(|(key, range)| {
            let mut api = ApiVersion::default();
            api.api_key = *key as i16;
            api.min_version = range.min;
            api.max_version = range.max;
            api
        })
        .collect();
    body
}

pub fn handle(request: Request) -> Result<Outcome, RequestError> {
    Ok(request.respond(&body(NONE))?.into())
}

/// The answer to a version we don't know: always v0 body, response header v0.
pub fn unsupported_version(correlation_id: i32) -> Result<Response, RequestError> {
    Ok(response::encode(
        correlation_id,
        0,
        &body(ResponseError::UnsupportedVersion.code()),
        0,
    )?)
}

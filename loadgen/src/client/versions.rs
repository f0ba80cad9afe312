//! ApiVersions negotiation: the highest version both sides speak, per API.
//!
//! The caps keep every request on topic *names* (newer Produce/Fetch versions switch to
//! topic ids), which every Kafka-compatible broker supports.

use std::collections::HashMap;

use bytes::Buf;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, StrBytes};

use super::conn::Connection;
use super::errors;
use crate::error::{Error, ProtocolContext, Result};

/// (api, our lowest, our highest).
const SUPPORTED: [(ApiKey, i16, i16); 6] = [
    (ApiKey::Produce, 3, 11),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::ListOffsets, 1, 9),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 5),
];
const API_VERSIONS_VERSION: i16 = 3;

#[derive(Debug, Clone, Default)]
pub struct Versions {
    chosen: HashMap<i16, i16>,
}

impl Versions {
    /// The negotiated version of `api`, or an error naming the gap.
    pub fn of(&self, api: ApiKey) -> Result<i16> {
        self.chosen
            .get(&(api as i16))
            .copied()
            .ok_or_else(|| Error::Config(format!("broker supports no usable version of {api:?}")))
    }

    pub fn negotiate(conn: &mut Connection) -> Result<Versions> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str("sluice-loadgen"))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        conn.send(&request, API_VERSIONS_VERSION)?;
        let mut frame = conn_frame(conn)?;
        // Response header v0 (correlation id) even for flexible versions.
        frame.advance(4);
        // A broker that doesn't know our version answers with a v0 body and error 35.
        let error_code = frame
            .first_chunk::<2>()
            .map(|b| i16::from_be_bytes(*b))
            .unwrap_or(-1);
        let version = if error_code == errors::UNSUPPORTED_VERSION {
            0
        } else {
            API_VERSIONS_VERSION
        };
        let response = ApiVersionsResponse::decode(&mut frame, version).protocol("ApiVersions")?;
        if response.error_code != errors::NONE && response.error_code != errors::UNSUPPORTED_VERSION
        {
            return Err(Error::Broker {
                what: "ApiVersions".into(),
                code: response.error_code,
            });
        }
        let mut chosen = HashMap::new();
        for (api, ours_min, ours_max) in SUPPORTED {
            let Some(theirs) = response.api_keys.iter().find(|k| k.api_key == api as i16) else {
                continue;
            };
            let high = ours_max.min(theirs.max_version);
            if high >= ours_min.max(theirs.min_version) {
                chosen.insert(api as i16, high);
            }
        }
        Ok(Versions { chosen })
    }
}

fn conn_frame(conn: &mut Connection) -> Result<bytes::Bytes> {
    conn.read_own_frame()
}

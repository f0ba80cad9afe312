//! ApiVersions negotiation: which versions the broker serves, and the highest one both sides
//! speak for a request.

use std::collections::HashMap;

use bytes::Buf;
use kafka_protocol::messages::{ApiKey, ApiVersionsRequest, ApiVersionsResponse};
use kafka_protocol::protocol::{Decodable, Request, StrBytes, VersionRange};

use crate::conn::Connection;
use crate::error::{Error, Result};
use crate::error_code::{self, ResponseError};

/// ApiVersions v3 carries the client's software name; brokers that do not know it answer
/// with a v0 body and UNSUPPORTED_VERSION, which is read as v0.
const API_VERSIONS_VERSION: i16 = 3;

/// The version ranges of the request builders in this crate. The caps keep every request on
/// topic *names* (newer Produce/Fetch versions switch to topic ids), which every
/// Kafka-compatible broker supports.
const CLIENT_RANGES: [(ApiKey, i16, i16); 10] = [
    (ApiKey::Produce, 3, 11),
    (ApiKey::Fetch, 4, 12),
    (ApiKey::Metadata, 1, 12),
    (ApiKey::ListOffsets, 1, 9),
    (ApiKey::CreateTopics, 2, 7),
    (ApiKey::DeleteTopics, 1, 5),
    (ApiKey::InitProducerId, 0, 4),
    (ApiKey::FindCoordinator, 0, 4),
    // v4+ is the inter-broker batch layout (KIP-890); clients send v3 and below.
    (ApiKey::AddPartitionsToTxn, 0, 3),
    (ApiKey::EndTxn, 0, 3),
];

/// The version both sides speak: the highest in the intersection of the ranges.
pub fn negotiate(ours: VersionRange, broker: Option<VersionRange>) -> Option<i16> {
    let common = ours.intersect(&broker?);
    (!common.is_empty()).then_some(common.max)
}

/// What one broker answered to ApiVersions.
#[derive(Debug, Clone, Default)]
pub struct BrokerVersions {
    addr: String,
    ranges: HashMap<i16, VersionRange>,
}

impl BrokerVersions {
    /// Asks the broker on `conn`; `software_name` is how the broker's logs will name us.
    pub fn request(conn: &mut Connection, software_name: &'static str) -> Result<Self> {
        let request = ApiVersionsRequest::default()
            .with_client_software_name(StrBytes::from_static_str(software_name))
            .with_client_software_version(StrBytes::from_static_str(env!("CARGO_PKG_VERSION")));
        let addr = conn.addr().to_string();
        let correlation_id = conn.send(&request, API_VERSIONS_VERSION)?;
        let mut frame = conn.read_own_frame()?;
        let bad = |message: String| Error::Response {
            addr: addr.clone(),
            api: ApiVersionsRequest::KEY,
            message,
        };
        // Response header v0 (correlation id only) even for flexible versions.
        if frame.remaining() < 4 {
            return Err(bad("frame shorter than its header".into()));
        }
        let got = frame.get_i32();
        if got != correlation_id {
            return Err(bad(format!(
                "correlation id {got} does not match request {correlation_id}"
            )));
        }
        let unsupported = ResponseError::UnsupportedVersion.code();
        let error_code = frame.first_chunk::<2>().map(|b| i16::from_be_bytes(*b));
        let version = if error_code == Some(unsupported) {
            0
        } else {
            API_VERSIONS_VERSION
        };
        let response =
            ApiVersionsResponse::decode(&mut frame, version).map_err(|e| bad(e.to_string()))?;
        if response.error_code != error_code::NONE && response.error_code != unsupported {
            return Err(Error::Broker {
                what: format!("ApiVersions from {addr}"),
                code: response.error_code,
            });
        }
        Ok(Self::from_response(&addr, &response))
    }

    pub fn from_response(addr: &str, response: &ApiVersionsResponse) -> Self {
        let ranges = response
            .api_keys
            .iter()
            .map(|k| {
                let range = VersionRange {
                    min: k.min_version,
                    max: k.max_version,
                };
                (k.api_key, range)
            })
            .collect();
        Self {
            addr: addr.to_string(),
            ranges,
        }
    }

    /// The broker's range for `api`, if it serves it.
    pub fn range(&self, api: i16) -> Option<VersionRange> {
        self.ranges.get(&api).copied()
    }

    /// (api key, min, max) of every API the broker serves, by key.
    pub fn all(&self) -> Vec<(i16, i16, i16)> {
        let mut apis: Vec<_> = self
            .ranges
            .iter()
            .map(|(k, r)| (*k, r.min, r.max))
            .collect();
        apis.sort_unstable();
        apis
    }

    /// The version to use for `api` given the versions the caller's code handles.
    pub fn version_in(&self, api: i16, ours: VersionRange) -> Result<i16> {
        let Some(broker) = self.range(api) else {
            return Err(Error::NotImplemented {
                addr: self.addr.clone(),
                api,
            });
        };
        negotiate(ours, Some(broker)).ok_or_else(|| Error::Unsupported {
            addr: self.addr.clone(),
            api,
            broker: format!("{}-{}", broker.min, broker.max),
            ours: format!("{}-{}", ours.min, ours.max),
        })
    }

    /// [`Self::version_in`] for a request type.
    pub fn version_for<R: Request>(&self, ours: VersionRange) -> Result<i16> {
        self.version_in(R::KEY, ours)
    }

    /// The version of `api` for this crate's own request builders (Produce, Fetch, Metadata,
    /// ListOffsets, CreateTopics, DeleteTopics, and the transactional producer's requests).
    pub fn of(&self, api: ApiKey) -> Result<i16> {
        let (_, min, max) = CLIENT_RANGES
            .iter()
            .find(|(key, _, _)| *key == api)
            .copied()
            .ok_or_else(|| Error::Config(format!("this client builds no {api:?} requests")))?;
        self.version_in(api as i16, VersionRange { min, max })
    }
}

#[cfg(test)]
mod tests {
    use kafka_protocol::messages::api_versions_response::ApiVersion;

    use super::*;

    #[test]
    fn negotiation_picks_highest_common_version() {
        let ours = VersionRange { min: 2, max: 7 };
        assert_eq!(
            negotiate(ours, Some(VersionRange { min: 0, max: 5 })),
            Some(5)
        );
        assert_eq!(
            negotiate(ours, Some(VersionRange { min: 2, max: 9 })),
            Some(7)
        );
        assert_eq!(negotiate(ours, Some(VersionRange { min: 0, max: 1 })), None);
        assert_eq!(negotiate(ours, None), None);
    }

    #[test]
    fn missing_and_disjoint_apis_are_named() {
        let response = ApiVersionsResponse::default().with_api_keys(vec![ApiVersion::default()
            .with_api_key(ApiKey::Fetch as i16)
            .with_min_version(0)
            .with_max_version(3)]);
        let versions = BrokerVersions::from_response("b:1", &response);
        let produce = versions.of(ApiKey::Produce).map_err(|e| e.to_string());
        assert_eq!(
            produce,
            Err("broker b:1 does not implement Produce".to_string())
        );
        let fetch = versions.of(ApiKey::Fetch).map_err(|e| e.to_string());
        assert_eq!(
            fetch,
            Err("broker b:1 serves Fetch versions 0-3, this client speaks 4-12".to_string())
        );
        assert_eq!(versions.all(), vec![(ApiKey::Fetch as i16, 0, 3)]);
    }
}

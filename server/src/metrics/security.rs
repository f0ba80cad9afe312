//! Security metrics: authentications by listener, mechanism and outcome (Kafka's
//! `successful-authentication-total` / `failed-authentication-total`), and requests refused by
//! the authorizer, by API.
//!
//! Authentications happen once per connection (or re-authentication), far from the data path,
//! so their labelled counts sit behind a per-shard mutex the scrape takes briefly. Denials are
//! single-writer cells per API slot.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Mutex;

use prometheus_client::encoding::DescriptorEncoder;

use super::scrape::ShardReport;

/// Distinct (listener, mechanism) pairs kept per shard; listeners and mechanisms are few
/// (configured), so this only guards against a bug.
pub const AUTHENTICATION_SERIES_MAX: usize = 256;

/// (listener, mechanism) → (successes, failures).
pub type AuthenticationCounts = BTreeMap<(String, String), (u64, u64)>;

#[derive(Debug, Default)]
pub struct SecurityMetrics {
    authentications: Mutex<AuthenticationCounts>,
}

impl SecurityMetrics {
    pub fn record(&self, listener: &str, mechanism: &str, ok: bool) {
        let Ok(mut counts) = self.authentications.lock() else {
            return;
        };
        let key = (listener.to_string(), mechanism.to_string());
        if !counts.contains_key(&key) && counts.len() >= AUTHENTICATION_SERIES_MAX {
            return;
        }
        let entry = counts.entry(key).or_default();
        if ok {
            entry.0 += 1;
        } else {
            entry.1 += 1;
        }
    }

    pub fn report(&self) -> AuthenticationCounts {
        self.authentications
            .lock()
            .map(|counts| counts.clone())
            .unwrap_or_default()
    }
}

pub fn encode(encoder: &mut DescriptorEncoder, shards: &[ShardReport]) -> fmt::Result {
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut denials = Vec::new();
    for shard in shards {
        for ((listener, mechanism), (ok, failed)) in &shard.authentications {
            let labels = vec![
                ("shard", shard.shard.to_string()),
                ("listener", listener.clone()),
                ("mechanism", mechanism.clone()),
            ];
            successes.push((labels.clone(), *ok as f64));
            failures.push((labels, *failed as f64));
        }
        for api in shard.apis.iter().filter(|api| api.denials > 0) {
            let labels = vec![
                ("shard", shard.shard.to_string()),
                ("api", super::exposition::api_name(api.api_key)),
            ];
            denials.push((labels, api.denials as f64));
        }
    }
    super::exposition::counters(
        encoder,
        "authentication_successes",
        "Connections that authenticated (TLS client certificate or SASL), by listener and mechanism.",
        None,
        &successes,
    )?;
    super::exposition::counters(
        encoder,
        "authentication_failures",
        "Failed authentications (TLS handshakes, wrong credentials), by listener and mechanism.",
        None,
        &failures,
    )?;
    super::exposition::counters(
        encoder,
        "authorization_denials",
        "Requests (or parts of them) the authorizer refused, by API.",
        None,
        &denials,
    )
}

//! The cluster subsystem's settings, resolved from the broker configuration.

use crate::cluster::ClusterSettings;
use crate::config::BrokerConfig;

pub fn from_config(config: &BrokerConfig) -> ClusterSettings {
    let (advertised_host, advertised_port) = advertised(config);
    ClusterSettings {
        node_id: config.node_id,
        cluster_id: config.cluster_id.clone(),
        voters: vec![(config.node_id, None)],
        controller_listen: None,
        advertised_host,
        advertised_port,
        heartbeat_interval_ms: 2_000,
        session_timeout_ms: 9_000,
        election_timeout_ms: 1_000,
        default_partitions: config.num_partitions,
        default_replication_factor: 1,
        offsets_topic_partitions: config.offsets_topic_num_partitions,
        offsets_topic_replication_factor: 1,
        data_dir: config.data_dir.clone(),
    }
}

/// What clients should connect to: `advertised.listeners`, else the listen address.
fn advertised(config: &BrokerConfig) -> (String, u16) {
    if let Some(listener) = &config.advertised_listener {
        let bare = listener.rsplit("://").next().unwrap_or(listener);
        if let Some((host, port)) = bare.rsplit_once(':') {
            if let Ok(port) = port.parse::<u16>() {
                return (host.to_string(), port);
            }
        }
    }
    (config.listen.ip().to_string(), config.listen.port())
}

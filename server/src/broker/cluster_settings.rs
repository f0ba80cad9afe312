//! The cluster subsystem's settings, resolved from the broker configuration.

use crate::cluster::ClusterSettings;
use crate::config::{BrokerConfig, Quorum};

pub fn from_config(config: &BrokerConfig) -> Result<ClusterSettings, String> {
    if let Quorum::Observer { .. } = &config.quorum {
        return Err(format!(
            "node {} is not in controller.quorum.voters: brokers that are not voters are not \
             supported yet; list every node as a voter",
            config.node_id
        ));
    }
    let voters = match &config.quorum {
        Quorum::SingleNode => vec![(config.node_id, None)],
        quorum => quorum
            .voters()
            .iter()
            .map(|v| (v.node_id, Some(v.address)))
            .collect(),
    };
    let (advertised_host, advertised_port) = match &config.advertised {
        Some(endpoint) => (endpoint.host.clone(), endpoint.port),
        None => (config.listen.ip().to_string(), config.listen.port()),
    };
    // Other brokers hand this endpoint to clients (Kafka refuses the same).
    let unroutable = advertised_host.is_empty()
        || advertised_host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_unspecified());
    if unroutable && voters.len() > 1 {
        return Err(format!(
            "node {}: the client listener {} is not an address other brokers can give clients; \
             set advertised.listeners (e.g. PLAINTEXT://broker1.example:{})",
            config.node_id,
            config.listen,
            config.listen.port()
        ));
    }
    let other_listeners = config.client_listeners[1..]
        .iter()
        .map(|l| {
            let (host, port) = match &l.advertised {
                Some(endpoint) => (endpoint.host.clone(), endpoint.port),
                None => (l.address.ip().to_string(), l.address.port()),
            };
            (l.name.clone(), host, port, l.protocol.name().to_string())
        })
        .collect();
    Ok(ClusterSettings {
        other_listeners,
        inter_broker_listener: config.client_listeners[0].name.clone(),
        inter_broker_protocol: config.client_listeners[0].protocol.name().to_string(),
        node_id: config.node_id,
        cluster_id: config.cluster_id.clone(),
        voters,
        voter_hosts: config
            .quorum
            .voters()
            .iter()
            .map(|v| (v.node_id, v.endpoint.host.clone()))
            .collect(),
        controller_tls: config
            .security
            .controller_tls
            .then(|| config.security.tls.clone())
            .flatten(),
        controller_listen: config.quorum.controller_listen(),
        advertised_host,
        advertised_port,
        heartbeat_interval_ms: config.broker_heartbeat_interval_ms,
        session_timeout_ms: config.broker_session_timeout_ms,
        election_timeout_ms: config.controller_quorum_election_timeout_ms,
        default_partitions: config.num_partitions,
        default_replication_factor: config.default_replication_factor,
        unclean_leader_election_enable: config.unclean_leader_election_enable,
        auto_leader_rebalance_enable: config.auto_leader_rebalance_enable,
        leader_imbalance_check_interval_ms: config
            .leader_imbalance_check_interval_seconds
            .saturating_mul(1_000),
        offsets_topic_partitions: config.offsets_topic_num_partitions,
        offsets_topic_replication_factor: config.offsets_topic_replication_factor,
        data_dir: config.data_dir.clone(),
    })
}

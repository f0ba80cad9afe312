//! Several `sluice` processes on loopback ports forming one cluster: node ids 1..=n, each with
//! a client port and a controller port, all voters. Every process is killed when the
//! [`Cluster`] drops (each [`Broker`] kills its own).

use std::time::Duration;

use std::net::{IpAddr, SocketAddr};

use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::{MetadataRequest, MetadataResponse};

use super::broker::{free_fixed_port, Broker, BrokerOptions};
use super::kafka::{metadata, topic_name};
use super::wait::wait_until;
use super::wire::KafkaConnection;

/// How long a fresh cluster may take until every broker serves the full broker list.
pub const CLUSTER_FORM_TIMEOUT: Duration = Duration::from_secs(60);
/// How long a new topic may take until every partition has a leader.
const LEADERS_TIMEOUT: Duration = Duration::from_secs(30);
/// Lines of a broker's log in the reason a cluster did not start.
const LOG_TAIL_LINES: usize = 20;
/// Starts on fresh ports after a port was taken between pick and bind.
const START_ATTEMPTS_MAX: usize = 3;

/// Where one node runs: its address, ports, and the command it runs under.
pub struct Place {
    pub host: IpAddr,
    pub client_port: u16,
    pub controller_port: u16,
    pub prefix: Vec<String>,
}

pub struct Cluster {
    pub brokers: Vec<Broker>,
    pub node_ids: Vec<i32>,
    /// Each node's controller listener port (by index).
    pub controller_ports: Vec<u16>,
}

/// One partition as a broker's Metadata describes it (replication tests read the ISR here).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PartitionView {
    pub partition: i32,
    pub error_code: i16,
    /// -1 while the partition has no leader.
    pub leader: i32,
    pub leader_epoch: i32,
    pub replicas: Vec<i32>,
    pub isr: Vec<i32>,
    pub offline: Vec<i32>,
}

impl PartitionView {
    /// A leader, no error, and every replica in the ISR.
    pub fn fully_in_sync(&self) -> bool {
        let mut replicas = self.replicas.clone();
        let mut isr = self.isr.clone();
        replicas.sort_unstable();
        isr.sort_unstable();
        self.error_code == 0 && self.leader >= 0 && !replicas.is_empty() && replicas == isr
    }
}

impl Cluster {
    /// Starts `n` voters on loopback and waits until each one's Metadata lists all `n`. Ports
    /// come from below the ephemeral range; a start that still finds one taken (another test
    /// picked it) starts over on new ports.
    pub fn start(n: usize, options: BrokerOptions) -> Cluster {
        Cluster::start_each(n, |_| options.clone())
    }

    /// As [`Cluster::start`], with each node's options (by index) from `options_of`: nodes
    /// that need their own ports or settings (a listener per node, one wrong password).
    pub fn start_each(n: usize, options_of: impl Fn(usize) -> BrokerOptions) -> Cluster {
        Cluster::start_retrying(|| Cluster::try_start_each(n, &options_of))
    }

    /// Calls `try_start` (each call on new ports) until a start finds no port taken.
    pub fn start_retrying(mut try_start: impl FnMut() -> Result<Cluster, String>) -> Cluster {
        for attempt in 1..=START_ATTEMPTS_MAX {
            match try_start() {
                Ok(cluster) => return cluster,
                Err(reason) if attempt < START_ATTEMPTS_MAX && reason.contains("in use") => {
                    eprintln!("cluster start attempt {attempt}: {reason}; new ports");
                }
                Err(reason) => panic!("cluster did not start: {reason}"),
            }
        }
        unreachable!("the last attempt returns or panics");
    }

    /// One attempt of [`Cluster::start_each`] on new ports: Err when a broker did not start
    /// (its reason says "in use" when another process had taken one of its ports).
    pub fn try_start_each(
        n: usize,
        options_of: &dyn Fn(usize) -> BrokerOptions,
    ) -> Result<Cluster, String> {
        let places = (0..n)
            .map(|_| Place {
                host: IpAddr::from([127, 0, 0, 1]),
                client_port: free_fixed_port(),
                controller_port: free_fixed_port(),
                prefix: Vec::new(),
            })
            .collect();
        Cluster::try_start_at(places, options_of)
    }

    /// Starts one voter at each place (node ids 1..), e.g. in network namespaces.
    pub fn start_at(places: Vec<Place>, options: BrokerOptions) -> Cluster {
        Cluster::try_start_at(places, &|_| options.clone())
            .unwrap_or_else(|reason| panic!("cluster did not start: {reason}"))
    }

    fn try_start_at(
        places: Vec<Place>,
        options_of: &dyn Fn(usize) -> BrokerOptions,
    ) -> Result<Cluster, String> {
        let n = places.len();
        let node_ids: Vec<i32> = (1..=n as i32).collect();
        let voters = node_ids
            .iter()
            .zip(&places)
            .map(|(id, place)| format!("{id}@{}:{}", place.host, place.controller_port))
            .collect::<Vec<_>>()
            .join(",");
        let mut brokers: Vec<Broker> = node_ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let place = &places[i];
                let mut node = options_of(i);
                node.port = Some(place.client_port);
                node.host = place.host;
                node.command_prefix = place.prefix.clone();
                node.extra_args = vec![
                    "--node-id".into(),
                    id.to_string(),
                    "--controller-listen".into(),
                    format!("{}:{}", place.host, place.controller_port),
                    "--controller-voters".into(),
                    voters.clone(),
                ];
                Broker::spawn(node)
            })
            .collect();
        for broker in &mut brokers {
            // Dropping the others kills them.
            if let Err(reason) = broker.try_wait_started() {
                let log = broker.log_text();
                let tail: Vec<&str> = log.lines().rev().take(LOG_TAIL_LINES).collect();
                let tail: Vec<&str> = tail.into_iter().rev().collect();
                return Err(format!("{reason}\n{}", tail.join("\n")));
            }
        }
        let controller_ports = places.iter().map(|p| p.controller_port).collect();
        let cluster = Cluster {
            brokers,
            node_ids,
            controller_ports,
        };
        for index in 0..n {
            cluster.wait_for_brokers(index, n, CLUSTER_FORM_TIMEOUT);
        }
        Ok(cluster)
    }

    pub fn bootstrap(&self) -> String {
        self.brokers
            .iter()
            .map(|b| b.bootstrap())
            .collect::<Vec<_>>()
            .join(",")
    }

    /// Metadata of `topics` as broker `index` serves it.
    pub fn metadata(&self, index: usize, topics: &[&str]) -> MetadataResponse {
        let mut conn = self.brokers[index].connect();
        metadata(&mut conn, topics)
    }

    /// Waits until broker `index` serves a leader for each of `partitions` partitions of
    /// `topic`; returns the leaders by partition.
    pub fn wait_for_leaders(&self, index: usize, topic: &str, partitions: usize) -> Vec<i32> {
        wait_until(
            &format!(
                "broker {} to serve a leader for every partition of {topic}",
                self.node_ids[index]
            ),
            LEADERS_TIMEOUT,
            || {
                let meta = self.metadata(index, &[topic]);
                let leaders: Vec<i32> = meta
                    .topics
                    .first()?
                    .partitions
                    .iter()
                    .map(|p| p.leader_id.0)
                    .collect();
                (leaders.len() == partitions && leaders.iter().all(|l| *l >= 0)).then_some(leaders)
            },
        )
    }

    /// The index (into `brokers`) of node `node`.
    pub fn index_of(&self, node: i32) -> usize {
        self.node_ids
            .iter()
            .position(|id| *id == node)
            .unwrap_or_else(|| panic!("node {node} is not in the cluster {:?}", self.node_ids))
    }

    /// `topic`'s partitions (by index) as broker `index` serves them; None if the broker does
    /// not answer now or does not serve the topic. A paused or cut-off broker makes this wait
    /// for the connection's I/O timeout: ask one that runs.
    pub fn try_partitions(&self, index: usize, topic: &str) -> Option<Vec<PartitionView>> {
        let meta = try_topic_metadata(self.brokers[index].addr(), topic)?;
        let topic = meta.topics.into_iter().next()?;
        if topic.error_code != 0 {
            return None;
        }
        let mut views: Vec<PartitionView> = topic
            .partitions
            .iter()
            .map(|p| PartitionView {
                partition: p.partition_index,
                error_code: p.error_code,
                leader: p.leader_id.0,
                leader_epoch: p.leader_epoch,
                replicas: p.replica_nodes.iter().map(|b| b.0).collect(),
                isr: p.isr_nodes.iter().map(|b| b.0).collect(),
                offline: p.offline_replicas.iter().map(|b| b.0).collect(),
            })
            .collect();
        views.sort_by_key(|v| v.partition);
        Some(views)
    }

    /// Waits until broker `index` serves `topic` in a state `holds` accepts; returns it. On
    /// timeout the panic shows the last state seen.
    pub fn wait_for_partitions(
        &self,
        index: usize,
        topic: &str,
        what: &str,
        timeout: Duration,
        holds: impl Fn(&[PartitionView]) -> bool,
    ) -> Vec<PartitionView> {
        let mut last = None;
        let waited = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            wait_until(what, timeout, || {
                let views = self.try_partitions(index, topic)?;
                let done = holds(&views);
                last = Some(views.clone());
                done.then_some(views)
            })
        }));
        waited.unwrap_or_else(|panic| {
            eprintln!(
                "{topic} as node {} served it last: {last:#?}",
                self.node_ids[index]
            );
            std::panic::resume_unwind(panic)
        })
    }

    /// Waits until broker `index` reports every one of `partitions` partitions of `topic`
    /// with a leader and all of its replicas in the ISR; returns them.
    pub fn wait_for_full_isr(
        &self,
        index: usize,
        topic: &str,
        partitions: usize,
        timeout: Duration,
    ) -> Vec<PartitionView> {
        self.wait_for_partitions(
            index,
            topic,
            &format!("every partition of {topic} to have all its replicas in the ISR"),
            timeout,
            |views| views.len() == partitions && views.iter().all(PartitionView::fully_in_sync),
        )
    }

    /// Waits until broker `index` names a leader other than `old` for `topic`-`partition`;
    /// returns the new leader's node id.
    pub fn wait_for_new_leader(
        &self,
        index: usize,
        topic: &str,
        partition: i32,
        old: i32,
        timeout: Duration,
    ) -> i32 {
        let views = self.wait_for_partitions(
            index,
            topic,
            &format!("a leader other than node {old} for {topic}-{partition}"),
            timeout,
            |views| {
                views
                    .get(partition as usize)
                    .is_some_and(|v| v.leader >= 0 && v.leader != old)
            },
        );
        views[partition as usize].leader
    }

    /// Waits until broker `index` lists `count` live brokers and names a controller.
    pub fn wait_for_brokers(&self, index: usize, count: usize, timeout: Duration) {
        wait_until(
            &format!("broker {} to list {count} brokers", self.node_ids[index]),
            timeout,
            || {
                let meta = try_metadata(self.brokers[index].addr())?;
                (meta.brokers.len() == count && meta.controller_id.0 >= 0).then_some(())
            },
        );
    }
}

/// Metadata of one topic from `addr` (no auto-creation), or None if the broker does not
/// answer now.
pub fn try_topic_metadata(addr: SocketAddr, topic: &str) -> Option<MetadataResponse> {
    const VERSION: i16 = 12;
    let mut conn = KafkaConnection::connect(addr).ok()?;
    let request = MetadataRequest::default()
        .with_topics(Some(vec![
            MetadataRequestTopic::default().with_name(Some(topic_name(topic)))
        ]))
        .with_allow_auto_topic_creation(false);
    let correlation = conn.send_request(VERSION, &request).ok()?;
    conn.receive_response::<MetadataRequest>(VERSION, correlation)
        .ok()
}

/// Metadata (no topics) from `addr`, or None if the broker does not answer now.
pub fn try_metadata(addr: SocketAddr) -> Option<MetadataResponse> {
    const VERSION: i16 = 12;
    let mut conn = KafkaConnection::connect(addr).ok()?;
    let request = MetadataRequest::default()
        .with_topics(Some(Vec::new()))
        .with_allow_auto_topic_creation(false);
    let correlation = conn.send_request(VERSION, &request).ok()?;
    conn.receive_response::<MetadataRequest>(VERSION, correlation)
        .ok()
}

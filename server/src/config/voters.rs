//! The controller quorum: `controller.quorum.voters` (`id@host:port,...`), this node's
//! controller listener and `process.roles`, resolved into a [`Quorum`] that says what part
//! this node plays. The checks that make a node refuse to start with an inconsistent quorum
//! live here.

use std::net::SocketAddr;

use super::listeners::Endpoint;

/// Voters one `controller.quorum.voters` may list. Raft quorums past 7 only slow commits;
/// the bound just keeps a broken setting from building a huge list.
pub const VOTERS_MAX: usize = 64;

/// One entry of `controller.quorum.voters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Voter {
    pub node_id: i32,
    /// As written (a host name stays a name: peers may re-resolve it).
    pub endpoint: Endpoint,
    /// `endpoint` resolved when the config was read.
    pub address: SocketAddr,
}

impl std::fmt::Display for Voter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.node_id, self.endpoint)
    }
}

/// What this node is in the controller quorum.
///
/// - `SingleNode`: the default, when none of `controller.quorum.voters`, a controller
///   listener or `process.roles` is given. The node is the only voter of its own quorum
///   (voter ids = `[node.id]`): it elects itself and commits locally, with no controller
///   listener and no peers to reach. `sluice start` with no flags is this.
/// - `Voter`: one of the listed voters (`process.roles` unset or `broker,controller`). Its
///   controller listens on `listen`, which is the address of its own entry in `voters`.
/// - `Observer`: not a voter (`process.roles=broker`, or unset with a voters list that does
///   not contain this node): the broker follows the quorum through `voters` and has no
///   controller listener.
///
/// In the last two, `voters` is sorted by node id, ids unique, never empty.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Quorum {
    #[default]
    SingleNode,
    Voter {
        listen: SocketAddr,
        voters: Vec<Voter>,
    },
    Observer {
        voters: Vec<Voter>,
    },
}

impl Quorum {
    /// The listed voters; empty for `SingleNode` (whose only voter is the node itself).
    pub fn voters(&self) -> &[Voter] {
        match self {
            Quorum::SingleNode => &[],
            Quorum::Voter { voters, .. } | Quorum::Observer { voters } => voters,
        }
    }

    /// Node ids of the voters: `[node_id]` for `SingleNode`.
    pub fn voter_ids(&self, node_id: i32) -> Vec<i32> {
        match self {
            Quorum::SingleNode => vec![node_id],
            _ => self.voters().iter().map(|v| v.node_id).collect(),
        }
    }

    /// Where this node's controller listens for its peers (only a listed voter has one).
    pub fn controller_listen(&self) -> Option<SocketAddr> {
        match self {
            Quorum::Voter { listen, .. } => Some(*listen),
            Quorum::SingleNode | Quorum::Observer { .. } => None,
        }
    }

    /// True when this node votes (runs a controller).
    pub fn is_voter(&self) -> bool {
        !matches!(self, Quorum::Observer { .. })
    }
}

/// Parses and resolves `controller.quorum.voters`; the result is sorted by node id.
pub fn parse_voters(text: &str) -> Result<Vec<Voter>, String> {
    let mut voters: Vec<Voter> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (id, address) = entry
            .split_once('@')
            .ok_or_else(|| format!("{entry:?}: expected id@host:port"))?;
        let node_id: i32 = id
            .trim()
            .parse()
            .map_err(|_| format!("{entry:?}: node id {id:?} is not a number"))?;
        if node_id < 0 {
            return Err(format!("{entry:?}: node id must be 0 or more"));
        }
        let endpoint = Endpoint::parse(address)?;
        if endpoint.host.is_empty() || endpoint.port == 0 {
            return Err(format!(
                "{entry:?}: a voter needs a host and port its peers can reach"
            ));
        }
        let address = endpoint
            .resolve()
            .map_err(|e| format!("voter {entry}: {e}"))?;
        if address.ip().is_unspecified() {
            return Err(format!(
                "{entry:?}: a voter needs an address its peers can reach, not {}",
                address.ip()
            ));
        }
        if let Some(twin) = voters.iter().find(|v| v.node_id == node_id) {
            return Err(format!("node {node_id} appears twice ({twin} and {entry})"));
        }
        if let Some(twin) = voters.iter().find(|v| v.address == address) {
            return Err(format!(
                "{twin} and {entry} have the same address {address}"
            ));
        }
        if voters.len() == VOTERS_MAX {
            return Err(format!("more than {VOTERS_MAX} voters"));
        }
        voters.push(Voter {
            node_id,
            endpoint,
            address,
        });
    }
    if voters.is_empty() {
        return Err("no voters listed".to_string());
    }
    voters.sort_by_key(|v| v.node_id);
    Ok(voters)
}

/// `process.roles`. Sluice always runs the broker role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Roles {
    /// Not set: the other settings decide (a voter if listed, else an observer).
    Unset,
    /// `broker`: never a voter.
    Broker,
    /// `broker,controller` (combined mode, Kafka's name).
    BrokerController,
}

pub fn parse_roles(text: Option<&str>) -> Result<Roles, String> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok(Roles::Unset);
    };
    let mut broker = false;
    let mut controller = false;
    for role in text.split(',').map(str::trim) {
        match role.to_ascii_lowercase().as_str() {
            "broker" => broker = true,
            "controller" => controller = true,
            other => {
                return Err(format!(
                    "unknown role {other:?} (expected broker, controller or broker,controller)"
                ))
            }
        }
    }
    match (broker, controller) {
        (true, true) => Ok(Roles::BrokerController),
        (true, false) => Ok(Roles::Broker),
        (false, _) => Err(format!(
            "{text}: dedicated controllers are not supported yet; use broker,controller"
        )),
    }
}

/// The inputs of [`resolve_quorum`], each already taken from the flag or the file.
pub struct QuorumSettings<'a> {
    pub node_id: i32,
    pub roles: Roles,
    /// `controller.quorum.voters`, if set and not blank.
    pub voters: Option<&'a str>,
    /// This node's controller listener, if any.
    pub controller_listen: Option<&'a Endpoint>,
}

/// Decides this node's [`Quorum`]; Err is the one-line refusal.
pub fn resolve_quorum(settings: &QuorumSettings<'_>) -> Result<Quorum, String> {
    let node_id = settings.node_id;
    let voters = match settings.voters {
        Some(text) => {
            Some(parse_voters(text).map_err(|e| format!("controller.quorum.voters: {e}"))?)
        }
        None => None,
    };
    let listen = match settings.controller_listen {
        Some(endpoint) => Some(
            endpoint
                .resolve()
                .map_err(|e| format!("controller listener {endpoint}: {e}"))?,
        ),
        None => None,
    };
    let Some(voters) = voters else {
        return match (settings.roles, settings.controller_listen) {
            (Roles::Broker, _) => Err(
                "process.roles=broker needs controller.quorum.voters (the controllers to follow)"
                    .to_string(),
            ),
            (_, Some(endpoint)) => Err(format!(
                "a controller listener ({endpoint}) is set but controller.quorum.voters is not; \
                 list the voters, this node included ({node_id}@{endpoint})"
            )),
            (_, None) => Ok(Quorum::SingleNode),
        };
    };
    let own_entry = voters.iter().find(|v| v.node_id == node_id).cloned();
    let listed = list(&voters);
    match (settings.roles, listen, own_entry) {
        (Roles::Broker, Some(_), _) => Err(format!(
            "process.roles=broker but a controller listener is set ({}); a broker-only node has none",
            settings.controller_listen.map(Endpoint::to_string).unwrap_or_default()
        )),
        (Roles::Broker, None, Some(entry)) => Err(format!(
            "node {node_id} is a voter in controller.quorum.voters ({entry}) but process.roles=broker"
        )),
        (Roles::Broker | Roles::Unset, None, None) => Ok(Quorum::Observer { voters }),
        (Roles::BrokerController, None, None) => Err(format!(
            "process.roles includes controller but node {node_id} is not in controller.quorum.voters ({listed})"
        )),
        (_, None, Some(entry)) => Err(format!(
            "node {node_id} is a voter in controller.quorum.voters ({entry}) but has no controller \
             listener (--controller-listen or controller.listener)"
        )),
        (_, Some(listen), None) => Err(format!(
            "node {node_id} has a controller listener ({listen}) but is not in controller.quorum.voters ({listed})"
        )),
        (_, Some(listen), Some(entry)) => {
            if !same_listener(listen, entry.address) {
                return Err(format!(
                    "node {node_id}'s controller listener is {listen}, but its entry in \
                     controller.quorum.voters is {entry} ({}): they must be the same address",
                    entry.address
                ));
            }
            Ok(Quorum::Voter { listen, voters })
        }
    }
}

fn list(voters: &[Voter]) -> String {
    voters
        .iter()
        .map(Voter::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// The rule for "the voter entry is this node's controller listener": the resolved addresses
/// are equal; or the listener binds every interface (0.0.0.0 or ::) on the entry's port and
/// the entry's IP is one of this host's addresses, which is checked by binding it on an
/// ephemeral port (only a local address can be bound).
fn same_listener(listen: SocketAddr, voter: SocketAddr) -> bool {
    if listen == voter {
        return true;
    }
    listen.ip().is_unspecified()
        && listen.port() == voter.port()
        && std::net::TcpListener::bind(SocketAddr::new(voter.ip(), 0)).is_ok()
}

#[cfg(test)]
// A failed unwrap is a failed test, with the value in the message.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const THREE: &str = "1@127.0.0.1:9093, 3@127.0.0.1:9293,2@localhost:9193";

    fn endpoint(text: &str) -> Endpoint {
        Endpoint::parse(text).unwrap()
    }

    fn resolve(
        node_id: i32,
        roles: Roles,
        voters: Option<&str>,
        listen: Option<&str>,
    ) -> Result<Quorum, String> {
        let listen = listen.map(endpoint);
        resolve_quorum(&QuorumSettings {
            node_id,
            roles,
            voters,
            controller_listen: listen.as_ref(),
        })
    }

    #[test]
    fn voters_parse_resolve_and_sort_by_node_id() {
        let voters = parse_voters(THREE).unwrap();
        let ids: Vec<i32> = voters.iter().map(|v| v.node_id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(voters[1].address.to_string(), "127.0.0.1:9193");
        assert_eq!(voters[1].endpoint.host, "localhost");
        assert_eq!(voters[1].to_string(), "2@localhost:9193");
    }

    #[test]
    fn bad_voter_lists_are_refused_with_the_entry() {
        let twice = parse_voters("1@127.0.0.1:1,1@127.0.0.1:2").unwrap_err();
        assert!(twice.contains("node 1 appears twice"), "{twice}");
        assert!(parse_voters("-1@127.0.0.1:1")
            .unwrap_err()
            .contains("0 or more"));
        assert!(parse_voters("x@127.0.0.1:1")
            .unwrap_err()
            .contains("not a number"));
        assert!(parse_voters("127.0.0.1:1")
            .unwrap_err()
            .contains("id@host:port"));
        assert!(parse_voters("1@:9093").unwrap_err().contains("reach"));
        assert!(parse_voters("1@0.0.0.0:9093")
            .unwrap_err()
            .contains("reach"));
        assert!(parse_voters("1@no-such-host.invalid:9093")
            .unwrap_err()
            .contains("no-such-host.invalid"));
        assert!(parse_voters("1@127.0.0.1:1,2@127.0.0.1:1")
            .unwrap_err()
            .contains("same address"));
        assert!(parse_voters(" , ").unwrap_err().contains("no voters"));
    }

    #[test]
    fn roles_follow_kafka_and_refuse_dedicated_controllers() {
        assert_eq!(parse_roles(None).unwrap(), Roles::Unset);
        assert_eq!(parse_roles(Some("broker")).unwrap(), Roles::Broker);
        assert_eq!(
            parse_roles(Some("controller, broker")).unwrap(),
            Roles::BrokerController
        );
        assert!(parse_roles(Some("controller"))
            .unwrap_err()
            .contains("dedicated controllers are not supported"));
        assert!(parse_roles(Some("broker,zookeeper")).is_err());
    }

    #[test]
    fn nothing_configured_is_a_single_node_quorum() {
        let quorum = resolve(0, Roles::Unset, None, None).unwrap();
        assert_eq!(quorum, Quorum::SingleNode);
        assert_eq!(quorum.voter_ids(0), vec![0]);
        assert!(quorum.voters().is_empty());
        assert!(quorum.is_voter());
        assert_eq!(quorum.controller_listen(), None);
        let combined = resolve(0, Roles::BrokerController, None, None).unwrap();
        assert_eq!(combined, Quorum::SingleNode);
    }

    #[test]
    fn a_listed_node_with_its_listener_is_a_voter() {
        let quorum = resolve(2, Roles::Unset, Some(THREE), Some("127.0.0.1:9193")).unwrap();
        assert_eq!(
            quorum.controller_listen().unwrap().to_string(),
            "127.0.0.1:9193"
        );
        assert_eq!(quorum.voter_ids(2), vec![1, 2, 3]);
        let named = resolve(
            2,
            Roles::BrokerController,
            Some(THREE),
            Some("localhost:9193"),
        );
        assert!(named.unwrap().is_voter());
    }

    #[test]
    fn a_wildcard_listener_matches_a_local_voter_address_on_the_same_port() {
        assert!(resolve(1, Roles::Unset, Some(THREE), Some(":9093")).is_ok());
        assert!(resolve(1, Roles::Unset, Some(THREE), Some("0.0.0.0:9094")).is_err());
        // 192.0.2.1 (TEST-NET-1) is no address of this host.
        let remote = resolve(1, Roles::Unset, Some("1@192.0.2.1:9093"), Some(":9093"));
        assert!(remote.unwrap_err().contains("must be the same address"));
    }

    #[test]
    fn an_unlisted_node_without_listener_is_an_observer() {
        let quorum = resolve(4, Roles::Unset, Some(THREE), None).unwrap();
        assert!(!quorum.is_voter());
        assert_eq!(quorum.voters().len(), 3);
        assert!(resolve(4, Roles::Broker, Some(THREE), None).is_ok());
    }

    #[test]
    fn inconsistent_quorums_are_refused() {
        let cases = [
            (
                4,
                Roles::Unset,
                Some(THREE),
                Some("127.0.0.1:9393"),
                "is not in controller.quorum.voters",
            ),
            (
                1,
                Roles::Unset,
                Some(THREE),
                Some("127.0.0.1:9193"),
                "must be the same address",
            ),
            (
                1,
                Roles::Unset,
                Some(THREE),
                None,
                "has no controller listener",
            ),
            (
                0,
                Roles::Unset,
                None,
                Some("127.0.0.1:9093"),
                "controller.quorum.voters is not",
            ),
            (
                4,
                Roles::BrokerController,
                Some(THREE),
                None,
                "process.roles includes controller",
            ),
            (
                1,
                Roles::Broker,
                Some(THREE),
                None,
                "but process.roles=broker",
            ),
            (
                4,
                Roles::Broker,
                Some(THREE),
                Some("127.0.0.1:9393"),
                "broker-only",
            ),
            (
                0,
                Roles::Broker,
                None,
                None,
                "needs controller.quorum.voters",
            ),
            (
                1,
                Roles::Unset,
                Some("1@127.0.0.1:1,1@127.0.0.1:2"),
                Some("127.0.0.1:1"),
                "twice",
            ),
        ];
        for (node_id, roles, voters, listen, expected) in cases {
            let err = resolve(node_id, roles, voters, listen).unwrap_err();
            assert!(
                err.contains(expected),
                "node {node_id} {voters:?} {listen:?}: {err}"
            );
            assert!(!err.contains('\n'));
        }
    }
}

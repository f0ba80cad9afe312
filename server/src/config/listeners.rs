//! `listeners` and `advertised.listeners` in Kafka's syntax (`NAME://host:port,...`), and the
//! `host:port` endpoints they and the controller settings are made of.
//!
//! Hosts: a name, an IPv4 address, or an IPv6 address in brackets (`[::1]:9092`). An empty
//! host (`PLAINTEXT://:9092`) binds every interface (0.0.0.0), as in Kafka. Names are
//! resolved with the system resolver (`ToSocketAddrs`); when a name has several addresses the
//! first IPv4 one is used (else the first), so `localhost` binds 127.0.0.1 as Kafka users
//! expect.

use std::net::{IpAddr, Ipv4Addr, SocketAddr, ToSocketAddrs};

/// The listener `--listen` and the `listen` key set, and the inter-broker listener unless
/// `inter.broker.listener.name` names another.
pub const CLIENT_LISTENER_NAME: &str = "PLAINTEXT";

/// Listeners one `listeners` setting may hold.
pub const LISTENERS_MAX: usize = 16;

/// A host and port as written (brackets of an IPv6 host removed), not resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Empty means every interface (only meaningful for a listen address).
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

impl Endpoint {
    /// Parses `host:port` (`[v6]:port` for IPv6; empty host allowed).
    pub fn parse(text: &str) -> Result<Endpoint, String> {
        let text = text.trim();
        let (host, port) = if let Some(bracketed) = text.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| format!("{text:?}: missing ']' after an IPv6 host"))?;
            let port = after
                .strip_prefix(':')
                .ok_or_else(|| format!("{text:?}: expected host:port"))?;
            (host, port)
        } else {
            let (host, port) = text
                .rsplit_once(':')
                .ok_or_else(|| format!("{text:?}: expected host:port"))?;
            if host.contains(':') {
                return Err(format!(
                    "{text:?}: put an IPv6 host in brackets ([::1]:9092)"
                ));
            }
            (host, port)
        };
        let port = port
            .parse::<u16>()
            .map_err(|_| format!("{text:?}: port {port:?} is not a number from 0 to 65535"))?;
        Ok(Endpoint {
            host: host.to_string(),
            port,
        })
    }

    /// The socket address: an empty host is 0.0.0.0; a name is resolved (first IPv4).
    pub fn resolve(&self) -> Result<SocketAddr, String> {
        if self.host.is_empty() {
            return Ok(SocketAddr::new(
                IpAddr::V4(Ipv4Addr::UNSPECIFIED),
                self.port,
            ));
        }
        if let Ok(ip) = self.host.parse::<IpAddr>() {
            return Ok(SocketAddr::new(ip, self.port));
        }
        let addresses: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| format!("cannot resolve host {:?}: {e}", self.host))?
            .collect();
        addresses
            .iter()
            .find(|a| a.is_ipv4())
            .or(addresses.first())
            .copied()
            .ok_or_else(|| format!("host {:?} resolves to no address", self.host))
    }
}

/// One `NAME://host:port` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listener {
    /// Upper-cased, as Kafka's `ListenerName` normalizes it.
    pub name: String,
    pub endpoint: Endpoint,
}

impl std::fmt::Display for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}://{}", self.name, self.endpoint)
    }
}

/// Parses a `listeners`-style list: `NAME://host:port[,NAME://host:port]`, names unique.
pub fn parse_listeners(text: &str) -> Result<Vec<Listener>, String> {
    let mut listeners: Vec<Listener> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, address) = entry
            .split_once("://")
            .ok_or_else(|| format!("{entry:?}: expected NAME://host:port"))?;
        let name = name.trim().to_ascii_uppercase();
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "{entry:?}: listener name must be letters, digits and _"
            ));
        }
        if listeners.iter().any(|l| l.name == name) {
            return Err(format!("listener name {name} appears twice"));
        }
        if listeners.len() == LISTENERS_MAX {
            return Err(format!("more than {LISTENERS_MAX} listeners"));
        }
        listeners.push(Listener {
            name,
            endpoint: Endpoint::parse(address)?,
        });
    }
    Ok(listeners)
}

/// `advertised.listeners`: `NAME://host:port` entries (the name of a client listener), or a
/// bare `host:port` (Sluice's older form; name None: the inter-broker listener). Entries named
/// in `controller_listener_names` are skipped (Kafka allows advertising them).
pub fn parse_advertised(
    text: &str,
    controller_listener_names: &[String],
) -> Result<Vec<(Option<String>, Endpoint)>, String> {
    let entries: Vec<(Option<String>, Endpoint)> = if text.contains("://") {
        parse_listeners(text)?
            .into_iter()
            .filter(|l| !controller_listener_names.contains(&l.name))
            .map(|l| (Some(l.name), l.endpoint))
            .collect()
    } else if text.trim().is_empty() {
        Vec::new()
    } else {
        vec![(None, Endpoint::parse(text)?)]
    };
    if let Some((_, endpoint)) = entries.iter().find(|(_, e)| e.host.is_empty()) {
        return Err(format!(
            "{endpoint}: advertise a host clients can reach (not an empty host)"
        ));
    }
    Ok(entries)
}

#[cfg(test)]
// A failed unwrap is a failed test, with the value in the message.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_names_ipv4_bracketed_ipv6_and_empty_hosts() {
        let e = Endpoint::parse("broker-1.example:9092").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("broker-1.example", 9092));
        let e = Endpoint::parse("[::1]:9093").unwrap();
        assert_eq!((e.host.as_str(), e.port), ("::1", 9093));
        assert_eq!(e.to_string(), "[::1]:9093");
        let e = Endpoint::parse(":9092").unwrap();
        assert_eq!(e.resolve().unwrap().to_string(), "0.0.0.0:9092");
    }

    #[test]
    fn bad_endpoints_say_what_is_wrong() {
        assert!(Endpoint::parse("localhost")
            .unwrap_err()
            .contains("host:port"));
        assert!(Endpoint::parse("::1:9092")
            .unwrap_err()
            .contains("brackets"));
        assert!(Endpoint::parse("h:99999").unwrap_err().contains("port"));
        assert!(Endpoint::parse("[::1:9092").unwrap_err().contains("]"));
    }

    #[test]
    fn localhost_resolves_to_ipv4_loopback() {
        let e = Endpoint::parse("localhost:9092").unwrap();
        assert_eq!(e.resolve().unwrap().to_string(), "127.0.0.1:9092");
    }

    #[test]
    fn an_unresolvable_host_is_an_error_naming_it() {
        let e = Endpoint::parse("no-such-host.invalid:9092").unwrap();
        assert!(e.resolve().unwrap_err().contains("no-such-host.invalid"));
    }

    #[test]
    fn listeners_parse_kafka_syntax_with_upper_cased_names() {
        let listeners = parse_listeners("PLAINTEXT://:9092, controller://127.0.0.1:9093").unwrap();
        assert_eq!(listeners.len(), 2);
        assert_eq!(listeners[0].name, "PLAINTEXT");
        assert_eq!(listeners[0].endpoint.host, "");
        assert_eq!(listeners[1].name, "CONTROLLER");
        assert_eq!(listeners[1].to_string(), "CONTROLLER://127.0.0.1:9093");
    }

    #[test]
    fn listeners_refuse_duplicates_and_missing_names() {
        assert!(parse_listeners("PLAINTEXT://:1,plaintext://:2")
            .unwrap_err()
            .contains("twice"));
        assert!(parse_listeners("127.0.0.1:9092")
            .unwrap_err()
            .contains("NAME://"));
        assert!(parse_listeners("://h:1").is_err());
    }

    #[test]
    fn advertised_takes_named_entries_or_a_bare_address() {
        let controllers = vec!["CONTROLLER".to_string()];
        let entries = parse_advertised(
            "PLAINTEXT://kafka-1:9092,CONTROLLER://kafka-1:9093,SASL_SSL://kafka-1:9094",
            &controllers,
        )
        .unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].0.as_deref(), Some("PLAINTEXT"));
        assert_eq!(entries[1].1.to_string(), "kafka-1:9094");
        let entries = parse_advertised("kafka-1:19092", &controllers).unwrap();
        assert_eq!(
            entries,
            vec![(None, Endpoint::parse("kafka-1:19092").unwrap())]
        );
        assert!(parse_advertised("", &controllers).unwrap().is_empty());
        assert!(parse_advertised("PLAINTEXT://:9092", &controllers).is_err());
    }
}

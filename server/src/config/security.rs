//! Security settings with Kafka's names: the security protocol of each client listener
//! (`listener.security.protocol.map`), TLS (`ssl.*`), SASL (`sasl.enabled.mechanisms`) and
//! authorization (`authorizer.class.name`, `super.users`, `allow.everyone.if.no.acl.found`).
//!
//! Only PEM key and trust stores are read (`ssl.keystore.type = PEM`): one file holding the
//! private key and the certificate chain, as Kafka's PEM keystore does. JKS and PKCS12 stores
//! are refused by name, since converting them needs a JVM's keytool anyway.

use std::net::SocketAddr;
use std::path::PathBuf;

use super::listeners::{Endpoint, Listener};

/// `listener.security.protocol.map` entries at most (one per listener).
pub const PROTOCOL_MAP_ENTRIES_MAX: usize = 16;

/// `super.users` entries at most.
pub const SUPER_USERS_MAX: usize = 1_000;

/// Kafka's authorizer class names that mean "ACLs as Kafka's StandardAuthorizer applies them".
/// The ZooKeeper-era AclAuthorizer has the same semantics for our purpose.
pub const STANDARD_AUTHORIZER_NAMES: [&str; 2] = [
    "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
    "kafka.security.authorizer.AclAuthorizer",
];

/// The SASL mechanisms Sluice serves.
pub const SASL_MECHANISMS_SERVED: [&str; 3] = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SecurityProtocol {
    #[default]
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn parse(text: &str) -> Result<SecurityProtocol, String> {
        match text.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Ok(SecurityProtocol::Plaintext),
            "SSL" => Ok(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Ok(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Ok(SecurityProtocol::SaslSsl),
            other => Err(format!(
                "unknown security protocol {other:?} (PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL)"
            )),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SecurityProtocol::Plaintext => "PLAINTEXT",
            SecurityProtocol::Ssl => "SSL",
            SecurityProtocol::SaslPlaintext => "SASL_PLAINTEXT",
            SecurityProtocol::SaslSsl => "SASL_SSL",
        }
    }

    pub fn uses_tls(self) -> bool {
        matches!(self, SecurityProtocol::Ssl | SecurityProtocol::SaslSsl)
    }

    pub fn uses_sasl(self) -> bool {
        matches!(
            self,
            SecurityProtocol::SaslPlaintext | SecurityProtocol::SaslSsl
        )
    }
}

impl std::fmt::Display for SecurityProtocol {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// A listener Kafka clients connect to, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientListener {
    /// Upper-cased listener name (`PLAINTEXT`, `SASL_SSL`, or a custom one).
    pub name: String,
    pub protocol: SecurityProtocol,
    pub address: SocketAddr,
    /// From `advertised.listeners` (the same name); None: the address a client reached.
    pub advertised: Option<Endpoint>,
}

/// `ssl.client.auth`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ClientAuth {
    #[default]
    None,
    Requested,
    Required,
}

impl ClientAuth {
    pub fn parse(text: &str) -> Result<ClientAuth, String> {
        match text.trim().to_ascii_lowercase().as_str() {
            "none" | "" => Ok(ClientAuth::None),
            "requested" => Ok(ClientAuth::Requested),
            "required" => Ok(ClientAuth::Required),
            other => Err(format!("{other:?}: expected none, requested or required")),
        }
    }
}

/// TLS settings, resolved; present when some listener uses TLS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsSettings {
    /// PEM: the private key and the certificate chain.
    pub keystore: PathBuf,
    /// PEM CA certificates that client certificates must chain to.
    pub truststore: Option<PathBuf>,
    pub client_auth: ClientAuth,
    /// `ssl.principal.mapping.rules`, as written (parsed by the security layer).
    pub principal_mapping_rules: String,
    pub tls12: bool,
    pub tls13: bool,
}

/// Every security setting, resolved.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SecuritySettings {
    pub tls: Option<TlsSettings>,
    /// Enabled SASL mechanisms, upper-cased, in the configured order.
    pub sasl_mechanisms: Vec<String>,
    /// `sasl.plain.users.file`: `name:password` lines for PLAIN.
    pub plain_users_file: Option<PathBuf>,
    /// `authorizer.class.name` names the standard authorizer: ACLs are enforced.
    pub authorizer_enabled: bool,
    /// `super.users`, e.g. `User:admin`.
    pub super_users: Vec<String>,
    pub allow_everyone_if_no_acl_found: bool,
    pub failed_authentication_delay_ms: u64,
    /// 0: sessions never expire (Kafka's default).
    pub max_reauth_ms: u64,
    /// The protocol this broker speaks to other brokers' inter-broker listener (the same
    /// listener name on every broker, as in Kafka).
    pub inter_broker_protocol: SecurityProtocol,
    /// On a SASL inter-broker listener: this broker's own login (None on a single node
    /// without a JAAS config: nothing else connects to it as a broker).
    pub inter_broker_login: Option<super::inter_broker::SaslLogin>,
    /// The controller listener maps to SSL: mutual TLS between controllers (`tls` holds
    /// the stores).
    pub controller_tls: bool,
}

/// `listener.security.protocol.map`: `NAME:PROTOCOL,...`. Kafka's default maps each protocol's
/// own name to itself, so `SASL_SSL://...` needs no entry; an explicit map replaces it.
pub fn parse_protocol_map(text: Option<&str>) -> Result<Vec<(String, SecurityProtocol)>, String> {
    let Some(text) = text.filter(|t| !t.trim().is_empty()) else {
        return Ok([
            SecurityProtocol::Plaintext,
            SecurityProtocol::Ssl,
            SecurityProtocol::SaslPlaintext,
            SecurityProtocol::SaslSsl,
        ]
        .iter()
        .map(|p| (p.name().to_string(), *p))
        .collect());
    };
    let mut map: Vec<(String, SecurityProtocol)> = Vec::new();
    for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let (name, protocol) = entry
            .split_once(':')
            .ok_or_else(|| format!("{entry:?}: expected LISTENER_NAME:PROTOCOL"))?;
        let name = name.trim().to_ascii_uppercase();
        if map.iter().any(|(n, _)| *n == name) {
            return Err(format!("listener name {name} appears twice"));
        }
        if map.len() == PROTOCOL_MAP_ENTRIES_MAX {
            return Err(format!("more than {PROTOCOL_MAP_ENTRIES_MAX} entries"));
        }
        map.push((name, SecurityProtocol::parse(protocol)?));
    }
    Ok(map)
}

/// The protocol of listener `name`, or why it has none.
pub fn protocol_of(
    map: &[(String, SecurityProtocol)],
    listener: &Listener,
) -> Result<SecurityProtocol, String> {
    map.iter()
        .find(|(name, _)| *name == listener.name)
        .map(|(_, protocol)| *protocol)
        .ok_or_else(|| {
            format!(
                "listener {listener}: its name is not in listener.security.protocol.map (add \
                 {}:SASL_SSL or another protocol)",
                listener.name
            )
        })
}

/// `super.users`: `User:a;User:b` (Kafka separates them with semicolons).
pub fn parse_super_users(text: &str) -> Result<Vec<String>, String> {
    let mut users = Vec::new();
    for user in text.split(';').map(str::trim).filter(|u| !u.is_empty()) {
        let Some((kind, name)) = user.split_once(':') else {
            return Err(format!("{user:?}: expected User:name"));
        };
        if kind.is_empty() || name.is_empty() {
            return Err(format!("{user:?}: expected User:name"));
        }
        if users.len() == SUPER_USERS_MAX {
            return Err(format!("more than {SUPER_USERS_MAX} super users"));
        }
        users.push(user.to_string());
    }
    Ok(users)
}

/// `sasl.enabled.mechanisms`: names Sluice serves, upper-cased; GSSAPI and OAUTHBEARER are
/// refused by name rather than silently never offered.
pub fn parse_mechanisms(text: &str) -> Result<Vec<String>, String> {
    let mut mechanisms: Vec<String> = Vec::new();
    for name in text.split(',').map(str::trim).filter(|m| !m.is_empty()) {
        let name = name.to_ascii_uppercase();
        if !SASL_MECHANISMS_SERVED.contains(&name.as_str()) {
            return Err(format!(
                "SASL mechanism {name} is not supported (Sluice serves {})",
                SASL_MECHANISMS_SERVED.join(", ")
            ));
        }
        if !mechanisms.contains(&name) {
            mechanisms.push(name);
        }
    }
    Ok(mechanisms)
}

/// `ssl.enabled.protocols`: which of TLSv1.2 and TLSv1.3 (rustls serves no older version).
pub fn parse_tls_versions(text: &str) -> Result<(bool, bool), String> {
    let (mut tls12, mut tls13) = (false, false);
    for version in text.split(',').map(str::trim).filter(|v| !v.is_empty()) {
        match version {
            "TLSv1.2" => tls12 = true,
            "TLSv1.3" => tls13 = true,
            other => {
                return Err(format!(
                    "{other}: only TLSv1.2 and TLSv1.3 are served (older versions are insecure)"
                ))
            }
        }
    }
    if !tls12 && !tls13 {
        return Err("enable TLSv1.2, TLSv1.3 or both".to_string());
    }
    Ok((tls12, tls13))
}

/// `ssl.keystore.type` / `ssl.truststore.type`: PEM only.
pub fn check_pem(kind: &str) -> Result<(), String> {
    if kind.trim().eq_ignore_ascii_case("PEM") {
        return Ok(());
    }
    Err(format!(
        "{kind}: only PEM stores are read; convert with `openssl pkcs12 -in store.p12 -nodes` \
         (key and certificate chain in one PEM file)"
    ))
}

/// `authorizer.class.name`: empty (no authorization) or the standard authorizer.
pub fn parse_authorizer(text: &str) -> Result<bool, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(false);
    }
    if STANDARD_AUTHORIZER_NAMES.contains(&text) {
        return Ok(true);
    }
    Err(format!(
        "{text}: the authorizer Sluice provides is {} (Kafka's StandardAuthorizer semantics)",
        STANDARD_AUTHORIZER_NAMES[0]
    ))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_default_map_names_each_protocol_after_itself() {
        let map = parse_protocol_map(None).unwrap();
        assert_eq!(map.len(), 4);
        let listener = Listener {
            name: "SASL_SSL".into(),
            endpoint: Endpoint::parse(":9094").unwrap(),
        };
        assert_eq!(
            protocol_of(&map, &listener).unwrap(),
            SecurityProtocol::SaslSsl
        );
    }

    #[test]
    fn a_custom_map_maps_custom_names_and_refuses_unknown_ones() {
        let map = parse_protocol_map(Some("EXTERNAL:SASL_SSL, internal:plaintext")).unwrap();
        let external = Listener {
            name: "EXTERNAL".into(),
            endpoint: Endpoint::parse(":9094").unwrap(),
        };
        assert_eq!(
            protocol_of(&map, &external).unwrap(),
            SecurityProtocol::SaslSsl
        );
        let other = Listener {
            name: "SSL".into(),
            endpoint: Endpoint::parse(":9093").unwrap(),
        };
        assert!(protocol_of(&map, &other)
            .unwrap_err()
            .contains("listener.security.protocol.map"));
        assert!(parse_protocol_map(Some("A:TLS")).is_err());
        assert!(parse_protocol_map(Some("A:SSL,a:SSL")).is_err());
    }

    #[test]
    fn super_users_mechanisms_versions_and_authorizer_parse_or_say_why_not() {
        assert_eq!(
            parse_super_users("User:admin; User:ops").unwrap(),
            vec!["User:admin", "User:ops"]
        );
        assert!(parse_super_users("admin").is_err());
        assert_eq!(
            parse_mechanisms("plain,SCRAM-SHA-512").unwrap(),
            vec!["PLAIN", "SCRAM-SHA-512"]
        );
        assert!(parse_mechanisms("GSSAPI").unwrap_err().contains("GSSAPI"));
        assert_eq!(parse_tls_versions("TLSv1.3").unwrap(), (false, true));
        assert!(parse_tls_versions("TLSv1.1").is_err());
        assert!(parse_authorizer("").is_ok_and(|on| !on));
        assert!(parse_authorizer(STANDARD_AUTHORIZER_NAMES[0]).is_ok_and(|on| on));
        assert!(parse_authorizer("com.example.Custom").is_err());
        assert!(check_pem("JKS").is_err());
        assert!(ClientAuth::parse("required").is_ok_and(|c| c == ClientAuth::Required));
    }
}

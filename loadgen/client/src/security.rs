//! How a connection secures itself, configured with librdkafka's property names (and, where
//! Kafka's Java tools name the same thing differently, theirs too):
//!
//! | property | values |
//! |---|---|
//! | `security.protocol` | `PLAINTEXT` (default), `SSL`, `SASL_PLAINTEXT`, `SASL_SSL` |
//! | `ssl.ca.location` (Java: `ssl.truststore.location`, PEM only) | CA certificates that sign the broker's |
//! | `ssl.certificate.location` + `ssl.key.location` | the client's certificate chain and key (mTLS) |
//! | `ssl.keystore.location` (Java, `ssl.keystore.type=PEM`) | key and chain in one PEM file |
//! | `sasl.mechanism` (also `sasl.mechanisms`) | `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` |
//! | `sasl.username`, `sasl.password` | the SASL credentials |
//! | `sasl.jaas.config` (Java) | `... required username="u" password="p";` |
//!
//! [`SecurityConfig`] holds the settings as given; [`SecurityConfig::build`] reads the PEM
//! files and returns the [`ClientSecurity`] that connections use. Without `ssl.ca.location` the
//! system's CA bundle is used, as librdkafka does.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::error::{Error, Result};

/// Certificates one PEM file may hold (a chain, or a CA bundle; Debian's has about 150).
pub const PEM_CERTIFICATES_MAX: usize = 1_000;
/// Lines of a properties file, and bytes of one value: config files are small.
pub const PROPERTIES_LINES_MAX: usize = 10_000;
pub const PROPERTY_VALUE_BYTES_MAX: usize = 64 * 1024;

/// System CA bundles tried, in order, when `ssl.ca.location` is not set (Debian and Ubuntu,
/// then Fedora and RHEL, then Alpine and openSUSE).
const SYSTEM_CA_BUNDLES: [&str; 3] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
];

/// Kafka's `security.protocol`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SecurityProtocol {
    #[default]
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    pub fn parse(text: &str) -> Option<SecurityProtocol> {
        match text.trim().to_ascii_uppercase().as_str() {
            "PLAINTEXT" => Some(SecurityProtocol::Plaintext),
            "SSL" => Some(SecurityProtocol::Ssl),
            "SASL_PLAINTEXT" => Some(SecurityProtocol::SaslPlaintext),
            "SASL_SSL" => Some(SecurityProtocol::SaslSsl),
            _ => None,
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

/// Kafka's `sasl.mechanism` values this client speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SaslMechanism {
    #[default]
    Plain,
    ScramSha256,
    ScramSha512,
}

impl SaslMechanism {
    /// Case-sensitive, as Kafka matches mechanism names.
    pub fn parse(text: &str) -> Option<SaslMechanism> {
        match text.trim() {
            "PLAIN" => Some(SaslMechanism::Plain),
            "SCRAM-SHA-256" => Some(SaslMechanism::ScramSha256),
            "SCRAM-SHA-512" => Some(SaslMechanism::ScramSha512),
            _ => None,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            SaslMechanism::Plain => "PLAIN",
            SaslMechanism::ScramSha256 => "SCRAM-SHA-256",
            SaslMechanism::ScramSha512 => "SCRAM-SHA-512",
        }
    }
}

/// A SASL identity. `Debug` leaves the password out.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslCredentials {
    pub mechanism: SaslMechanism,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for SaslCredentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SaslCredentials")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// The settings as configured (files not read yet). `Debug` leaves the password out.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SecurityConfig {
    pub protocol: SecurityProtocol,
    pub ssl_ca_location: Option<PathBuf>,
    pub ssl_certificate_location: Option<PathBuf>,
    pub ssl_key_location: Option<PathBuf>,
    pub sasl_mechanism: SaslMechanism,
    pub sasl_username: Option<String>,
    pub sasl_password: Option<String>,
}

impl fmt::Debug for SecurityConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecurityConfig")
            .field("protocol", &self.protocol)
            .field("ssl_ca_location", &self.ssl_ca_location)
            .field("ssl_certificate_location", &self.ssl_certificate_location)
            .field("ssl_key_location", &self.ssl_key_location)
            .field("sasl_mechanism", &self.sasl_mechanism)
            .field("sasl_username", &self.sasl_username)
            .finish_non_exhaustive()
    }
}

/// What [`SecurityConfig::build`] made: everything a connection needs, files already read.
pub struct ClientSecurity {
    pub protocol: SecurityProtocol,
    /// `Some` for SSL and SASL_SSL.
    pub tls: Option<Arc<ClientConfig>>,
    /// `Some` for SASL_PLAINTEXT and SASL_SSL.
    pub sasl: Option<SaslCredentials>,
}

impl fmt::Debug for ClientSecurity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientSecurity")
            .field("protocol", &self.protocol)
            .field("tls", &self.tls.is_some())
            .field("sasl", &self.sasl)
            .finish()
    }
}

fn config_error(message: impl Into<String>) -> Error {
    Error::Config(message.into())
}

impl SecurityConfig {
    /// Sets one property by its librdkafka (or Java) name. `Ok(false)`: not a security
    /// property (the caller decides whether that is an error); an unsupported value, or a
    /// security property this client does not implement, is an error.
    pub fn set(&mut self, key: &str, value: &str) -> Result<bool> {
        let value = value.trim();
        if value.len() > PROPERTY_VALUE_BYTES_MAX {
            return Err(config_error(format!(
                "{key}: value longer than {PROPERTY_VALUE_BYTES_MAX} bytes"
            )));
        }
        match key.trim() {
            "security.protocol" => {
                self.protocol = SecurityProtocol::parse(value).ok_or_else(|| {
                    config_error(format!(
                        "security.protocol={value}: expected PLAINTEXT, SSL, SASL_PLAINTEXT or \
                         SASL_SSL"
                    ))
                })?;
            }
            "ssl.ca.location" | "ssl.truststore.location" => {
                self.ssl_ca_location = Some(PathBuf::from(value));
            }
            "ssl.certificate.location" => {
                self.ssl_certificate_location = Some(PathBuf::from(value));
            }
            "ssl.key.location" => self.ssl_key_location = Some(PathBuf::from(value)),
            // Java's PEM keystore: the key and its chain in one file.
            "ssl.keystore.location" => {
                self.ssl_certificate_location = Some(PathBuf::from(value));
                self.ssl_key_location = Some(PathBuf::from(value));
            }
            "ssl.truststore.type" | "ssl.keystore.type" if value.eq_ignore_ascii_case("PEM") => {}
            "ssl.truststore.type" | "ssl.keystore.type" => {
                return Err(config_error(format!(
                    "{key}={value}: only PEM files are supported (convert with openssl)"
                )));
            }
            // Hostname verification is always on (the name is the host connected to).
            "ssl.endpoint.identification.algorithm" => {
                if !value.eq_ignore_ascii_case("https") {
                    return Err(config_error(format!(
                        "ssl.endpoint.identification.algorithm={value}: only https is \
                         supported: the broker's certificate must name the host connected to"
                    )));
                }
            }
            "sasl.mechanism" | "sasl.mechanisms" => {
                self.sasl_mechanism = SaslMechanism::parse(value).ok_or_else(|| {
                    config_error(format!(
                        "sasl.mechanism={value}: expected PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"
                    ))
                })?;
            }
            "sasl.username" => self.sasl_username = Some(value.to_string()),
            "sasl.password" => self.sasl_password = Some(value.to_string()),
            "sasl.jaas.config" => {
                let (username, password) = parse_jaas_config(value)?;
                self.sasl_username = Some(username);
                self.sasl_password = Some(password);
            }
            other if other.starts_with("ssl.") || other.starts_with("sasl.") => {
                return Err(config_error(format!(
                    "{other}: not supported by this client (supported: security.protocol, \
                     ssl.ca.location, ssl.certificate.location, ssl.key.location, \
                     sasl.mechanism, sasl.username, sasl.password, sasl.jaas.config)"
                )));
            }
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Reads `key=value` lines (Java properties without continuation lines: `#` and `!`
    /// start comments, `:` also separates). Returns the config and the keys that are not
    /// security properties, which the caller may report as ignored.
    pub fn from_properties(text: &str) -> Result<(SecurityConfig, Vec<String>)> {
        let mut config = SecurityConfig::default();
        let mut ignored = Vec::new();
        for (number, line) in text.lines().enumerate() {
            if number >= PROPERTIES_LINES_MAX {
                return Err(config_error(format!(
                    "more than {PROPERTIES_LINES_MAX} lines"
                )));
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') || line.starts_with('!') {
                continue;
            }
            let Some((key, value)) = line.split_once(['=', ':']) else {
                return Err(config_error(format!(
                    "line {}: expected key=value, got {:?}",
                    number + 1,
                    line.chars().take(40).collect::<String>()
                )));
            };
            if !config
                .set(key, value)
                .map_err(|e| config_error(format!("line {}: {}", number + 1, strip(&e))))?
            {
                ignored.push(key.trim().to_string());
            }
        }
        Ok((config, ignored))
    }

    /// As [`Self::from_properties`], from a file.
    pub fn from_properties_file(path: &Path) -> Result<(SecurityConfig, Vec<String>)> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| config_error(format!("{}: {e}", path.display())))?;
        SecurityConfig::from_properties(&text)
            .map_err(|e| config_error(format!("{}: {}", path.display(), strip(&e))))
    }

    /// Checks the combination and reads the PEM files.
    pub fn build(&self) -> Result<ClientSecurity> {
        let protocol = self.protocol;
        let sasl = if protocol.uses_sasl() {
            let (Some(username), Some(password)) = (&self.sasl_username, &self.sasl_password)
            else {
                return Err(config_error(format!(
                    "security.protocol={} needs sasl.username and sasl.password",
                    protocol.name()
                )));
            };
            if username.is_empty() || password.is_empty() {
                return Err(config_error(
                    "sasl.username and sasl.password must not be empty",
                ));
            }
            Some(SaslCredentials {
                mechanism: self.sasl_mechanism,
                username: username.clone(),
                password: password.clone(),
            })
        } else {
            None
        };
        let tls = if protocol.uses_tls() {
            Some(self.tls_config()?)
        } else {
            None
        };
        Ok(ClientSecurity {
            protocol,
            tls,
            sasl,
        })
    }

    fn tls_config(&self) -> Result<Arc<ClientConfig>> {
        let mut roots = RootCertStore::empty();
        let ca = match &self.ssl_ca_location {
            Some(path) => path.clone(),
            None => system_ca_bundle()?,
        };
        for certificate in read_certificates(&ca, "ssl.ca.location")? {
            roots
                .add(certificate)
                .map_err(|e| config_error(format!("ssl.ca.location {}: {e}", ca.display())))?;
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| config_error(format!("TLS: {e}")))?
            .with_root_certificates(roots);
        let config = match (&self.ssl_certificate_location, &self.ssl_key_location) {
            (None, None) => builder.with_no_client_auth(),
            (Some(certificate), Some(key)) => {
                let chain = read_certificates(certificate, "ssl.certificate.location")?;
                let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
                    config_error(format!(
                        "ssl.key.location {}: no usable private key (PKCS#8, PKCS#1 or SEC1 \
                         PEM, unencrypted): {e}",
                        key.display()
                    ))
                })?;
                builder.with_client_auth_cert(chain, key).map_err(|e| {
                    config_error(format!(
                        "ssl.key.location: the key does not fit the certificate: {e}"
                    ))
                })?
            }
            _ => {
                return Err(config_error(
                    "ssl.certificate.location and ssl.key.location go together",
                ))
            }
        };
        Ok(Arc::new(config))
    }
}

/// An error's text without the `configuration error: ` prefix, to nest it in another.
fn strip(error: &Error) -> String {
    match error {
        Error::Config(message) => message.clone(),
        other => other.to_string(),
    }
}

fn system_ca_bundle() -> Result<PathBuf> {
    SYSTEM_CA_BUNDLES
        .iter()
        .map(PathBuf::from)
        .find(|path| path.is_file())
        .ok_or_else(|| {
            config_error(format!(
                "TLS needs ssl.ca.location: no system CA bundle at {}",
                SYSTEM_CA_BUNDLES.join(", ")
            ))
        })
}

fn read_certificates(path: &Path, property: &str) -> Result<Vec<CertificateDer<'static>>> {
    let iter = CertificateDer::pem_file_iter(path).map_err(|e| {
        config_error(format!(
            "{property} {}: cannot read certificates: {e}",
            path.display()
        ))
    })?;
    let mut certificates = Vec::new();
    for certificate in iter {
        let certificate = certificate.map_err(|e| {
            config_error(format!(
                "{property} {}: bad PEM certificate: {e}",
                path.display()
            ))
        })?;
        if certificates.len() == PEM_CERTIFICATES_MAX {
            return Err(config_error(format!(
                "{property} {}: more than {PEM_CERTIFICATES_MAX} certificates",
                path.display()
            )));
        }
        certificates.push(certificate);
    }
    if certificates.is_empty() {
        return Err(config_error(format!(
            "{property} {}: holds no PEM certificate",
            path.display()
        )));
    }
    Ok(certificates)
}

/// `username` and `password` of a Java `sasl.jaas.config`:
/// `org.apache.kafka.common.security.scram.ScramLoginModule required username="alice"
/// password="alice-secret";` Values may be quoted (with `\"` and `\\` escapes) or bare.
pub fn parse_jaas_config(text: &str) -> Result<(String, String)> {
    let bad = |why: &str| config_error(format!("sasl.jaas.config: {why}"));
    let text = text.trim();
    let text = text.strip_suffix(';').unwrap_or(text);
    let mut words = text.splitn(3, char::is_whitespace);
    let _login_module = words.next().filter(|w| !w.is_empty());
    let flag = words.next().unwrap_or_default();
    if !["required", "requisite", "sufficient", "optional"].contains(&flag) {
        return Err(bad("expected `<LoginModule> required key=\"value\" ...;`"));
    }
    let mut options = words.next().unwrap_or_default().trim_start();
    let (mut username, mut password) = (None, None);
    while !options.is_empty() {
        let (key, rest) = options
            .split_once('=')
            .ok_or_else(|| bad("an option without `=`"))?;
        let (value, rest) = jaas_value(rest.trim_start()).ok_or_else(|| bad("unclosed quote"))?;
        match key.trim() {
            "username" => username = Some(value),
            "password" => password = Some(value),
            _ => {}
        }
        options = rest.trim_start();
    }
    match (username, password) {
        (Some(u), Some(p)) => Ok((u, p)),
        _ => Err(bad("needs username=\"...\" and password=\"...\"")),
    }
}

/// One option value and the text after it: `"quoted \" text"` or a bare word.
fn jaas_value(text: &str) -> Option<(String, &str)> {
    let Some(quoted) = text.strip_prefix('"') else {
        let end = text.find(char::is_whitespace).unwrap_or(text.len());
        return Some((text[..end].to_string(), &text[end..]));
    };
    let mut value = String::new();
    let mut chars = quoted.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Some((value, &quoted[i + 1..])),
            '\\' => value.push(chars.next()?.1),
            c => value.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn librdkafka_properties_fill_the_config() {
        let text = "# client.properties\n\
                    security.protocol=SASL_SSL\n\
                    sasl.mechanism = SCRAM-SHA-512\n\
                    sasl.username=alice\n\
                    sasl.password=s3cr=t\n\
                    ssl.ca.location=/etc/ca.pem\n\
                    request.timeout.ms=30000\n";
        let (config, ignored) = SecurityConfig::from_properties(text).expect("parses");
        assert_eq!(config.protocol, SecurityProtocol::SaslSsl);
        assert_eq!(config.sasl_mechanism, SaslMechanism::ScramSha512);
        assert_eq!(config.sasl_username.as_deref(), Some("alice"));
        assert_eq!(
            config.sasl_password.as_deref(),
            Some("s3cr=t"),
            "only the first = separates"
        );
        assert_eq!(config.ssl_ca_location, Some(PathBuf::from("/etc/ca.pem")));
        assert_eq!(ignored, vec!["request.timeout.ms".to_string()]);
        assert!(!format!("{config:?}").contains("s3cr"), "Debug hides it");
    }

    #[test]
    fn java_names_are_understood() {
        let text = "security.protocol=SASL_PLAINTEXT\n\
                    sasl.mechanism=SCRAM-SHA-256\n\
                    sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule \
                    required username=\"admin\" password=\"a \\\"quoted\\\" pw\";\n\
                    ssl.truststore.type=PEM\n\
                    ssl.truststore.location=/ca.pem\n";
        let (config, ignored) = SecurityConfig::from_properties(text).expect("parses");
        assert!(ignored.is_empty());
        assert_eq!(config.sasl_username.as_deref(), Some("admin"));
        assert_eq!(config.sasl_password.as_deref(), Some("a \"quoted\" pw"));
        assert_eq!(config.ssl_ca_location, Some(PathBuf::from("/ca.pem")));
        let security = config.build().expect("no TLS, nothing to read");
        assert_eq!(
            security.sasl.map(|s| s.mechanism),
            Some(SaslMechanism::ScramSha256)
        );
        assert!(security.tls.is_none());
    }

    #[test]
    fn bad_values_are_named() {
        let refused = |text: &str| match SecurityConfig::from_properties(text) {
            Ok(_) => String::new(),
            Err(e) => e.to_string(),
        };
        assert!(refused("security.protocol=TLS").contains("security.protocol=TLS"));
        assert!(refused("sasl.mechanism=GSSAPI").contains("expected PLAIN"));
        assert!(refused("ssl.truststore.type=JKS").contains("only PEM"));
        assert!(refused("ssl.cipher.suites=x").contains("not supported"));
        assert!(refused("just words").contains("line 1: expected key=value"));
        let jaas = "sasl.jaas.config=Module required username=\"u\";";
        assert!(refused(jaas).contains("needs username"));
        let no_password = SecurityConfig {
            protocol: SecurityProtocol::SaslPlaintext,
            sasl_username: Some("u".into()),
            ..SecurityConfig::default()
        };
        let error = no_password.build().map(|_| ()).map_err(|e| e.to_string());
        assert_eq!(
            error,
            Err(
                "configuration error: security.protocol=SASL_PLAINTEXT needs sasl.username \
                 and sasl.password"
                    .into()
            )
        );
    }

    #[test]
    fn missing_ca_file_is_named() {
        let config = SecurityConfig {
            protocol: SecurityProtocol::Ssl,
            ssl_ca_location: Some(PathBuf::from("/nonexistent/ca.pem")),
            ..SecurityConfig::default()
        };
        let error = config.build().map(|_| ()).map_err(|e| e.to_string());
        let text = error.expect_err("no such file");
        assert!(
            text.contains("ssl.ca.location /nonexistent/ca.pem"),
            "{text}"
        );
    }

    #[test]
    fn jaas_bare_values_and_flags() {
        assert_eq!(
            parse_jaas_config("M optional password=p username=u").ok(),
            Some(("u".to_string(), "p".to_string()))
        );
        assert!(parse_jaas_config("M always username=u password=p;").is_err());
        assert!(parse_jaas_config("M required username=\"u password=p;").is_err());
    }
}

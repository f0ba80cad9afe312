//! The broker's own credentials on the inter-broker listener, with Kafka's names:
//! `sasl.mechanism.inter.broker.protocol` and the JAAS login of that mechanism,
//! `listener.name.<listener>.<mechanism>.sasl.jaas.config` (both lower-cased) or the plain
//! `sasl.jaas.config`, e.g.
//!
//! ```text
//! org.apache.kafka.common.security.scram.ScramLoginModule required
//!     username="broker" password="broker-secret";
//! ```
//!
//! Only the two login modules Kafka uses for PLAIN and SCRAM are read, and only their
//! `username` and `password` options; anything else in the text is refused at start, so a
//! typo never becomes a broker that silently cannot replicate.

use std::fmt;

/// Longest `sasl.jaas.config` value read.
pub const JAAS_CONFIG_BYTES_MAX: usize = 4_096;

/// Options one JAAS login entry may carry.
pub const JAAS_OPTIONS_MAX: usize = 32;

/// Kafka's login module for SASL/PLAIN.
pub const PLAIN_LOGIN_MODULE: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
/// Kafka's login module for SCRAM-SHA-256 and SCRAM-SHA-512.
pub const SCRAM_LOGIN_MODULE: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

/// How this broker authenticates to the other brokers' inter-broker listener.
#[derive(Clone, PartialEq, Eq)]
pub struct SaslLogin {
    /// `PLAIN`, `SCRAM-SHA-256` or `SCRAM-SHA-512`.
    pub mechanism: String,
    pub username: String,
    pub password: String,
}

impl fmt::Debug for SaslLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The password never reaches a log line.
        f.debug_struct("SaslLogin")
            .field("mechanism", &self.mechanism)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// `sasl.mechanism.inter.broker.protocol`: a mechanism Sluice can speak as a client. Kafka's
/// default is GSSAPI (Kerberos), which Sluice does not have; its default is PLAIN.
pub fn parse_inter_broker_mechanism(text: &str) -> Result<String, String> {
    let name = text.trim().to_ascii_uppercase();
    match name.as_str() {
        "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512" => Ok(name),
        _ => Err(format!(
            "{name}: brokers authenticate to each other with PLAIN, SCRAM-SHA-256 or \
             SCRAM-SHA-512 (GSSAPI and OAUTHBEARER are not supported)"
        )),
    }
}

/// The JAAS key read for `listener` (upper-cased name) and `mechanism`.
pub fn listener_jaas_key(listener: &str, mechanism: &str) -> String {
    format!(
        "listener.name.{}.{}.sasl.jaas.config",
        listener.to_ascii_lowercase(),
        mechanism.to_ascii_lowercase()
    )
}

/// Whether `key` is a per-listener JAAS key (`listener.name.X.Y.sasl.jaas.config`).
pub fn is_listener_jaas_key(key: &str) -> bool {
    key.starts_with("listener.name.") && key.ends_with(".sasl.jaas.config")
}

/// The username and password of a JAAS login entry for `mechanism`.
pub fn parse_jaas_login(text: &str, mechanism: &str) -> Result<SaslLogin, String> {
    if text.len() > JAAS_CONFIG_BYTES_MAX {
        return Err(format!("longer than {JAAS_CONFIG_BYTES_MAX} bytes"));
    }
    let tokens = tokenize(text)?;
    let mut tokens = tokens.into_iter();
    let module = match tokens.next() {
        Some(Token::Word(module)) => module,
        _ => return Err("expected a login module class name first".to_string()),
    };
    let expected = if mechanism == "PLAIN" {
        PLAIN_LOGIN_MODULE
    } else {
        SCRAM_LOGIN_MODULE
    };
    if module != expected {
        return Err(format!("{module}: {mechanism} logs in with {expected}"));
    }
    match tokens.next() {
        Some(Token::Word(flag))
            if ["required", "requisite", "sufficient", "optional"]
                .contains(&flag.to_ascii_lowercase().as_str()) => {}
        _ => return Err("expected a control flag (required) after the login module".to_string()),
    }
    let (mut username, mut password) = (None, None);
    let mut options = 0;
    loop {
        let name = match tokens.next() {
            Some(Token::Semicolon) => break,
            Some(Token::Word(name)) => name,
            _ => return Err("expected key=\"value\" options ending with ';'".to_string()),
        };
        if tokens.next() != Some(Token::Equals) {
            return Err(format!("option {name}: expected '=' and a value"));
        }
        let value = match tokens.next() {
            Some(Token::Word(value)) | Some(Token::Quoted(value)) => value,
            _ => return Err(format!("option {name}: expected a value")),
        };
        options += 1;
        if options > JAAS_OPTIONS_MAX {
            return Err(format!("more than {JAAS_OPTIONS_MAX} options"));
        }
        match name.as_str() {
            "username" => username = Some(value),
            "password" => password = Some(value),
            // Kafka's own modules take other options (e.g. `user_<name>` on a server's
            // PLAIN entry, `tokenauth`); they say nothing about our login, so pass.
            _ => {}
        }
    }
    if tokens.next().is_some() {
        return Err("one login module entry only (text after ';')".to_string());
    }
    let username = username.filter(|u| !u.is_empty());
    let password = password.filter(|p| !p.is_empty());
    match (username, password) {
        (Some(username), Some(password)) => Ok(SaslLogin {
            mechanism: mechanism.to_string(),
            username,
            password,
        }),
        _ => Err("needs a non-empty username=\"...\" and password=\"...\"".to_string()),
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Token {
    Word(String),
    Quoted(String),
    Equals,
    Semicolon,
}

/// Splits JAAS text as Java's parser does for what we read: words, `"quoted"` values with
/// `\"` and `\\` escapes, `=` and `;`.
fn tokenize(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
        } else if c == '=' {
            chars.next();
            tokens.push(Token::Equals);
        } else if c == ';' {
            chars.next();
            tokens.push(Token::Semicolon);
        } else if c == '"' {
            chars.next();
            let mut value = String::new();
            loop {
                match chars.next() {
                    None => return Err("a quoted value is not closed".to_string()),
                    Some('"') => break,
                    Some('\\') => match chars.next() {
                        Some(escaped) => value.push(escaped),
                        None => return Err("a quoted value is not closed".to_string()),
                    },
                    Some(other) => value.push(other),
                }
            }
            tokens.push(Token::Quoted(value));
        } else {
            let mut word = String::new();
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() || c == '=' || c == ';' || c == '"' {
                    break;
                }
                word.push(c);
                chars.next();
            }
            tokens.push(Token::Word(word));
        }
    }
    Ok(tokens)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_scram_login_gives_its_username_and_password() {
        let login = parse_jaas_login(
            "org.apache.kafka.common.security.scram.ScramLoginModule required \
             username=\"broker\" password=\"broker-secret\";",
            "SCRAM-SHA-512",
        )
        .unwrap();
        assert_eq!(login.username, "broker");
        assert_eq!(login.password, "broker-secret");
        assert_eq!(login.mechanism, "SCRAM-SHA-512");
        assert!(!format!("{login:?}").contains("broker-secret"));
    }

    #[test]
    fn escapes_unquoted_values_and_other_options_are_read() {
        let login = parse_jaas_login(
            "org.apache.kafka.common.security.plain.PlainLoginModule required\n  \
             username=admin password=\"a \\\"quoted\\\" pass;word\" user_admin=\"x\" ;",
            "PLAIN",
        )
        .unwrap();
        assert_eq!(login.username, "admin");
        assert_eq!(login.password, "a \"quoted\" pass;word");
    }

    #[test]
    fn malformed_logins_say_why() {
        let plain = PLAIN_LOGIN_MODULE;
        let cases = [
            ("", "login module"),
            (
                &format!("{plain} required username=\"a\";") as &str,
                "password",
            ),
            (
                &format!("{plain} username=\"a\" password=\"b\";"),
                "control flag",
            ),
            (
                &format!("{plain} required username=\"a\" password=\"b\""),
                "';'",
            ),
            (
                &format!("{plain} required username=\"a password=b;"),
                "not closed",
            ),
            (&format!("{plain} required username \"a\";"), "'='"),
            (
                &format!("{plain} required username=\"a\" password=\"b\"; x"),
                "one login module",
            ),
            (
                &format!("{SCRAM_LOGIN_MODULE} required username=\"a\" password=\"b\";"),
                "PLAIN logs in with",
            ),
        ];
        for (text, reason) in cases {
            let err = parse_jaas_login(text, "PLAIN").unwrap_err();
            assert!(err.contains(reason), "{text:?}: {err}");
        }
        let long = format!("{plain} required username=\"{}\";", "a".repeat(5000));
        assert!(parse_jaas_login(&long, "PLAIN")
            .unwrap_err()
            .contains("longer"));
    }

    #[test]
    fn the_mechanism_is_one_sluice_speaks() {
        assert_eq!(
            parse_inter_broker_mechanism("scram-sha-256").unwrap(),
            "SCRAM-SHA-256"
        );
        assert!(parse_inter_broker_mechanism("GSSAPI")
            .unwrap_err()
            .contains("GSSAPI"));
        assert!(parse_inter_broker_mechanism("OAUTHBEARER").is_err());
        assert_eq!(
            listener_jaas_key("SASL_SSL", "SCRAM-SHA-512"),
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"
        );
        assert!(is_listener_jaas_key(
            "listener.name.internal.plain.sasl.jaas.config"
        ));
        assert!(!is_listener_jaas_key(
            "listener.name.internal.ssl.keystore.location"
        ));
    }
}

//! `KafkaPrincipal`: who a connection authenticated as, written `Type:name` ("User:alice").
//!
//! Kafka parses the string form by splitting at the first colon (`SecurityUtils
//! .parseKafkaPrincipal`): the type never contains a colon, the name may ("User:a:b" is type
//! "User", name "a:b"). An empty string or one without a colon is refused; an empty type or
//! name is not.

use std::fmt;

/// The principal type of every authenticated user (SASL, TLS) and of unauthenticated clients.
pub const USER_TYPE: &str = "User";
/// The name Kafka gives unauthenticated connections (PLAINTEXT, or TLS without client auth).
pub const ANONYMOUS_NAME: &str = "ANONYMOUS";
/// The principal string that in an ACL stands for every user (`User:*`).
pub const WILDCARD_PRINCIPAL: &str = "User:*";

#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KafkaPrincipal {
    pub principal_type: String,
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("expected a string in format principalType:principalName but got {0:?}")]
pub struct PrincipalParseError(pub String);

impl KafkaPrincipal {
    /// `User:<name>`.
    pub fn user(name: &str) -> KafkaPrincipal {
        KafkaPrincipal {
            principal_type: USER_TYPE.to_string(),
            name: name.to_string(),
        }
    }

    /// `User:ANONYMOUS`.
    pub fn anonymous() -> KafkaPrincipal {
        KafkaPrincipal::user(ANONYMOUS_NAME)
    }

    /// Kafka's `parseKafkaPrincipal`: split at the first colon.
    pub fn parse(text: &str) -> Result<KafkaPrincipal, PrincipalParseError> {
        match text.split_once(':') {
            Some((principal_type, name)) if !text.is_empty() => Ok(KafkaPrincipal {
                principal_type: principal_type.to_string(),
                name: name.to_string(),
            }),
            _ => Err(PrincipalParseError(text.to_string())),
        }
    }

    /// Whether `text` is this principal's string form, without allocating: the authorizer
    /// compares every candidate ACL's principal this way.
    pub fn is_written_as(&self, text: &str) -> bool {
        let type_len = self.principal_type.len();
        text.len() == type_len + 1 + self.name.len()
            && text.starts_with(self.principal_type.as_str())
            && text.as_bytes()[type_len] == b':'
            && text.ends_with(self.name.as_str())
    }
}

impl fmt::Display for KafkaPrincipal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.principal_type, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_splits_at_the_first_colon() {
        let p = KafkaPrincipal::parse("User:a:b").expect("parses");
        assert_eq!(p.principal_type, "User");
        assert_eq!(p.name, "a:b");
        assert_eq!(p.to_string(), "User:a:b");
        assert_eq!(KafkaPrincipal::parse("User:").expect("parses").name, "");
        assert!(KafkaPrincipal::parse("").is_err());
        assert!(KafkaPrincipal::parse("alice").is_err());
    }

    #[test]
    fn anonymous_and_written_form() {
        let anonymous = KafkaPrincipal::anonymous();
        assert_eq!(anonymous.to_string(), "User:ANONYMOUS");
        assert!(anonymous.is_written_as("User:ANONYMOUS"));
        assert!(!anonymous.is_written_as("User:ANONYMOUSx"));
        assert!(!anonymous.is_written_as("UserXANONYMOUS"));
        assert!(!KafkaPrincipal::user("*").is_written_as("User:alice"));
        assert!(KafkaPrincipal::user("*").is_written_as(WILDCARD_PRINCIPAL));
    }
}

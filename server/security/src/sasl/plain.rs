//! SASL/PLAIN (RFC 4616): the client's one message is `[authzid] NUL authcid NUL passwd`.
//!
//! Kafka's PlainSaslServer rules, kept here: exactly three fields; an empty user name or
//! password is refused; the password is checked before the authzid; an authzid, if given,
//! must equal the user name (no impersonation). Errors never carry the password.

use std::fmt;

use crate::limits::{PLAIN_FIELD_BYTES_MAX, PLAIN_MESSAGE_BYTES_MAX};

/// A parsed PLAIN message. The password is reachable only through [`PlainMessage::password`]
/// and is left out of `Debug`.
#[derive(Clone, PartialEq, Eq)]
pub struct PlainMessage {
    pub authzid: String,
    pub username: String,
    password: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlainError {
    #[error("Invalid SASL/PLAIN response: {bytes} bytes exceed {PLAIN_MESSAGE_BYTES_MAX}")]
    MessageTooLong { bytes: usize },
    #[error("Invalid SASL/PLAIN response: a field exceeds {PLAIN_FIELD_BYTES_MAX} bytes")]
    FieldTooLong,
    #[error("Invalid SASL/PLAIN response: not UTF-8")]
    NotUtf8,
    #[error("Invalid SASL/PLAIN response: expected 3 tokens, got {tokens}")]
    TokenCount { tokens: usize },
    #[error("Authentication failed: username not specified")]
    EmptyUsername,
    #[error("Authentication failed: password not specified")]
    EmptyPassword,
    #[error("Authentication failed: Invalid username or password")]
    InvalidCredentials,
    #[error(
        "Authentication failed: Client requested an authorization id that is different from \
         username"
    )]
    AuthzidMismatch,
}

impl PlainMessage {
    pub fn new(authzid: &str, username: &str, password: &str) -> PlainMessage {
        PlainMessage {
            authzid: authzid.to_string(),
            username: username.to_string(),
            password: password.to_string(),
        }
    }

    /// Parses a client's message. Only the framing and Kafka's emptiness rules are checked
    /// here; [`PlainMessage::authenticate`] checks the credentials and the authzid.
    pub fn parse(message: &[u8]) -> Result<PlainMessage, PlainError> {
        if message.len() > PLAIN_MESSAGE_BYTES_MAX {
            return Err(PlainError::MessageTooLong {
                bytes: message.len(),
            });
        }
        let text = std::str::from_utf8(message).map_err(|_| PlainError::NotUtf8)?;
        let fields: Vec<&str> = text.split('\0').collect();
        let [authzid, username, password] = fields.as_slice() else {
            // Kafka splits at most four times, so it reports 4 for anything longer.
            return Err(PlainError::TokenCount {
                tokens: fields.len().min(4),
            });
        };
        if fields
            .iter()
            .any(|field| field.len() > PLAIN_FIELD_BYTES_MAX)
        {
            return Err(PlainError::FieldTooLong);
        }
        if username.is_empty() {
            return Err(PlainError::EmptyUsername);
        }
        if password.is_empty() {
            return Err(PlainError::EmptyPassword);
        }
        Ok(PlainMessage::new(authzid, username, password))
    }

    pub fn password(&self) -> &str {
        &self.password
    }

    /// The message bytes a client sends.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.authzid.len() + self.username.len() + 2);
        out.extend_from_slice(self.authzid.as_bytes());
        out.push(0);
        out.extend_from_slice(self.username.as_bytes());
        out.push(0);
        out.extend_from_slice(self.password.as_bytes());
        out
    }

    /// Kafka's order: `verify(username, password)` first, then the authzid rule. Returns
    /// the authenticated user name (the principal is `User:<name>`).
    pub fn authenticate(
        &self,
        verify: impl FnOnce(&str, &str) -> bool,
    ) -> Result<String, PlainError> {
        if !verify(&self.username, &self.password) {
            return Err(PlainError::InvalidCredentials);
        }
        if !self.authzid.is_empty() && self.authzid != self.username {
            return Err(PlainError::AuthzidMismatch);
        }
        Ok(self.username.clone())
    }
}

impl fmt::Debug for PlainMessage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainMessage")
            .field("authzid", &self.authzid)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept_secret(user: &str, password: &str) -> bool {
        user == "alice" && password == "s3cret"
    }

    #[test]
    fn parses_with_and_without_authzid() {
        let m = PlainMessage::parse(b"\0alice\0s3cret").expect("parses");
        assert_eq!(m.authzid, "");
        assert_eq!(m.username, "alice");
        assert_eq!(m.password(), "s3cret");
        assert_eq!(m.authenticate(accept_secret), Ok("alice".to_string()));
        let m = PlainMessage::parse(b"alice\0alice\0s3cret").expect("parses");
        assert_eq!(m.authenticate(accept_secret), Ok("alice".to_string()));
        assert_eq!(PlainMessage::parse(&m.to_bytes()), Ok(m));
    }

    #[test]
    fn kafka_refusals() {
        assert_eq!(
            PlainMessage::parse(b"alice\0s3cret"),
            Err(PlainError::TokenCount { tokens: 2 })
        );
        assert_eq!(
            PlainMessage::parse(b"\0a\0b\0c\0d"),
            Err(PlainError::TokenCount { tokens: 4 })
        );
        assert_eq!(
            PlainMessage::parse(b"\0\0pw"),
            Err(PlainError::EmptyUsername)
        );
        assert_eq!(
            PlainMessage::parse(b"\0alice\0"),
            Err(PlainError::EmptyPassword)
        );
        assert_eq!(
            PlainMessage::parse(b"\0al\xffce\0pw"),
            Err(PlainError::NotUtf8)
        );
        let long = vec![b'a'; PLAIN_MESSAGE_BYTES_MAX + 1];
        assert!(matches!(
            PlainMessage::parse(&long),
            Err(PlainError::MessageTooLong { .. })
        ));
        let mut field_too_long = b"\0".to_vec();
        field_too_long.extend(vec![b'a'; PLAIN_FIELD_BYTES_MAX + 1]);
        field_too_long.extend(b"\0pw");
        assert_eq!(
            PlainMessage::parse(&field_too_long),
            Err(PlainError::FieldTooLong)
        );
    }

    #[test]
    fn wrong_password_is_checked_before_the_authzid() {
        let m = PlainMessage::parse(b"bob\0alice\0wrong").expect("parses");
        assert_eq!(
            m.authenticate(accept_secret),
            Err(PlainError::InvalidCredentials)
        );
        let m = PlainMessage::parse(b"bob\0alice\0s3cret").expect("parses");
        assert_eq!(
            m.authenticate(accept_secret),
            Err(PlainError::AuthzidMismatch)
        );
    }

    #[test]
    fn errors_and_debug_never_show_the_password() {
        let m = PlainMessage::parse(b"bob\0alice\0hunter2").expect("parses");
        assert!(!format!("{m:?}").contains("hunter2"));
        let error = m.authenticate(|_, _| false).expect_err("refused");
        assert!(!error.to_string().contains("hunter2"));
    }
}

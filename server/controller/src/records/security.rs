//! What the security records carry: SCRAM credential material and ACL entries, with Kafka's
//! numeric codes kept raw (this crate knows no SCRAM or ACL semantics beyond which codes are
//! concrete; `sluice-security` owns those).

use serde::{Deserialize, Serialize};

/// Kafka's `ScramMechanism` codes (`ScramMechanism.type()`).
pub const SCRAM_SHA_256: i8 = 1;
pub const SCRAM_SHA_512: i8 = 2;

/// The digest length of a SCRAM mechanism: the length of its StoredKey and ServerKey. `None`
/// for a code that is no mechanism (Kafka's `ScramMechanism.UNKNOWN`, 0, and anything else).
pub fn scram_key_bytes(mechanism: i8) -> Option<usize> {
    match mechanism {
        SCRAM_SHA_256 => Some(32),
        SCRAM_SHA_512 => Some(64),
        _ => None,
    }
}

/// The name of a SCRAM mechanism, for messages.
pub fn scram_mechanism_name(mechanism: i8) -> &'static str {
    match mechanism {
        SCRAM_SHA_256 => "SCRAM-SHA-256",
        SCRAM_SHA_512 => "SCRAM-SHA-512",
        _ => "an unknown SCRAM mechanism",
    }
}

/// Kafka's `ResourceType` codes that name a resource (not UNKNOWN 0 or ANY 1): TOPIC 2,
/// GROUP 3, CLUSTER 4, TRANSACTIONAL_ID 5, DELEGATION_TOKEN 6, USER 7.
pub const ACL_RESOURCE_TYPES: std::ops::RangeInclusive<i8> = 2..=7;
/// Kafka's `PatternType` codes an ACL may have (not UNKNOWN 0, ANY 1 or MATCH 2): LITERAL 3,
/// PREFIXED 4.
pub const ACL_PATTERN_TYPES: std::ops::RangeInclusive<i8> = 3..=4;
/// Kafka's `AclOperation` codes an ACL may grant (not UNKNOWN 0 or ANY 1): ALL 2 through
/// DESCRIBE_TOKENS 14.
pub const ACL_OPERATIONS: std::ops::RangeInclusive<i8> = 2..=14;
/// Kafka's `AclPermissionType` codes an ACL may have (not UNKNOWN 0 or ANY 1): DENY 2, ALLOW 3.
pub const ACL_PERMISSION_TYPES: std::ops::RangeInclusive<i8> = 2..=3;

/// An ACL's id (Kafka's `Uuid` of an `AccessControlEntryRecord`), written as 32 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AclId(pub u128);

impl Serialize for AclId {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&format!("{:032x}", self.0))
    }
}

impl<'de> Deserialize<'de> for AclId {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        u128::from_str_radix(&text, 16)
            .map(AclId)
            .map_err(serde::de::Error::custom)
    }
}

/// One ACL binding (Kafka's `StandardAcl`): who (`principal`, e.g. `User:alice`, from `host`
/// or `*`) may or may not (`permission_type`) do `operation` on the resources that
/// `resource_type`, `resource_name` and `pattern_type` select. Codes are Kafka's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AclEntry {
    pub resource_type: i8,
    pub resource_name: String,
    pub pattern_type: i8,
    pub principal: String,
    pub host: String,
    pub operation: i8,
    pub permission_type: i8,
}

impl AclEntry {
    /// The first reason the entry is not a concrete binding (Kafka's
    /// `AclControlManager.validateNewAcl`): a type, pattern, operation or permission that is
    /// UNKNOWN, ANY or MATCH, or an empty resource name or principal.
    pub fn not_concrete(&self) -> Option<String> {
        if !ACL_RESOURCE_TYPES.contains(&self.resource_type) {
            return Some(format!("invalid resource type {}", self.resource_type));
        }
        if !ACL_PATTERN_TYPES.contains(&self.pattern_type) {
            return Some(format!("invalid pattern type {}", self.pattern_type));
        }
        if !ACL_OPERATIONS.contains(&self.operation) {
            return Some(format!("invalid operation {}", self.operation));
        }
        if !ACL_PERMISSION_TYPES.contains(&self.permission_type) {
            return Some(format!("invalid permission type {}", self.permission_type));
        }
        if self.resource_name.is_empty() {
            return Some("resource name should not be empty".to_string());
        }
        if self.principal.is_empty() {
            return Some("principal should not be empty".to_string());
        }
        None
    }
}

/// Secret bytes (a SCRAM salt, StoredKey or ServerKey): hex in JSON, and never printed by
/// `Debug` (Kafka's `ScramCredentialValue.toString` hides them too).
#[derive(Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SecretBytes(pub Vec<u8>);

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{} bytes hidden]", self.0.len())
    }
}

impl Serialize for SecretBytes {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut text = String::with_capacity(self.0.len() * 2);
        for byte in &self.0 {
            text.push_str(&format!("{byte:02x}"));
        }
        serializer.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for SecretBytes {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        if text.len() % 2 != 0 || !text.is_ascii() {
            return Err(serde::de::Error::custom("hex bytes of odd length"));
        }
        let pairs = (0..text.len()).step_by(2);
        let bytes: Result<Vec<u8>, _> = pairs
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16))
            .collect();
        bytes.map(SecretBytes).map_err(serde::de::Error::custom)
    }
}

/// One user's credential for one mechanism, as the server stores it (RFC 5802): never the
/// password, only what verifies a client's proof and proves the server.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScramCredential {
    pub salt: SecretBytes,
    /// H(ClientKey), with ClientKey = HMAC(SaltedPassword, "Client Key").
    pub stored_key: SecretBytes,
    /// HMAC(SaltedPassword, "Server Key").
    pub server_key: SecretBytes,
    pub iterations: i32,
}

impl ScramCredential {
    /// The first reason the credential cannot be one of `mechanism`: an unknown mechanism,
    /// keys not of its digest length, an empty salt, iterations not positive.
    pub fn malformed(&self, mechanism: i8) -> Option<String> {
        let Some(key_bytes) = scram_key_bytes(mechanism) else {
            return Some(format!("unknown SCRAM mechanism {mechanism}"));
        };
        if self.stored_key.0.len() != key_bytes || self.server_key.0.len() != key_bytes {
            return Some(format!(
                "{} keys must be {key_bytes} bytes, not {} and {}",
                scram_mechanism_name(mechanism),
                self.stored_key.0.len(),
                self.server_key.0.len()
            ));
        }
        if self.salt.0.is_empty() {
            return Some("empty salt".to_string());
        }
        if self.iterations <= 0 {
            return Some(format!("{} iterations", self.iterations));
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_bytes_are_hex_and_hidden_from_debug() {
        let secret = SecretBytes(vec![0x00, 0xab, 0xff]);
        let json = serde_json::to_string(&secret).expect("encodes");
        assert_eq!(json, "\"00abff\"");
        assert_eq!(
            serde_json::from_str::<SecretBytes>(&json).expect("decodes"),
            secret
        );
        assert_eq!(format!("{secret:?}"), "[3 bytes hidden]");
        assert!(serde_json::from_str::<SecretBytes>("\"abc\"").is_err());
        assert!(serde_json::from_str::<SecretBytes>("\"zz\"").is_err());
    }

    #[test]
    fn only_concrete_acls_pass() {
        let entry = AclEntry {
            resource_type: 2,
            resource_name: "t".into(),
            pattern_type: 3,
            principal: "User:alice".into(),
            host: "*".into(),
            operation: 3,
            permission_type: 3,
        };
        assert_eq!(entry.not_concrete(), None);
        let any_type = AclEntry {
            resource_type: 1,
            ..entry.clone()
        };
        let match_pattern = AclEntry {
            pattern_type: 2,
            ..entry.clone()
        };
        let any_operation = AclEntry {
            operation: 1,
            ..entry.clone()
        };
        let unknown_permission = AclEntry {
            permission_type: 0,
            ..entry.clone()
        };
        let no_name = AclEntry {
            resource_name: String::new(),
            ..entry
        };
        for refused in [
            any_type,
            match_pattern,
            any_operation,
            unknown_permission,
            no_name,
        ] {
            assert!(refused.not_concrete().is_some(), "{refused:?}");
        }
    }
}

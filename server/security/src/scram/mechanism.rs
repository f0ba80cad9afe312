//! The two SCRAM mechanisms Kafka supports, with Kafka's names, codes and iteration bounds.

use ring::{digest, hmac, pbkdf2};

use crate::limits::{SCRAM_ITERATIONS_MAX, SCRAM_ITERATIONS_MIN};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScramMechanism {
    Sha256,
    Sha512,
}

impl ScramMechanism {
    pub const ALL_VALUES: [ScramMechanism; 2] = [ScramMechanism::Sha256, ScramMechanism::Sha512];

    /// The SASL mechanism name ("SCRAM-SHA-256").
    pub fn mechanism_name(self) -> &'static str {
        match self {
            ScramMechanism::Sha256 => "SCRAM-SHA-256",
            ScramMechanism::Sha512 => "SCRAM-SHA-512",
        }
    }

    /// By SASL mechanism name, exactly as Kafka matches it (case-sensitive).
    pub fn from_mechanism_name(name: &str) -> Option<ScramMechanism> {
        ScramMechanism::ALL_VALUES
            .into_iter()
            .find(|m| m.mechanism_name() == name)
    }

    /// The code in DescribeUserScramCredentials / AlterUserScramCredentials (0 is UNKNOWN).
    pub fn code(self) -> i8 {
        match self {
            ScramMechanism::Sha256 => 1,
            ScramMechanism::Sha512 => 2,
        }
    }

    pub fn from_code(code: i8) -> Option<ScramMechanism> {
        ScramMechanism::ALL_VALUES
            .into_iter()
            .find(|m| m.code() == code)
    }

    /// Kafka refuses credentials with fewer iterations (at login and at AlterUserScram...).
    pub fn iterations_min(self) -> u32 {
        SCRAM_ITERATIONS_MIN
    }

    /// Kafka refuses AlterUserScramCredentials with more iterations.
    pub fn iterations_max(self) -> u32 {
        SCRAM_ITERATIONS_MAX
    }

    /// Bytes of the hash: the length of StoredKey, ServerKey, SaltedPassword and the proof.
    pub fn digest_bytes(self) -> usize {
        self.digest_algorithm().output_len()
    }

    pub(crate) fn digest_algorithm(self) -> &'static digest::Algorithm {
        match self {
            ScramMechanism::Sha256 => &digest::SHA256,
            ScramMechanism::Sha512 => &digest::SHA512,
        }
    }

    pub(crate) fn hmac_algorithm(self) -> hmac::Algorithm {
        match self {
            ScramMechanism::Sha256 => hmac::HMAC_SHA256,
            ScramMechanism::Sha512 => hmac::HMAC_SHA512,
        }
    }

    pub(crate) fn pbkdf2_algorithm(self) -> pbkdf2::Algorithm {
        match self {
            ScramMechanism::Sha256 => pbkdf2::PBKDF2_HMAC_SHA256,
            ScramMechanism::Sha512 => pbkdf2::PBKDF2_HMAC_SHA512,
        }
    }

    /// HMAC(key, data).
    pub(crate) fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        let key = hmac::Key::new(self.hmac_algorithm(), key);
        hmac::sign(&key, data).as_ref().to_vec()
    }

    /// H(data).
    pub(crate) fn hash(self, data: &[u8]) -> Vec<u8> {
        digest::digest(self.digest_algorithm(), data)
            .as_ref()
            .to_vec()
    }
}

impl std::fmt::Display for ScramMechanism {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.mechanism_name())
    }
}

//! `ScramCredential`: what the broker stores per user and mechanism (RFC 5802 §3): the salt,
//! StoredKey = H(ClientKey), ServerKey and the iteration count; never the password.
//!
//! SaltedPassword = Hi(password, salt, i) (PBKDF2 with the mechanism's HMAC, one block),
//! ClientKey = HMAC(SaltedPassword, "Client Key"), ServerKey = HMAC(SaltedPassword,
//! "Server Key"). Kafka uses the password's UTF-8 bytes without SASLprep; so do we.

use std::fmt;
use std::num::NonZeroU32;

use ring::pbkdf2;

use super::ScramMechanism;
use crate::limits::SCRAM_SALT_BYTES_MAX;

/// Kafka's UNACCEPTABLE_CREDENTIAL error code, for AlterUserScramCredentials refusals.
pub const UNACCEPTABLE_CREDENTIAL_ERROR_CODE: i16 = 93;

#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredential {
    pub salt: Vec<u8>,
    pub stored_key: Vec<u8>,
    pub server_key: Vec<u8>,
    pub iterations: u32,
}

/// Why a credential could not be made. The broker answers AlterUserScramCredentials with
/// [`CredentialError::error_code`] and the message, as Kafka's ScramControlManager does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    #[error("Too few iterations")]
    TooFewIterations,
    #[error("Too many iterations")]
    TooManyIterations,
    #[error("salt or salted password longer than {SCRAM_SALT_BYTES_MAX} bytes")]
    TooLong,
}

impl CredentialError {
    pub fn error_code(&self) -> i16 {
        UNACCEPTABLE_CREDENTIAL_ERROR_CODE
    }
}

impl ScramCredential {
    /// From a password (what `kafka-configs --add-config SCRAM-SHA-256=[password=...]`
    /// turns into on the client side).
    pub fn derive(
        mechanism: ScramMechanism,
        password: &str,
        salt: &[u8],
        iterations: u32,
    ) -> Result<ScramCredential, CredentialError> {
        check_bounds(mechanism, salt, iterations)?;
        let salted_password = salted_password(mechanism, password.as_bytes(), salt, iterations)?;
        ScramCredential::from_salted_password(mechanism, salt, &salted_password, iterations)
    }

    /// From what AlterUserScramCredentials carries: the salt and SaltedPassword (the client
    /// ran PBKDF2). Kafka checks only the iteration bounds; we also bound the lengths.
    pub fn from_salted_password(
        mechanism: ScramMechanism,
        salt: &[u8],
        salted_password: &[u8],
        iterations: u32,
    ) -> Result<ScramCredential, CredentialError> {
        check_bounds(mechanism, salt, iterations)?;
        if salted_password.len() > SCRAM_SALT_BYTES_MAX {
            return Err(CredentialError::TooLong);
        }
        let client_key = mechanism.hmac(salted_password, b"Client Key");
        let credential = ScramCredential {
            salt: salt.to_vec(),
            stored_key: mechanism.hash(&client_key),
            server_key: mechanism.hmac(salted_password, b"Server Key"),
            iterations,
        };
        assert_eq!(credential.stored_key.len(), mechanism.digest_bytes());
        assert_eq!(credential.server_key.len(), mechanism.digest_bytes());
        Ok(credential)
    }
}

fn check_bounds(
    mechanism: ScramMechanism,
    salt: &[u8],
    iterations: u32,
) -> Result<(), CredentialError> {
    if iterations < mechanism.iterations_min() {
        return Err(CredentialError::TooFewIterations);
    }
    if iterations > mechanism.iterations_max() {
        return Err(CredentialError::TooManyIterations);
    }
    if salt.len() > SCRAM_SALT_BYTES_MAX {
        return Err(CredentialError::TooLong);
    }
    Ok(())
}

/// Hi(password, salt, iterations): PBKDF2 producing one hash-sized block. What a client
/// sends in AlterUserScramCredentials (`sluice user create`), and what it computes at login.
pub fn salted_password(
    mechanism: ScramMechanism,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, CredentialError> {
    let iterations = NonZeroU32::new(iterations).ok_or(CredentialError::TooFewIterations)?;
    let mut out = vec![0u8; mechanism.digest_bytes()];
    pbkdf2::derive(
        mechanism.pbkdf2_algorithm(),
        iterations,
        salt,
        password,
        &mut out,
    );
    Ok(out)
}

impl fmt::Debug for ScramCredential {
    /// Keys are secrets (StoredKey lets a thief impersonate the server to the client): only
    /// their lengths are shown.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ScramCredential")
            .field("salt_bytes", &self.salt.len())
            .field("stored_key_bytes", &self.stored_key.len())
            .field("server_key_bytes", &self.server_key.len())
            .field("iterations", &self.iterations)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iteration_bounds_are_kafkas() {
        let m = ScramMechanism::Sha256;
        assert_eq!(
            ScramCredential::derive(m, "pw", b"salt", 4095),
            Err(CredentialError::TooFewIterations)
        );
        assert_eq!(
            ScramCredential::derive(m, "pw", b"salt", 16385),
            Err(CredentialError::TooManyIterations)
        );
        assert!(ScramCredential::derive(m, "pw", b"salt", 4096).is_ok());
        assert_eq!(
            CredentialError::TooFewIterations.error_code(),
            UNACCEPTABLE_CREDENTIAL_ERROR_CODE
        );
    }

    #[test]
    fn salted_password_form_gives_the_same_credential() {
        for m in ScramMechanism::ALL_VALUES {
            let sp = salted_password(m, b"pencil", b"NaCl", 4096).expect("valid");
            assert_eq!(sp.len(), m.digest_bytes());
            let from_sp = ScramCredential::from_salted_password(m, b"NaCl", &sp, 4096);
            assert_eq!(from_sp, ScramCredential::derive(m, "pencil", b"NaCl", 4096));
        }
    }

    #[test]
    fn debug_hides_keys() {
        let c = ScramCredential::derive(ScramMechanism::Sha512, "pw", b"s", 4096).expect("ok");
        let shown = format!("{c:?}");
        assert!(shown.contains("stored_key_bytes: 64"));
        assert!(!shown.contains('['));
    }
}

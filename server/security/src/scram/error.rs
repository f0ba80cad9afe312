//! Why a SCRAM exchange or message was refused. Messages name the problem, never a password,
//! proof, key or salt; the broker may pass them to the client (Kafka's
//! SaslAuthenticate error message).

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScramError {
    #[error("Invalid SCRAM message: {bytes} bytes exceed the limit")]
    TooLong { bytes: usize },
    #[error("Invalid SCRAM message: {0}")]
    Malformed(&'static str),
    #[error("Channel binding is not supported")]
    ChannelBindingUnsupported,
    #[error("Mandatory SCRAM extensions (m=) are not supported")]
    MandatoryExtension,
    #[error("Delegation token authentication is not supported")]
    TokenAuthUnsupported,
    #[error("Authentication failed: Invalid user credentials")]
    UnknownUser,
    #[error(
        "Authentication failed: Client requested an authorization id that is different from \
         username"
    )]
    AuthzidMismatch,
    #[error("Iterations {iterations} is less than the minimum {minimum}")]
    TooFewIterations { iterations: u32, minimum: u32 },
    #[error("Authentication failed: the stored credential does not fit the mechanism")]
    BadStoredCredential,
    #[error("Invalid server nonce: {0}")]
    BadServerNonce(&'static str),
    #[error("Invalid client nonce in the final client message.")]
    NonceMismatch,
    #[error("Invalid channel binding in the final client message.")]
    ChannelBindingMismatch,
    #[error("Authentication failed: Invalid client final message")]
    InvalidProof,
    #[error("Invalid server signature")]
    InvalidServerSignature,
    #[error("Server error: {0}")]
    ServerError(String),
    #[error("Unexpected SCRAM message in state {0}")]
    WrongState(&'static str),
}

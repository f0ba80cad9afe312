//! SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802, RFC 7677) as Kafka speaks them: the mechanism
//! table, stored credentials, the four messages, and both sides of an exchange.

mod client;
mod credential;
mod error;
mod mechanism;
mod messages;
pub mod saslname;
mod server;

pub use client::ScramClient;
pub use credential::{
    salted_password, CredentialError, ScramCredential, UNACCEPTABLE_CREDENTIAL_ERROR_CODE,
};
pub use error::ScramError;
pub use mechanism::ScramMechanism;
pub use messages::{ClientFinal, ClientFirst, Extension, ServerFinal, ServerFirst};
pub use server::{channel_binding_base64, ScramServer, TOKEN_AUTH_EXTENSION};

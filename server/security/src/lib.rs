//! # sluice-security
//!
//! Kafka's security core as pure code (issue 17): who a connection is, and what it may do.
//! The broker does the I/O (TLS via rustls, the SaslHandshake/SaslAuthenticate frames, the
//! ACL APIs) and calls in here; this crate never reads a file or a socket, never draws a
//! random number and never looks at a clock.
//!
//! - [`principal`]: `KafkaPrincipal` (`User:alice`).
//! - [`acl`]: Kafka's ACL enums, `AclBinding` / `AclBindingFilter`, and `Authorizer` with
//!   StandardAuthorizer semantics (DENY wins, wildcards, PREFIXED, implied operations,
//!   `super.users`, `allow.everyone.if.no.acl.found`, KIP-679 by-type checks).
//! - [`sasl::plain`]: the SASL/PLAIN message and Kafka's checks.
//! - [`scram`]: SCRAM-SHA-256/512 credentials, messages and the server state machine.
//! - [`plain_users`]: the PLAIN user table from a users file or a config value.
//! - [`principal_mapping`]: the `ssl.principal.mapping.rules` of TLS users.
//! - [`x509_subject`]: a certificate's subject DN as Java prints it (RFC 2253).
//! - [`limits`]: every bound, in one place.
//!
//! See README.md beside this crate for the Kafka semantics relied on and where we differ.

pub mod acl;
pub mod constant_time;
pub mod limits;
pub mod plain_users;
pub mod principal;
pub mod principal_mapping;
pub mod sasl;
pub mod scram;
pub mod x509_subject;

pub use principal::KafkaPrincipal;

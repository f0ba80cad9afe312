//! Every bound of the crate in one place, named with units last. Inputs beyond a bound are
//! refused with an error; nothing here is a Kafka setting unless the doc names one.

/// A SASL/PLAIN field (authzid, authcid, password). RFC 4616 says a server must accept up to
/// 255 octets; we accept a little more and refuse anything longer.
pub const PLAIN_FIELD_BYTES_MAX: usize = 1024;
/// A whole SASL/PLAIN message: three fields and two NULs.
pub const PLAIN_MESSAGE_BYTES_MAX: usize = 3 * PLAIN_FIELD_BYTES_MAX + 2;

/// One SCRAM message (any of the four). Real ones are under 300 bytes.
pub const SCRAM_MESSAGE_BYTES_MAX: usize = 4096;
/// A SCRAM nonce (client part, server part, and their concatenation each).
pub const SCRAM_NONCE_BYTES_MAX: usize = 512;
/// A SCRAM user name after unescaping.
pub const SCRAM_USERNAME_BYTES_MAX: usize = 1024;
/// Extensions (`key=value`) in one SCRAM message.
pub const SCRAM_EXTENSIONS_COUNT_MAX: usize = 16;
/// A SCRAM salt.
pub const SCRAM_SALT_BYTES_MAX: usize = 1024;
/// Kafka's ScramMechanism minimum iterations (both mechanisms).
pub const SCRAM_ITERATIONS_MIN: u32 = 4096;
/// Kafka's ScramMechanism maximum iterations (both mechanisms).
pub const SCRAM_ITERATIONS_MAX: u32 = 16384;

/// Users in a PLAIN users file or config value.
pub const PLAIN_USERS_COUNT_MAX: usize = 10_000;
/// A PLAIN users file or config value.
pub const PLAIN_USERS_TEXT_BYTES_MAX: usize = 4 * 1024 * 1024;

/// A certificate handed to the subject reader.
pub const CERT_DER_BYTES_MAX: usize = 64 * 1024;
/// Relative distinguished names in one subject, and attributes in one of them.
pub const DN_RDN_COUNT_MAX: usize = 64;
pub const DN_RDN_ATTRIBUTE_COUNT_MAX: usize = 16;

/// `ssl.principal.mapping.rules`: the config value, the rule count, and the compiled size of
/// one rule's regular expression.
pub const MAPPING_RULES_BYTES_MAX: usize = 64 * 1024;
pub const MAPPING_RULES_COUNT_MAX: usize = 256;
pub const MAPPING_REGEX_BYTES_MAX: usize = 1024 * 1024;
/// A distinguished name fed to the mapping rules, and the name they produce.
pub const MAPPING_NAME_BYTES_MAX: usize = 16 * 1024;

/// ACL bindings one authorizer holds.
pub const ACL_COUNT_MAX: usize = 1_000_000;

const _: () = assert!(SCRAM_ITERATIONS_MIN <= SCRAM_ITERATIONS_MAX);
const _: () = assert!(PLAIN_MESSAGE_BYTES_MAX > PLAIN_FIELD_BYTES_MAX);
const _: () = assert!(SCRAM_NONCE_BYTES_MAX < SCRAM_MESSAGE_BYTES_MAX);
const _: () = assert!(SCRAM_USERNAME_BYTES_MAX < SCRAM_MESSAGE_BYTES_MAX);

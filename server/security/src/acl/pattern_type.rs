//! Kafka's `PatternType` (org.apache.kafka.common.resource.PatternType).

use super::code_enum::code_enum;

code_enum! {
    /// How an ACL's resource name is matched. Bindings are `Literal` or `Prefixed`; `Any` and
    /// `Match` exist only in filters.
    PatternType {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        Match = 2 => "MATCH",
        Literal = 3 => "LITERAL",
        Prefixed = 4 => "PREFIXED",
    }
}

/// The literal resource name that matches every resource of its type.
pub const WILDCARD_RESOURCE: &str = "*";

//! Kafka's `AclOperation` (org.apache.kafka.common.acl.AclOperation).

use super::code_enum::code_enum;

code_enum! {
    /// What an ACL lets (or forbids) a principal do. `Any` exists only in filters; `All` in a
    /// binding covers every operation.
    AclOperation {
        Unknown = 0 => "UNKNOWN",
        Any = 1 => "ANY",
        All = 2 => "ALL",
        Read = 3 => "READ",
        Write = 4 => "WRITE",
        Create = 5 => "CREATE",
        Delete = 6 => "DELETE",
        Alter = 7 => "ALTER",
        Describe = 8 => "DESCRIBE",
        ClusterAction = 9 => "CLUSTER_ACTION",
        DescribeConfigs = 10 => "DESCRIBE_CONFIGS",
        AlterConfigs = 11 => "ALTER_CONFIGS",
        IdempotentWrite = 12 => "IDEMPOTENT_WRITE",
        CreateTokens = 13 => "CREATE_TOKENS",
        DescribeTokens = 14 => "DESCRIBE_TOKENS",
    }
}

impl AclOperation {
    /// StandardAuthorizer's implication, for ALLOW ACLs only: an ALLOW of `self` also allows
    /// `requested`. READ, WRITE, DELETE and ALTER imply DESCRIBE; ALTER_CONFIGS implies
    /// DESCRIBE_CONFIGS; ALL implies everything. A DENY never implies anything but itself
    /// (and ALL), so a DENY of READ does not deny DESCRIBE.
    pub fn allow_implies(self, requested: AclOperation) -> bool {
        use AclOperation::*;
        if self == All || self == requested {
            return true;
        }
        match requested {
            Describe => matches!(self, Read | Write | Delete | Alter),
            DescribeConfigs => self == AlterConfigs,
            _ => false,
        }
    }
}

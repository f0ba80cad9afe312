//! What an authorization answered and why (the "why" is for the audit log).

use std::fmt;

use super::AclBinding;

/// The answer to one authorization, borrowing the matching ACL from the authorizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision<'a> {
    Allowed(Reason<'a>),
    Denied(Reason<'a>),
}

/// The rule that decided, named as Kafka's audit log names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason<'a> {
    /// The principal is in `super.users`.
    SuperUser,
    /// This ACL decided (the first DENY met, else an ALLOW).
    MatchingAcl(&'a AclBinding),
    /// No ACL at all exists for the resource: `allow.everyone.if.no.acl.found` decided.
    NoAclFound,
    /// ACLs exist for the resource but none allows this principal, host and operation.
    NoMatchingAllow,
    /// The question itself was malformed (an ANY or UNKNOWN operation or resource type),
    /// where Kafka throws IllegalArgumentException.
    InvalidArgument(&'static str),
}

impl<'a> Decision<'a> {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allowed(_))
    }

    pub fn reason(&self) -> Reason<'a> {
        match self {
            Decision::Allowed(reason) | Decision::Denied(reason) => *reason,
        }
    }
}

impl fmt::Display for Reason<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::SuperUser => f.write_str("SuperUser"),
            Reason::MatchingAcl(binding) => write!(f, "MatchingAcl(acl={binding})"),
            Reason::NoAclFound => f.write_str("NoAclFound"),
            Reason::NoMatchingAllow => f.write_str("DefaultDeny"),
            Reason::InvalidArgument(why) => write!(f, "InvalidArgument({why})"),
        }
    }
}

impl fmt::Display for Decision<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Decision::Allowed(reason) => write!(f, "Allowed based on rule {reason}"),
            Decision::Denied(reason) => write!(f, "Denied based on rule {reason}"),
        }
    }
}

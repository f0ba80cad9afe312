//! The classic group state machine: which states exist and which transitions are legal.

/// State of one classic group, as Kafka names them (DescribeGroups and ListGroups show the name).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupState {
    /// No members; offsets may still be committed and fetched.
    Empty,
    /// Members are (re)joining; the join phase ends when all known members have rejoined or the
    /// rebalance timeout fires.
    PreparingRebalance,
    /// Join answered; waiting for the leader's SyncGroup with the assignment.
    CompletingRebalance,
    /// Assignment distributed; members heartbeat.
    Stable,
    /// Removed (deleted, or emptied and expired); a Dead group is never revived.
    Dead,
}

impl GroupState {
    /// The name Kafka uses on the wire.
    pub fn name(self) -> &'static str {
        match self {
            GroupState::Empty => "Empty",
            GroupState::PreparingRebalance => "PreparingRebalance",
            GroupState::CompletingRebalance => "CompletingRebalance",
            GroupState::Stable => "Stable",
            GroupState::Dead => "Dead",
        }
    }

    /// Parses a wire name case-insensitively (ListGroups' states filter is case-insensitive).
    pub fn parse(name: &str) -> Option<GroupState> {
        let all = [
            GroupState::Empty,
            GroupState::PreparingRebalance,
            GroupState::CompletingRebalance,
            GroupState::Stable,
            GroupState::Dead,
        ];
        all.into_iter()
            .find(|s| s.name().eq_ignore_ascii_case(name))
    }

    /// Kafka's `validPreviousStates`: may a group in `from` move to `self`?
    pub fn may_follow(self, from: GroupState) -> bool {
        use GroupState::*;
        match self {
            Dead => true,
            CompletingRebalance => from == PreparingRebalance,
            Stable => from == CompletingRebalance,
            PreparingRebalance => matches!(from, Stable | CompletingRebalance | Empty),
            Empty => from == PreparingRebalance,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::GroupState::*;
    use super::*;

    #[test]
    fn transitions_follow_kafka() {
        assert!(PreparingRebalance.may_follow(Empty));
        assert!(CompletingRebalance.may_follow(PreparingRebalance));
        assert!(Stable.may_follow(CompletingRebalance));
        assert!(PreparingRebalance.may_follow(Stable));
        assert!(Empty.may_follow(PreparingRebalance));
        assert!(!Stable.may_follow(Empty));
        assert!(!CompletingRebalance.may_follow(Stable));
        assert!(!Empty.may_follow(Stable));
        assert!(Dead.may_follow(Stable));
    }

    #[test]
    fn names_round_trip() {
        for s in [Empty, PreparingRebalance, CompletingRebalance, Stable, Dead] {
            assert_eq!(GroupState::parse(s.name()), Some(s));
        }
        assert_eq!(GroupState::parse("stable"), Some(Stable));
        assert_eq!(GroupState::parse("nope"), None);
    }
}

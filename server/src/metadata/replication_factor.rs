//! Replication factors of new topics as Kafka states them: the request's value (-1: the broker
//! default), the `__consumer_offsets` factor bounded by the brokers alive, and Kafka's wording
//! when the brokers cannot hold the replicas. The active controller decides; these only shape
//! what the broker sends and how a refusal reads.

use crate::error_code::ResponseError;

/// CreateTopics' "use `default.replication.factor`".
pub const DEFAULT_REPLICATION_FACTOR: i16 = -1;

/// A request's factor before it reaches the controller: -1 or at least 1, as Kafka's
/// `ReplicationControlManager` requires (same code and message).
pub fn check_requested(replication_factor: i16) -> Result<(), (i16, String)> {
    if replication_factor == DEFAULT_REPLICATION_FACTOR || replication_factor >= 1 {
        return Ok(());
    }
    Err((
        ResponseError::InvalidReplicationFactor.code(),
        "Replication factor must be larger than 0, or -1 to use the default value.".to_string(),
    ))
}

/// The factor a request resolves to on a broker whose default is `default`.
pub fn resolve(replication_factor: i16, default: i16) -> i16 {
    assert!(default >= 1);
    if replication_factor == DEFAULT_REPLICATION_FACTOR {
        default
    } else {
        replication_factor
    }
}

/// `__consumer_offsets` gets `offsets.topic.replication.factor`, but at most the brokers alive
/// when it is created (Kafka 4 would refuse and leave groups without a coordinator until enough
/// brokers join) and at least 1.
pub fn offsets_topic(configured: i16, alive_brokers: usize) -> i16 {
    assert!(configured >= 1);
    let alive = i16::try_from(alive_brokers).unwrap_or(i16::MAX);
    configured.min(alive).max(1)
}

/// Kafka's message for a factor the brokers cannot hold (`StripedReplicaPlacer`, prefixed by
/// `ReplicationControlManager`), or None when `registered` and `alive` brokers can hold it.
/// Kafka counts registered brokers; placement here uses alive (unfenced, not shutting down)
/// ones only, so a registered but fenced broker is named as such.
pub fn unreachable_message(
    replication_factor: i16,
    registered: usize,
    alive: usize,
) -> Option<String> {
    assert!(replication_factor >= 1);
    assert!(alive <= registered);
    let wanted = usize::try_from(replication_factor).unwrap_or(usize::MAX);
    let prefix = format!("Unable to replicate the partition {replication_factor} time(s): ");
    if alive == 0 && registered > 0 {
        return Some(format!("{prefix}All brokers are currently fenced."));
    }
    if wanted > registered {
        return Some(format!(
            "{prefix}The target replication factor of {replication_factor} cannot be reached \
             because only {registered} broker(s) are registered."
        ));
    }
    if wanted > alive {
        return Some(format!(
            "{prefix}The target replication factor of {replication_factor} cannot be reached \
             because only {alive} of the {registered} registered broker(s) are unfenced."
        ));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_take_minus_one_or_a_positive_factor() {
        assert!(check_requested(-1).is_ok());
        assert!(check_requested(1).is_ok());
        assert!(check_requested(3).is_ok());
        for bad in [0, -2, i16::MIN] {
            let (code, message) = check_requested(bad).expect_err("refused");
            assert_eq!(code, ResponseError::InvalidReplicationFactor.code());
            assert!(message.contains("larger than 0"), "{message}");
        }
        assert_eq!(resolve(-1, 3), 3);
        assert_eq!(resolve(2, 3), 2);
    }

    #[test]
    fn the_offsets_topic_is_bounded_by_alive_brokers() {
        assert_eq!(offsets_topic(3, 3), 3);
        assert_eq!(offsets_topic(3, 5), 3);
        assert_eq!(offsets_topic(3, 2), 2);
        assert_eq!(offsets_topic(3, 1), 1);
        assert_eq!(offsets_topic(3, 0), 1, "at least one replica");
        assert_eq!(offsets_topic(1, 3), 1);
    }

    #[test]
    fn refusals_read_like_kafka() {
        assert_eq!(
            unreachable_message(4, 3, 3).as_deref(),
            Some(
                "Unable to replicate the partition 4 time(s): The target replication factor \
                 of 4 cannot be reached because only 3 broker(s) are registered."
            )
        );
        assert_eq!(
            unreachable_message(3, 3, 0).as_deref(),
            Some("Unable to replicate the partition 3 time(s): All brokers are currently fenced.")
        );
        let fenced = unreachable_message(3, 3, 2).expect("refused");
        assert!(fenced.contains("only 2 of the 3 registered"), "{fenced}");
        assert_eq!(unreachable_message(3, 3, 3), None);
        assert_eq!(unreachable_message(1, 5, 1), None);
    }
}

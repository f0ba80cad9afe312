//! The Kafka error table: codes as they travel in responses (`i16`, 0 for none), named and
//! classified through `kafka-protocol`'s [`ResponseError`], which follows Kafka's Errors.java.

pub use kafka_protocol::error::ResponseError;

/// "No error": the one code `ResponseError` has no variant for.
pub const NONE: i16 = 0;

/// `UNKNOWN_TOPIC_OR_PARTITION (3)`: Kafka's own spelling, as in its docs and logs.
pub fn name(code: i16) -> String {
    match ResponseError::try_from_code(code) {
        None => "NONE (0)".to_string(),
        Some(ResponseError::Unknown(code)) => format!("UNKNOWN_ERROR_CODE ({code})"),
        Some(error) => format!("{} ({code})", screaming_snake(&format!("{error:?}"))),
    }
}

/// Whether Kafka calls the error retriable (the same request may succeed later).
pub fn is_retriable(code: i16) -> bool {
    ResponseError::try_from_code(code).is_some_and(|e| e.is_retriable())
}

/// Errors after which resending the same batch may succeed, possibly on another leader.
/// Narrower than [`is_retriable`]: Kafka calls CORRUPT_MESSAGE retriable, but the same bytes
/// stay corrupt, and coordinator errors never answer a produce or a fetch.
pub fn resend_may_succeed(code: i16) -> bool {
    use ResponseError as E;
    matches!(
        ResponseError::try_from_code(code),
        Some(
            E::UnknownTopicOrPartition
                | E::LeaderNotAvailable
                | E::NotLeaderOrFollower
                | E::RequestTimedOut
                | E::NetworkException
                | E::NotEnoughReplicas
                | E::NotEnoughReplicasAfterAppend
                | E::KafkaStorageError
                | E::FencedLeaderEpoch
                | E::UnknownLeaderEpoch
        )
    )
}

/// Errors that mean the client's idea of who leads a partition is stale.
pub fn needs_metadata_refresh(code: i16) -> bool {
    use ResponseError as E;
    matches!(
        ResponseError::try_from_code(code),
        Some(
            E::UnknownTopicOrPartition
                | E::LeaderNotAvailable
                | E::NotLeaderOrFollower
                | E::FencedLeaderEpoch
        )
    )
}

/// A coordinator still loading or not yet elected: goes away by itself.
pub fn is_coordinator_warming_up(code: i16) -> bool {
    matches!(
        ResponseError::try_from_code(code),
        Some(ResponseError::CoordinatorLoadInProgress | ResponseError::CoordinatorNotAvailable)
    )
}

/// `UnknownTopicOrPartition` -> `UNKNOWN_TOPIC_OR_PARTITION`.
fn screaming_snake(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 8);
    for (i, c) in camel.chars().enumerate() {
        if c.is_uppercase() && i > 0 {
            out.push('_');
        }
        out.push(c.to_ascii_uppercase());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_codes_like_kafka_does() {
        assert_eq!(name(0), "NONE (0)");
        assert_eq!(name(3), "UNKNOWN_TOPIC_OR_PARTITION (3)");
        assert_eq!(name(36), "TOPIC_ALREADY_EXISTS (36)");
        assert_eq!(name(-1), "UNKNOWN_SERVER_ERROR (-1)");
        assert_eq!(name(9999), "UNKNOWN_ERROR_CODE (9999)");
    }

    #[test]
    fn resending_is_narrower_than_kafkas_retriable() {
        let corrupt = ResponseError::CorruptMessage.code();
        assert!(is_retriable(corrupt));
        assert!(!resend_may_succeed(corrupt));
        let not_leader = ResponseError::NotLeaderOrFollower.code();
        assert!(resend_may_succeed(not_leader) && needs_metadata_refresh(not_leader));
        assert!(!resend_may_succeed(NONE) && !is_retriable(NONE));
        assert!(!needs_metadata_refresh(
            ResponseError::RequestTimedOut.code()
        ));
    }

    #[test]
    fn only_coordinator_warm_up_counts() {
        assert!(is_coordinator_warming_up(14));
        assert!(is_coordinator_warming_up(15));
        assert!(!is_coordinator_warming_up(16));
        assert!(!is_coordinator_warming_up(NONE));
    }
}

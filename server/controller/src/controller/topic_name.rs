//! Kafka's rules for topic names (`org.apache.kafka.common.internals.Topic`).

use super::error::{ControllerError, ErrorKind};
use super::limits::TOPIC_NAME_BYTES_MAX;
use crate::image::MetadataImage;

/// Names starting with this are reserved for topics the cluster creates itself
/// (`__consumer_offsets`, `__transaction_state`).
pub const INTERNAL_TOPIC_PREFIX: &str = "__";

/// A name of 1 ..= [`TOPIC_NAME_BYTES_MAX`] characters from `[a-zA-Z0-9._-]`, other than "."
/// and "..". A name with the internal prefix only when `internal`.
pub(super) fn validate_topic_name(name: &str, internal: bool) -> Result<(), ControllerError> {
    let invalid = |why: String| Err(ControllerError::new(ErrorKind::InvalidTopic, why));
    if name.is_empty() {
        return invalid("a topic name cannot be empty".into());
    }
    if name == "." || name == ".." {
        return invalid(format!("{name:?} is not a valid topic name"));
    }
    if name.len() > TOPIC_NAME_BYTES_MAX {
        return invalid(format!(
            "a topic name is at most {TOPIC_NAME_BYTES_MAX} characters, this one has {}",
            name.len()
        ));
    }
    let legal = |c: char| c.is_ascii_alphanumeric() || c == '.' || c == '_' || c == '-';
    if let Some(bad) = name.chars().find(|c| !legal(*c)) {
        return invalid(format!(
            "topic name {name:?} contains {bad:?}; only ASCII letters, digits, '.', '_' and '-' \
             are allowed"
        ));
    }
    if name.starts_with(INTERNAL_TOPIC_PREFIX) && !internal {
        return invalid(format!(
            "topic names starting with {INTERNAL_TOPIC_PREFIX:?} are reserved for internal topics"
        ));
    }
    Ok(())
}

/// An existing topic whose name equals `name` once '.' is read as '_': Kafka refuses both,
/// since metric names cannot tell them apart.
pub(super) fn colliding_topic<'a>(image: &'a MetadataImage, name: &str) -> Option<&'a str> {
    let normalized = |text: &str| text.replace('.', "_");
    let wanted = normalized(name);
    let mut names = image.topics.keys();
    names
        .find(|existing| *existing != name && normalized(existing) == wanted)
        .map(String::as_str)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_kafka_rules() {
        let longest = "a".repeat(TOPIC_NAME_BYTES_MAX);
        for good in ["t", "orders.v1", "a_b-c", longest.as_str(), "..."] {
            assert_eq!(validate_topic_name(good, false), Ok(()), "{good}");
        }
        let too_long = "a".repeat(TOPIC_NAME_BYTES_MAX + 1);
        for bad in [
            "",
            ".",
            "..",
            "a b",
            "é",
            "a/b",
            too_long.as_str(),
            "__consumer_offsets",
        ] {
            let error = validate_topic_name(bad, false).err();
            assert_eq!(
                error.map(|e| e.kind),
                Some(ErrorKind::InvalidTopic),
                "{bad}"
            );
        }
        assert_eq!(validate_topic_name("__consumer_offsets", true), Ok(()));
    }
}

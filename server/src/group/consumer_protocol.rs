//! The little the coordinator reads of the `consumer` embedded protocol: the topics a member
//! subscribes to (OffsetDelete refuses to delete offsets of subscribed topics).

use bytes::{Buf, Bytes};
use kafka_protocol::messages::ConsumerProtocolSubscription;
use kafka_protocol::protocol::Decodable;

/// Newest ConsumerProtocolSubscription version the crate decodes.
const SUBSCRIPTION_VERSION_MAX: i16 = 3;

/// Subscribed topics from a member's `consumer` protocol metadata; `None` if it doesn't parse.
pub fn subscription_topics(metadata: &Bytes) -> Option<Vec<String>> {
    let mut buf = metadata.clone();
    if buf.remaining() < 2 {
        return None;
    }
    // Newer versions only append fields, so decode them as the newest known one.
    let version = buf.get_i16().min(SUBSCRIPTION_VERSION_MAX);
    if version < 0 {
        return None;
    }
    let sub = ConsumerProtocolSubscription::decode(&mut buf, version).ok()?;
    Some(sub.topics.iter().map(|t| t.to_string()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::{BufMut, BytesMut};
    use kafka_protocol::protocol::{Encodable, StrBytes};

    fn metadata(version: i16, topics: &[&'static str]) -> Bytes {
        let sub = ConsumerProtocolSubscription::default().with_topics(
            topics
                .iter()
                .map(|t| StrBytes::from_static_str(t))
                .collect(),
        );
        let mut b = BytesMut::new();
        b.put_i16(version);
        sub.encode(&mut b, version).expect("encodes");
        b.freeze()
    }

    #[test]
    fn reads_topics_of_each_version() {
        for v in 0..=3 {
            assert_eq!(
                subscription_topics(&metadata(v, &["a", "b"])),
                Some(vec!["a".to_string(), "b".to_string()])
            );
        }
    }

    #[test]
    fn garbage_is_none() {
        assert_eq!(subscription_topics(&Bytes::from_static(&[0])), None);
        assert_eq!(
            subscription_topics(&Bytes::from_static(&[0, 0, 0, 0, 0, 9])),
            None
        );
    }
}

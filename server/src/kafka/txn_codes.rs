//! Error codes of the transactional APIs as each request version knows them. PRODUCER_FENCED
//! (KIP-588) is newer than the APIs: an older request version gets INVALID_PRODUCER_EPOCH
//! instead, as Kafka's handlers answer.

use crate::error_code::ResponseError;

/// `code` as a request of `version` may see it; `fenced_version_min` is the first version of
/// the API that knows PRODUCER_FENCED.
pub fn for_version(code: i16, version: i16, fenced_version_min: i16) -> i16 {
    if code == ResponseError::ProducerFenced.code() && version < fenced_version_min {
        return ResponseError::InvalidProducerEpoch.code();
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn older_versions_see_invalid_producer_epoch() {
        let fenced = ResponseError::ProducerFenced.code();
        let invalid = ResponseError::InvalidProducerEpoch.code();
        assert_eq!(for_version(fenced, 1, 2), invalid);
        assert_eq!(for_version(fenced, 2, 2), fenced);
        assert_eq!(for_version(0, 0, 2), 0);
    }
}

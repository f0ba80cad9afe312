use std::collections::HashMap;
use std::time::{Duration, Instant};

use super::{long_poll_ms, metadata_retry_ms, park_ends_ms};

const WAIT_MAX_MS: u64 = 500;

#[test]
fn a_round_with_nothing_parked_long_polls_for_the_whole_wait() {
    let now = Instant::now();
    assert_eq!(park_ends_ms(&HashMap::new(), now), None);
    assert_eq!(long_poll_ms(WAIT_MAX_MS, &HashMap::new(), now), WAIT_MAX_MS);
}

#[test]
fn the_long_poll_ends_when_the_earliest_park_does() {
    let now = Instant::now();
    let parked = HashMap::from([
        (("a".to_string(), 0), (7, now + Duration::from_millis(80))),
        (("a".to_string(), 1), (7, now + Duration::from_millis(30))),
    ]);
    // Rounded up, so the next round finds the park over.
    assert_eq!(park_ends_ms(&parked, now), Some(31));
    assert_eq!(long_poll_ms(WAIT_MAX_MS, &parked, now), 31);
    // A park longer than the long poll leaves the poll as it is.
    let far = HashMap::from([(("b".to_string(), 2), (7, now + Duration::from_secs(5)))]);
    assert_eq!(long_poll_ms(WAIT_MAX_MS, &far, now), WAIT_MAX_MS);
    // A park already over (not yet swept) makes the next poll as short as can be.
    let over = HashMap::from([(("c".to_string(), 3), (7, now))]);
    assert_eq!(
        long_poll_ms(WAIT_MAX_MS, &over, now + Duration::from_millis(5)),
        1
    );
}

#[test]
fn a_refused_partition_is_asked_for_again_soon_then_ever_less_often() {
    const BACKOFF_MS: u64 = 1_000;
    let waits: Vec<u64> = (1..=9).map(|n| metadata_retry_ms(n, BACKOFF_MS)).collect();
    assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]);
    assert_eq!(metadata_retry_ms(u32::MAX, BACKOFF_MS), BACKOFF_MS);
    // A backoff shorter than the first retry wins.
    assert_eq!(metadata_retry_ms(1, 5), 5);
}

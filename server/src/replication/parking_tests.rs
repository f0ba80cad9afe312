use std::collections::HashSet;
use std::time::{Duration, Instant};

use super::{retry_ms, Key, Parking};

const WAIT_MAX_MS: u64 = 500;
const BACKOFF_MS: u64 = 1_000;
const VERSION: u64 = 7;

fn key(topic: &str, partition: i32) -> Key {
    (topic.to_string(), partition)
}

#[test]
fn a_round_with_nothing_parked_long_polls_for_the_whole_wait() {
    let now = Instant::now();
    let parking = Parking::new(BACKOFF_MS);
    assert_eq!(parking.ends_ms(now), None);
    assert_eq!(parking.long_poll_ms(WAIT_MAX_MS, now), WAIT_MAX_MS);
}

#[test]
fn the_long_poll_ends_when_the_earliest_park_does() {
    let now = Instant::now();
    let mut parking = Parking::new(BACKOFF_MS);
    // Refused four times in a row: parked for 80 ms.
    for _ in 0..4 {
        parking.refuse(key("a", 0), VERSION, now);
    }
    parking.refuse(key("a", 1), VERSION, now + Duration::from_millis(20));
    // Rounded up, so the next round finds the park over.
    assert_eq!(parking.ends_ms(now), Some(31));
    assert_eq!(parking.long_poll_ms(WAIT_MAX_MS, now), 31);
    // A park longer than the long poll leaves the poll as it is.
    let mut far = Parking::new(BACKOFF_MS);
    for _ in 0..9 {
        far.refuse(key("b", 2), VERSION, now);
    }
    assert_eq!(far.long_poll_ms(WAIT_MAX_MS, now), WAIT_MAX_MS);
    // A park already over (not yet swept) makes the next poll as short as can be.
    assert_eq!(
        parking.long_poll_ms(WAIT_MAX_MS, now + Duration::from_millis(85)),
        1
    );
}

#[test]
fn a_park_ends_when_its_wait_is_over_or_the_metadata_changes() {
    let now = Instant::now();
    let mut parking = Parking::new(BACKOFF_MS);
    parking.refuse(key("a", 0), VERSION, now);
    parking.sweep(VERSION, now + Duration::from_millis(5));
    assert!(parking.is_parked(&key("a", 0)));
    parking.sweep(VERSION, now + Duration::from_millis(10));
    assert!(!parking.is_parked(&key("a", 0)));
    parking.refuse(key("a", 0), VERSION, now);
    parking.sweep(VERSION + 1, now);
    assert!(!parking.is_parked(&key("a", 0)));
}

#[test]
fn a_refused_partition_is_asked_for_again_soon_then_ever_less_often() {
    let waits: Vec<u64> = (1..=9).map(|n| retry_ms(n, BACKOFF_MS)).collect();
    assert_eq!(waits, [10, 20, 40, 80, 160, 320, 640, 1_000, 1_000]);
    assert_eq!(retry_ms(u32::MAX, BACKOFF_MS), BACKOFF_MS);
    // A backoff shorter than the first retry wins.
    assert_eq!(retry_ms(1, 5), 5);
}

#[test]
fn an_answer_that_does_not_refuse_a_partition_starts_its_count_afresh() {
    let now = Instant::now();
    let mut parking = Parking::new(BACKOFF_MS);
    parking.refuse(key("a", 0), VERSION, now);
    parking.refuse(key("a", 0), VERSION, now);
    // Still parked and not asked for: its count stays (a third refusal waits 40 ms).
    parking.answered(|_| false, &HashSet::new());
    parking.refuse(key("a", 0), VERSION, now);
    assert_eq!(parking.ends_ms(now), Some(41));
    // Asked for and not refused: the next refusal waits the first wait again.
    parking.sweep(VERSION + 1, now);
    parking.answered(|k| *k == key("a", 0), &HashSet::new());
    parking.refuse(key("a", 0), VERSION, now);
    assert_eq!(parking.ends_ms(now), Some(11));
}

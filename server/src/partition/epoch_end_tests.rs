//! The cases of Kafka's `LeaderEpochFileCacheTest` (core/src/test/scala/unit/kafka/server/
//! epoch/LeaderEpochFileCacheTest.scala) that exercise `endOffsetFor`, `epochForOffset` and
//! `truncateFromStart`, on the entries Kafka's cache holds after the test's `assign` calls.
//! Kafka's `assign` ignores a repeated epoch and drops entries that an epoch starting at or
//! before them contradicts; where a test relies on that, the comment gives the calls and the
//! entries are what they leave.

use super::*;

fn end(entries: &[(i32, i64)], epoch: i32, log_end: i64) -> (i32, i64) {
    let answer = end_offset_for(entries, epoch, log_end);
    (answer.epoch, answer.end_offset)
}

const UNDEFINED: (i32, i64) = (UNDEFINED_EPOCH, UNDEFINED_EPOCH_OFFSET);

#[test]
fn should_add_epoch_and_message_offset_to_cache() {
    assert_eq!(end(&[(2, 10)], 2, 11), (2, 11));
}

#[test]
fn should_return_log_end_offset_if_latest_epoch_requested() {
    // assign(2, 11); assign(2, 12)
    assert_eq!(end(&[(2, 11)], 2, 14), (2, 14));
}

#[test]
fn should_return_undefined_offset_if_undefined_epoch_requested() {
    assert_eq!(end(&[(2, 11), (3, 12)], UNDEFINED_EPOCH, 0), UNDEFINED);
}

#[test]
fn should_return_unsupported_if_no_epoch_recorded() {
    assert_eq!(end(&[], 0, 0), UNDEFINED);
}

#[test]
fn should_return_unsupported_if_no_epoch_recorded_and_undefined_epoch_requested() {
    assert_eq!(end(&[], UNDEFINED_EPOCH, 73), UNDEFINED);
}

#[test]
fn should_return_first_epoch_if_requested_epoch_less_than_first_epoch() {
    assert_eq!(end(&[(5, 11), (6, 12), (7, 13)], 4, 0), (4, 11));
}

#[test]
fn should_truncate_if_matching_epoch_but_earlier_starting_offset() {
    // assign(5, 11); assign(6, 12); assign(7, 13); assign(7, 12) drops (6, 12) and (7, 13).
    let entries = [(5, 11), (7, 12)];
    assert_eq!(end(&entries, 5, 0), (5, 12));
    assert_eq!(end(&entries, 6, 0), (5, 12));
}

#[test]
fn should_get_first_offset_of_subsequent_epoch_when_offset_requested_for_previous_epoch() {
    // assign(1, 11); assign(1, 12); assign(2, 13); assign(2, 14); assign(3, 15); assign(3, 16)
    assert_eq!(end(&[(1, 11), (2, 13), (3, 15)], 2, 17), (2, 15));
}

#[test]
fn should_return_next_available_epoch_if_there_is_no_exact_epoch_for_the_one_requested() {
    let entries = [(0, 10), (2, 13), (4, 17)];
    assert_eq!(end(&entries, 1, 0), (0, 13));
    assert_eq!(end(&entries, 2, 0), (2, 17));
    assert_eq!(end(&entries, 3, 0), (2, 17));
}

#[test]
fn should_return_invalid_offset_if_epoch_is_requested_which_is_not_currently_tracked() {
    assert_eq!(end(&[(2, 100)], 3, 100), UNDEFINED);
}

#[test]
fn should_support_epochs_that_do_not_start_from_zero() {
    assert_eq!(end(&[(2, 6)], 2, 7), (2, 7));
}

#[test]
fn should_enforce_monotonically_increasing_epochs() {
    // assign(1, 5); assign(2, 6); assign(1, 7) drops (2, 6); log end 8.
    let entries = [(1, 5)];
    assert_eq!(end(&entries, 1, 8), (1, 8));
    assert_eq!(end(&entries, 2, 8), UNDEFINED);
}

#[test]
fn should_increase_and_track_epochs_as_leaders_change_many_times() {
    // assign(0, 0); assign(1, 0) drops (0, 0): epochs must start at increasing offsets.
    let entries = [(1, 0)];
    assert_eq!(end(&entries, 1, 0), (1, 0));
    assert_eq!(end(&entries, 0, 0), (0, 0));
    // Five records in epoch 1.
    assert_eq!(end(&entries, 1, 5), (1, 5));
    assert_eq!(end(&entries, 0, 5), (0, 0));
    // assign(2, 5), then five more records.
    let entries = [(1, 0), (2, 5)];
    assert_eq!(end(&entries, 2, 10), (2, 10));
    assert_eq!(end(&entries, 1, 10), (1, 5));
    assert_eq!(end(&entries, 0, 10), (0, 0));
}

#[test]
fn should_increase_and_track_epochs_as_follower_receives_many_messages() {
    assert_eq!(end(&[(0, 0)], 0, 3), (0, 3));
    assert_eq!(end(&[(0, 0), (1, 3)], 1, 6), (1, 6));
    let entries = [(0, 0), (1, 3), (2, 6)];
    assert_eq!(end(&entries, 2, 9), (2, 9));
    assert_eq!(end(&entries, 0, 9), (0, 3));
    assert_eq!(end(&entries, 1, 9), (1, 6));
}

#[test]
fn should_fetch_end_offset_of_empty_cache() {
    assert_eq!(end(&[], 7, 0), UNDEFINED);
}

#[test]
fn should_fetch_epoch_for_given_offset() {
    let entries = [(0, 10), (1, 20), (5, 30)];
    assert_eq!(epoch_for_offset(&entries, 25), Some(1));
    assert_eq!(epoch_for_offset(&entries, 20), Some(1));
    assert_eq!(epoch_for_offset(&entries, 30), Some(5));
    assert_eq!(epoch_for_offset(&entries, 50), Some(5));
    assert_eq!(epoch_for_offset(&entries, 5), None);
    assert_eq!(epoch_for_offset(&[], 0), None);
}

#[test]
fn get_epoch_entry() {
    let entries = [(2, 100), (3, 500), (5, 1000)];
    assert_eq!(start_offset_of(&entries, 2), Some(100));
    assert_eq!(start_offset_of(&entries, 3), Some(500));
    assert_eq!(start_offset_of(&entries, 5), Some(1000));
    assert_eq!(start_offset_of(&entries, 4), None);
}

/// `truncateFromStart(start)` of `[(2, 6), (3, 8), (4, 11)]`, as the leader view sees it (the
/// leader epoch is the latest, so nothing is added).
fn trimmed(log_start: i64) -> Vec<(i32, i64)> {
    let entries = [(2, 6), (3, 8), (4, 11)];
    leader_entries(&entries, log_start, 4, 20).into_owned()
}

#[test]
fn should_preserve_reset_offset_on_clear_earliest_if_one_exists() {
    assert_eq!(trimmed(8), vec![(3, 8), (4, 11)]);
}

#[test]
fn should_update_saved_offset_when_offset_to_clear_to_is_between_epochs() {
    assert_eq!(trimmed(9), vec![(3, 9), (4, 11)]);
}

#[test]
fn should_not_clear_anything_if_offset_too_early() {
    assert_eq!(trimmed(1), vec![(2, 6), (3, 8), (4, 11)]);
    let entries = [(2, 6), (3, 8), (4, 11)];
    assert!(matches!(
        leader_entries(&entries, 1, 4, 20),
        Cow::Borrowed(_)
    ));
}

#[test]
fn should_not_clear_anything_if_offset_to_first_offset() {
    assert_eq!(trimmed(6), vec![(2, 6), (3, 8), (4, 11)]);
}

#[test]
fn should_retain_latest_epoch_on_clear_all_earliest() {
    assert_eq!(trimmed(11), vec![(4, 11)]);
}

#[test]
fn should_update_offset_between_epoch_boundaries_on_clear_earliest2() {
    let entries = [(0, 0), (1, 7), (2, 10)];
    assert_eq!(
        leader_entries(&entries, 5, 2, 12).into_owned(),
        vec![(0, 5), (1, 7), (2, 10)]
    );
}

#[test]
fn should_retain_latest_epoch_on_clear_all_earliest_and_update_its_offset() {
    assert_eq!(trimmed(15), vec![(4, 15)]);
}

/// Kafka's leader writes its epoch at the log end when elected; a leader here that appended
/// nothing yet answers as if it had.
#[test]
fn a_new_leader_that_appended_nothing_yet_answers_for_its_epoch() {
    let entries = [(0, 0), (1, 5)];
    let view = leader_entries(&entries, 0, 3, 9);
    assert_eq!(view.as_ref(), &[(0, 0), (1, 5), (3, 9)]);
    assert_eq!(end(&view, 3, 9), (3, 9));
    assert_eq!(end(&view, 1, 9), (1, 9));
    assert_eq!(end(&view, 2, 9), (1, 9));
    // An empty log at its first epoch.
    let view = leader_entries(&[], 0, 0, 0);
    assert_eq!(end(&view, 0, 0), (0, 0));
    // Everything below the log start is gone, and the log is empty.
    let view = leader_entries(&[(0, 0), (1, 5)], 9, 2, 9);
    assert_eq!(view.as_ref(), &[(2, 9)]);
    assert_eq!(end(&view, 1, 9), (1, 9));
}

#[test]
fn a_leader_with_its_epoch_recorded_keeps_the_entries() {
    let entries = [(0, 0), (2, 5)];
    let view = leader_entries(&entries, 0, 2, 9);
    assert!(matches!(view, Cow::Borrowed(_)));
    assert_eq!(start_offset_of(&view, 2), Some(5));
}

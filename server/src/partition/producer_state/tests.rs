//! The producer-state rules as specifications, driven without a log.

use super::batch::{increment_sequence, ProducerBatch};
use super::snapshot::{self, SnapshotError};
use super::*;

const PID: i64 = 1000;
const CLIENT: CheckOrigin = CheckOrigin::Client { verification: None };

fn batch(epoch: i16, first_seq: i32, records: i32) -> ProducerBatch {
    ProducerBatch {
        producer_id: PID,
        epoch,
        first_seq,
        last_seq: increment_sequence(first_seq, records - 1),
        offset_count: i64::from(records),
        max_timestamp_ms: 1_000,
        is_transactional: false,
        is_control: false,
    }
}

/// Checks and, if it is to be appended, applies `batches` at `offset`; returns the check.
fn append(
    states: &mut ProducerStates,
    offset: &mut i64,
    batches: &[ProducerBatch],
) -> Result<Option<Duplicate>, ProducerError> {
    let call: Vec<Option<ProducerBatch>> = batches.iter().copied().map(Some).collect();
    let verdict = states.check(&call, CLIENT)?;
    if verdict.is_none() {
        for batch in batches {
            states.apply(batch, *offset);
            *offset += batch.offset_count;
        }
    }
    Ok(verdict)
}

#[test]
fn a_retried_batch_is_answered_with_its_original_offsets() {
    let mut states = ProducerStates::default();
    let mut offset = 40;
    assert_eq!(
        append(&mut states, &mut offset, &[batch(0, 0, 3)]),
        Ok(None)
    );
    assert_eq!(
        append(&mut states, &mut offset, &[batch(0, 3, 2)]),
        Ok(None)
    );
    let retry = append(&mut states, &mut offset, &[batch(0, 0, 3)]).expect("a retry is fine");
    let duplicate = retry.expect("the first batch is found");
    assert_eq!((duplicate.first_offset, duplicate.last_offset), (40, 42));
    assert_eq!(offset, 45, "nothing was appended for the retry");
}

#[test]
fn a_sequence_gap_is_out_of_order() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    append(&mut states, &mut offset, &[batch(0, 0, 3)]).expect("first batch");
    let gap = append(&mut states, &mut offset, &[batch(0, 4, 1)]);
    assert!(matches!(
        gap,
        Err(ProducerError::OutOfOrderSequence {
            first_seq: 4,
            last_seq: Some(2),
            ..
        })
    ));
    // A retry that overlaps a remembered batch without matching it is out of order too.
    let overlap = append(&mut states, &mut offset, &[batch(0, 1, 2)]);
    assert!(matches!(
        overlap,
        Err(ProducerError::OutOfOrderSequence { .. })
    ));
    assert_eq!(offset, 3);
}

#[test]
fn only_the_last_five_batches_are_remembered() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    for seq in 0..6 {
        append(&mut states, &mut offset, &[batch(0, seq, 1)]).expect("in sequence");
    }
    assert_eq!(
        states.get(PID).map(|e| e.batches.len()),
        Some(BATCHES_RETAINED_PER_PRODUCER)
    );
    let oldest_kept = append(&mut states, &mut offset, &[batch(0, 1, 1)]);
    assert_eq!(oldest_kept.ok().flatten().map(|d| d.first_offset), Some(1));
    // The first batch fell out of the window: its retry is no longer recognised.
    let forgotten = append(&mut states, &mut offset, &[batch(0, 0, 1)]);
    assert!(matches!(
        forgotten,
        Err(ProducerError::OutOfOrderSequence { .. })
    ));
}

#[test]
fn an_older_epoch_is_fenced_and_a_new_epoch_starts_at_zero() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    append(&mut states, &mut offset, &[batch(3, 0, 2)]).expect("epoch 3");
    let older = append(&mut states, &mut offset, &[batch(2, 2, 1)]);
    assert!(matches!(
        older,
        Err(ProducerError::InvalidProducerEpoch {
            epoch: 2,
            current: 3,
            ..
        })
    ));
    let not_at_zero = append(&mut states, &mut offset, &[batch(4, 2, 1)]);
    assert!(matches!(
        not_at_zero,
        Err(ProducerError::OutOfOrderSequence { last_seq: None, .. })
    ));
    assert_eq!(
        append(&mut states, &mut offset, &[batch(4, 0, 1)]),
        Ok(None)
    );
    assert_eq!(states.get(PID).map(|e| e.epoch), Some(4));
    assert_eq!(states.get(PID).map(|e| e.batches.len()), Some(1));
    // Retries of the old epoch's batches are fenced, not duplicates.
    let old_retry = append(&mut states, &mut offset, &[batch(3, 0, 2)]);
    assert!(matches!(
        old_retry,
        Err(ProducerError::InvalidProducerEpoch { .. })
    ));
}

#[test]
fn an_unknown_producer_is_accepted_at_any_sequence() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    assert_eq!(
        append(&mut states, &mut offset, &[batch(0, 77, 1)]),
        Ok(None)
    );
    assert_eq!(
        append(&mut states, &mut offset, &[batch(0, 78, 1)]),
        Ok(None)
    );
}

#[test]
fn batches_of_one_call_are_checked_against_each_other() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    let call = [batch(0, 0, 2), batch(0, 2, 2), batch(0, 4, 1)];
    assert_eq!(append(&mut states, &mut offset, &call), Ok(None));
    assert_eq!(offset, 5);
    let gap_inside = append(&mut states, &mut offset, &[batch(0, 5, 1), batch(0, 7, 1)]);
    assert!(matches!(
        gap_inside,
        Err(ProducerError::OutOfOrderSequence { batch_index: 1, .. })
    ));
    assert_eq!(offset, 5, "nothing of a refused call is applied");
    let whole_retry = append(&mut states, &mut offset, &call[..1]).expect("retry");
    assert_eq!(whole_retry.map(|d| d.first_offset), Some(0));
}

#[test]
fn the_sequence_wraps_past_i32_max() {
    assert_eq!(increment_sequence(i32::MAX - 1, 3), 1);
    let mut states = ProducerStates::default();
    let mut offset = 0;
    append(&mut states, &mut offset, &[batch(0, i32::MAX - 1, 2)]).expect("unknown producer");
    assert_eq!(
        append(&mut states, &mut offset, &[batch(0, 0, 1)]),
        Ok(None)
    );
}

#[test]
fn control_batches_and_unverified_transactional_batches_are_refused() {
    let states = ProducerStates::default();
    let control = ProducerBatch {
        is_control: true,
        ..batch(0, 0, 1)
    };
    let transactional = ProducerBatch {
        is_transactional: true,
        ..batch(0, 0, 1)
    };
    assert!(matches!(
        states.check(&[None, Some(control)], CLIENT),
        Err(ProducerError::ControlBatch { batch_index: 1 })
    ));
    assert!(matches!(
        states.check(&[Some(control)], CheckOrigin::Coordinator),
        Err(ProducerError::ControlBatch { batch_index: 0 })
    ));
    // Unverified: the partition asks for a verification first.
    assert!(matches!(
        states.check(&[Some(transactional)], CLIENT),
        Err(ProducerError::NeedsVerification { .. })
    ));
    let anonymous = ProducerBatch {
        producer_id: -1,
        ..transactional
    };
    assert!(matches!(
        states.check(&[Some(anonymous)], CLIENT),
        Err(ProducerError::MissingProducerId { batch_index: 0 })
    ));
}

#[test]
fn idle_producers_expire() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    append(&mut states, &mut offset, &[batch(0, 0, 1)]).expect("append");
    let other = ProducerBatch {
        producer_id: PID + 1,
        max_timestamp_ms: 5_000,
        ..batch(0, 0, 1)
    };
    states.apply(&other, offset);
    assert_eq!(states.expire(5_999, 5_000), 0);
    assert_eq!(states.expire(6_000, 5_000), 1);
    assert!(states.get(PID).is_none());
    assert!(states.get(PID + 1).is_some());
    // An expired producer is unknown again: any sequence is accepted.
    assert_eq!(
        append(&mut states, &mut offset, &[batch(0, 9, 1)]),
        Ok(None)
    );
}

#[test]
fn snapshots_round_trip_and_refuse_damage() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    for seq in 0..7 {
        append(&mut states, &mut offset, &[batch(1, seq * 2, 2)]).expect("append");
    }
    let other = ProducerBatch {
        producer_id: 7,
        ..batch(0, 0, 4)
    };
    states.apply(&other, offset);
    let bytes = snapshot::encode(&states);
    assert_eq!(snapshot::decode(&bytes), Ok(states.clone()));
    let mut flipped = bytes.clone();
    flipped[12] ^= 1;
    assert_eq!(snapshot::decode(&flipped), Err(SnapshotError::Crc));
    assert!(snapshot::decode(&bytes[..bytes.len() - 1]).is_err());
    assert_eq!(
        snapshot::decode(&snapshot::encode(&ProducerStates::default())),
        Ok(ProducerStates::default())
    );
}

#[test]
fn a_header_with_negative_counts_is_left_to_the_engine() {
    let mut bytes = sluice_engine::batch::build_batch(0, 0, 1, b"v").to_vec();
    let at = sluice_engine::batch::PRODUCER_ID_AT;
    bytes[at..at + 8].copy_from_slice(&PID.to_be_bytes());
    let at = sluice_engine::batch::LAST_OFFSET_DELTA_AT;
    bytes[at..at + 4].copy_from_slice(&(-7i32).to_be_bytes());
    let header = sluice_engine::batch::parse_header(&bytes).expect("the header parses");
    assert_eq!(ProducerBatch::from_header(&header), None);
}

/// A seeded walk of clients retrying, skipping, bumping epochs and going back: whatever they
/// send, the rules never panic, an accepted batch becomes its producer's last, a duplicate
/// points inside the log, and snapshots round-trip at every step.
#[test]
fn random_clients_keep_the_invariants() {
    const STEPS: usize = 20_000;
    const PRODUCERS: u64 = 4;
    let mut rng: u64 = 0x5eed_1234_abcd_0001;
    let mut next = move |bound: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % bound
    };
    let mut states = ProducerStates::default();
    let mut offset = 0i64;
    // What each producer would send next if nothing went wrong: (epoch, seq).
    let mut expected = [(0i16, 0i32); PRODUCERS as usize];
    for step in 0..STEPS {
        let who = next(PRODUCERS) as usize;
        let (epoch, seq) = expected[who];
        let (epoch, seq) = match next(10) {
            0 => (epoch, seq.saturating_sub(1 + next(12) as i32).max(0)), // a retry
            1 => (epoch, seq + 1 + next(3) as i32),                       // a gap
            2 => (epoch.saturating_add(1), 0),                            // a bump
            3 => (epoch.saturating_sub(1).max(0), seq),                   // an old epoch
            _ => (epoch, seq),
        };
        let records = 1 + next(4) as i32;
        let batch = ProducerBatch {
            producer_id: who as i64,
            max_timestamp_ms: step as i64,
            ..batch(epoch, seq, records)
        };
        match states.check(&[Some(batch)], CLIENT) {
            Ok(None) => {
                states.apply(&batch, offset);
                offset += batch.offset_count;
                expected[who] = (epoch, batch.last_seq + 1);
                let entry = states.get(who as i64).expect("just applied");
                assert_eq!(entry.epoch, epoch);
                assert_eq!(entry.last_seq(), Some(batch.last_seq));
                assert!(entry.batches.len() <= BATCHES_RETAINED_PER_PRODUCER);
            }
            Ok(Some(duplicate)) => {
                assert!(duplicate.last_offset < offset);
                assert_eq!(
                    duplicate.last_offset - duplicate.first_offset + 1,
                    batch.offset_count
                );
            }
            Err(_) => {}
        }
        if step % 97 == 0 {
            let bytes = snapshot::encode(&states);
            assert_eq!(snapshot::decode(&bytes).as_ref(), Ok(&states));
        }
    }
    assert!(offset > 0);
}

// ---- transactions ----

fn txn_batch(epoch: i16, first_seq: i32, records: i32) -> ProducerBatch {
    ProducerBatch {
        is_transactional: true,
        ..batch(epoch, first_seq, records)
    }
}

/// Verifies `PID` at `epoch` the way the partition and the produce handler do: a refusal
/// hands out a token, the retry carries it.
fn verified_append(
    states: &mut ProducerStates,
    offset: &mut i64,
    batch: ProducerBatch,
) -> Result<Option<Duplicate>, ProducerError> {
    match states.check(&[Some(batch)], CLIENT) {
        Err(ProducerError::NeedsVerification {
            producer_id, epoch, ..
        }) => {
            let token = states.verification_token(producer_id, epoch, 0);
            let origin = CheckOrigin::Client {
                verification: Some(token),
            };
            let verdict = states.check(&[Some(batch)], origin)?;
            assert!(verdict.is_none());
            states.apply(&batch, *offset);
            *offset += batch.offset_count;
            Ok(None)
        }
        other => other,
    }
}

#[test]
fn a_verified_transactional_batch_starts_a_transaction_at_its_first_offset_and_later_ones_continue_it(
) {
    let mut states = ProducerStates::default();
    let mut offset = 10;
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 2)).expect("starts");
    assert_eq!(states.get(PID).unwrap().current_txn_first_offset, Some(10));
    assert_eq!(states.first_unstable_offset(), Some(10));
    // The token was used up: the next batch continues without one.
    assert_eq!(states.pending_verification(PID), None);
    assert_eq!(
        append(&mut states, &mut offset, &[txn_batch(0, 2, 3)]),
        Ok(None)
    );
    assert_eq!(states.get(PID).unwrap().current_txn_first_offset, Some(10));
    assert_eq!(states.ongoing_count(), 1);
}

#[test]
fn a_non_transactional_batch_during_an_ongoing_transaction_is_invalid_txn_state() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 1)).expect("starts");
    assert!(matches!(
        append(&mut states, &mut offset, &[batch(0, 1, 1)]),
        Err(ProducerError::InvalidTxnState {
            batch_index: 0,
            producer_id: PID
        })
    ));
    // The coordinator's own non-transactional writes are refused the same way.
    assert!(matches!(
        states.check(&[Some(batch(0, -1, 1))], CheckOrigin::Coordinator),
        Err(ProducerError::InvalidTxnState { .. })
    ));
}

#[test]
fn transactional_batches_keep_the_epoch_and_sequence_rules() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(2, 0, 1)).expect("starts");
    assert!(matches!(
        append(&mut states, &mut offset, &[txn_batch(2, 5, 1)]),
        Err(ProducerError::OutOfOrderSequence { .. })
    ));
    assert!(matches!(
        append(&mut states, &mut offset, &[txn_batch(1, 1, 1)]),
        Err(ProducerError::InvalidProducerEpoch { .. })
    ));
    // A retry of the transaction's batch is still a duplicate.
    assert!(matches!(
        append(&mut states, &mut offset, &[txn_batch(2, 0, 1)]),
        Ok(Some(_))
    ));
}

#[test]
fn a_newer_epoch_needs_a_new_verification_even_with_an_ongoing_transaction() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 1)).expect("starts");
    assert!(matches!(
        states.check(&[Some(txn_batch(1, 0, 1))], CLIENT),
        Err(ProducerError::NeedsVerification { epoch: 1, .. })
    ));
}

#[test]
fn verification_tokens_match_only_their_producer_epoch_and_die_with_a_marker_or_an_epoch_change() {
    let mut states = ProducerStates::default();
    let token = states.verification_token(PID, 0, 0);
    assert_eq!(
        states.verification_token(PID, 0, 5),
        token,
        "reused for the same epoch"
    );
    let wrong = CheckOrigin::Client {
        verification: Some(VerificationToken(token.0 + 1000)),
    };
    assert!(matches!(
        states.check(&[Some(txn_batch(0, 0, 1))], wrong),
        Err(ProducerError::NeedsVerification { .. })
    ));
    let right = CheckOrigin::Client {
        verification: Some(token),
    };
    assert_eq!(states.check(&[Some(txn_batch(0, 0, 1))], right), Ok(None));
    // Another epoch's token does not verify this one.
    assert!(matches!(
        states.check(&[Some(txn_batch(1, 0, 1))], right),
        Err(ProducerError::NeedsVerification { .. })
    ));
    // A marker for the producer (the transaction the verification saw ended) drops it.
    states.apply_marker(PID, 0, 0, false, 3, 0);
    assert_eq!(states.pending_verification(PID), None);
    assert!(matches!(
        states.check(&[Some(txn_batch(0, 0, 1))], right),
        Err(ProducerError::NeedsVerification { .. })
    ));
    // A new token of epoch 0, then a batch of epoch 1 is applied: the token goes.
    let token = states.verification_token(PID, 0, 0);
    states.apply(&batch(1, 0, 1), 4);
    assert_eq!(states.pending_verification(PID), None);
    assert_ne!(states.verification_token(PID, 0, 0), token, "a fresh token");
}

#[test]
fn commit_and_abort_markers_end_the_transaction_with_its_offsets() {
    let mut states = ProducerStates::default();
    let mut offset = 100;
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 3)).expect("starts");
    append(&mut states, &mut offset, &[txn_batch(0, 3, 2)]).expect("continues");
    assert_eq!(states.check_marker(PID, 0, 4), Ok(()));
    let completed = states.apply_marker(PID, 0, 4, true, offset, 2_000);
    assert_eq!(
        completed,
        CompletedTxn {
            producer_id: PID,
            first_offset: 100,
            last_offset: 105,
            is_aborted: false
        }
    );
    let entry = states.get(PID).unwrap();
    assert_eq!(entry.current_txn_first_offset, None);
    assert_eq!(entry.coordinator_epoch, 4);
    assert_eq!(states.ongoing_count(), 0);
    // Not yet replicated: still unstable until the high watermark passes the marker.
    assert_eq!(states.first_unstable_offset(), Some(100));
    states.retire_replicated(105);
    assert_eq!(states.first_unstable_offset(), Some(100));
    states.retire_replicated(106);
    assert_eq!(states.first_unstable_offset(), None);
    // An abort without data here covers only the marker itself.
    let aborted = states.apply_marker(PID, 0, 4, false, 106, 2_000);
    assert_eq!(
        (
            aborted.first_offset,
            aborted.last_offset,
            aborted.is_aborted
        ),
        (106, 106, true)
    );
}

#[test]
fn the_stable_offset_of_an_abort_is_the_oldest_other_ongoing_transaction() {
    let mut states = ProducerStates::default();
    let other = |seq| ProducerBatch {
        producer_id: PID + 1,
        ..txn_batch(0, seq, 1)
    };
    let mut offset = 0;
    verified_append(&mut states, &mut offset, other(0)).expect("other starts at 0");
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 1)).expect("PID starts at 1");
    let completed = states.apply_marker(PID, 0, 0, false, 2, 0);
    assert_eq!(states.stable_offset_after(&completed), 0);
    let completed = states.apply_marker(PID + 1, 0, 0, false, 3, 0);
    assert_eq!(states.stable_offset_after(&completed), 4);
}

#[test]
fn an_older_marker_epoch_is_refused_and_an_older_coordinator_epoch_is_fenced() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(3, 0, 1)).expect("starts");
    states.apply_marker(PID, 3, 7, true, offset, 0);
    assert!(matches!(
        states.check_marker(PID, 2, 7),
        Err(ProducerError::InvalidProducerEpoch {
            epoch: 2,
            current: 3,
            ..
        })
    ));
    assert!(matches!(
        states.check_marker(PID, 3, 6),
        Err(ProducerError::CoordinatorFenced {
            coordinator_epoch: 6,
            current: 7,
            ..
        })
    ));
    assert_eq!(states.check_marker(PID, 3, 8), Ok(()));
    // An unknown producer takes any marker.
    assert_eq!(states.check_marker(PID + 5, 0, 0), Ok(()));
}

#[test]
fn a_marker_with_a_bumped_epoch_fences_the_old_epoch() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 1)).expect("starts");
    // The coordinator fenced the producer: it aborts with epoch 1.
    states.apply_marker(PID, 1, 0, false, offset, 0);
    offset += 1;
    assert_eq!(states.get(PID).unwrap().epoch, 1);
    assert!(states.get(PID).unwrap().batches.is_empty());
    assert!(matches!(
        append(&mut states, &mut offset, &[txn_batch(0, 1, 1)]),
        Err(ProducerError::InvalidProducerEpoch { current: 1, .. })
    ));
}

#[test]
fn coordinator_writes_check_only_the_epoch() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(4, 0, 1)).expect("starts");
    let offsets_commit = txn_batch(4, -1, 1);
    assert_eq!(
        states.check(&[Some(offsets_commit)], CheckOrigin::Coordinator),
        Ok(None)
    );
    assert!(matches!(
        states.check(&[Some(txn_batch(3, -1, 1))], CheckOrigin::Coordinator),
        Err(ProducerError::InvalidProducerEpoch { .. })
    ));
    // A producer with no transaction here yet: the coordinator's write starts one, unverified.
    let other = ProducerBatch {
        producer_id: PID + 1,
        ..offsets_commit
    };
    assert_eq!(
        states.check(&[Some(other)], CheckOrigin::Coordinator),
        Ok(None)
    );
    states.apply(&other, 9);
    assert_eq!(
        states.get(PID + 1).unwrap().current_txn_first_offset,
        Some(9)
    );
}

#[test]
fn expiry_keeps_producers_with_an_ongoing_transaction() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 1)).expect("starts");
    let idle = ProducerBatch {
        producer_id: PID + 1,
        ..batch(0, 0, 1)
    };
    states.apply(&idle, offset);
    assert_eq!(states.expire(1_000_000, 5_000), 1);
    assert!(
        states.get(PID).is_some(),
        "the open transaction keeps its producer"
    );
    assert!(states.get(PID + 1).is_none());
    states.apply_marker(PID, 0, 0, true, 5, 1_000);
    assert_eq!(states.expire(1_000_000, 5_000), 1);
}

#[test]
fn snapshots_keep_the_ongoing_transaction_and_the_coordinator_epoch() {
    let mut states = ProducerStates::default();
    let mut offset = 0;
    verified_append(&mut states, &mut offset, txn_batch(0, 0, 2)).expect("starts");
    let other = ProducerBatch {
        producer_id: PID + 1,
        ..txn_batch(0, 0, 1)
    };
    states.apply(&other, offset);
    states.apply_marker(PID + 1, 0, 12, true, offset + 1, 0);
    states.retire_replicated(i64::MAX);
    let decoded = snapshot::decode(&snapshot::encode(&states)).expect("decodes");
    assert_eq!(decoded.get(PID).unwrap().current_txn_first_offset, Some(0));
    assert_eq!(decoded.get(PID + 1).unwrap().coordinator_epoch, 12);
    assert_eq!(decoded.first_unstable_offset(), Some(0));
    assert_eq!(decoded.entries().count(), 2);
    // The loaded state goes on as the original: the transaction continues, then ends.
    let mut decoded = decoded;
    let mut at = offset + 2;
    assert_eq!(
        append(&mut decoded, &mut at, &[txn_batch(0, 2, 1)]),
        Ok(None)
    );
    assert_eq!(decoded.check_marker(PID + 1, 0, 11).is_err(), true);
}

/// A version-1 snapshot (before transactions), byte by byte as that version wrote it.
#[test]
fn version_1_snapshots_still_load() {
    let mut body = Vec::new();
    body.extend_from_slice(&0x534c_5053u32.to_be_bytes());
    body.extend_from_slice(&1u16.to_be_bytes());
    body.extend_from_slice(&1u32.to_be_bytes());
    body.extend_from_slice(&PID.to_be_bytes());
    body.extend_from_slice(&3i16.to_be_bytes());
    body.extend_from_slice(&777i64.to_be_bytes());
    body.push(1);
    for value in [0i32, 4] {
        body.extend_from_slice(&value.to_be_bytes());
    }
    for value in [20i64, 24, 777] {
        body.extend_from_slice(&value.to_be_bytes());
    }
    let crc = crc32c::crc32c(&body);
    body.extend_from_slice(&crc.to_be_bytes());
    let states = snapshot::decode(&body).expect("version 1 decodes");
    let entry = states.get(PID).expect("the producer");
    assert_eq!(entry.epoch, 3);
    assert_eq!(entry.last_seq(), Some(4));
    assert_eq!(entry.current_txn_first_offset, None);
    assert_eq!(entry.coordinator_epoch, NO_COORDINATOR_EPOCH);
    assert_eq!(entry.last_timestamp_ms, 777);
}

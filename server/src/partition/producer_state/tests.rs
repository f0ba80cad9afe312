//! The producer-state rules as specifications, driven without a log.

use super::batch::{increment_sequence, ProducerBatch};
use super::snapshot::{self, SnapshotError};
use super::*;

const PID: i64 = 1000;

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
    let verdict = states.check(&call)?;
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
fn control_and_transactional_batches_are_refused() {
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
        states.check(&[None, Some(control)]),
        Err(ProducerError::ControlBatch { batch_index: 1 })
    ));
    assert!(matches!(
        states.check(&[Some(transactional)]),
        Err(ProducerError::NoOngoingTransaction { .. })
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
        match states.check(&[Some(batch)]) {
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

//! The queue-invariant checker (Jepsen's Kafka workload checks), as a pure function of
//! what producers were told (acked batches) and what a consumer read back (observations).
//!
//! Invariants, each counted on its own:
//! - **lost**: an acknowledged message is not in its partition;
//! - **duplicate**: one message (producer id, sequence) sits at two offsets. Loadgen retries
//!   only batches the broker explicitly rejected, so any duplicate means the broker stored a
//!   batch twice or stored one it said it had rejected;
//! - **inconsistent offset**: one offset read with two different values, or an acked offset
//!   holding something other than the acked message;
//! - **non-monotonic**: within one partition's reads, an offset not above the previous one;
//! - **reordered**: one producer's sequences going backwards within a partition;
//! - **corrupt**: a value that fails its checksum or payload check, or a batch CRC failure;
//! - **aborted visible** (transactions): a message of an aborted transaction was read back
//!   (the read-back is read_committed, so the broker or the consumer rule failed to hide it).
//!
//! Messages read back but never acked are fine (their produce outcome was unknown). So are the
//! messages of a transaction whose end is unknown (EndTxn never answered): present or not, but
//! never twice. A committed transaction's messages must all be there exactly once.

use std::collections::{HashMap, HashSet};

/// How the transaction of an acknowledged batch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TxnMark {
    /// Not in a transaction.
    None,
    /// The producer's transaction number `n`, not ended yet (only during a run).
    Pending(u64),
    /// EndTxn(commit) succeeded: every message must be visible.
    Committed,
    /// EndTxn(abort) succeeded: no message may be visible.
    Aborted,
    /// EndTxn was not answered: either outcome.
    Unknown,
}

/// One batch the broker acknowledged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AckedBatch {
    pub partition: u32,
    pub producer_id: u64,
    pub sequence_first: u64,
    pub count: u32,
    /// The offset the broker returned for the first record, if known (acks ≥ 1).
    pub offset_first: Option<i64>,
    pub txn: TxnMark,
}

/// One record read back, in the order it was polled.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Observation {
    pub offset: i64,
    pub producer_id: u64,
    pub sequence: u64,
}

/// Everything read from one partition.
#[derive(Debug, Clone, Default)]
pub struct PartitionReads {
    pub observations: Vec<Observation>,
    /// Records that are not intact loadgen values, and batches that failed their CRC.
    pub corrupt: u64,
}

const EXAMPLES_MAX: usize = 20;

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Verdict {
    pub acked: u64,
    pub observed: u64,
    pub lost: u64,
    pub duplicates: u64,
    pub inconsistent_offsets: u64,
    pub non_monotonic: u64,
    pub reordered: u64,
    pub corrupt: u64,
    /// Read back although never acknowledged (not a violation).
    pub unacked_present: u64,
    /// Acknowledged messages of aborted transactions, and those of them read back (a
    /// violation: read_committed must never see them).
    pub aborted: u64,
    pub aborted_visible: u64,
    pub examples: Vec<String>,
}

impl Verdict {
    pub fn ok(&self) -> bool {
        self.lost == 0
            && self.duplicates == 0
            && self.inconsistent_offsets == 0
            && self.non_monotonic == 0
            && self.reordered == 0
            && self.corrupt == 0
            && self.aborted_visible == 0
    }

    fn example(&mut self, text: impl FnOnce() -> String) {
        if self.examples.len() < EXAMPLES_MAX {
            self.examples.push(text());
        }
    }

    pub fn summary_line(&self) -> String {
        format!(
            "{}: acked {} observed {} | lost {} duplicates {} inconsistent-offsets {} \
             non-monotonic {} reordered {} corrupt {} aborted-visible {} | \
             unacked-but-present {} aborted {}",
            if self.ok() { "PASS" } else { "FAIL" },
            self.acked,
            self.observed,
            self.lost,
            self.duplicates,
            self.inconsistent_offsets,
            self.non_monotonic,
            self.reordered,
            self.corrupt,
            self.aborted_visible,
            self.unacked_present,
            self.aborted
        )
    }
}

/// (partition, producer id, sequence): sequences count per producer *and* partition.
type MessageId = (u32, u64, u64);

/// Checks `reads[p]` (partition p's polls) against every acked batch.
pub fn check(acked: &[AckedBatch], reads: &[PartitionReads]) -> Verdict {
    let mut verdict = Verdict::default();
    // The offset each message was first seen at.
    let mut first_seen: HashMap<MessageId, i64> = HashMap::new();
    // Every offset a message was read at: a retried message stored twice (a duplicate, counted
    // above) is acknowledged at one of them, not necessarily the first.
    let mut seen_at: HashSet<(MessageId, i64)> = HashSet::new();
    for (p, partition) in reads.iter().enumerate() {
        check_partition(p as u32, partition, &mut verdict, &mut first_seen);
        for o in &partition.observations {
            seen_at.insert(((p as u32, o.producer_id, o.sequence), o.offset));
        }
    }
    let mut acked_ids: HashMap<MessageId, ()> = HashMap::new();
    for batch in acked {
        for i in 0..batch.count as u64 {
            let id = (batch.partition, batch.producer_id, batch.sequence_first + i);
            acked_ids.insert(id, ());
            match batch.txn {
                TxnMark::None | TxnMark::Committed => {
                    verdict.acked += 1;
                    check_acked(batch, i, id, &mut verdict, &first_seen, &seen_at);
                }
                TxnMark::Aborted => {
                    verdict.aborted += 1;
                    if let Some(offset) = first_seen.get(&id) {
                        verdict.aborted_visible += 1;
                        verdict.example(|| {
                            format!("message {id:?} of an aborted transaction read at {offset}")
                        });
                    }
                }
                // Present or not; a second copy is still a duplicate (counted above).
                TxnMark::Pending(_) | TxnMark::Unknown => {}
            }
        }
    }
    verdict.unacked_present = first_seen
        .keys()
        .filter(|id| !acked_ids.contains_key(id))
        .count() as u64;
    verdict
}

fn check_partition(
    p: u32,
    partition: &PartitionReads,
    verdict: &mut Verdict,
    first_seen: &mut HashMap<MessageId, i64>,
) {
    // What each offset of this partition held.
    let mut at_offset: HashMap<i64, MessageId> = HashMap::new();
    verdict.corrupt += partition.corrupt;
    if partition.corrupt > 0 {
        verdict.example(|| {
            format!(
                "partition {p}: {} corrupt records or batches",
                partition.corrupt
            )
        });
    }
    let mut offset_last: Option<i64> = None;
    let mut sequence_last: HashMap<u64, u64> = HashMap::new();
    for o in &partition.observations {
        verdict.observed += 1;
        let id = (p, o.producer_id, o.sequence);
        if let Some(last) = offset_last {
            if o.offset <= last {
                verdict.non_monotonic += 1;
                verdict
                    .example(|| format!("partition {p}: offset {} polled after {last}", o.offset));
            }
        }
        offset_last = Some(o.offset);
        match at_offset.get(&o.offset) {
            Some(held) if *held != id => {
                verdict.inconsistent_offsets += 1;
                verdict.example(|| {
                    format!(
                        "partition {p}: offset {} read as {held:?} and {id:?}",
                        o.offset
                    )
                });
                continue;
            }
            Some(_) => continue, // the same record polled again: only non-monotonic, above
            None => {
                at_offset.insert(o.offset, id);
            }
        }
        if let Some(&offset0) = first_seen.get(&id) {
            verdict.duplicates += 1;
            verdict.example(|| format!("message {id:?} at offsets {offset0} and {}", o.offset));
            continue;
        }
        first_seen.insert(id, o.offset);
        let last = sequence_last.entry(o.producer_id).or_insert(o.sequence);
        if o.sequence < *last {
            verdict.reordered += 1;
            verdict.example(|| {
                format!(
                    "partition {p}: producer {} sequence {} after {}",
                    o.producer_id, o.sequence, last
                )
            });
        } else {
            *last = o.sequence;
        }
    }
}

fn check_acked(
    batch: &AckedBatch,
    index: u64,
    id: MessageId,
    verdict: &mut Verdict,
    first_seen: &HashMap<MessageId, i64>,
    seen_at: &HashSet<(MessageId, i64)>,
) {
    let Some(&seen_offset) = first_seen.get(&id) else {
        verdict.lost += 1;
        verdict.example(|| format!("acked message {id:?} never read back"));
        return;
    };
    let Some(offset_first) = batch.offset_first else {
        return;
    };
    let expected = offset_first + index as i64;
    if !seen_at.contains(&(id, expected)) {
        verdict.inconsistent_offsets += 1;
        verdict.example(|| {
            format!("message {id:?} acked at offset {expected}, read at {seen_offset}")
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(
        partition: u32,
        producer_id: u64,
        sequence_first: u64,
        count: u32,
        offset: i64,
    ) -> AckedBatch {
        AckedBatch {
            partition,
            producer_id,
            sequence_first,
            count,
            offset_first: Some(offset),
            txn: TxnMark::None,
        }
    }

    fn obs(offset: i64, producer_id: u64, sequence: u64) -> Observation {
        Observation {
            offset,
            producer_id,
            sequence,
        }
    }

    fn reads(observations: Vec<Observation>) -> PartitionReads {
        PartitionReads {
            observations,
            corrupt: 0,
        }
    }

    /// Two producers interleaved on partition 0, one on partition 1.
    fn clean_history() -> (Vec<AckedBatch>, Vec<PartitionReads>) {
        let acked = vec![
            batch(0, 1, 0, 2, 0),
            batch(0, 2, 0, 1, 2),
            batch(0, 1, 2, 1, 3),
            batch(1, 1, 0, 2, 0),
        ];
        let r = vec![
            reads(vec![obs(0, 1, 0), obs(1, 1, 1), obs(2, 2, 0), obs(3, 1, 2)]),
            reads(vec![obs(0, 1, 0), obs(1, 1, 1)]),
        ];
        (acked, r)
    }

    #[test]
    fn clean_history_passes() {
        let (acked, r) = clean_history();
        let v = check(&acked, &r);
        assert!(v.ok(), "{}", v.summary_line());
        assert_eq!(v.acked, 6);
        assert_eq!(v.observed, 6);
        assert_eq!(v.unacked_present, 0);
    }

    #[test]
    fn unacked_but_present_is_not_a_violation() {
        let (acked, mut r) = clean_history();
        r[1].observations.push(obs(2, 1, 2));
        let v = check(&acked, &r);
        assert!(v.ok());
        assert_eq!(v.unacked_present, 1);
    }

    #[test]
    fn a_retry_stored_twice_and_acked_at_the_second_offset_is_a_duplicate_only() {
        // Producer 3's message 0 was stored at 4 (answered with an error) and again at 5,
        // which is the acknowledged offset.
        let (mut acked, mut r) = clean_history();
        acked.push(batch(0, 3, 0, 1, 5));
        r[0].observations.push(obs(4, 3, 0));
        r[0].observations.push(obs(5, 3, 0));
        let v = check(&acked, &r);
        assert_eq!(v.duplicates, 1);
        assert_eq!(v.inconsistent_offsets, 0, "{}", v.summary_line());
        // Acknowledged at an offset that holds something else: inconsistent.
        acked.push(batch(0, 3, 1, 1, 3));
        r[0].observations.push(obs(6, 3, 1));
        let v = check(&acked, &r);
        assert_eq!(v.inconsistent_offsets, 1, "{}", v.summary_line());
    }

    #[test]
    fn lost_write_is_caught() {
        let (acked, mut r) = clean_history();
        r[0].observations.remove(2);
        let v = check(&acked, &r);
        assert_eq!(v.lost, 1, "{}", v.summary_line());
        assert!(!v.ok());
    }

    #[test]
    fn message_in_the_wrong_partition_counts_as_lost() {
        let acked = vec![batch(0, 1, 0, 1, 0)];
        let r = vec![reads(vec![]), reads(vec![obs(0, 1, 0)])];
        let v = check(&acked, &r);
        assert_eq!(v.lost, 1);
    }

    #[test]
    fn duplicate_is_caught() {
        let (acked, mut r) = clean_history();
        r[0].observations.push(obs(4, 2, 0));
        let v = check(&acked, &r);
        assert_eq!(v.duplicates, 1, "{}", v.summary_line());
        assert_eq!(v.lost, 0);
        assert!(!v.ok());
    }

    #[test]
    fn one_offset_with_two_values_is_caught() {
        let (acked, mut r) = clean_history();
        // A second poll of partition 1 sees offset 1 holding another message.
        r[1].observations.push(obs(1, 9, 9));
        let v = check(&acked, &r);
        assert_eq!(v.inconsistent_offsets, 1, "{}", v.summary_line());
        assert!(!v.ok());
    }

    #[test]
    fn acked_offset_holding_another_message_is_caught() {
        let acked = vec![batch(0, 1, 0, 2, 10)];
        let r = vec![reads(vec![obs(10, 1, 1), obs(11, 1, 0)])];
        let v = check(&acked, &r);
        assert_eq!(v.inconsistent_offsets, 2, "{}", v.summary_line());
    }

    #[test]
    fn non_monotonic_poll_is_caught() {
        let (acked, mut r) = clean_history();
        // Re-reading offset 2 of partition 0 after offset 3 (same value).
        r[0].observations.push(obs(2, 2, 0));
        let v = check(&acked, &r);
        assert_eq!(v.non_monotonic, 1, "{}", v.summary_line());
        assert_eq!(v.duplicates, 0, "re-reading one offset is not a duplicate");
        assert!(!v.ok());
    }

    #[test]
    fn per_producer_reorder_is_caught() {
        let acked = vec![batch(0, 1, 0, 1, 1), batch(0, 1, 1, 1, 0)];
        let r = vec![reads(vec![obs(0, 1, 1), obs(1, 1, 0)])];
        let v = check(&acked, &r);
        assert_eq!(v.reordered, 1, "{}", v.summary_line());
        assert!(!v.ok());
    }

    #[test]
    fn corruption_is_caught() {
        let (acked, mut r) = clean_history();
        r[1].corrupt = 2;
        let v = check(&acked, &r);
        assert_eq!(v.corrupt, 2);
        assert!(!v.ok());
    }

    #[test]
    fn acks_zero_history_without_offsets_checks_presence_only() {
        let acked = vec![AckedBatch {
            partition: 0,
            producer_id: 1,
            sequence_first: 0,
            count: 2,
            offset_first: None,
            txn: TxnMark::None,
        }];
        let r = vec![reads(vec![obs(5, 1, 0), obs(6, 1, 1)])];
        assert!(check(&acked, &r).ok());
    }

    fn in_txn(mut b: AckedBatch, txn: TxnMark) -> AckedBatch {
        b.txn = txn;
        b
    }

    #[test]
    fn committed_transactions_must_be_read_exactly_once() {
        let acked = vec![
            in_txn(batch(0, 1, 0, 2, 0), TxnMark::Committed),
            in_txn(batch(0, 1, 2, 1, 3), TxnMark::Committed),
        ];
        // Offset 2 is the commit marker: never a record.
        let r = vec![reads(vec![obs(0, 1, 0), obs(1, 1, 1), obs(3, 1, 2)])];
        let v = check(&acked, &r);
        assert!(v.ok(), "{}", v.summary_line());
        assert_eq!(v.acked, 3);
        let lost = vec![reads(vec![obs(0, 1, 0), obs(3, 1, 2)])];
        assert_eq!(check(&acked, &lost).lost, 1);
        let mut twice = r.clone();
        twice[0].observations.push(obs(5, 1, 2));
        assert_eq!(check(&acked, &twice).duplicates, 1);
    }

    #[test]
    fn an_aborted_transaction_read_back_is_a_violation() {
        let acked = vec![
            in_txn(batch(0, 1, 0, 2, 0), TxnMark::Aborted),
            in_txn(batch(0, 1, 2, 1, 3), TxnMark::Committed),
        ];
        let hidden = vec![reads(vec![obs(3, 1, 2)])];
        let v = check(&acked, &hidden);
        assert!(v.ok(), "{}", v.summary_line());
        assert_eq!((v.acked, v.aborted, v.aborted_visible), (1, 2, 0));
        assert_eq!(v.unacked_present, 0);
        let visible = vec![reads(vec![obs(1, 1, 1), obs(3, 1, 2)])];
        let v = check(&acked, &visible);
        assert_eq!(v.aborted_visible, 1, "{}", v.summary_line());
        assert!(!v.ok());
        assert_eq!(v.unacked_present, 0, "an aborted message is not 'unacked'");
    }

    #[test]
    fn a_transaction_of_unknown_outcome_may_be_there_or_not() {
        let acked = vec![in_txn(batch(0, 1, 0, 2, 0), TxnMark::Unknown)];
        assert!(check(&acked, &[reads(vec![])]).ok());
        assert!(check(&acked, &[reads(vec![obs(0, 1, 0), obs(1, 1, 1)])]).ok());
        let twice = [reads(vec![obs(0, 1, 0), obs(2, 1, 0)])];
        assert_eq!(check(&acked, &twice).duplicates, 1);
    }
}

//! What a cleaner pass knows about transactions, batch by batch, in offset order (Kafka's
//! `CleanedTransactionMetadata`, the rules of `LogCleaner`):
//!
//! - The aborted transactions overlapping the range come from the aborted-transaction index
//!   (`.txnindex`). An aborted transaction becomes *ongoing* at its first offset and ends at
//!   its ABORT marker.
//! - A transactional data batch of a producer with an ongoing aborted transaction is aborted
//!   data: the cleaner discards it (its records never enter the offset map either). Any other
//!   transactional batch belongs to a committed transaction.
//! - A marker may go once no data batch of its transaction is left: when the pass met none
//!   between the transaction's start and the marker. Then it is kept `delete.retention.ms`
//!   more (its delete horizon, written in the batch as for tombstones) and removed after.
//!   While data of an aborted transaction remains, its marker and its index entry stay.
//! - Only the range below the first unstable offset is cleaned (the caller's bound), so every
//!   transactional batch the pass sees has its marker, or its transaction is in the index.

use std::collections::{HashMap, HashSet, VecDeque};

use crate::batch::BatchHeader;
use crate::log::AbortedTxn;

/// Control record type of an ABORT marker (Kafka's `ControlRecordType.ABORT`).
const CONTROL_TYPE_ABORT: i16 = 0;
/// Control record type of a COMMIT marker.
const CONTROL_TYPE_COMMIT: i16 = 1;
/// Bytes of a control record's key: version i16, type i16.
const CONTROL_KEY_BYTES: usize = 4;

/// An aborted transaction the pass is inside of.
#[derive(Debug, Clone, Copy)]
struct OngoingAbort {
    entry: AbortedTxn,
    /// A data batch of it was met in this pass.
    data_seen: bool,
}

/// Transaction state of one pass over a range, fed every batch in offset order.
#[derive(Debug, Default)]
pub(crate) struct TxnTracker {
    /// Aborted transactions not begun yet, by first offset.
    upcoming: VecDeque<AbortedTxn>,
    ongoing_aborted: HashMap<i64, OngoingAbort>,
    /// Producers with a committed (or undecided) transaction whose data the pass met.
    ongoing_committed: HashSet<i64>,
    /// Index entries whose ABORT marker the pass met with no data left: they may go.
    dropped_entries: HashSet<(i64, i64)>,
    /// Every entry the tracker was given: what the pass knows of (see `swap.rs`).
    known_entries: HashSet<(i64, i64)>,
}

fn entry_id(entry: &AbortedTxn) -> (i64, i64) {
    (entry.producer_id, entry.last_offset)
}

/// The control type of a marker batch's record (None: no record, or not a marker).
pub(crate) fn marker_type(header: &BatchHeader, records_section: &[u8]) -> Option<bool> {
    assert!(header.is_control());
    if header.records_count < 1 {
        return None;
    }
    let records = super::records::parse_records(records_section, 1).ok()?;
    let key = records.first()?.key?;
    if key.len() < CONTROL_KEY_BYTES {
        return None;
    }
    match i16::from_be_bytes([key[2], key[3]]) {
        CONTROL_TYPE_ABORT => Some(false),
        CONTROL_TYPE_COMMIT => Some(true),
        _ => None,
    }
}

impl TxnTracker {
    /// `aborted`: the index entries overlapping the range the pass reads.
    pub fn new(mut aborted: Vec<AbortedTxn>) -> TxnTracker {
        aborted.sort_by_key(|entry| (entry.first_offset, entry.last_offset));
        let known_entries = aborted.iter().map(entry_id).collect();
        TxnTracker {
            upcoming: aborted.into(),
            known_entries,
            ..TxnTracker::default()
        }
    }

    fn begin_up_to(&mut self, offset: i64) {
        while let Some(next) = self.upcoming.front() {
            if next.first_offset > offset {
                break;
            }
            let entry = *next;
            self.upcoming.pop_front();
            self.ongoing_aborted.insert(
                entry.producer_id,
                OngoingAbort {
                    entry,
                    data_seen: false,
                },
            );
        }
    }

    /// A data batch: true when it is aborted data (to discard).
    pub fn on_data_batch(&mut self, header: &BatchHeader) -> bool {
        assert!(!header.is_control());
        self.begin_up_to(header.last_offset());
        if !header.is_transactional() {
            return false;
        }
        match self.ongoing_aborted.get_mut(&header.producer_id) {
            Some(ongoing) => {
                assert!(ongoing.entry.first_offset <= header.last_offset());
                ongoing.data_seen = true;
                true
            }
            None => {
                self.ongoing_committed.insert(header.producer_id);
                false
            }
        }
    }

    /// A control batch whose marker type is `marker` (None: not a commit or abort marker, or
    /// empty). True when the marker may go: no data of its transaction was met.
    pub fn on_control_batch(&mut self, header: &BatchHeader, marker: Option<bool>) -> bool {
        assert!(header.is_control());
        self.begin_up_to(header.last_offset());
        match marker {
            Some(false) => match self.ongoing_aborted.remove(&header.producer_id) {
                Some(ongoing) if ongoing.data_seen => false,
                Some(ongoing) => {
                    self.dropped_entries.insert(entry_id(&ongoing.entry));
                    true
                }
                None => true,
            },
            Some(true) => !self.ongoing_committed.remove(&header.producer_id),
            None => false,
        }
    }

    /// Whether the index entry `entry` stays with its segment: it goes only when the pass met
    /// its marker with no data left (kept when the pass never met the marker).
    pub fn keeps_entry(&self, entry: &AbortedTxn) -> bool {
        !self.dropped_entries.contains(&entry_id(entry))
    }

    /// Whether the pass was told of `entry` when it began.
    pub fn knows_entry(&self, entry: &AbortedTxn) -> bool {
        self.known_entries.contains(&entry_id(entry))
    }
}

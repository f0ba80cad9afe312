//! The aborted-transaction index, per segment (Kafka's `.txnindex`): one entry per aborted
//! transaction whose ABORT marker lies in the segment. A read_committed fetch collects the
//! entries overlapping what it returns, so the consumer can drop the aborted records.
//!
//! The engine stores entries; the server decides them (producer state knows where a
//! transaction started). Format of `<base_offset:020>.txnindex`, as Kafka's: entries of 34
//! bytes, big-endian: version i16 (0), producer id i64, first offset i64, last offset i64 (the
//! marker), last stable offset i64 (when the marker was written). No footer.
//!
//! Durability and crash rules:
//! - `append_aborted_txn` rewrites the segment's file atomically and durably (`.tmp`, fsync,
//!   rename, directory fsync) before it returns. Aborts are rare next to data; the cost is
//!   one small-file sync per abort marker, which waits for an acks=all flush anyway.
//! - The file may hold an entry whose marker a crash took back (the marker was not yet
//!   durable). Recovery drops entries at or past the recovered log end, and the server's
//!   producer-state load drops and rebuilds every entry at or past its snapshot's offset
//!   (`truncate_aborted_txns_from`), replaying the markers it finds there.
//! - An unreadable file (wrong length, version or offsets) is dropped at open and reported
//!   by `txn_index_damaged`: the server then rebuilds the whole index from the log start.
//! - The file goes with its segment: retention, DeleteRecords, truncation and the cleaner's
//!   deletions remove it with the `.log` (`delete_segment_files`); truncation cuts it.

use std::collections::BTreeMap;
use std::path::Path;

use super::PartitionLog;
use crate::error::LogError;
use crate::segment::{segment_path, Segment};
use crate::storage::Storage;

/// File suffix of aborted-transaction indexes.
pub const TXN_INDEX_SUFFIX: &str = "txnindex";
const ENTRY_VERSION: i16 = 0;
/// Bytes of one entry (Kafka's `AbortedTxn.TOTAL_SIZE`).
pub const TXN_INDEX_ENTRY_BYTES: usize = 2 + 8 + 8 + 8 + 8;
/// Entries one segment's index may hold: a bound on its file (2 MiB) and on a rewrite.
pub const TXN_INDEX_ENTRIES_PER_SEGMENT_MAX: usize = 65_536;

/// One aborted transaction (Kafka's `AbortedTxn`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AbortedTxn {
    pub producer_id: i64,
    /// First offset of the transaction in this partition.
    pub first_offset: i64,
    /// Offset of its ABORT marker.
    pub last_offset: i64,
    /// The partition's last stable offset once the marker was written: no transaction that
    /// started before it is still undecided. Lets a lookup stop early.
    pub last_stable_offset: i64,
}

/// Entries by the base offset of the segment holding their marker.
pub(crate) type TxnIndexes = BTreeMap<i64, Vec<AbortedTxn>>;

pub(crate) fn encode(entries: &[AbortedTxn]) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries.len() * TXN_INDEX_ENTRY_BYTES);
    for entry in entries {
        out.extend_from_slice(&ENTRY_VERSION.to_be_bytes());
        out.extend_from_slice(&entry.producer_id.to_be_bytes());
        out.extend_from_slice(&entry.first_offset.to_be_bytes());
        out.extend_from_slice(&entry.last_offset.to_be_bytes());
        out.extend_from_slice(&entry.last_stable_offset.to_be_bytes());
    }
    assert_eq!(out.len(), entries.len() * TXN_INDEX_ENTRY_BYTES);
    out
}

/// The entries of a segment's file; `None` when it is not a valid index of a segment covering
/// `[base, next_offset)`.
pub(crate) fn decode(data: &[u8], base: i64, next_offset: i64) -> Option<Vec<AbortedTxn>> {
    if !data.len().is_multiple_of(TXN_INDEX_ENTRY_BYTES) {
        return None;
    }
    if data.len() / TXN_INDEX_ENTRY_BYTES > TXN_INDEX_ENTRIES_PER_SEGMENT_MAX {
        return None;
    }
    let mut entries: Vec<AbortedTxn> = Vec::with_capacity(data.len() / TXN_INDEX_ENTRY_BYTES);
    for raw in data.chunks_exact(TXN_INDEX_ENTRY_BYTES) {
        let i64_at = |at: usize| {
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&raw[at..at + 8]);
            i64::from_be_bytes(bytes)
        };
        if i16::from_be_bytes([raw[0], raw[1]]) != ENTRY_VERSION {
            return None;
        }
        let entry = AbortedTxn {
            producer_id: i64_at(2),
            first_offset: i64_at(10),
            last_offset: i64_at(18),
            last_stable_offset: i64_at(26),
        };
        let ordered = entries
            .last()
            .is_none_or(|previous| previous.last_offset < entry.last_offset);
        let placed = entry.last_offset >= base && entry.last_offset < next_offset.max(base + 1);
        if !ordered || !placed || entry.first_offset > entry.last_offset || entry.producer_id < 0 {
            return None;
        }
        entries.push(entry);
    }
    Some(entries)
}

/// Loads the index files of `segments` at open. Returns the entries, without those whose
/// marker is at or past the recovered log end, and whether some file was unreadable.
pub(crate) async fn load(
    storage: &dyn Storage,
    dir: &Path,
    segments: &[std::rc::Rc<Segment>],
) -> Result<(TxnIndexes, bool), LogError> {
    let mut indexes = TxnIndexes::new();
    let mut damaged = false;
    for segment in segments {
        let path = segment_path(dir, segment.base_offset, TXN_INDEX_SUFFIX);
        let data = storage
            .read_file(&path)
            .await
            .map_err(|err| LogError::io(format!("reading {}", path.display()), err))?;
        let Some(data) = data else {
            continue;
        };
        // A file of a segment that lost its tail may name markers past the segment's end.
        let lenient_end = i64::MAX;
        match decode(&data, segment.base_offset, lenient_end) {
            Some(mut entries) => {
                let end = segment.next_offset();
                let before = entries.len();
                entries.retain(|entry| entry.last_offset < end);
                if entries.len() != before {
                    write(storage, dir, segment.base_offset, &entries).await?;
                }
                if !entries.is_empty() {
                    indexes.insert(segment.base_offset, entries);
                }
            }
            None => {
                tracing::warn!(path = %path.display(), "unreadable transaction index; the server rebuilds it");
                storage
                    .remove_file(&path)
                    .await
                    .map_err(|err| LogError::io(format!("removing {}", path.display()), err))?;
                damaged = true;
            }
        }
    }
    Ok((indexes, damaged))
}

/// Writes (or, for no entries, removes) a segment's index file, durably.
async fn write(
    storage: &dyn Storage,
    dir: &Path,
    base: i64,
    entries: &[AbortedTxn],
) -> Result<(), LogError> {
    let path = segment_path(dir, base, TXN_INDEX_SUFFIX);
    let result = if entries.is_empty() {
        match storage.remove_file(&path).await {
            Ok(()) => storage.sync_dir(dir).await,
            Err(err) => Err(err),
        }
    } else {
        storage
            .write_file_atomic(&path, encode(entries), true)
            .await
    };
    result.map_err(|err| LogError::io(format!("writing {}", path.display()), err))
}

impl PartitionLog {
    /// Records an aborted transaction in the index of the segment holding its marker
    /// (`last_offset`, which must be in the log). Durable when this returns. Entries of one
    /// segment come in marker order; an entry already present is not added twice.
    pub async fn append_aborted_txn(&self, entry: AbortedTxn) -> Result<(), LogError> {
        let _change = self.lock_segments_change().await?;
        assert!(entry.first_offset <= entry.last_offset);
        assert!(entry.producer_id >= 0);
        if entry.last_offset < self.log_start_offset.get()
            || entry.last_offset >= self.log_end_offset.get()
        {
            return Err(LogError::InvalidArgument {
                detail: format!(
                    "aborted transaction marker {} is not in the log",
                    entry.last_offset
                ),
            });
        }
        let base = {
            let segments = self.segments.borrow();
            let at = segments.partition_point(|s| s.base_offset <= entry.last_offset);
            assert!(at > 0, "a segment holds every offset of the log");
            segments[at - 1].base_offset
        };
        let mut entries = self
            .aborted
            .borrow()
            .get(&base)
            .cloned()
            .unwrap_or_default();
        if entries.contains(&entry) {
            return Ok(());
        }
        if entries
            .last()
            .is_some_and(|last| last.last_offset >= entry.last_offset)
        {
            return Err(LogError::InvalidArgument {
                detail: format!(
                    "aborted transaction marker {} out of order",
                    entry.last_offset
                ),
            });
        }
        if entries.len() >= TXN_INDEX_ENTRIES_PER_SEGMENT_MAX {
            return Err(LogError::InvalidArgument {
                detail: format!(
                    "segment {base} holds {} aborted transactions",
                    entries.len()
                ),
            });
        }
        entries.push(entry);
        write(&*self.storage, &self.dir, base, &entries).await?;
        self.aborted.borrow_mut().insert(base, entries);
        Ok(())
    }

    /// The aborted-transaction entries of the segments at `bases`, in marker order.
    pub(crate) fn aborted_txns_of(&self, bases: &[i64]) -> Vec<AbortedTxn> {
        let aborted = self.aborted.borrow();
        bases
            .iter()
            .filter_map(|b| aborted.get(b))
            .flatten()
            .copied()
            .collect()
    }

    /// The cleaner replaced the segments at `bases` (oldest first) by one segment at
    /// `bases[0]`: their entries that `keep` keeps move to that segment's file, written durably
    /// before the others' files go, so a crash in between leaves every kept entry in a file of
    /// a live segment (the others' leftover files belong to no segment and are never read).
    /// Caller holds `segments_change`.
    pub(crate) async fn merge_txn_indexes(
        &self,
        bases: &[i64],
        keep: &dyn Fn(&AbortedTxn) -> bool,
    ) -> Result<(), LogError> {
        let Some(&base) = bases.first() else {
            return Ok(());
        };
        let before = self.aborted_txns_of(bases);
        let merged: Vec<AbortedTxn> = before.iter().copied().filter(|e| keep(e)).collect();
        assert!(merged.len() <= TXN_INDEX_ENTRIES_PER_SEGMENT_MAX);
        assert!(merged
            .windows(2)
            .all(|w| w[0].last_offset < w[1].last_offset));
        let base_entries = self
            .aborted
            .borrow()
            .get(&base)
            .cloned()
            .unwrap_or_default();
        if merged != base_entries {
            write(&*self.storage, &self.dir, base, &merged).await?;
        }
        {
            let mut aborted = self.aborted.borrow_mut();
            for b in bases {
                aborted.remove(b);
            }
            if !merged.is_empty() {
                aborted.insert(base, merged);
            }
        }
        for &old in &bases[1..] {
            write(&*self.storage, &self.dir, old, &[]).await?;
        }
        Ok(())
    }

    /// The aborted transactions that overlap `[fetch_offset, upper_bound)`: marker at or past
    /// `fetch_offset` and first offset below `upper_bound` (Kafka's
    /// `collectAbortedTransactions`), in marker order. In memory, no I/O.
    pub fn collect_aborted_txns(&self, fetch_offset: i64, upper_bound: i64) -> Vec<AbortedTxn> {
        let aborted = self.aborted.borrow();
        let mut found = Vec::new();
        // The segment holding `fetch_offset` and later ones: earlier markers are below it.
        let start = aborted
            .range(..=fetch_offset)
            .next_back()
            .map_or(i64::MIN, |(base, _)| *base);
        for entries in aborted.range(start..).map(|(_, entries)| entries) {
            for entry in entries {
                if entry.last_offset >= fetch_offset && entry.first_offset < upper_bound {
                    found.push(*entry);
                }
                if entry.last_stable_offset >= upper_bound {
                    return found;
                }
            }
        }
        found
    }

    /// Removes the entries whose marker is at or past `offset` (the server rebuilds them from
    /// the log past its producer snapshot). Durable when this returns.
    pub async fn truncate_aborted_txns_from(&self, offset: i64) -> Result<(), LogError> {
        let _change = self.lock_segments_change().await?;
        self.cut_aborted_txns(offset).await
    }

    /// `truncate_aborted_txns_from` for a caller holding `segments_change`.
    pub(crate) async fn cut_aborted_txns(&self, offset: i64) -> Result<(), LogError> {
        let touched: Vec<(i64, Vec<AbortedTxn>)> = self
            .aborted
            .borrow()
            .iter()
            .filter(|(_, entries)| entries.iter().any(|e| e.last_offset >= offset))
            .map(|(base, entries)| {
                let kept = entries.iter().copied().filter(|e| e.last_offset < offset);
                (*base, kept.collect())
            })
            .collect();
        for (base, kept) in touched {
            write(&*self.storage, &self.dir, base, &kept).await?;
            let mut aborted = self.aborted.borrow_mut();
            if kept.is_empty() {
                aborted.remove(&base);
            } else {
                aborted.insert(base, kept);
            }
        }
        assert!(self
            .aborted
            .borrow()
            .values()
            .flatten()
            .all(|entry| entry.last_offset < offset));
        Ok(())
    }

    /// Every aborted transaction the index holds, in marker order (tests, tools).
    pub fn aborted_txns(&self) -> Vec<AbortedTxn> {
        self.aborted.borrow().values().flatten().copied().collect()
    }

    /// True when an index file was unreadable at open (and dropped): the whole index must be
    /// rebuilt from the log start.
    pub fn txn_index_damaged(&self) -> bool {
        self.txn_index_damaged.get()
    }

    /// The index was rebuilt after `txn_index_damaged`.
    pub fn clear_txn_index_damaged(&self) {
        self.txn_index_damaged.set(false);
    }
}

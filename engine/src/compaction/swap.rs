//! Swapping a cleaned file in for the segments it replaces, crash-safely. The rule recovery
//! applies (`log/open.rs`, rule 1) is what makes each step safe:
//!
//! 1. `<base>.log.cleaned` is written and fdatasynced (by the cleaner, before this).
//! 2. Under the log's `segments_change` lock, the group is checked to still be in the log
//!    unchanged (retention, DeleteRecords or a truncation may have run meanwhile; then the
//!    `.cleaned` file is removed and nothing changes).
//! 3. `.cleaned` is renamed to `<base>.log.swap` and the directory synced: the commit point.
//!    Before it, recovery removes `.cleaned`; after it, recovery completes the swap.
//! 4. The in-memory segment list takes the new segment (its reader already open on the swap
//!    file, so reads see the cleaned data from now on), and the batch cache drops the group's
//!    batches so reads cannot be served their older versions.
//! 5. The old segments' files are removed, then `.swap` is renamed to `<base>.log` and the
//!    directory synced.
//! 6. The new segment's index files are written (not synced: rebuilt when missing).
//!
//! The aborted-transaction entries of the group move to the new segment's `.txnindex` (after
//! the commit point, before the old files go), less those whose marker the pass found with no
//! data left. A crash before that rewrite leaves more entries than needed, never fewer than the
//! swapped data needs: an extra entry only names records that are gone. An entry indexed after
//! the pass began (for data the pass took as committed) abandons the swap.
//!
//! A group whose every record goes has no file to swap in: its segments are removed oldest
//! first, so a crash part-way leaves only removals each of which the cleaner justified (a
//! record goes only for a later record of its key or an expired tombstone after it).

use std::path::Path;
use std::rc::Rc;

use super::cleaner::CleanedOutput;
use super::transactions::TxnTracker;
use crate::error::LogError;
use crate::log::{swap_path, PartitionLog};
use crate::segment::{segment_path, Segment, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX};

/// Whether a cleaned group replaced its segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SwapOutcome {
    Swapped,
    /// The log changed under the cleaner; the cleaned file was removed.
    Abandoned,
}

fn io(context: &str, path: &Path) -> impl FnOnce(std::io::Error) -> LogError {
    let context = format!("{context} {}", path.display());
    move |err| LogError::io(context, err)
}

impl PartitionLog {
    /// Where `group` sits in the segment list, if it is still there unchanged.
    fn group_position(&self, group: &[Rc<Segment>], truncations: u64) -> Option<usize> {
        if self.closed.get() || self.truncations.get() != truncations {
            return None;
        }
        let segments = self.segments.borrow();
        let start = segments.iter().position(|s| Rc::ptr_eq(s, &group[0]))?;
        let end = start + group.len();
        // The active segment is never part of a group.
        if end >= segments.len() {
            return None;
        }
        let same = segments[start..end]
            .iter()
            .zip(group)
            .all(|(a, b)| Rc::ptr_eq(a, b));
        same.then_some(start)
    }

    /// Steps 2-6 of the module doc.
    pub(crate) async fn swap_in_cleaned(
        &self,
        group: &[Rc<Segment>],
        cleaned: CleanedOutput,
        truncations: u64,
        txns: &TxnTracker,
        map_end_offset: i64,
    ) -> Result<SwapOutcome, LogError> {
        assert!(!group.is_empty());
        let _change = self
            .segments_change
            .write()
            .await
            .map_err(|_| LogError::Closed { name: self.name() })?;
        let Some(start) = self.group_position(group, truncations) else {
            self.storage
                .remove_file(&cleaned.path)
                .await
                .map_err(io("removing", &cleaned.path))?;
            return Ok(SwapOutcome::Abandoned);
        };
        let base_offset = group[0].base_offset;
        let group_end = group[group.len() - 1].next_offset();
        let bases: Vec<i64> = group.iter().map(|segment| segment.base_offset).collect();
        let entries = self.aborted_txns_of(&bases);
        // An entry indexed after the pass began, for data it cleaned as committed: abandon.
        let unknown = entries
            .iter()
            .any(|e| e.first_offset < map_end_offset && !txns.knows_entry(e));
        let kept = entries.iter().filter(|e| txns.keeps_entry(e)).count();
        let emptied_with_entries = cleaned.size_bytes == 0 && kept > 0;
        if unknown || kept > crate::log::TXN_INDEX_ENTRIES_PER_SEGMENT_MAX || emptied_with_entries {
            // One segment's index could not hold them all, or no segment would be left to hold
            // them (a kept entry's marker is kept, so the latter means the entries describe
            // data this log never had): leave these segments as they are.
            self.storage
                .remove_file(&cleaned.path)
                .await
                .map_err(io("removing", &cleaned.path))?;
            return Ok(SwapOutcome::Abandoned);
        }
        assert_eq!(cleaned.index.base_offset, base_offset);
        assert!(cleaned.next_offset <= group_end);
        if cleaned.size_bytes == 0 {
            self.storage
                .remove_file(&cleaned.path)
                .await
                .map_err(io("removing", &cleaned.path))?;
            self.segments.borrow_mut().drain(start..start + group.len());
            self.cache.remove_below(group_end);
            self.merge_txn_indexes(&bases, &|e| txns.keeps_entry(e))
                .await?;
            for segment in group {
                self.remove_segment_files(segment.base_offset).await?;
            }
            self.storage
                .sync_dir(&self.dir)
                .await
                .map_err(io("syncing", &self.dir))?;
            self.recompute_max_timestamp();
            return Ok(SwapOutcome::Swapped);
        }
        let swap = swap_path(&self.dir, base_offset);
        self.storage
            .rename(&cleaned.path, &swap)
            .await
            .map_err(io("committing", &swap))?;
        self.storage
            .sync_dir(&self.dir)
            .await
            .map_err(io("syncing", &self.dir))?;
        let reader = self
            .storage
            .open_reader(&swap)
            .map_err(io("opening", &swap))?;
        let created_ms = group[group.len() - 1].created_ms.get();
        let segment = Segment::new(
            &self.dir,
            cleaned.index,
            cleaned.size_bytes,
            cleaned.next_offset,
            created_ms,
        );
        segment.set_reader(reader);
        {
            let mut segments = self.segments.borrow_mut();
            segments.splice(start..start + group.len(), [segment.clone()]);
            assert!(segments[start].base_offset == base_offset);
        }
        self.cache.remove_below(group_end);
        // Before the old files go: the merged aborted-transaction index of the new segment
        // (without the entries whose markers the pass found with no data left).
        self.merge_txn_indexes(&bases, &|e| txns.keeps_entry(e))
            .await?;
        for old in group {
            self.remove_segment_files(old.base_offset).await?;
        }
        let target = segment_path(&self.dir, base_offset, LOG_SUFFIX);
        self.storage
            .rename(&swap, &target)
            .await
            .map_err(io("renaming", &swap))?;
        self.storage
            .sync_dir(&self.dir)
            .await
            .map_err(io("syncing", &self.dir))?;
        segment.store_index(&*self.storage).await?;
        self.recompute_max_timestamp();
        Ok(SwapOutcome::Swapped)
    }

    /// Removes a replaced segment's log and index files (after the swap committed).
    async fn remove_segment_files(&self, base_offset: i64) -> Result<(), LogError> {
        for suffix in [LOG_SUFFIX, INDEX_SUFFIX, TIME_INDEX_SUFFIX] {
            let path = segment_path(&self.dir, base_offset, suffix);
            self.storage
                .remove_file(&path)
                .await
                .map_err(io("removing", &path))?;
        }
        Ok(())
    }
}

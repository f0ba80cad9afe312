//! Building one command's record batch against the image those records will produce, so that
//! each decision in a command sees the effect of the decisions before it (a second fenced
//! broker is not chosen as a leader by the first one's moves), and so that the controller
//! checks the image's invariants before proposing, not only every node after committing.

use crate::image::MetadataImage;
use crate::records::{MetadataRecord, RecordBatch};

pub(super) struct BatchBuilder<'a> {
    base: &'a MetadataImage,
    /// `base` with `records` applied; cloned from `base` at the first record only, since most
    /// heartbeats produce none.
    working: Option<MetadataImage>,
    records: Vec<MetadataRecord>,
}

impl<'a> BatchBuilder<'a> {
    pub(super) fn new(base: &'a MetadataImage) -> BatchBuilder<'a> {
        BatchBuilder {
            base,
            working: None,
            records: Vec::new(),
        }
    }

    /// The image as it will be once the records so far are applied.
    pub(super) fn image(&self) -> &MetadataImage {
        self.working.as_ref().unwrap_or(self.base)
    }

    /// Appends a record the controller decided on. A record its own image refuses is a
    /// controller bug, and proposing it would stop every node: panic instead.
    pub(super) fn push(&mut self, record: MetadataRecord) {
        let working = self.working.get_or_insert_with(|| self.base.clone());
        if let Err(error) = working.apply_record(&record) {
            panic!("the controller produced a record its image refuses: {record:?}: {error}");
        }
        self.records.push(record);
    }

    pub(super) fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The batch to propose. Panics, as [`push`](Self::push) does, if the records break a
    /// cross-record invariant (e.g. leave a fenced broker leading).
    pub(super) fn finish(self) -> RecordBatch {
        if let Some(working) = &self.working {
            if let Err(error) = working.check_invariants() {
                panic!(
                    "the controller's records break the image: {error}: {:?}",
                    self.records
                );
            }
        }
        assert_eq!(self.working.is_some(), !self.records.is_empty());
        RecordBatch {
            records: self.records,
        }
    }
}

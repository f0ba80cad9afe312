//! The coordinator on a live shard: its pure `TxnCoordinator` and the `__transaction_state`
//! partitions of this shard that this broker leads, each with the leader epoch it was loaded at
//! (the coordinator epoch its markers carry). Lives in `TxnService`, on one shard; not `Send`.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::rc::Rc;

use sluice_txn::TxnCoordinator;

use crate::error_code::ResponseError;
use crate::partition::Partition;

use super::config::TxnSettings;

/// One led `__transaction_state` partition.
#[derive(Clone)]
pub struct LedPartition {
    pub log: Rc<Partition>,
    /// The partition's leader epoch when this broker took it over.
    pub coordinator_epoch: i32,
    /// False while its log is being replayed.
    pub loaded: bool,
}

pub struct TxnRuntime {
    settings: TxnSettings,
    coord: RefCell<TxnCoordinator>,
    led: RefCell<BTreeMap<i32, LedPartition>>,
    /// Transactional ids whose markers are being written: at most one marker task per id, so
    /// no marker of an earlier job is in flight when a later one completes.
    writing_markers: RefCell<BTreeSet<String>>,
}

impl TxnRuntime {
    pub fn new(settings: TxnSettings) -> TxnRuntime {
        let coord = TxnCoordinator::new(settings.coordinator_config());
        TxnRuntime {
            settings,
            coord: RefCell::new(coord),
            led: RefCell::new(BTreeMap::new()),
            writing_markers: RefCell::new(BTreeSet::new()),
        }
    }

    pub fn settings(&self) -> &TxnSettings {
        &self.settings
    }

    /// Runs `f` on the coordinator (never across an await).
    pub fn with<T>(&self, f: impl FnOnce(&mut TxnCoordinator) -> T) -> T {
        f(&mut self.coord.borrow_mut())
    }

    /// The led partition of `transactional_id`, once loaded; else Kafka's answer:
    /// NOT_COORDINATOR (not led here) or COORDINATOR_LOAD_IN_PROGRESS.
    pub fn ready(&self, transactional_id: &str) -> Result<(i32, LedPartition), ResponseError> {
        let partition = self.settings.partition_of(transactional_id);
        match self.led.borrow().get(&partition) {
            None => Err(ResponseError::NotCoordinator),
            Some(led) if !led.loaded => Err(ResponseError::CoordinatorLoadInProgress),
            Some(led) => Ok((partition, led.clone())),
        }
    }

    /// True while this broker still coordinates `partition` at `coordinator_epoch`.
    pub fn still_leads(&self, partition: i32, coordinator_epoch: i32) -> bool {
        self.led
            .borrow()
            .get(&partition)
            .is_some_and(|led| led.coordinator_epoch == coordinator_epoch)
    }

    /// Claims the marker writing of `transactional_id`; false if a task holds it.
    pub(super) fn claim_markers(&self, transactional_id: &str) -> bool {
        self.writing_markers
            .borrow_mut()
            .insert(transactional_id.to_string())
    }

    pub(super) fn release_markers(&self, transactional_id: &str) {
        let released = self.writing_markers.borrow_mut().remove(transactional_id);
        assert!(released, "markers of {transactional_id} released twice");
    }

    pub fn led_partitions(&self) -> BTreeMap<i32, LedPartition> {
        self.led.borrow().clone()
    }

    pub(super) fn begin_load(&self, partition: i32, led: LedPartition) {
        assert!(!led.loaded);
        self.led.borrow_mut().insert(partition, led);
    }

    /// Marks `partition` loaded, unless it was given up (or taken over again) meanwhile.
    pub(super) fn finish_load(&self, partition: i32, coordinator_epoch: i32) -> bool {
        let mut led = self.led.borrow_mut();
        match led.get_mut(&partition) {
            Some(entry) if entry.coordinator_epoch == coordinator_epoch => {
                entry.loaded = true;
                true
            }
            _ => false,
        }
    }

    /// Forgets `partitions` and the transactional ids they hold.
    pub(super) fn unload(&self, partitions: &[i32]) {
        if partitions.is_empty() {
            return;
        }
        let mut led = self.led.borrow_mut();
        for partition in partitions {
            led.remove(partition);
        }
        let kept: Vec<i32> = led.keys().copied().collect();
        drop(led);
        let settings = &self.settings;
        self.coord
            .borrow_mut()
            .unload(|id| kept.contains(&settings.partition_of(id)));
    }
}

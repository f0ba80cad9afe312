//! Raft's safety properties, checked after every simulated event.

use std::collections::BTreeMap;

use sluice_controller::quorum::{QuorumStatus, Role};

/// What every node has agreed on so far, and who led which term.
#[derive(Default)]
pub struct Checker {
    /// The leader of each term that had one.
    leaders_by_term: BTreeMap<u64, i32>,
    /// The (term, data) of every index any node applied: every node that applies the index
    /// must apply the same. This is both "committed entries are never lost" and "every
    /// applied sequence is a prefix of the longest one".
    decided: Vec<(u64, Vec<u8>)>,
}

impl Checker {
    /// At most one leader per term.
    pub fn observe_status(&mut self, node: i32, status: &QuorumStatus) -> Result<(), String> {
        if status.role != Role::Leader {
            return Ok(());
        }
        match self.leaders_by_term.insert(status.term, node) {
            Some(other) if other != node => Err(format!(
                "two leaders in term {}: {other} and {node}",
                status.term
            )),
            _ => Ok(()),
        }
    }

    /// `node` applied `entry` at `index` (1-based, in order).
    pub fn observe_applied(
        &mut self,
        node: i32,
        index: u64,
        entry: &(u64, Vec<u8>),
    ) -> Result<(), String> {
        let position = (index - 1) as usize;
        match self.decided.get(position) {
            Some(decided) if decided != entry => Err(format!(
                "node {node} applied {} at {index}, but {} was applied there before",
                describe(entry),
                describe(decided)
            )),
            Some(_) => Ok(()),
            None => {
                assert_eq!(
                    position,
                    self.decided.len(),
                    "a node applied past the decided log"
                );
                self.decided.push(entry.clone());
                Ok(())
            }
        }
    }

    /// Highest index any node applied.
    pub fn decided_index(&self) -> u64 {
        self.decided.len() as u64
    }

    pub fn decided_at(&self, index: u64) -> Option<&(u64, Vec<u8>)> {
        self.decided.get((index.checked_sub(1)?) as usize)
    }

    pub fn terms_with_leader(&self) -> usize {
        self.leaders_by_term.len()
    }
}

pub fn describe(entry: &(u64, Vec<u8>)) -> String {
    format!(
        "(term {}, {:?})",
        entry.0,
        String::from_utf8_lossy(&entry.1)
    )
}

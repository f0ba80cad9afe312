//! What every image satisfies after every applied entry. Checked by `apply` on the copy it is
//! about to install, and by the controller on the image its records will produce, so a broken
//! decision is caught before it is proposed and again before it is applied.

use std::collections::BTreeSet;

use super::{ApplyError, MetadataImage, PartitionImage};
use crate::records::NO_LEADER;

impl MetadataImage {
    /// Checks the whole image: registrations, topic ids, and every partition (see
    /// [`check_partition`]), and that every leader is a registered, unfenced broker.
    pub fn check_invariants(&self) -> Result<(), ApplyError> {
        for (id, broker) in &self.brokers {
            if *id != broker.broker_id {
                return Err(inconsistent(format!(
                    "broker {} is registered under id {id}",
                    broker.broker_id
                )));
            }
            if broker.broker_epoch > self.broker_epoch_max {
                return Err(inconsistent(format!(
                    "broker {id} has epoch {} above the largest handed out, {}",
                    broker.broker_epoch, self.broker_epoch_max
                )));
            }
        }
        let mut topic_ids = BTreeSet::new();
        for (name, topic) in &self.topics {
            if *name != topic.name {
                return Err(inconsistent(format!(
                    "topic {} is kept as {name}",
                    topic.name
                )));
            }
            if !topic_ids.insert(topic.topic_id) {
                return Err(inconsistent(format!("topic {name} shares its topic id")));
            }
            for (index, partition) in topic.partitions.iter().enumerate() {
                check_partition(partition)
                    .and_then(|()| self.check_leader(partition))
                    .map_err(|e| inconsistent(format!("{name}-{index}: {e}")))?;
            }
        }
        self.check_security()
    }

    /// Every credential is well formed for its mechanism and belongs to a named user with at
    /// least one credential; every ACL is concrete, and no two ACLs are identical.
    fn check_security(&self) -> Result<(), ApplyError> {
        for (user, by_mechanism) in self.scram_credentials.iter() {
            if user.is_empty() || by_mechanism.is_empty() {
                return Err(inconsistent(format!(
                    "SCRAM user {user:?} is empty or has no credential"
                )));
            }
            for (mechanism, credential) in by_mechanism {
                if let Some(why) = credential.malformed(*mechanism) {
                    return Err(inconsistent(format!("SCRAM credential of {user:?}: {why}")));
                }
            }
        }
        for (id, entry) in self.acls.iter() {
            if let Some(why) = entry.not_concrete() {
                return Err(inconsistent(format!("ACL {:032x}: {why}", id.0)));
            }
        }
        // Indexed by fields as well as by id: no two identical ACLs.
        self.acls.check().map_err(inconsistent)
    }

    fn check_leader(&self, partition: &PartitionImage) -> Result<(), String> {
        if partition.leader == NO_LEADER {
            return Ok(());
        }
        match self.brokers.get(&partition.leader) {
            None => Err(format!("leader {} is not registered", partition.leader)),
            Some(broker) if broker.fenced => Err(format!("leader {} is fenced", partition.leader)),
            Some(_) => Ok(()),
        }
    }
}

/// What one partition satisfies on its own: replicas non-empty and distinct; the ISR
/// non-empty (KRaft keeps the last member of an ISR), distinct and a subset of the replicas;
/// the leader [`NO_LEADER`] or an ISR member; epochs not negative; a leader still recovering
/// from an unclean election alone in the ISR; a reassignment's adding and removing replicas
/// distinct, disjoint, among the replicas, and leaving a target replica.
pub(super) fn check_partition(partition: &PartitionImage) -> Result<(), String> {
    let PartitionImage {
        replicas,
        isr,
        leader,
        leader_epoch,
        partition_epoch,
        leader_recovery_state,
        adding_replicas,
        removing_replicas,
    } = partition;
    if replicas.is_empty() {
        return Err("no replicas".into());
    }
    if let Some(negative) = replicas.iter().find(|r| **r < 0) {
        return Err(format!("replica {negative} is not a broker id"));
    }
    if !all_distinct(replicas) {
        return Err(format!("replicas {replicas:?} repeat a broker"));
    }
    if isr.is_empty() {
        return Err("empty ISR".into());
    }
    if !all_distinct(isr) {
        return Err(format!("ISR {isr:?} repeats a broker"));
    }
    if let Some(outsider) = isr.iter().find(|member| !replicas.contains(member)) {
        return Err(format!(
            "ISR member {outsider} is not among replicas {replicas:?}"
        ));
    }
    if *leader != NO_LEADER && !isr.contains(leader) {
        return Err(format!("leader {leader} is not in the ISR {isr:?}"));
    }
    if *leader_epoch < 0 {
        return Err(format!("negative leader epoch {leader_epoch}"));
    }
    if *partition_epoch < 0 {
        return Err(format!("negative partition epoch {partition_epoch}"));
    }
    if !leader_recovery_state.is_recovered() && isr.len() != 1 {
        return Err(format!(
            "ISR {isr:?} of a leader still recovering is not one replica"
        ));
    }
    check_reassignment(replicas, adding_replicas, removing_replicas)
}

fn check_reassignment(replicas: &[i32], adding: &[i32], removing: &[i32]) -> Result<(), String> {
    if !all_distinct(adding) || !all_distinct(removing) {
        return Err(format!(
            "adding {adding:?} or removing {removing:?} repeats a broker"
        ));
    }
    if let Some(both) = adding.iter().find(|r| removing.contains(r)) {
        return Err(format!("replica {both} is both added and removed"));
    }
    if let Some(outsider) = adding
        .iter()
        .chain(removing)
        .find(|r| !replicas.contains(r))
    {
        return Err(format!(
            "reassigned replica {outsider} is not among replicas {replicas:?}"
        ));
    }
    if removing.len() >= replicas.len() {
        return Err(format!(
            "a reassignment removes every replica of {replicas:?}"
        ));
    }
    Ok(())
}

fn all_distinct(brokers: &[i32]) -> bool {
    let set: BTreeSet<i32> = brokers.iter().copied().collect();
    set.len() == brokers.len()
}

fn inconsistent(message: String) -> ApplyError {
    ApplyError::Inconsistent(message)
}

//! The ACLs, indexed both ways: by id (what removal names) and by their fields (what makes a
//! creation a no-op and keeps two identical ACLs out). In JSON, the map by id alone; the
//! other index is rebuilt on load.

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::records::{AclEntry, AclId};

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AclTable {
    by_id: BTreeMap<AclId, AclEntry>,
    by_entry: BTreeMap<AclEntry, AclId>,
}

impl AclTable {
    pub fn len(&self) -> usize {
        assert_eq!(self.by_id.len(), self.by_entry.len());
        self.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    pub fn get(&self, id: AclId) -> Option<&AclEntry> {
        self.by_id.get(&id)
    }

    pub fn contains(&self, id: AclId) -> bool {
        self.by_id.contains_key(&id)
    }

    /// The id of the live ACL with exactly these fields.
    pub fn id_of(&self, entry: &AclEntry) -> Option<AclId> {
        self.by_entry.get(entry).copied()
    }

    /// Every ACL, by id.
    pub fn iter(&self) -> impl Iterator<Item = (AclId, &AclEntry)> {
        self.by_id.iter().map(|(id, entry)| (*id, entry))
    }

    /// Adds `entry` under `id`; refuses an id in use or an entry identical to a live one.
    pub(super) fn insert(&mut self, id: AclId, entry: AclEntry) -> Result<(), String> {
        if self.by_id.contains_key(&id) {
            return Err(format!("ACL id {:032x} is already in use", id.0));
        }
        if let Some(existing) = self.by_entry.get(&entry) {
            return Err(format!(
                "ACL {:032x} repeats ACL {:032x}: {entry:?}",
                id.0, existing.0
            ));
        }
        self.by_entry.insert(entry.clone(), id);
        self.by_id.insert(id, entry);
        assert_eq!(self.by_id.len(), self.by_entry.len());
        Ok(())
    }

    pub(super) fn remove(&mut self, id: AclId) -> Option<AclEntry> {
        let entry = self.by_id.remove(&id)?;
        let indexed = self.by_entry.remove(&entry);
        assert_eq!(indexed, Some(id), "the two indexes agree");
        Some(entry)
    }

    /// The two indexes hold the same ACLs.
    pub(super) fn check(&self) -> Result<(), String> {
        if self.by_id.len() != self.by_entry.len() {
            return Err(format!(
                "{} ACLs by id, {} by fields",
                self.by_id.len(),
                self.by_entry.len()
            ));
        }
        for (id, entry) in &self.by_id {
            if self.by_entry.get(entry) != Some(id) {
                return Err(format!("ACL {:032x} is not indexed by its fields", id.0));
            }
        }
        Ok(())
    }
}

impl Serialize for AclTable {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for AclTable {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let by_id = BTreeMap::<AclId, AclEntry>::deserialize(deserializer)?;
        let mut table = AclTable::default();
        for (id, entry) in by_id {
            table.insert(id, entry).map_err(serde::de::Error::custom)?;
        }
        Ok(table)
    }
}

//! Security records: SCRAM credentials (set, remove) and ACLs (add, remove), as KRaft's
//! `ScramControlManager.replay` and `AclControlManager.replay` apply them. Removing what does
//! not exist is refused, as Kafka refuses to replay it: the log and the image disagree.

use std::sync::Arc;

use super::{ApplyError, MetadataImage};
use crate::records::{AclEntry, AclId, ScramCredential};

impl MetadataImage {
    /// Sets (adds or replaces) `user`'s credential for `mechanism`. Refuses an empty user, an
    /// unknown mechanism, and keys that are not of the mechanism's digest length.
    pub(super) fn apply_scram_credential(
        &mut self,
        user: &str,
        mechanism: i8,
        credential: ScramCredential,
    ) -> Result<(), ApplyError> {
        if user.is_empty() {
            return Err(ApplyError::Inconsistent(
                "SCRAM credential of an empty user name".to_string(),
            ));
        }
        if let Some(why) = credential.malformed(mechanism) {
            return Err(ApplyError::Inconsistent(format!(
                "SCRAM credential of {user:?}: {why}"
            )));
        }
        let credentials = Arc::make_mut(&mut self.scram_credentials);
        let by_mechanism = credentials.entry(user.to_owned()).or_default();
        by_mechanism.insert(mechanism, credential);
        assert!(self.scram_credential(user, mechanism).is_some());
        Ok(())
    }

    /// Removes `user`'s credential for `mechanism`; a user left without any disappears.
    pub(super) fn apply_remove_scram_credential(
        &mut self,
        user: &str,
        mechanism: i8,
    ) -> Result<(), ApplyError> {
        if self.scram_credential(user, mechanism).is_none() {
            return Err(ApplyError::UnknownScramCredential {
                user: user.to_owned(),
                mechanism,
            });
        }
        let credentials = Arc::make_mut(&mut self.scram_credentials);
        let Some(by_mechanism) = credentials.get_mut(user) else {
            unreachable!("the credential was just found");
        };
        let removed = by_mechanism.remove(&mechanism);
        assert!(removed.is_some());
        if by_mechanism.is_empty() {
            credentials.remove(user);
        }
        Ok(())
    }

    /// Adds ACL `entry` under `id`. Refuses an id in use, an entry identical to a live one
    /// (the controller answers such a creation as a no-op), and codes that are not concrete.
    pub(super) fn apply_acl(&mut self, id: AclId, entry: AclEntry) -> Result<(), ApplyError> {
        if let Some(why) = entry.not_concrete() {
            return Err(ApplyError::Inconsistent(format!(
                "ACL {:032x}: {why}",
                id.0
            )));
        }
        let count = self.acls.len();
        // A refused insert changes nothing (it checks before it writes).
        Arc::make_mut(&mut self.acls)
            .insert(id, entry)
            .map_err(ApplyError::Inconsistent)?;
        assert_eq!(self.acls.len(), count + 1);
        Ok(())
    }

    pub(super) fn apply_remove_acl(&mut self, id: AclId) -> Result<(), ApplyError> {
        if !self.acls.contains(id) {
            return Err(ApplyError::UnknownAclId(id.0));
        }
        let removed = Arc::make_mut(&mut self.acls).remove(id);
        assert!(removed.is_some());
        Ok(())
    }
}

//! CreateAcls and DeleteAcls (Kafka's `AclControlManager.createAcls` / `deleteAcls`).
//!
//! The broker validates the request's codes and matches DeleteAcls filters against its own
//! image; the controller gets concrete bindings to add and ids to remove. It still refuses
//! bindings that are not concrete (ANY, MATCH, UNKNOWN), as a defence: such an ACL in the log
//! would stop every node that applies it.

use super::batch::BatchBuilder;
use super::error::{ControllerError, ErrorKind};
use super::limits::{
    ACLS_MAX, ACL_BINDINGS_PER_REQUEST_MAX, ACL_IDS_PER_DELETE_MAX, ACL_ID_DRAWS_MAX,
    HOST_BYTES_MAX, SECURITY_NAME_BYTES_MAX,
};
use super::Controller;
use crate::image::MetadataImage;
use crate::records::{AclEntry, AclId, MetadataRecord, RecordBatch};

impl Controller {
    /// One result per binding, in order: the id of the new ACL, or of the live ACL identical
    /// to the binding (a no-op success, as in Kafka; so is a binding repeated in the request),
    /// or INVALID_REQUEST for a binding that is not concrete (Kafka's `validateNewAcl`), too
    /// long, or past [`ACLS_MAX`]. New ids are drawn from the seeded generator and unique
    /// among the live ACLs. A request of more than [`ACL_BINDINGS_PER_REQUEST_MAX`] bindings
    /// is refused whole.
    pub fn create_acls(
        &mut self,
        image: &MetadataImage,
        bindings: Vec<AclEntry>,
    ) -> Result<(Vec<Result<AclId, ControllerError>>, RecordBatch), ControllerError> {
        if bindings.len() > ACL_BINDINGS_PER_REQUEST_MAX {
            return Err(ControllerError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "{} ACL bindings exceed the limit of {ACL_BINDINGS_PER_REQUEST_MAX}",
                    bindings.len()
                ),
            ));
        }
        let mut batch = BatchBuilder::new(image);
        let mut results = Vec::with_capacity(bindings.len());
        for binding in bindings {
            if let Err(error) = validate_binding(&binding) {
                results.push(Err(error));
                continue;
            }
            if let Some(existing) = batch.image().acl_id_of(&binding) {
                results.push(Ok(existing));
                continue;
            }
            if batch.image().acls.len() >= ACLS_MAX {
                results.push(Err(ControllerError::new(
                    ErrorKind::InvalidRequest,
                    format!("the cluster holds the most ACLs, {ACLS_MAX}"),
                )));
                continue;
            }
            let id = self.fresh_acl_id(batch.image());
            batch.push(MetadataRecord::access_control_entry(id, binding));
            assert!(batch.image().acls.contains(id));
            results.push(Ok(id));
        }
        Ok((results, batch.finish()))
    }

    /// Removes the ACLs among `ids` that still live (a repeated id counts once), and returns
    /// those it removes, in request order. Ids already gone are not an error: a concurrent
    /// DeleteAcls took them. More than [`ACL_IDS_PER_DELETE_MAX`] ids are refused whole (as
    /// Kafka refuses more than `MAX_RECORDS_PER_USER_OP` removals).
    pub fn delete_acls(
        &mut self,
        image: &MetadataImage,
        ids: Vec<AclId>,
    ) -> Result<(Vec<AclId>, RecordBatch), ControllerError> {
        if ids.len() > ACL_IDS_PER_DELETE_MAX {
            return Err(ControllerError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "cannot remove {} ACLs in one request, the limit is {ACL_IDS_PER_DELETE_MAX}",
                    ids.len()
                ),
            ));
        }
        let mut batch = BatchBuilder::new(image);
        let mut removed = Vec::new();
        for id in ids {
            if !batch.image().acls.contains(id) {
                continue;
            }
            batch.push(MetadataRecord::RemoveAccessControlEntry { id });
            assert!(!batch.image().acls.contains(id));
            removed.push(id);
        }
        Ok((removed, batch.finish()))
    }

    fn fresh_acl_id(&mut self, image: &MetadataImage) -> AclId {
        for _ in 0..ACL_ID_DRAWS_MAX {
            let id = AclId(self.rng.next_u128());
            if id.0 != 0 && !image.acls.contains(id) {
                return id;
            }
        }
        panic!("no unused ACL id in {ACL_ID_DRAWS_MAX} random draws: the generator is broken");
    }
}

fn validate_binding(binding: &AclEntry) -> Result<(), ControllerError> {
    let invalid = |why: String| Err(ControllerError::new(ErrorKind::InvalidRequest, why));
    if let Some(why) = binding.not_concrete() {
        return invalid(why);
    }
    if binding.resource_name.len() > SECURITY_NAME_BYTES_MAX {
        return invalid(format!(
            "resource name of {} bytes exceeds the limit of {SECURITY_NAME_BYTES_MAX}",
            binding.resource_name.len()
        ));
    }
    if binding.principal.len() > SECURITY_NAME_BYTES_MAX {
        return invalid(format!(
            "principal of {} bytes exceeds the limit of {SECURITY_NAME_BYTES_MAX}",
            binding.principal.len()
        ));
    }
    if binding.host.len() > HOST_BYTES_MAX {
        return invalid(format!(
            "host of {} bytes exceeds the limit of {HOST_BYTES_MAX}",
            binding.host.len()
        ));
    }
    Ok(())
}

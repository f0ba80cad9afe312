//! The controller requests about security, run by the active controller like the other
//! commands (one decision at a time, through the `ActiveGate`): AlterUserScramCredentials,
//! CreateAcls and DeleteAcls by id. The decisions are `sluice_controller`'s; this file
//! translates the wire.

use std::rc::Rc;

use sluice_controller::controller::{ScramDeletion, ScramUpsertion};

use super::partition_commands::code_and_message;
use super::raft_node::RaftNode;
use super::wire::{ControllerReply, ControllerRequest};

/// Runs one of this file's requests on `node`; the other requests are `raft_node.rs`'s.
/// Every reply carries the offset the caller waits for: its records', or, when nothing was
/// written, that of the image the decision saw.
pub(super) async fn execute(node: &Rc<RaftNode>, request: ControllerRequest) -> ControllerReply {
    match request {
        ControllerRequest::AlterUserScramCredentials {
            deletions,
            upsertions,
        } => {
            let deletions: Vec<ScramDeletion> = deletions
                .into_iter()
                .map(|d| ScramDeletion {
                    name: d.name,
                    mechanism: d.mechanism,
                })
                .collect();
            let upsertions: Vec<ScramUpsertion> = upsertions
                .into_iter()
                .map(|u| ScramUpsertion {
                    name: u.name,
                    mechanism: u.mechanism,
                    iterations: u.iterations,
                    salt: u.salt,
                    stored_key: u.stored_key,
                    server_key: u.server_key,
                })
                .collect();
            node.run_command(move |controller, image, _| {
                let (alterations, batch) =
                    controller.alter_user_scram_credentials(image, deletions, upsertions)?;
                let results = alterations
                    .into_iter()
                    .map(|a| (a.user, a.result.err().map(code_and_message)))
                    .collect();
                let offset = image.offset;
                Ok((ControllerReply::ScramAlterations { results, offset }, batch))
            })
            .await
        }
        ControllerRequest::CreateAcls { bindings } => {
            node.run_command(move |controller, image, _| {
                let (created, batch) = controller.create_acls(image, bindings)?;
                let results = created
                    .into_iter()
                    .map(|result| result.map_err(code_and_message))
                    .collect();
                let offset = image.offset;
                Ok((ControllerReply::AclsCreated { results, offset }, batch))
            })
            .await
        }
        ControllerRequest::DeleteAcls { ids } => {
            node.run_command(move |controller, image, _| {
                let (ids, batch) = controller.delete_acls(image, ids)?;
                let offset = image.offset;
                Ok((ControllerReply::AclsDeleted { ids, offset }, batch))
            })
            .await
        }
        other => unreachable!("not a security command: {other:?}"),
    }
}

//! The security part of the metadata every shard serves: SCRAM credentials and ACLs, copied
//! from the metadata image. Shared as an `Arc` that is reused while they do not change, so a
//! shard tells a change of ACLs from any other metadata change by pointer.

use std::collections::BTreeMap;

use sluice_controller::image::MetadataImage;
use sluice_controller::records::{AclEntry, AclId, ScramCredential};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct SecurityView {
    /// user → Kafka mechanism code → credential.
    pub scram: BTreeMap<String, BTreeMap<i8, ScramCredential>>,
    pub acls: BTreeMap<AclId, AclEntry>,
}

impl SecurityView {
    pub fn from_image(image: &MetadataImage) -> SecurityView {
        let mut scram: BTreeMap<String, BTreeMap<i8, ScramCredential>> = BTreeMap::new();
        for user in image.scram_users() {
            for code in [
                sluice_controller::records::security::SCRAM_SHA_256,
                sluice_controller::records::security::SCRAM_SHA_512,
            ] {
                if let Some(credential) = image.scram_credential(user, code) {
                    scram
                        .entry(user.to_string())
                        .or_default()
                        .insert(code, credential.clone());
                }
            }
        }
        SecurityView {
            scram,
            acls: image.acls().map(|(id, entry)| (id, entry.clone())).collect(),
        }
    }

    pub fn scram_credential(&self, user: &str, mechanism: i8) -> Option<&ScramCredential> {
        self.scram.get(user)?.get(&mechanism)
    }
}

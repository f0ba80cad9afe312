//! Who may authenticate: SCRAM credentials from the cluster metadata (every shard's copy),
//! and PLAIN passwords from `sasl.plain.users.file` or, for users without an entry there,
//! checked against the user's SCRAM credential (so `sluice user create` users can use PLAIN
//! too, as in Redpanda).

use std::rc::Rc;

use sluice_controller::records::security::{SCRAM_SHA_256, SCRAM_SHA_512};
use sluice_security::constant_time::eq as constant_time_equal;
use sluice_security::plain_users::PlainUsers;
use sluice_security::scram::{ScramCredential, ScramMechanism};

use crate::metadata::MetadataService;

pub struct Credentials {
    metadata: Rc<MetadataService>,
    plain_users: PlainUsers,
}

impl Credentials {
    /// Reads `sasl.plain.users.file` if set; an unreadable or bad file stops the broker at
    /// start with the reason.
    pub fn load(metadata: Rc<MetadataService>) -> Result<Credentials, String> {
        let plain_users = match &metadata.config().security.plain_users_file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|err| format!("sasl.plain.users.file {}: {err}", path.display()))?;
                PlainUsers::from_file_text(&text)
                    .map_err(|err| format!("sasl.plain.users.file {}: {err}", path.display()))?
            }
            None => PlainUsers::default(),
        };
        Ok(Credentials {
            metadata,
            plain_users,
        })
    }

    /// The user's credential for `mechanism`, as the metadata holds it now.
    pub fn scram(&self, user: &str, mechanism: ScramMechanism) -> Option<ScramCredential> {
        let stored = self.metadata.scram_credential(user, mechanism.code())?;
        Some(ScramCredential {
            salt: stored.salt.0.clone(),
            stored_key: stored.stored_key.0.clone(),
            server_key: stored.server_key.0.clone(),
            iterations: u32::try_from(stored.iterations).ok()?,
        })
    }

    /// Whether `password` is `user`'s: the users file decides for the users it lists;
    /// otherwise a SCRAM credential (SHA-512 first) is re-derived from the password, which
    /// costs thousands of HMACs and so runs on the blocking pool.
    pub async fn plain_password_matches(&self, user: &str, password: &str) -> bool {
        if self.plain_users.contains(user) {
            return self.plain_users.verify(user, password);
        }
        let stored = [SCRAM_SHA_512, SCRAM_SHA_256].iter().find_map(|code| {
            let mechanism = ScramMechanism::from_code(*code)?;
            Some((mechanism, self.scram(user, mechanism)?))
        });
        let Some((mechanism, stored)) = stored else {
            return false;
        };
        let password = password.to_string();
        glommio::executor()
            .spawn_blocking(move || {
                ScramCredential::derive(mechanism, &password, &stored.salt, stored.iterations)
                    .is_ok_and(|derived| {
                        constant_time_equal(&derived.stored_key, &stored.stored_key)
                    })
            })
            .await
    }
}

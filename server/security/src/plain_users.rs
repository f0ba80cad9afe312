//! The user table SASL/PLAIN checks passwords against, read from text the broker loaded:
//! a users file (one `name:password` per line; `#` starts a comment line; blank lines are
//! skipped; surrounding whitespace is trimmed) or a config value (`name:password` entries
//! separated by commas, so such passwords cannot contain a comma).
//!
//! A name is non-empty with no `:` and no whitespace; a password is non-empty and is
//! everything after the first `:`. Duplicate names are refused. Counts and lengths are
//! bounded. Errors give the line or entry number, never a password; `Debug` shows names only.
//! (Kafka reads `user_<name>="<password>"` from its JAAS config instead; this is Sluice's
//! own format.)

use std::collections::BTreeMap;
use std::fmt;

use crate::constant_time;
use crate::limits::{PLAIN_FIELD_BYTES_MAX, PLAIN_USERS_COUNT_MAX, PLAIN_USERS_TEXT_BYTES_MAX};

#[derive(Clone, Default, PartialEq, Eq)]
pub struct PlainUsers {
    passwords: BTreeMap<String, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UsersError {
    #[error("users text longer than {PLAIN_USERS_TEXT_BYTES_MAX} bytes")]
    TextTooLong,
    #[error("more than {PLAIN_USERS_COUNT_MAX} users")]
    TooManyUsers,
    #[error("entry {entry}: expected name:password")]
    NoColon { entry: usize },
    #[error("entry {entry}: the name is empty or holds whitespace")]
    BadName { entry: usize },
    #[error("entry {entry}: the password is empty")]
    EmptyPassword { entry: usize },
    #[error("entry {entry}: name or password longer than {PLAIN_FIELD_BYTES_MAX} bytes")]
    TooLong { entry: usize },
    #[error("entry {entry}: user {name:?} appears twice")]
    Duplicate { entry: usize, name: String },
}

impl PlainUsers {
    /// From a users file's text. Entry numbers in errors are 1-based line numbers.
    pub fn from_file_text(text: &str) -> Result<PlainUsers, UsersError> {
        if text.len() > PLAIN_USERS_TEXT_BYTES_MAX {
            return Err(UsersError::TextTooLong);
        }
        let entries = text
            .lines()
            .enumerate()
            .map(|(index, line)| (index + 1, line.trim()))
            .filter(|(_, line)| !line.is_empty() && !line.starts_with('#'));
        PlainUsers::from_entries(entries)
    }

    /// From a config value: `alice:pw1,bob:pw2`. Empty entries are skipped; entry numbers
    /// in errors count from 1 over all entries.
    pub fn from_config_value(value: &str) -> Result<PlainUsers, UsersError> {
        if value.len() > PLAIN_USERS_TEXT_BYTES_MAX {
            return Err(UsersError::TextTooLong);
        }
        let entries = value
            .split(',')
            .enumerate()
            .map(|(index, entry)| (index + 1, entry.trim()))
            .filter(|(_, entry)| !entry.is_empty());
        PlainUsers::from_entries(entries)
    }

    fn from_entries<'t>(
        entries: impl Iterator<Item = (usize, &'t str)>,
    ) -> Result<PlainUsers, UsersError> {
        let mut passwords = BTreeMap::new();
        for (entry, text) in entries {
            if passwords.len() == PLAIN_USERS_COUNT_MAX {
                return Err(UsersError::TooManyUsers);
            }
            let (name, password) = text.split_once(':').ok_or(UsersError::NoColon { entry })?;
            if name.is_empty() || name.chars().any(char::is_whitespace) {
                return Err(UsersError::BadName { entry });
            }
            if password.is_empty() {
                return Err(UsersError::EmptyPassword { entry });
            }
            if name.len() > PLAIN_FIELD_BYTES_MAX || password.len() > PLAIN_FIELD_BYTES_MAX {
                return Err(UsersError::TooLong { entry });
            }
            if passwords
                .insert(name.to_string(), password.to_string())
                .is_some()
            {
                return Err(UsersError::Duplicate {
                    entry,
                    name: name.to_string(),
                });
            }
        }
        Ok(PlainUsers { passwords })
    }

    /// Whether `password` is `name`'s, compared in constant time (for a given length).
    pub fn verify(&self, name: &str, password: &str) -> bool {
        match self.passwords.get(name) {
            Some(expected) => constant_time::eq(expected.as_bytes(), password.as_bytes()),
            None => false,
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.passwords.contains_key(name)
    }

    pub fn len(&self) -> usize {
        self.passwords.len()
    }

    pub fn is_empty(&self) -> bool {
        self.passwords.is_empty()
    }

    /// The user names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.passwords.keys().map(String::as_str)
    }
}

impl fmt::Debug for PlainUsers {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlainUsers")
            .field("names", &self.passwords.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_with_comments_and_blank_lines() {
        let users = PlainUsers::from_file_text(
            "# brokers\nadmin:admin-secret\n\n  alice:pa:ss word \r\n#bob:x\n",
        )
        .expect("valid");
        assert_eq!(users.len(), 2);
        assert!(users.verify("admin", "admin-secret"));
        assert!(users.verify("alice", "pa:ss word"));
        assert!(!users.verify("alice", "pa:ss"));
        assert!(!users.verify("bob", "x"));
        assert!(!format!("{users:?}").contains("secret"));
    }

    #[test]
    fn config_value() {
        let users = PlainUsers::from_config_value("admin:a1, alice:b2,").expect("valid");
        assert_eq!(users.names().collect::<Vec<_>>(), ["admin", "alice"]);
        assert!(users.verify("alice", "b2"));
    }

    #[test]
    fn refusals_name_the_entry_not_the_password() {
        let cases: [(&str, UsersError); 5] = [
            ("a:1\nnocolon", UsersError::NoColon { entry: 2 }),
            ("a b:1", UsersError::BadName { entry: 1 }),
            (":pw", UsersError::BadName { entry: 1 }),
            ("a:", UsersError::EmptyPassword { entry: 1 }),
            (
                "a:1\na:topsecret",
                UsersError::Duplicate {
                    entry: 2,
                    name: "a".to_string(),
                },
            ),
        ];
        for (text, expected) in cases {
            let error = PlainUsers::from_file_text(text).expect_err("refused");
            assert_eq!(error, expected);
            assert!(!error.to_string().contains("topsecret"));
        }
        let long = format!("a:{}", "x".repeat(PLAIN_FIELD_BYTES_MAX + 1));
        assert_eq!(
            PlainUsers::from_config_value(&long),
            Err(UsersError::TooLong { entry: 1 })
        );
    }

    #[test]
    fn user_count_is_bounded() {
        let text: String = (0..=PLAIN_USERS_COUNT_MAX)
            .map(|i| format!("u{i}:p\n"))
            .collect();
        assert_eq!(
            PlainUsers::from_file_text(&text),
            Err(UsersError::TooManyUsers)
        );
    }
}

//! `sluice user create|delete|list`: SCRAM users, like Kafka's
//! `kafka-configs --alter --add-config 'SCRAM-SHA-512=[password=...]' --entity-type users`.
//!
//! - `create` sends AlterUserScramCredentials upsertions. As Kafka's admin client does, the
//!   password never leaves this process: it draws a random 32-byte salt per mechanism and
//!   sends SaltedPassword = PBKDF2(password, salt, iterations) (`sluice_security`'s helper);
//!   the broker derives StoredKey and ServerKey from it.
//! - `delete` sends deletions, by default for every mechanism the user has (asked first
//!   with DescribeUserScramCredentials, so a user with one mechanism deletes cleanly).
//! - `list` shows DescribeUserScramCredentials: user, mechanism, iterations.

use std::io::Read;
use std::path::PathBuf;

use bytes::Bytes;
use clap::{Args, Subcommand};
use kafka_protocol::messages::alter_user_scram_credentials_request::{
    ScramCredentialDeletion, ScramCredentialUpsertion,
};
use kafka_protocol::messages::describe_user_scram_credentials_request::UserName;
use kafka_protocol::messages::{
    AlterUserScramCredentialsRequest, AlterUserScramCredentialsResponse,
    DescribeUserScramCredentialsRequest, DescribeUserScramCredentialsResponse,
};
use kafka_protocol::protocol::StrBytes;
use sluice_kafka_client::error_code::ResponseError;
use sluice_security::scram::{salted_password, ScramMechanism};

use super::error::AdminError;
use super::pool::BrokerPool;
use super::render::table;
use super::{versions, ConnectArgs};

/// `--iterations` default (Kafka's own default is 4096; more costs a login more CPU).
pub const ITERATIONS_DEFAULT: u32 = 8192;
/// Random salt per credential, as Kafka's `ScramFormatter.secureRandomBytes` draws.
pub const SALT_BYTES: usize = 32;
/// Longest password accepted from `--password-file`.
pub const PASSWORD_BYTES_MAX: usize = 1024;

/// Manage SCRAM users over the Kafka protocol.
#[derive(Debug, Args)]
pub struct UserArgs {
    #[command(flatten)]
    pub connect: ConnectArgs,
    #[command(subcommand)]
    pub command: UserCommand,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user, or set a new password (AlterUserScramCredentials upsertion).
    Create {
        name: String,
        /// The password (visible in the shell history: prefer --password-file).
        #[arg(
            long,
            conflicts_with = "password_file",
            required_unless_present = "password_file"
        )]
        password: Option<String>,
        /// Read the password from this file's first line (`-`: standard input).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
        /// SCRAM-SHA-256 or SCRAM-SHA-512 [default: both]
        #[arg(long)]
        mechanism: Option<String>,
        /// PBKDF2 iterations (Kafka accepts 4096 to 16384).
        #[arg(long, default_value_t = ITERATIONS_DEFAULT)]
        iterations: u32,
    },
    /// Delete a user's credentials (AlterUserScramCredentials deletion).
    Delete {
        name: String,
        /// SCRAM-SHA-256 or SCRAM-SHA-512 [default: every mechanism the user has]
        #[arg(long)]
        mechanism: Option<String>,
    },
    /// Users with their mechanisms and iterations (DescribeUserScramCredentials).
    List {
        /// Only these users [default: all]
        names: Vec<String>,
    },
}

/// A command with its password read and salts drawn: running it again (a retry) sends the
/// same request.
#[derive(Debug)]
pub enum Prepared {
    Create {
        name: String,
        /// (mechanism, salt, salted password) per mechanism.
        credentials: Vec<(ScramMechanism, Vec<u8>, Vec<u8>)>,
        iterations: u32,
    },
    Delete {
        name: String,
        mechanism: Option<ScramMechanism>,
    },
    List {
        names: Vec<String>,
    },
}

fn parse_mechanism(text: &str) -> Result<ScramMechanism, String> {
    ScramMechanism::from_mechanism_name(text.trim())
        .ok_or_else(|| format!("--mechanism {text}: expected SCRAM-SHA-256 or SCRAM-SHA-512"))
}

impl UserCommand {
    /// Checks the arguments, reads the password, draws the salts and runs PBKDF2.
    pub fn prepare(&self) -> Result<Prepared, String> {
        match self {
            UserCommand::Create {
                name,
                password,
                password_file,
                mechanism,
                iterations,
            } => {
                let password = match (password, password_file) {
                    (Some(p), _) => p.clone(),
                    (None, Some(file)) => read_password(file)?,
                    (None, None) => return Err("--password or --password-file".into()),
                };
                let mechanisms = match mechanism {
                    Some(m) => vec![parse_mechanism(m)?],
                    None => ScramMechanism::ALL_VALUES.to_vec(),
                };
                let salts = mechanisms
                    .iter()
                    .map(|_| random_salt())
                    .collect::<Result<Vec<_>, _>>()?;
                create_credentials(name, &password, &mechanisms, &salts, *iterations)
            }
            UserCommand::Delete { name, mechanism } => Ok(Prepared::Delete {
                name: checked_name(name)?,
                mechanism: mechanism.as_deref().map(parse_mechanism).transpose()?,
            }),
            UserCommand::List { names } => Ok(Prepared::List {
                names: names.clone(),
            }),
        }
    }
}

fn checked_name(name: &str) -> Result<String, String> {
    if name.is_empty() {
        return Err("the user name must not be empty".into());
    }
    Ok(name.to_string())
}

/// The upsertions' contents for `salts` (one per mechanism), refusing what Kafka refuses.
pub fn create_credentials(
    name: &str,
    password: &str,
    mechanisms: &[ScramMechanism],
    salts: &[Vec<u8>],
    iterations: u32,
) -> Result<Prepared, String> {
    assert_eq!(mechanisms.len(), salts.len());
    let name = checked_name(name)?;
    if password.is_empty() {
        return Err("the password must not be empty".into());
    }
    let mut credentials = Vec::new();
    for (mechanism, salt) in mechanisms.iter().zip(salts) {
        let (min, max) = (mechanism.iterations_min(), mechanism.iterations_max());
        if !(min..=max).contains(&iterations) {
            return Err(format!(
                "--iterations {iterations}: {mechanism} needs {min} to {max}"
            ));
        }
        let salted = salted_password(*mechanism, password.as_bytes(), salt, iterations)
            .map_err(|e| format!("{mechanism}: {e}"))?;
        assert_eq!(salted.len(), mechanism.digest_bytes());
        credentials.push((*mechanism, salt.clone(), salted));
    }
    Ok(Prepared::Create {
        name,
        credentials,
        iterations,
    })
}

fn random_salt() -> Result<Vec<u8>, String> {
    let mut salt = vec![0u8; SALT_BYTES];
    getrandom::getrandom(&mut salt).map_err(|e| format!("no randomness for the salt: {e}"))?;
    Ok(salt)
}

/// The first line of `file` (`-`: standard input), without its line end.
fn read_password(file: &PathBuf) -> Result<String, String> {
    let mut text = String::new();
    let limit = PASSWORD_BYTES_MAX as u64 + 2;
    let read = if file.as_os_str() == "-" {
        std::io::stdin().take(limit).read_to_string(&mut text)
    } else {
        std::fs::File::open(file).and_then(|f| f.take(limit).read_to_string(&mut text))
    };
    read.map_err(|e| format!("--password-file {}: {e}", file.display()))?;
    let password = text.lines().next().unwrap_or_default().to_string();
    if password.len() > PASSWORD_BYTES_MAX {
        return Err(format!(
            "--password-file {}: longer than {PASSWORD_BYTES_MAX} bytes",
            file.display()
        ));
    }
    if password.is_empty() {
        return Err(format!("--password-file {}: empty", file.display()));
    }
    Ok(password)
}

pub fn execute(pool: &mut BrokerPool, command: &Prepared) -> Result<String, AdminError> {
    match command {
        Prepared::Create {
            name,
            credentials,
            iterations,
        } => create(pool, name, credentials, *iterations),
        Prepared::Delete { name, mechanism } => delete(pool, name, *mechanism),
        Prepared::List { names } => list(pool, names),
    }
}

fn text(s: &str) -> StrBytes {
    StrBytes::from_string(s.to_string())
}

fn create(
    pool: &mut BrokerPool,
    name: &str,
    credentials: &[(ScramMechanism, Vec<u8>, Vec<u8>)],
    iterations: u32,
) -> Result<String, AdminError> {
    let upsertions = credentials
        .iter()
        .map(|(mechanism, salt, salted)| {
            ScramCredentialUpsertion::default()
                .with_name(text(name))
                .with_mechanism(mechanism.code())
                .with_iterations(i32::try_from(iterations).unwrap_or(i32::MAX))
                .with_salt(Bytes::copy_from_slice(salt))
                .with_salted_password(Bytes::copy_from_slice(salted))
        })
        .collect();
    let request = AlterUserScramCredentialsRequest::default().with_upsertions(upsertions);
    let response = alter(pool, request)?;
    check_results(&response, "create user")?;
    Ok(credentials
        .iter()
        .map(|(mechanism, _, _)| {
            format!("user {name}: {mechanism} credential set ({iterations} iterations)\n")
        })
        .collect())
}

fn delete(
    pool: &mut BrokerPool,
    name: &str,
    mechanism: Option<ScramMechanism>,
) -> Result<String, AdminError> {
    let mechanisms = match mechanism {
        Some(m) => vec![m],
        None => {
            let described = describe(pool, &[name.to_string()])?;
            let mechanisms: Vec<ScramMechanism> = described
                .into_iter()
                .filter_map(|(_, mechanism, _)| mechanism)
                .collect();
            if mechanisms.is_empty() {
                return Err(AdminError::Usage(format!(
                    "user {name} has no SCRAM credentials"
                )));
            }
            mechanisms
        }
    };
    let deletions = mechanisms
        .iter()
        .map(|m| {
            ScramCredentialDeletion::default()
                .with_name(text(name))
                .with_mechanism(m.code())
        })
        .collect();
    let request = AlterUserScramCredentialsRequest::default().with_deletions(deletions);
    let response = alter(pool, request)?;
    check_results(&response, "delete user")?;
    Ok(mechanisms
        .iter()
        .map(|m| format!("user {name}: {m} credential deleted\n"))
        .collect())
}

fn alter(
    pool: &mut BrokerPool,
    request: AlterUserScramCredentialsRequest,
) -> Result<AlterUserScramCredentialsResponse, AdminError> {
    Ok(pool
        .bootstrap()
        .call(versions::ALTER_USER_SCRAM_CREDENTIALS, |_| request)?)
}

/// Every user's result; the first error as an [`AdminError::Kafka`] naming the user.
fn check_results(
    response: &AlterUserScramCredentialsResponse,
    what: &str,
) -> Result<(), AdminError> {
    for result in &response.results {
        AdminError::check(result.error_code, result.error_message.as_deref(), || {
            format!("{what} {}", result.user.as_str())
        })?;
    }
    Ok(())
}

/// (user, mechanism, iterations) rows; `None` mechanism for a code this CLI does not know.
fn describe(
    pool: &mut BrokerPool,
    names: &[String],
) -> Result<Vec<(String, Option<ScramMechanism>, i32)>, AdminError> {
    let users = (!names.is_empty()).then(|| {
        names
            .iter()
            .map(|n| UserName::default().with_name(text(n)))
            .collect()
    });
    let request = DescribeUserScramCredentialsRequest::default().with_users(users);
    let response: DescribeUserScramCredentialsResponse = pool
        .bootstrap()
        .call(versions::DESCRIBE_USER_SCRAM_CREDENTIALS, |_| request)?;
    AdminError::check(
        response.error_code,
        response.error_message.as_deref(),
        || "list users".into(),
    )?;
    let mut rows = Vec::new();
    for result in &response.results {
        let user = result.user.to_string();
        // Kafka answers RESOURCE_NOT_FOUND for a named user without credentials.
        if result.error_code == ResponseError::ResourceNotFound.code() {
            continue;
        }
        AdminError::check(result.error_code, result.error_message.as_deref(), || {
            format!("list user {user}")
        })?;
        for info in &result.credential_infos {
            rows.push((
                user.clone(),
                ScramMechanism::from_code(info.mechanism),
                info.iterations,
            ));
        }
    }
    rows.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    Ok(rows)
}

fn list(pool: &mut BrokerPool, names: &[String]) -> Result<String, AdminError> {
    let rows: Vec<Vec<String>> = describe(pool, names)?
        .into_iter()
        .map(|(user, mechanism, iterations)| {
            vec![
                user,
                mechanism.map_or_else(|| "UNKNOWN".to_string(), |m| m.to_string()),
                iterations.to_string(),
            ]
        })
        .collect();
    if rows.is_empty() {
        return Ok("no SCRAM users\n".to_string());
    }
    Ok(table(&["USER", "MECHANISM", "ITERATIONS"], &rows))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_refuses_what_kafka_refuses_before_asking() {
        let both = ScramMechanism::ALL_VALUES;
        let salts = vec![vec![1u8; SALT_BYTES], vec![2u8; SALT_BYTES]];
        let few = create_credentials("alice", "pw", &both, &salts, 1000).map(|_| ());
        assert_eq!(
            few,
            Err("--iterations 1000: SCRAM-SHA-256 needs 4096 to 16384".to_string())
        );
        let empty = create_credentials("alice", "", &both, &salts, 8192).map(|_| ());
        assert_eq!(empty, Err("the password must not be empty".to_string()));
        let nameless = create_credentials("", "pw", &both, &salts, 8192).map(|_| ());
        assert!(nameless.is_err());
        assert!(parse_mechanism("SCRAM-SHA-1").is_err());
    }

    #[test]
    fn the_salted_password_is_pbkdf2_of_the_password() {
        let prepared = create_credentials(
            "alice",
            "pencil",
            &[ScramMechanism::Sha256],
            &[b"NaCl".to_vec()],
            4096,
        );
        let Ok(Prepared::Create { credentials, .. }) = prepared else {
            panic!("prepared {prepared:?}");
        };
        let (mechanism, salt, salted) = &credentials[0];
        assert_eq!(*mechanism, ScramMechanism::Sha256);
        assert_eq!(salt, b"NaCl");
        // The credential the broker derives from it lets the password log in.
        let derived = sluice_security::scram::ScramCredential::derive(
            ScramMechanism::Sha256,
            "pencil",
            b"NaCl",
            4096,
        );
        let from_salted = sluice_security::scram::ScramCredential::from_salted_password(
            ScramMechanism::Sha256,
            b"NaCl",
            salted,
            4096,
        );
        assert_eq!(derived, from_salted);
    }

    #[test]
    fn password_file_takes_the_first_line() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let path = dir.path().join("pw");
        std::fs::write(&path, "s3cret\nignored\n").unwrap_or_else(|e| panic!("write: {e}"));
        assert_eq!(read_password(&path), Ok("s3cret".to_string()));
        std::fs::write(&path, "\n").unwrap_or_else(|e| panic!("write: {e}"));
        assert!(read_password(&path).is_err_and(|e| e.ends_with("empty")));
    }
}

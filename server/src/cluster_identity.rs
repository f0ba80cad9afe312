//! The data dir's identity: `<data>/meta.properties` (Kafka's file name and Java properties
//! syntax) says which cluster and which node the data belongs to:
//!
//! ```text
//! version=1
//! node.id=1
//! cluster.id=q1Sh-9_ISia_zwGINzRvyQ
//! ```
//!
//! [`ensure`] runs at start, after the data dir lock is taken and before anything else reads
//! or writes the data dir. The file is checked if present and written if absent (temp file,
//! fsync, rename, fsync of the dir: a crash leaves the old state or the new, never half).
//!
//! The cluster id:
//! - configured (`cluster.id`) and in the file: they must be equal;
//! - configured only: the configured one is written;
//! - in the file only: the file's is used;
//! - neither, default single-node quorum (no voters list): a new random id in Kafka's format
//!   (16 random bytes from /dev/urandom as URL-safe base64 without padding: 22 characters);
//! - neither, a voters list is configured: derived from the voters (sorted by node id, as
//!   `id@host:port` with lower-cased hosts), so every node of a fresh cluster, voters and
//!   observers alike, arrives at the same id without a format step. Nodes must therefore
//!   spell the voters the same way (order does not matter). A single listed voter derives too:
//!   observers of it must agree with it. The derivation is FNV-1a 128 over a versioned
//!   string, which is stable across builds (std's hashers are not).
//!
//! The file's `node.id` must equal the configured node id: a data dir never changes hands.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;

use crate::config::properties;
use crate::config::{check_cluster_id, Voter};

pub const META_FILE: &str = "meta.properties";
const META_TEMP_FILE: &str = "meta.properties.tmp";
/// The only `version` Sluice writes and reads (Kafka's KRaft meta.properties version).
const META_VERSION: &str = "1";
/// Largest meta.properties read: a few short lines; anything bigger is not ours.
const META_FILE_BYTES_MAX: u64 = 64 * 1024;
/// Random bytes of a generated cluster id (a UUID's worth, as Kafka).
const CLUSTER_ID_RANDOM_BYTES: usize = 16;
/// Prefix of the derivation input: a new derivation rule gets a new prefix.
const DERIVATION_VERSION: &str = "sluice-cluster-id-v1";

/// What the data dir belongs to, once checked (and written if it was fresh).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClusterIdentity {
    pub cluster_id: String,
    pub node_id: i32,
}

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    #[error("data dir {data_dir} belongs to cluster {found}, but this node is configured for cluster {configured}")]
    ClusterMismatch {
        data_dir: String,
        found: String,
        configured: String,
    },
    #[error("data dir {data_dir} belongs to node {found}, but this node is node {configured}")]
    NodeMismatch {
        data_dir: String,
        found: i32,
        configured: i32,
    },
    #[error("{path}: {reason}")]
    Malformed { path: String, reason: String },
    #[error("{what} {path}: {source}")]
    Io {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// Checks (or, in a fresh data dir, writes) `<data_dir>/meta.properties` and returns the
/// cluster id this node serves. `voters` is the configured voters list, empty for the
/// default single-node quorum (`Quorum::voters()`). See the module doc for the rules.
pub fn ensure(
    data_dir: &Path,
    node_id: i32,
    configured_cluster_id: Option<&str>,
    voters: &[Voter],
) -> Result<ClusterIdentity, IdentityError> {
    assert!(node_id >= 0, "node ids are validated by the config");
    let path = data_dir.join(META_FILE);
    if let Some(found) = read(&path)? {
        if found.node_id != node_id {
            return Err(IdentityError::NodeMismatch {
                data_dir: data_dir.display().to_string(),
                found: found.node_id,
                configured: node_id,
            });
        }
        if let Some(configured) = configured_cluster_id {
            if configured != found.cluster_id {
                return Err(IdentityError::ClusterMismatch {
                    data_dir: data_dir.display().to_string(),
                    found: found.cluster_id,
                    configured: configured.to_string(),
                });
            }
        }
        return Ok(found);
    }
    let cluster_id = match configured_cluster_id {
        Some(configured) => configured.to_string(),
        None if voters.is_empty() => generate_cluster_id(data_dir)?,
        None => derive_cluster_id(voters),
    };
    let identity = ClusterIdentity {
        cluster_id,
        node_id,
    };
    write(data_dir, &identity)?;
    // Read back what the next start will read: the same identity.
    let written = read(&path)?;
    assert_eq!(written.as_ref(), Some(&identity));
    Ok(identity)
}

/// Kafka's cluster id format: `bytes` as URL-safe base64 without padding.
pub fn encode_cluster_id(bytes: &[u8; CLUSTER_ID_RANDOM_BYTES]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(22);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        let symbols = chunk.len() + 1;
        for i in 0..symbols {
            let index = (n >> (18 - 6 * i)) & 0x3f;
            out.push(char::from(ALPHABET[index as usize]));
        }
    }
    assert_eq!(out.len(), 22);
    out
}

/// The cluster id every node with these voters derives (see the module doc).
pub fn derive_cluster_id(voters: &[Voter]) -> String {
    assert!(!voters.is_empty());
    let mut sorted: Vec<&Voter> = voters.iter().collect();
    sorted.sort_by_key(|v| v.node_id);
    let mut input = String::from(DERIVATION_VERSION);
    for voter in sorted {
        input.push(',');
        input.push_str(&format!(
            "{}@{}",
            voter.node_id,
            voter.endpoint.to_string().to_ascii_lowercase()
        ));
    }
    encode_cluster_id(&fnv1a_128(input.as_bytes()).to_be_bytes())
}

fn fnv1a_128(bytes: &[u8]) -> u128 {
    const OFFSET_BASIS: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    bytes.iter().fold(OFFSET_BASIS, |hash, byte| {
        (hash ^ u128::from(*byte)).wrapping_mul(PRIME)
    })
}

fn generate_cluster_id(data_dir: &Path) -> Result<String, IdentityError> {
    let mut bytes = [0u8; CLUSTER_ID_RANDOM_BYTES];
    let urandom = "/dev/urandom";
    File::open(urandom)
        .and_then(|mut file| file.read_exact(&mut bytes))
        .map_err(|source| IdentityError::Io {
            what: "cannot read random bytes for a new cluster id of",
            path: format!("{} from {urandom}", data_dir.display()),
            source,
        })?;
    Ok(encode_cluster_id(&bytes))
}

/// The identity in `path`, None if there is no such file.
fn read(path: &Path) -> Result<Option<ClusterIdentity>, IdentityError> {
    let io_error = |source| IdentityError::Io {
        what: "cannot read",
        path: path.display().to_string(),
        source,
    };
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(io_error(e)),
    };
    let mut text = String::new();
    file.take(META_FILE_BYTES_MAX)
        .read_to_string(&mut text)
        .map_err(io_error)?;
    parse(&text)
        .map(Some)
        .map_err(|reason| IdentityError::Malformed {
            path: path.display().to_string(),
            reason,
        })
}

fn parse(text: &str) -> Result<ClusterIdentity, String> {
    let pairs = properties::parse(text).map_err(|e| e.to_string())?;
    let get = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim())
            .ok_or_else(|| format!("no {key}"))
    };
    let version = get("version")?;
    if version != META_VERSION {
        return Err(format!(
            "version {version} is not supported (Sluice reads version {META_VERSION})"
        ));
    }
    let node_id = get("node.id")?;
    let node_id: i32 = node_id
        .parse()
        .map_err(|_| format!("node.id {node_id:?} is not a number"))?;
    let cluster_id = get("cluster.id")?;
    check_cluster_id(cluster_id).map_err(|e| format!("cluster.id {e}"))?;
    Ok(ClusterIdentity {
        cluster_id: cluster_id.to_string(),
        node_id,
    })
}

/// Writes the identity: temp file, fsync, rename over `meta.properties`, fsync the dir.
fn write(data_dir: &Path, identity: &ClusterIdentity) -> Result<(), IdentityError> {
    let temp = data_dir.join(META_TEMP_FILE);
    let io_error = |what, path: &Path| {
        let path = path.display().to_string();
        move |source| IdentityError::Io { what, path, source }
    };
    let node_id = identity.node_id.to_string();
    let text = properties::format(&[
        ("version", META_VERSION),
        ("node.id", &node_id),
        ("cluster.id", &identity.cluster_id),
    ]);
    let mut file = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .open(&temp)
        .map_err(io_error("cannot create", &temp))?;
    file.write_all(text.as_bytes())
        .map_err(io_error("cannot write", &temp))?;
    file.sync_all().map_err(io_error("cannot fsync", &temp))?;
    drop(file);
    let path = data_dir.join(META_FILE);
    std::fs::rename(&temp, &path).map_err(io_error("cannot rename into place", &path))?;
    File::open(data_dir)
        .and_then(|dir| dir.sync_all())
        .map_err(io_error("cannot fsync", data_dir))?;
    Ok(())
}

#[cfg(test)]
// A failed unwrap is a failed test, with the value in the message.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::voters::parse_voters;

    const THREE: &str = "1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9293";

    #[test]
    fn a_fresh_single_node_generates_an_id_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = ensure(dir.path(), 0, None, &[]).unwrap();
        assert_eq!(first.cluster_id.len(), 22);
        assert!(check_cluster_id(&first.cluster_id).is_ok());
        let again = ensure(dir.path(), 0, None, &[]).unwrap();
        assert_eq!(again, first);
        let text = std::fs::read_to_string(dir.path().join(META_FILE)).unwrap();
        assert!(text.contains("version=1\n"), "{text}");
        assert!(text.contains(&format!("cluster.id={}\n", first.cluster_id)));
        assert!(!dir.path().join(META_TEMP_FILE).exists());
        // Another fresh dir gets another id.
        let other = tempfile::tempdir().unwrap();
        assert_ne!(ensure(other.path(), 0, None, &[]).unwrap(), first);
    }

    #[test]
    fn every_node_of_a_fresh_cluster_derives_the_same_id() {
        let voters = parse_voters(THREE).unwrap();
        let mut reordered =
            parse_voters("3@127.0.0.1:9293,1@127.0.0.1:9093,2@127.0.0.1:9193").unwrap();
        reordered.reverse();
        let ids: Vec<String> = (1..=3)
            .map(|node_id| {
                let dir = tempfile::tempdir().unwrap();
                let list = if node_id == 2 { &reordered } else { &voters };
                ensure(dir.path(), node_id, None, list).unwrap().cluster_id
            })
            .collect();
        assert_eq!(ids[0], ids[1]);
        assert_eq!(ids[1], ids[2]);
        assert_eq!(ids[0].len(), 22);
        let other = parse_voters("1@127.0.0.1:9093,2@127.0.0.1:9193,3@127.0.0.1:9294").unwrap();
        assert_ne!(derive_cluster_id(&other), ids[0]);
    }

    #[test]
    fn a_configured_id_is_written_then_required() {
        let dir = tempfile::tempdir().unwrap();
        let identity = ensure(dir.path(), 1, Some("prod-east"), &[]).unwrap();
        assert_eq!(identity.cluster_id, "prod-east");
        // Unset later: the file's id is used.
        assert_eq!(
            ensure(dir.path(), 1, None, &[]).unwrap().cluster_id,
            "prod-east"
        );
        let err = ensure(dir.path(), 1, Some("prod-west"), &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "data dir {} belongs to cluster prod-east, but this node is configured for cluster prod-west",
                dir.path().display()
            )
        );
    }

    #[test]
    fn a_data_dir_of_another_node_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        ensure(dir.path(), 2, None, &[]).unwrap();
        let err = ensure(dir.path(), 1, None, &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "data dir {} belongs to node 2, but this node is node 1",
                dir.path().display()
            )
        );
    }

    #[test]
    fn a_malformed_file_is_refused_and_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(META_FILE);
        for text in [
            "node.id=1\ncluster.id=x\n",
            "version=0\nnode.id=1\ncluster.id=x\n",
            "version=1\nnode.id=one\ncluster.id=x\n",
            "version=1\nnode.id=1\ncluster.id=a b\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let err = ensure(dir.path(), 1, None, &[]).unwrap_err();
            assert!(
                matches!(err, IdentityError::Malformed { .. }),
                "{text:?}: {err}"
            );
            assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
        }
    }

    #[test]
    fn kafkas_own_meta_properties_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let kafka = "#\n#Tue Mar 05 10:00:00 UTC 2024\nnode.id=1\n\
                     directory.id=J8aAPcfLQt2bqs1JT_rMgQ\nversion=1\n\
                     cluster.id=MkU3OEVBNTcwNTJENDM2Qk\n";
        std::fs::write(dir.path().join(META_FILE), kafka).unwrap();
        let identity = ensure(dir.path(), 1, None, &[]).unwrap();
        assert_eq!(identity.cluster_id, "MkU3OEVBNTcwNTJENDM2Qk");
    }

    #[test]
    fn ids_are_url_safe_base64_without_padding() {
        assert_eq!(encode_cluster_id(&[0; 16]), "AAAAAAAAAAAAAAAAAAAAAA");
        assert_eq!(encode_cluster_id(&[0xff; 16]), "_____________________w");
        // Kafka's Uuid.toString for 0xfb_ef_... : '-' and '_' appear where base64 has + and /.
        let mut bytes = [0u8; 16];
        bytes[0] = 0xfb;
        bytes[1] = 0xef;
        assert!(encode_cluster_id(&bytes).starts_with("--8"));
    }
}

//! The topic list of brokers before the cluster (`<data>/meta/topics.json`): read once, when a
//! one-node data dir without a metadata log is first started by a clustered broker, to carry its
//! topics into the metadata log ([`crate::metadata`] migrates them). It was written as follows.
//! Persisted [`ClusterMeta`] as `<data>/meta/topics.json`. Each save writes a temp file, fsyncs
//! it, renames it over the old one and fsyncs the directory, so a crash leaves either the old or
//! the new list, never a torn one. Blocking I/O: call from a blocking thread.

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::meta::ClusterMeta;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("topic metadata store {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("topic metadata store {path} is corrupt: {source}")]
    Corrupt {
        path: PathBuf,
        source: serde_json::Error,
    },
}

const META_DIR: &str = "meta";
const TOPICS_FILE: &str = "topics.json";
const TOPICS_FILE_TMP: &str = "topics.json.tmp";
const TOPICS_FILE_RETIRED: &str = "topics.json.migrated";

impl StoreError {
    /// The device is full (ENOSPC/EDQUOT).
    pub fn is_no_space(&self) -> bool {
        matches!(self, StoreError::Io { source, .. }
            if matches!(source.raw_os_error(), Some(libc::ENOSPC) | Some(libc::EDQUOT)))
    }
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Loads the topic list; an absent file is an empty cluster.
pub fn load(data_dir: &Path) -> Result<ClusterMeta, StoreError> {
    let path = data_dir.join(META_DIR).join(TOPICS_FILE);
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(ClusterMeta::default()),
        Err(err) => return Err(io_err(&path)(err)),
    };
    serde_json::from_slice(&text).map_err(|source| StoreError::Corrupt { path, source })
}

/// Renames the topic list once its topics are in the metadata log, so that it is read once.
pub fn retire(data_dir: &Path) -> Result<(), StoreError> {
    let dir = data_dir.join(META_DIR);
    let path = dir.join(TOPICS_FILE);
    let retired = dir.join(TOPICS_FILE_RETIRED);
    fs::rename(&path, &retired).map_err(io_err(&path))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(&dir))
}

pub fn save(data_dir: &Path, meta: &ClusterMeta) -> Result<(), StoreError> {
    let dir = data_dir.join(META_DIR);
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let tmp = dir.join(TOPICS_FILE_TMP);
    let path = dir.join(TOPICS_FILE);
    let json = serde_json::to_vec_pretty(meta).map_err(|source| StoreError::Corrupt {
        path: path.clone(),
        source,
    })?;
    let mut file = File::create(&tmp).map_err(io_err(&tmp))?;
    file.write_all(&json).map_err(io_err(&tmp))?;
    file.sync_all().map_err(io_err(&tmp))?;
    fs::rename(&tmp, &path).map_err(io_err(&path))?;
    File::open(&dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(&dir))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::topics::{TopicConfigs, TopicMeta};

    #[test]
    fn saved_topics_load_back_identical() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path()).unwrap(), ClusterMeta::default());
        let mut meta = ClusterMeta::default();
        let mut configs = TopicConfigs::default();
        configs.set("retention.ms", "60000").unwrap();
        meta.version = 3;
        meta.topics.insert(
            "t".into(),
            TopicMeta {
                name: "t".into(),
                id_hex: "0123456789abcdef0123456789abcdef".into(),
                partitions: 6,
                configs,
                states: Vec::new(),
            },
        );
        save(dir.path(), &meta).unwrap();
        assert_eq!(load(dir.path()).unwrap(), meta);
    }
}

//! Request-queue settings of the disks behind the data dir.

use std::path::{Path, PathBuf};

use crate::block_device::{disks_of, BlockDisk};
use crate::host::{refusal_reason, HostFs};
use crate::tunable::{Assessment, FileWrite, Tunable};

/// Reads a sysfs selector such as `none [mq-deadline] kyber`: (selected, all choices).
/// A lone unbracketed word is the only choice and so the selected one (devices without an
/// elevator print just `none`).
pub fn parse_selector(text: &str) -> Option<(String, Vec<String>)> {
    let words: Vec<&str> = text.split_whitespace().collect();
    if let [only] = words.as_slice() {
        if !only.starts_with('[') {
            return Some((only.to_string(), vec![only.to_string()]));
        }
    }
    let mut selected = None;
    let mut choices = Vec::new();
    for word in text.split_whitespace() {
        let bare = word.trim_start_matches('[').trim_end_matches(']');
        if word.starts_with('[') {
            selected = Some(bare.to_string());
        }
        choices.push(bare.to_string());
    }
    selected.map(|s| (s, choices))
}

/// The I/O scheduler: `none` for the data disk.
#[derive(Debug)]
pub struct BlockScheduler {
    data_dir: PathBuf,
}

impl BlockScheduler {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
        }
    }
}

/// `nomerges=2`: the block layer stops trying to merge requests.
#[derive(Debug)]
pub struct BlockNomerges {
    data_dir: PathBuf,
}

impl BlockNomerges {
    pub fn new(data_dir: &Path) -> Self {
        Self {
            data_dir: data_dir.to_path_buf(),
        }
    }
}

/// Per-disk reading: Ok((current, matches, write)) or Err(reason).
type DiskReading = Result<(String, bool, FileWrite), String>;

/// Assesses every disk behind `data_dir` with `read_disk` and folds them into one row.
fn assess_disks(
    host: &HostFs,
    data_dir: &Path,
    recommended: &str,
    read_disk: impl Fn(&BlockDisk) -> DiskReading,
) -> Assessment {
    let disks = match disks_of(host, data_dir) {
        Ok(disks) => disks,
        Err(reason) => return Assessment::not_tunable(recommended, reason),
    };
    let mut current = Vec::new();
    let mut writes = Vec::new();
    for disk in &disks {
        match read_disk(disk) {
            Ok((value, matches, write)) => {
                current.push(format!("{}={value}", disk.name));
                if !matches {
                    writes.push(write);
                }
            }
            Err(reason) => return Assessment::not_tunable(recommended, reason),
        }
    }
    let matches = writes.is_empty();
    Assessment::compare(current.join(","), recommended, matches, writes)
}

impl Tunable for BlockScheduler {
    fn name(&self) -> &str {
        "block.scheduler"
    }

    fn why(&self) -> &'static str {
        "Sluice already issues large sequential O_DIRECT writes in order; a scheduler only adds latency and CPU per request"
    }

    fn assess(&self, host: &HostFs) -> Assessment {
        assess_disks(host, &self.data_dir, "none", |disk| {
            let path = disk.queue_file("scheduler");
            let text = host.read(&path).map_err(|e| refusal_reason(&path, &e))?;
            let (selected, choices) = parse_selector(&text)
                .ok_or_else(|| format!("{}: unexpected value {text:?}", path.display()))?;
            if selected != "none" && !choices.iter().any(|c| c == "none") {
                return Err(format!("{}: kernel offers no `none` scheduler", disk.name));
            }
            let matches = selected == "none";
            Ok((
                selected,
                matches,
                FileWrite {
                    path,
                    value: "none".to_string(),
                },
            ))
        })
    }
}

impl Tunable for BlockNomerges {
    fn name(&self) -> &str {
        "block.nomerges"
    }

    fn why(&self) -> &'static str {
        "the appender already writes whole aligned chunks; merge lookups cost CPU on the submitting shard"
    }

    fn assess(&self, host: &HostFs) -> Assessment {
        assess_disks(host, &self.data_dir, "2", |disk| {
            let path = disk.queue_file("nomerges");
            let text = host.read(&path).map_err(|e| refusal_reason(&path, &e))?;
            let matches = text == "2";
            Ok((
                text,
                matches,
                FileWrite {
                    path,
                    value: "2".to_string(),
                },
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selector_finds_bracketed_choice() {
        let parsed = parse_selector("none [mq-deadline] kyber bfq");
        let (selected, choices) = parsed.unwrap_or_default();
        assert_eq!(selected, "mq-deadline");
        assert_eq!(choices, ["none", "mq-deadline", "kyber", "bfq"]);
        assert_eq!(parse_selector("none kyber"), None);
        assert_eq!(
            parse_selector("none"),
            Some(("none".to_string(), vec!["none".to_string()]))
        );
    }
}

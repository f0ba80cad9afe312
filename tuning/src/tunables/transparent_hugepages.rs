//! Transparent hugepages: `madvise`, so only code that asks gets huge pages.

use std::path::Path;

use crate::host::{refusal_reason, HostFs};
use crate::tunable::{Assessment, FileWrite, Tunable};
use crate::tunables::block_queue::parse_selector;

const THP_ENABLED_PATH: &str = "/sys/kernel/mm/transparent_hugepage/enabled";

#[derive(Debug)]
pub struct TransparentHugepages;

impl Tunable for TransparentHugepages {
    fn name(&self) -> &str {
        "mm.transparent_hugepage"
    }

    fn why(&self) -> &'static str {
        "`always` lets khugepaged compaction stall shard threads at random; `madvise` keeps huge pages opt-in"
    }

    fn assess(&self, host: &HostFs) -> Assessment {
        let path = Path::new(THP_ENABLED_PATH);
        let text = match host.read(path) {
            Ok(text) => text,
            Err(e) => return Assessment::not_tunable("madvise", refusal_reason(path, &e)),
        };
        match parse_selector(&text) {
            Some((selected, _)) => {
                let matches = selected == "madvise";
                let write = FileWrite {
                    path: path.to_path_buf(),
                    value: "madvise".to_string(),
                };
                Assessment::compare(selected, "madvise", matches, vec![write])
            }
            None => Assessment::not_tunable("madvise", format!("unexpected value {text:?}")),
        }
    }
}

//! The layer rule, checked on the source: imports between the top-level modules point one way
//! (see README.md, "Layers"). A module may use modules of a lower rank, and any leaf.

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};
    use std::path::Path;

    /// Higher ranks may import lower ranks. Leaves (rank 0) import only other leaves.
    const RANKS: [(&str, u32); 31] = [
        ("cli", 10),
        ("broker", 9),
        ("kafka", 8),
        ("txn", 7),
        ("replication", 6),
        ("security", 6),
        ("metadata", 5),
        ("producer_ids", 5),
        ("cluster", 4),
        ("group", 3),
        ("partition", 2),
        ("shard", 1),
        ("admin", 0),
        ("cluster_identity", 0),
        ("config", 0),
        ("data_dir_lock", 0),
        ("error_code", 0),
        ("fill_only_read", 0),
        ("iowq_workers", 0),
        ("layers", 0),
        ("limits", 0),
        ("logging", 0),
        ("malloc_tuning", 0),
        ("memlock", 0),
        ("metrics", 0),
        ("signals", 0),
        ("tls", 0),
        ("topics", 0),
        ("uring_probe", 0),
        ("util", 0),
        ("main", 11),
    ];

    fn rank(module: &str) -> u32 {
        RANKS
            .iter()
            .find(|(name, _)| *name == module)
            .map(|(_, rank)| *rank)
            .unwrap_or_else(|| panic!("module {module} has no rank in layers.rs"))
    }

    /// Every `crate::NAME` mentioned in the files of `module` (its file or folder).
    fn imports(src: &Path, module: &str) -> BTreeSet<String> {
        let mut files = Vec::new();
        let folder = src.join(module);
        if folder.is_dir() {
            let mut stack = vec![folder];
            while let Some(dir) = stack.pop() {
                for entry in std::fs::read_dir(&dir).expect("read src dir").flatten() {
                    let path = entry.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if path.extension().is_some_and(|e| e == "rs") {
                        files.push(path);
                    }
                }
            }
        } else {
            files.push(src.join(format!("{module}.rs")));
        }
        let mut found = BTreeSet::new();
        for file in files {
            let text = std::fs::read_to_string(&file).expect("read source file");
            // Comments may name any module; only code counts.
            let text: String = text
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for (at, _) in text.match_indices("crate::") {
                let rest = &text[at + "crate::".len()..];
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() && name != module {
                    found.insert(name);
                }
            }
            // `use crate::{a, b}` lists.
            for (at, _) in text.match_indices("crate::{") {
                let rest = &text[at + "crate::{".len()..];
                let list = &rest[..rest.find('}').unwrap_or(0)];
                for item in list.split(',') {
                    let name: String = item
                        .trim()
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        found.insert(name);
                    }
                }
            }
        }
        found
    }

    fn top_level_modules(src: &Path) -> Vec<String> {
        let mut modules = Vec::new();
        for entry in std::fs::read_dir(src).expect("read src").flatten() {
            let path = entry.path();
            let name = path
                .file_stem()
                .and_then(|s| s.to_str())
                .unwrap_or_default();
            if name == "lib" {
                continue;
            }
            if path.is_dir() || path.extension().is_some_and(|e| e == "rs") {
                modules.push(name.to_string());
            }
        }
        modules.sort();
        modules.dedup();
        modules
    }

    #[test]
    fn layers_point_one_way() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for module in top_level_modules(&src) {
            graph.insert(module.clone(), imports(&src, &module));
        }
        assert!(graph.contains_key("kafka") && graph.contains_key("shard"));
        let mut violations = Vec::new();
        for (module, used) in &graph {
            let from = rank(module);
            for target in used {
                let to = rank(target);
                let allowed = if from == 0 { to == 0 } else { to < from };
                if !allowed {
                    violations.push(format!(
                        "{module} (rank {from}) imports {target} (rank {to})"
                    ));
                }
            }
        }
        assert!(
            violations.is_empty(),
            "layer violations:\n{}",
            violations.join("\n")
        );
    }

    #[test]
    fn the_rule_catches_an_upward_import() {
        // The check itself must be able to fail: a subsystem importing kafka is refused.
        assert!(rank("partition") <= rank("kafka"));
        assert!(!(rank("kafka") < rank("partition")));
        assert!(rank("shard") < rank("partition"));
        assert!(rank("shard") < rank("group"));
        assert!(rank("shard") < rank("metadata"));
    }
}

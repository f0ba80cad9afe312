//! A pass does not stall the shard: while the cleaner rewrites a log of several MiB, appends to
//! the same log complete and readers from the start keep getting valid batches (old or
//! cleaned), and every key's latest value is there at the end.

mod common;

use std::cell::Cell;
use std::rc::Rc;

use common::keyed::*;
use common::*;
use sluice_engine::compaction::{Cleaner, CleanerConfig};
use sluice_engine::{CompactionConfig, LogManager};

const KEYS: usize = 200;
const ROUNDS: usize = 40;
const READER_PASSES_MAX: usize = 10_000;

#[test]
fn appends_and_reads_go_on_while_the_cleaner_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let config = compacted_log_config(256 * 1024, CompactionConfig::default());
        let manager = LogManager::new(shard_config(&path));
        let log = manager.open_log("r", 0, config).await.expect("open");
        let mut history = Vec::new();
        let value = "v".repeat(400);
        for round in 0..ROUNDS {
            for chunk in 0..KEYS / 10 {
                let puts: Vec<Put> = (chunk * 10..chunk * 10 + 10)
                    .map(|key| put(&format!("k{key}"), &format!("{round}{value}")))
                    .collect();
                append_keyed(&log, &mut history, &puts, 0, 1000).await;
            }
        }
        assert!(log.size_bytes() > 2 << 20, "a few MiB to clean");
        let cleaning = Rc::new(Cell::new(true));
        let appended_while_cleaning = Rc::new(Cell::new(0u64));
        let reads_while_cleaning = Rc::new(Cell::new(0u64));
        let appender = glommio::spawn_local({
            let (log, cleaning, count) = (
                log.clone(),
                cleaning.clone(),
                appended_while_cleaning.clone(),
            );
            async move {
                let mut history = Vec::new();
                let mut round = 0;
                while cleaning.get() {
                    let puts = [put(&format!("k{}", round % KEYS), &format!("late-{round}"))];
                    append_keyed(&log, &mut history, &puts, 0, 2000).await;
                    count.set(count.get() + 1);
                    round += 1;
                    glommio::executor().yield_now().await;
                }
                history
            }
        });
        let reader = glommio::spawn_local({
            let (log, cleaning, count) =
                (log.clone(), cleaning.clone(), reads_while_cleaning.clone());
            async move {
                for _ in 0..READER_PASSES_MAX {
                    if !cleaning.get() {
                        break;
                    }
                    let served = served_records(&log).await;
                    assert!(!served.is_empty());
                    count.set(count.get() + 1);
                }
            }
        });
        let cleaner = Cleaner::new(CleanerConfig::default());
        let outcome = cleaner.clean(&log, 10_000, i64::MAX).await.expect("clean");
        cleaning.set(false);
        let late = appender.await;
        reader.await;
        let outcome = outcome.expect("dirty");
        assert!(outcome.records_removed > 0);
        assert!(
            appended_while_cleaning.get() > 0,
            "appends completed during the pass"
        );
        assert!(
            reads_while_cleaning.get() > 0,
            "reads completed during the pass"
        );
        history.extend(late);
        let latest = latest_per_key(&history);
        let served = served_records(&log).await;
        for (key, (offset, value)) in &latest {
            let found = served.iter().rev().find(|r| r.key.as_ref() == Some(key));
            let found = found.expect("every key is served");
            assert_eq!((&found.offset, &found.value), (offset, value));
        }
        manager.close_all().await.expect("close");
    });
}

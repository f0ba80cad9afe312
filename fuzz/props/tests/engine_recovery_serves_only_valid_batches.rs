//! Stable-toolchain run of the `engine_recovery` fuzz target's property
//! (`sluice_fuzz_props::recovery_props`) over seeded partition layouts (valid batches, garbage,
//! torn and corrupted batches, gaps, overlaps, junk indexes, a recovery point over clean
//! segments), the committed regression inputs (`fuzz/regressions/engine_recovery/`) and the
//! first files of a local corpus. SLUICE_FUZZ_CASES scales the case count.
//!
//! The cargo-fuzz target runs the properties on `MemStorage`; this test keeps them honest on
//! real files (`GlommioStorage`, O_DIRECT) and also runs the power-loss variant on `MemStorage`.

mod common;

use std::path::Path;
use std::rc::Rc;

use sluice_engine::storage::{GlommioStorage, MemStorage, Storage};
use sluice_fuzz_props::{recovery_props, seeded};

// Each layout does real O_DIRECT opens and fsyncs: keep well inside the 90 s harness bound
// even on a loaded 2-core machine.
const CASES_DEFAULT: usize = 60;
/// A local cargo-fuzz corpus grows to thousands of files: replay only its first ones here.
const CORPUS_FILES_ON_DISK_MAX: usize = 100;
const CORPUS_FILES_IN_MEMORY_MAX: usize = 2_000;

fn cases() -> usize {
    seeded::cases_from_env()
        .map(|n| n / 100)
        .unwrap_or(CASES_DEFAULT)
        .max(10)
}

/// Layouts in the target's input language: flags, then (op, arg, value_len, value..., extra).
fn seeds() -> Vec<Vec<u8>> {
    vec![
        // Three valid batches, then a torn one.
        vec![
            0, 1, 2, 5, 1, 2, 3, 4, 5, 2, 0, 0, 3, 4, 3, 0, 0, 6, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8, 40,
        ],
        // Two segments (second after a gap), garbage in the second, junk index, recovery point.
        vec![
            1, 1, 0, 3, 9, 9, 9, 8, 2, 2, 1, 0, 4, 0, 0, 50, 7, 0, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8,
        ],
        // Overlapping segments and a flipped byte, leader-epoch and log-start junk.
        vec![
            6, 2, 4, 1, 7, 8, 3, 2, 0, 5, 0, 0, 70, 255, 1, 1, 0, 48, 48, 10, 49, 32, 48, 10,
        ],
    ]
}

/// The seeds, the committed regressions and (up to `corpus_files_max`) a local corpus, then
/// seeded mutations up to `count` layouts.
fn layouts(count: usize, corpus_files_max: usize) -> Vec<Vec<u8>> {
    let mut inputs = seeds();
    let (regressions, corpus): (Vec<_>, Vec<_>) =
        seeded::corpus(&seeded::repo_root(), "engine_recovery")
            .into_iter()
            .partition(|(path, _)| {
                path.components()
                    .any(|part| part.as_os_str() == "regressions")
            });
    inputs.extend(regressions.into_iter().map(|(_, data)| data));
    inputs.extend(
        corpus
            .into_iter()
            .take(corpus_files_max)
            .map(|(_, data)| data),
    );
    seeded::inputs(&inputs, count, 0x5eed_0e0c, 200)
}

fn kept_batches(outcome: recovery_props::Outcome) -> bool {
    matches!(outcome, recovery_props::Outcome::Recovered { log_end_offset } if log_end_offset > 0)
}

fn assert_not_vacuous(nonempty: usize, count: usize) {
    eprintln!("{count} layouts checked, {nonempty} recovered to a non-empty log");
    assert!(
        nonempty > count / 10,
        "too few layouts kept any batch: {nonempty} of {count}"
    );
}

#[test]
fn recovery_serves_only_valid_batches_on_seeded_layouts() {
    let inputs = layouts(cases(), CORPUS_FILES_ON_DISK_MAX);
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_path_buf();
    let count = inputs.len();
    let nonempty = common::run(move || async move {
        let storage: Rc<dyn Storage> = Rc::new(GlommioStorage);
        let mut nonempty = 0;
        for input in &inputs {
            let outcome = recovery_props::check(input, storage.clone(), &data_dir).await;
            nonempty += usize::from(kept_batches(outcome));
        }
        nonempty
    });
    assert_not_vacuous(nonempty, count);
}

#[test]
fn recovery_and_power_loss_on_seeded_layouts_in_memory() {
    // No I/O: ten times the layouts of the real-file test in a fraction of its time.
    let inputs = layouts(cases() * 10, CORPUS_FILES_IN_MEMORY_MAX);
    let count = inputs.len();
    let nonempty = common::run(move || async move {
        let data_dir = Path::new("/sluice-mem/data");
        let mut nonempty = 0;
        for input in &inputs {
            let mem = Rc::new(MemStorage::new());
            let outcome = recovery_props::check_with_crash(input, mem, data_dir).await;
            nonempty += usize::from(kept_batches(outcome));
        }
        nonempty
    });
    assert_not_vacuous(nonempty, count);
}

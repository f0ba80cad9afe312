//! Stable-toolchain fallback of the `engine_recovery` fuzz target: the same property function
//! (`fuzz/src/recovery_props.rs`, included) over seeded partition layouts (valid batches,
//! garbage, torn and corrupted batches, gaps, overlaps, junk indexes, a recovery point over
//! clean segments). SLUICE_FUZZ_CASES scales the case count.

mod common;

#[path = "../../fuzz/src/recovery_props.rs"]
mod recovery_props;
#[path = "../../fuzz/src/seeded.rs"]
mod seeded;

use std::path::Path;

// Each layout does real O_DIRECT opens and fsyncs: keep well inside the 90 s harness bound
// even on a loaded 2-core machine.
const CASES_DEFAULT: usize = 60;

fn cases() -> usize {
    std::env::var("SLUICE_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .map(|n: usize| n / 100)
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

#[test]
fn recovery_serves_only_valid_batches_on_seeded_layouts() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut inputs = seeds();
    inputs.extend(
        seeded::corpus(&repo, "engine_recovery")
            .into_iter()
            .map(|(_, data)| data),
    );
    let inputs = seeded::inputs(&inputs, cases(), 0x5eed_0e0c, 200);
    let dir = tempfile::tempdir().expect("tempdir");
    let data_dir = dir.path().to_path_buf();
    let count = inputs.len();
    let nonempty = common::run(move || async move {
        let mut nonempty = 0;
        for input in &inputs {
            let outcome = recovery_props::check(input, &data_dir).await;
            if matches!(outcome, recovery_props::Outcome::Recovered { log_end_offset } if log_end_offset > 0)
            {
                nonempty += 1;
            }
        }
        nonempty
    });
    eprintln!("{count} layouts checked, {nonempty} recovered to a non-empty log");
    assert!(
        nonempty > count / 10,
        "too few layouts kept any batch: {nonempty} of {count}"
    );
}

//! Stable-toolchain run of the `batch_validation` fuzz target's property
//! (`sluice_fuzz_props::batch_props`) driven by fixed seeds, mutations of valid batches and the
//! committed regression inputs (`fuzz/regressions/batch_validation/`). SLUICE_FUZZ_CASES scales
//! the case count.

use sluice_engine::batch;
use sluice_fuzz_props::{batch_props, seeded};

const CASES_DEFAULT: usize = 30_000;

fn cases() -> usize {
    seeded::cases_from_env().unwrap_or(CASES_DEFAULT)
}

/// Valid batches of a few shapes, each behind each mode byte.
fn seeds() -> Vec<Vec<u8>> {
    let mut seeds = Vec::new();
    for (records, value) in [(1, &b""[..]), (3, b"hello"), (7, &[0xab; 100][..])] {
        let built = batch::build_batch(42, 1_600_000_000_000, records, value);
        for mode in 0..3u8 {
            let mut input = vec![mode];
            if mode == 2 {
                input.extend_from_slice(&[records as u8, 9, 0, 30, 1, 2, 3, 4]);
                input.extend_from_slice(value);
            } else {
                input.extend_from_slice(&built);
            }
            seeds.push(input);
        }
    }
    seeds
}

#[test]
fn validation_never_accepts_a_wrong_crc_on_seeded_inputs() {
    let mut inputs = seeds();
    inputs.extend(
        seeded::corpus(&seeded::repo_root(), "batch_validation")
            .into_iter()
            .map(|(_, data)| data),
    );
    let inputs = seeded::inputs(&inputs, cases(), 0x5eed_ba7c, 400);
    let mut accepted = 0;
    for input in &inputs {
        batch_props::check(input);
        if let Some((&mode, rest)) = input.split_first() {
            if mode % 3 != 2 && batch::validate(rest, batch::CountRule::Compacted).is_ok() {
                accepted += 1;
            }
        }
    }
    // The mutations must reach the accepting branch too, or the property is vacuous.
    assert!(accepted > 0, "no seeded input was a valid batch");
    eprintln!(
        "{} inputs, {accepted} valid batches among the raw ones",
        inputs.len()
    );
}

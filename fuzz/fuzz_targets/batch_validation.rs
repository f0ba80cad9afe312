//! RecordBatch v2 validation: raw bytes under both count rules, and mutated valid batches.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sluice_fuzz_props::batch_props::check(data));

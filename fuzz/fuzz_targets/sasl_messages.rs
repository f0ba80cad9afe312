//! SASL/PLAIN and SCRAM client messages, whole SCRAM exchanges and certificate subjects.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sluice_fuzz_props::sasl_props::check(data));

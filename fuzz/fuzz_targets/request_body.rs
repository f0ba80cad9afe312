//! Every request body the broker decodes: byte 0 = API key, byte 1 = version, rest = body.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    sluice_fuzz_props::request_props::check(data);
});

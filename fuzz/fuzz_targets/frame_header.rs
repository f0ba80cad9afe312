//! Frames and request headers from an arbitrary client byte stream, then each body.
#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| sluice_fuzz_props::frame_props::check(data));

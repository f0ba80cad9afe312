//! # sluice-fuzz
//!
//! Property functions behind the cargo-fuzz targets in `fuzz_targets/`. Each `*_props.rs` file
//! is self-contained so the stable-toolchain fallback tests in the main workspace
//! (`engine/tests/fuzz_*.rs`, `server/tests/reliability_fuzz_smoke.rs`) include the very same
//! file with `#[path]` and drive it with seeded inputs: one property, two drivers.
//!
//! - [`frame_props`]: the broker's own framing code (`server/src/kafka/frame.rs`, included
//!   verbatim) and the request-header steps of `server/src/kafka/dispatch.rs`.
//! - [`request_props`]: every request body the broker decodes, decode → encode → decode.
//! - [`batch_props`]: RecordBatch v2 validation (`sluice_engine::batch`).
//! - [`recovery_props`]: `PartitionLog` recovery from arbitrary segment, index and checkpoint
//!   bytes.
//! - [`seeded`]: the deterministic input generator of the fallback tests.

/// The server's named limits, included so `frame.rs` compiles here unchanged.
#[path = "../../server/src/limits.rs"]
#[allow(dead_code)]
pub mod limits;

pub mod batch_props;
pub mod frame_props;
pub mod recovery_props;
pub mod request_props;
pub mod seeded;

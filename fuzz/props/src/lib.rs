//! # sluice-fuzz-props
//!
//! The properties Sluice is fuzzed against, as plain functions over bytes. Two drivers run the
//! very same functions:
//!
//! - the cargo-fuzz targets in `fuzz/fuzz_targets/` (package `sluice-fuzz`, a workspace of its
//!   own so the main build never compiles libFuzzer), which depend on this package by path;
//! - this package's own tests (`fuzz/props/tests/`, members of the main workspace, so
//!   `cargo nextest run --workspace` runs them on the stable toolchain), which feed the
//!   functions fixed seeds, seeded mutations and the committed `fuzz/regressions/<target>/`
//!   inputs.
//!
//! The broker's code is used as a library (`sluice_server`, `sluice_engine`), never copied or
//! included by path:
//!
//! - [`frame_props`]: the broker's framing (`sluice_server::kafka::frame::FrameReader`) and the
//!   request-header steps of `sluice_server::kafka::dispatch::handle`.
//! - [`request_props`]: every request body the broker decodes, decode → encode → decode. The
//!   API list is the broker's own table, `sluice_server::kafka::handlers::APIS`.
//! - [`batch_props`]: RecordBatch v2 validation (`sluice_engine::batch`).
//! - [`recovery_props`]: `PartitionLog` recovery from arbitrary segment, index and checkpoint
//!   bytes.
//! - [`sasl_props`]: SASL/PLAIN and SCRAM messages, SCRAM server exchanges and certificate
//!   subjects (`sluice_security`).
//! - [`seeded`]: the deterministic input generator of the stable-toolchain tests.

pub mod batch_props;
pub mod frame_props;
pub mod recovery_props;
pub mod request_props;
pub mod sasl_props;
pub mod seeded;

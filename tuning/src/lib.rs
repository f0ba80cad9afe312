//! Host tuning for bare-metal Sluice hosts, in the spirit of `rpk redpanda tune` / `rpk iotune`.
//!
//! Owns:
//! - the tunables (`tunables/`): kernel, block-queue, CPU, IRQ and rlimit settings, each able
//!   to read itself, say what it should be, and list the file writes that fix it;
//! - `check` / `apply` (`apply.rs`), which never stop at a tunable the host refuses;
//! - `iotune` (`iotune/`), which measures the data disk and writes `iotune.toml`, read by the
//!   broker at start through [`IoProperties::load`];
//! - the CLI entry points the `sluice` binary embeds (`cli.rs`).
//!
//! Must never: touch the broker's data files, or change a host setting outside `apply`.
//! All host access goes through [`HostFs`], rooted at `/` or at a fake tree in tests.

pub mod apply;
pub mod block_device;
pub mod cli;
pub mod cpu_set;
pub mod host;
pub mod iotune;
pub mod report;
pub mod tunable;
pub mod tunables;

pub use host::HostFs;
pub use iotune::{IoProperties, IoPropertiesError, IOTUNE_FILE_NAME};
pub use tunable::{Assessment, Status, Tunable, TuneContext};

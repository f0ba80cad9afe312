//! Entry points for the `sluice` binary: `sluice tune check|apply` and `sluice iotune`.
//! The binary embeds [`TuneArgs`] / [`IotuneArgs`] as subcommands and calls
//! [`run_tune`] / [`run_iotune`].

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::apply::{apply, check, Outcome};
use crate::cpu_set::CpuSet;
use crate::host::HostFs;
use crate::iotune::{self, IotuneConfig, IOTUNE_FILE_NAME};
use crate::report::{render_apply, render_check};
use crate::tunable::TuneContext;
use crate::tunables;

/// Check or apply host tuning for a Sluice broker.
#[derive(Debug, Args)]
pub struct TuneArgs {
    #[command(subcommand)]
    pub action: TuneAction,
}

#[derive(Debug, Subcommand)]
pub enum TuneAction {
    /// Print every tunable: current value, recommended value, status. Read-only, no root needed.
    Check(TuneOptions),
    /// Apply the recommendations (needs root) and print what changed.
    Apply(ApplyOptions),
}

#[derive(Debug, Args)]
pub struct TuneOptions {
    /// Also print, for every tunable, why it matters for a thread-per-core broker.
    #[arg(long)]
    pub explain: bool,
    /// The broker's data directory; its disk gets the block-queue settings.
    #[arg(long, default_value = "/var/lib/sluice")]
    pub data_dir: PathBuf,
    /// CPUs reserved for NIC and disk IRQs, e.g. `0` or `0-1`. Run shards on the others.
    /// Default: cpu 0 on hosts with 4 or more CPUs; none on smaller hosts.
    #[arg(long)]
    pub irq_cpus: Option<String>,
    /// Treat this directory as `/` (for testing against a fake /proc and /sys tree).
    #[arg(long, default_value = "/", hide = true)]
    pub host_root: PathBuf,
}

#[derive(Debug, Args)]
pub struct ApplyOptions {
    #[command(flatten)]
    pub options: TuneOptions,
    /// Show what would be written without changing anything.
    #[arg(long)]
    pub dry_run: bool,
}

/// Measure the data disk and write iotune.toml for the broker.
#[derive(Debug, Args)]
pub struct IotuneArgs {
    /// Directory on the data disk to measure (the broker's data dir).
    #[arg(long)]
    pub dir: PathBuf,
    /// Time budget for the measurements, excluding one prefill of the scratch file.
    #[arg(long, default_value_t = 3000)]
    pub duration_ms: u64,
    /// Scratch file size in MiB (reads and writes wrap around in it).
    #[arg(long, default_value_t = 128)]
    pub file_mib: u64,
    /// Where to write the results; default `<DIR>/iotune.toml`.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

fn context(options: &TuneOptions) -> Result<(TuneContext, HostFs), String> {
    let irq_cpus = match &options.irq_cpus {
        Some(text) => Some(CpuSet::parse_list(text).map_err(|e| e.to_string())?),
        None => None,
    };
    let context = TuneContext {
        data_dir: options.data_dir.clone(),
        irq_cpus,
    };
    Ok((context, HostFs::with_root(&options.host_root)))
}

/// Runs `sluice tune ...`. Exit 0 unless the arguments are bad or `apply` runs without root;
/// tunables the host refuses are reported, never fatal.
pub fn run_tune(args: TuneArgs) -> ExitCode {
    let (options, dry_run, applying) = match &args.action {
        TuneAction::Check(options) => (options, true, false),
        TuneAction::Apply(apply_options) => (&apply_options.options, apply_options.dry_run, true),
    };
    let (context, host) = match context(options) {
        Ok(pair) => pair,
        Err(message) => {
            eprintln!("sluice tune: {message}");
            return ExitCode::from(2);
        }
    };
    let list = tunables::all(&context);
    if !applying {
        let rows = check(&list, &host);
        print!("{}", render_check(&rows));
        if options.explain {
            println!();
            for row in &rows {
                println!("{}: {}", row.name, row.why);
            }
        }
        return ExitCode::SUCCESS;
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if !dry_run && host.is_real() && euid != 0 {
        eprintln!(
            "sluice tune apply: needs root (run `sluice tune apply --dry-run` to see the plan)"
        );
        return ExitCode::FAILURE;
    }
    let rows = apply(&list, &host, dry_run);
    print!("{}", render_apply(&rows));
    let changed = rows
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Changed { .. }))
        .count();
    if !dry_run {
        println!("{changed} tunable(s) changed; kernel settings do not survive a reboot: run this at every boot (see sluice.service)");
    }
    ExitCode::SUCCESS
}

/// Runs `sluice iotune --dir DIR`: measures, prints a summary, writes the results file.
pub fn run_iotune(args: IotuneArgs) -> ExitCode {
    let mut config = IotuneConfig::new(&args.dir, Duration::from_millis(args.duration_ms));
    config.file_bytes = args.file_mib.max(1) * 1024 * 1024;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| args.dir.join(IOTUNE_FILE_NAME));
    warn_if_not_a_disk(&args.dir);
    let properties = match iotune::run(&config) {
        Ok(properties) => properties,
        Err(e) => {
            eprintln!("sluice iotune: {e}");
            return ExitCode::FAILURE;
        }
    };
    print!("{}", iotune::render(&properties));
    if let Err(e) = properties.save(&out) {
        eprintln!("sluice iotune: {e}");
        return ExitCode::FAILURE;
    }
    println!("wrote {}", out.display());
    ExitCode::SUCCESS
}

/// tmpfs and friends accept O_DIRECT on recent kernels but measure memory, not a disk.
fn warn_if_not_a_disk(dir: &std::path::Path) {
    if let Ok(mount) = crate::block_device::mount_of(&HostFs::real(), dir) {
        if mount.major == 0 {
            eprintln!(
                "sluice iotune: warning: {} is on {} (no block device); results describe memory, not a disk",
                dir.display(),
                mount.fs_type
            );
        }
    }
}

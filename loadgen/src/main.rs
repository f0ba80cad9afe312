//! sluice-loadgen: a Kafka-protocol load generator and queue-invariant checker.
//!
//! It speaks Kafka through `sluice-kafka-client` (loadgen/client/); it owns the produce and consume engines
//! (`produce`, `consume`), the `--verify` checker (`verify`), and the reports (`report`).
//! It talks to any Kafka-compatible broker and never assumes it is Sluice.

mod cli;
mod client_options;
mod clock;
mod consume;
mod cpu;
mod disk_baseline;
mod error;
mod message;
mod murmur2;
mod net_baseline;
mod produce;
mod progress;
mod report;
mod results;
mod run;
mod stats;
mod verify;

use std::fs;
use std::process::ExitCode;

use clap::Parser;

use cli::{acks_name, Cli, Command, RunArgs, VerifyArgs};
use error::{io_context, Error, Result};
use results::{CellResult, Machine, RunReport};
use run::{CellRunner, Mode};

const EXIT_VERIFY_FAILED: u8 = 1;
const EXIT_ERROR: u8 = 2;

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Produce(a) => run_cells(a, Mode::Produce, "produce", false),
        Command::Consume(a) => run_cells(a, Mode::Consume, "consume", false),
        Command::E2e(a) => run_cells(a, Mode::E2e, "e2e", false),
        Command::Sweep(a) => run_cells(a, Mode::Produce, "sweep", true),
        Command::Verify(v) => verify_command(v),
    };
    match outcome {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}

fn run_cells(args: RunArgs, mode: Mode, mode_name: &str, sweep: bool) -> Result<ExitCode> {
    args.validate()?;
    let cells = args.cells(sweep)?;
    let connect = client_options::connect_options(&args.security)?;
    let started_unix_s = clock::unix_s();
    let disk_baseline = match &args.baseline_disk {
        Some(dir) => {
            eprintln!(
                "measuring the disk baseline in {} for {:.1} s…",
                dir.display(),
                args.baseline_disk_s
            );
            let b = disk_baseline::measure(dir, args.baseline_disk_s)?;
            eprintln!("disk baseline: {:.1} MB/s ({})", b.mb_per_s, b.method);
            eprintln!(
                "disk read baseline: {:.1} MB/s ({})",
                b.read_mb_per_s, b.read_method
            );
            Some(b)
        }
        None => None,
    };
    let net_baseline = if args.baseline_net {
        eprintln!(
            "measuring the loopback TCP baseline for {:.1} s…",
            args.baseline_net_s
        );
        let b = net_baseline::measure(args.baseline_net_s)?;
        eprintln!("net baseline: {:.1} MB/s ({})", b.mb_per_s, b.method);
        Some(b)
    } else {
        None
    };
    let limit_mb_per_s = [
        disk_baseline.as_ref().map(|b| b.mb_per_s_for(mode)),
        net_baseline.as_ref().map(|b| b.mb_per_s),
    ]
    .into_iter()
    .flatten()
    .reduce(f64::min);
    let runner = CellRunner {
        args: &args,
        mode,
        run_id: format!("{started_unix_s:x}"),
        many_cells: cells.len() > 1,
        connect,
    };
    let mut results = Vec::new();
    let mut failed_cells = 0;
    for (i, cell) in cells.iter().enumerate() {
        let label = format!(
            "[{}/{}] acks={} p={} m={}",
            i + 1,
            cells.len(),
            acks_name(cell.acks),
            cell.partitions,
            cell.message_bytes
        );
        let mut result = match runner.run_cell(cell, &label) {
            Ok(r) => r,
            Err(e) => {
                eprintln!("{label}: {e}");
                failed_cells += 1;
                failed_cell(mode, cell, e)
            }
        };
        if let Some(t) = result.headline() {
            let mb_per_s = t.mb_per_s;
            result.disk_ratio = disk_baseline
                .as_ref()
                .map(|b| mb_per_s / b.mb_per_s_for(mode));
            result.net_ratio = net_baseline.as_ref().map(|b| mb_per_s / b.mb_per_s);
            result.limit_ratio = limit_mb_per_s.map(|limit| mb_per_s / limit);
        }
        results.push(result);
    }
    let verify_ok = args.verify.then(|| {
        results
            .iter()
            .all(|c| c.verify.as_ref().is_none_or(|v| v.ok()))
    });
    let report = RunReport {
        tool: "sluice-loadgen".into(),
        version: env!("CARGO_PKG_VERSION").into(),
        mode: mode_name.into(),
        label: args.label.clone(),
        started_unix_s,
        command_line: client_options::redacted_command_line(std::env::args()),
        machine: Machine::describe(),
        config: args.clone(),
        disk_baseline,
        net_baseline,
        cells: results,
        verify_ok,
    };
    print!("{}", report::table::render(&report));
    write_outputs(&report, &args)?;
    if failed_cells > 0 {
        return Ok(ExitCode::from(EXIT_ERROR));
    }
    if verify_ok == Some(false) {
        eprintln!("verify: FAIL");
        return Ok(ExitCode::from(EXIT_VERIFY_FAILED));
    }
    if verify_ok == Some(true) {
        eprintln!("verify: PASS");
    }
    Ok(ExitCode::SUCCESS)
}

fn failed_cell(mode: Mode, cell: &cli::CellParams, e: Error) -> CellResult {
    CellResult {
        mode: mode.name().into(),
        topic: String::new(),
        acks: acks_name(cell.acks).into(),
        partitions: cell.partitions,
        message_bytes: cell.message_bytes,
        rate: None,
        produce: None,
        produce_counts: None,
        produce_latency: None,
        consume: None,
        e2e_latency: None,
        disk_ratio: None,
        net_ratio: None,
        limit_ratio: None,
        verify: None,
        client_cpu: None,
        transactions: None,
        error: Some(e.to_string()),
    }
}

fn write_outputs(report: &RunReport, args: &RunArgs) -> Result<()> {
    let json = serde_json::to_string_pretty(report)?;
    if let Some(path) = &args.json {
        fs::write(path, &json).map_err(io_context(format!("writing {}", path.display())))?;
    }
    if let Some(dir) = &args.out_dir {
        fs::create_dir_all(dir).map_err(io_context(format!("creating {}", dir.display())))?;
        fs::write(dir.join("results.json"), &json).map_err(io_context("writing results.json"))?;
        let plots = report::plots::write_all(report, dir)?;
        let md = report::markdown::render(report, &plots);
        fs::write(dir.join("report.md"), md).map_err(io_context("writing report.md"))?;
        eprintln!("report: {}", dir.join("report.md").display());
    }
    Ok(())
}

fn verify_command(args: VerifyArgs) -> Result<ExitCode> {
    let mut acked = Vec::new();
    for path in &args.history {
        let (topic, batches) = verify::history::read(path)?;
        if topic != args.topic {
            return Err(Error::Config(format!(
                "{} records topic {topic}, not {}",
                path.display(),
                args.topic
            )));
        }
        acked.extend(batches);
    }
    // Histories of transactional runs are checked as a read_committed consumer sees the topic.
    let read_committed = acked
        .iter()
        .any(|b| b.txn != verify::checker::TxnMark::None);
    let connect = client_options::connect_options(&args.security)?;
    let reads = verify::collect::read_back(
        &args.bootstrap,
        &connect,
        &args.topic,
        args.consumers,
        read_committed,
    )?;
    let verdict = verify::checker::check(&acked, &reads);
    println!("verify {}: {}", args.topic, verdict.summary_line());
    for e in &verdict.examples {
        println!("  {e}");
    }
    if let Some(path) = &args.json {
        fs::write(path, serde_json::to_string_pretty(&verdict)?)
            .map_err(io_context(format!("writing {}", path.display())))?;
    }
    Ok(if verdict.ok() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(EXIT_VERIFY_FAILED)
    })
}

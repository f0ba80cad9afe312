//! `tune check` on the machine running the tests: a row for every tunable, never a failure,
//! whatever the VM or container locks.

mod common;

use std::process::ExitCode;
use std::time::Duration;

use sluice_tuning::apply::check;
use sluice_tuning::cli::{run_tune, TuneAction, TuneArgs, TuneOptions};
use sluice_tuning::report::render_check;
use sluice_tuning::{tunables, HostFs, TuneContext};

const TEST_TIMEOUT: Duration = Duration::from_secs(30);

#[test]
fn check_prints_a_row_for_every_tunable() {
    common::with_timeout(TEST_TIMEOUT, || {
        let context = TuneContext {
            data_dir: std::env::temp_dir().join("sluice-data"),
            irq_cpus: None,
        };
        let list = tunables::all(&context);
        let rows = check(&list, &HostFs::real());
        let table = render_check(&rows);
        println!("{table}");
        assert_eq!(rows.len(), list.len());
        for name in [
            "fs.aio-max-nr",
            "vm.swappiness",
            "vm.dirty_background_ratio",
            "vm.dirty_ratio",
            "net.core.somaxconn",
            "net.core.rmem_max",
            "net.core.wmem_max",
            "net.ipv4.tcp_rmem",
            "net.ipv4.tcp_wmem",
            "block.scheduler",
            "block.nomerges",
            "mm.transparent_hugepage",
            "cpu.governor",
            "irq.affinity",
            "rlimit.memlock",
            "rlimit.nofile",
        ] {
            let line = table.lines().find(|l| l.starts_with(name));
            let line = line.unwrap_or_else(|| panic!("no row for {name} in\n{table}"));
            assert!(
                line.contains(" ok")
                    || line.contains("differs")
                    || line.contains("not tunable here: "),
                "row without a status: {line}"
            );
        }
    });
}

#[test]
fn check_subcommand_exits_zero() {
    common::with_timeout(TEST_TIMEOUT, || {
        let args = TuneArgs {
            action: TuneAction::Check(TuneOptions {
                explain: true,
                data_dir: std::env::temp_dir(),
                irq_cpus: None,
                host_root: "/".into(),
            }),
        };
        assert_eq!(run_tune(args), ExitCode::SUCCESS);
    });
}

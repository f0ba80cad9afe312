//! Engine recovery from arbitrary segment, index and checkpoint bytes.
//!
//! One glommio executor per fuzz process (io_memory kept small: memlock), one scratch data
//! dir, rebuilt for every input. SLUICE_FUZZ_DIR chooses where (default: a temp dir).
#![no_main]

use std::path::PathBuf;

use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};

struct Scratch {
    executor: LocalExecutor,
    data_dir: PathBuf,
}

thread_local! {
    static SCRATCH: Scratch = {
        let base = std::env::var_os("SLUICE_FUZZ_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir);
        let data_dir = base.join(format!("sluice-fuzz-recovery-{}", std::process::id()));
        if let Err(err) = std::fs::create_dir_all(&data_dir) {
            panic!("cannot create {}: {err}", data_dir.display());
        }
        let executor = match LocalExecutorBuilder::new(Placement::Unbound)
            .io_memory(1 << 20)
            .make()
        {
            Ok(executor) => executor,
            Err(err) => panic!("cannot start a glommio executor: {err}"),
        };
        Scratch { executor, data_dir }
    };
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    SCRATCH.with(|scratch| {
        scratch
            .executor
            .run(sluice_fuzz::recovery_props::check(data, &scratch.data_dir));
    })
});

//! Engine recovery from arbitrary segment, index and checkpoint bytes, then a power loss.
//!
//! One glommio executor per fuzz process (io_memory kept small: memlock). Every input gets a
//! fresh `MemStorage` (in-memory files, honest fdatasync/dir-sync durability), so nothing here
//! touches the disk; `fuzz/props/tests/engine_recovery_serves_only_valid_batches.rs` runs the
//! same properties on real files.
#![no_main]

use std::path::Path;
use std::rc::Rc;

use glommio::{LocalExecutor, LocalExecutorBuilder, Placement};
use sluice_engine::storage::MemStorage;

thread_local! {
    static EXECUTOR: LocalExecutor = match LocalExecutorBuilder::new(Placement::Unbound)
        .io_memory(1 << 20)
        .make()
    {
        Ok(executor) => executor,
        Err(err) => panic!("cannot start a glommio executor: {err}"),
    };
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    EXECUTOR.with(|executor| {
        executor.run(async {
            let mem = Rc::new(MemStorage::new());
            let data_dir = Path::new("/sluice-fuzz/data");
            sluice_fuzz_props::recovery_props::check_with_crash(data, mem, data_dir).await
        });
    })
});

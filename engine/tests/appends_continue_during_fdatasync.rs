//! A flush holds the partition's write lock only while it writes its buffers, not through the
//! fdatasync: appends go on while the device syncs. Checked with a storage whose fdatasyncs
//! wait at a gate the test opens: an append completes while a sync is held at the gate, the
//! flush that started first then reports only what it covered, a second flush covers the rest,
//! flushes queued behind a running one coalesce, and a truncation during a sync is never
//! reported durable past the truncated end.

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use common::gated_storage::{gated_manager, SyncGate};
use common::*;

/// How long a step that must not wait on the gate may take before the test fails (a deadlock
/// bound, not a performance figure).
const STEP_BOUND: Duration = Duration::from_secs(20);

async fn bounded<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match glommio::timer::timeout(STEP_BOUND, async { Ok(future.await) }).await {
        Ok(value) => value,
        Err(_) => panic!("{what} did not finish within {STEP_BOUND:?} (waiting on the sync gate?)"),
    }
}

/// Lets the other tasks run until `condition` holds (checked every millisecond).
async fn until(what: &str, condition: impl Fn() -> bool) {
    bounded(what, async {
        while !condition() {
            glommio::timer::sleep(Duration::from_millis(1)).await;
        }
    })
    .await;
}

/// Until `count` fdatasyncs are held at the gate.
async fn until_held(gate: &SyncGate, count: usize) {
    until("reaching the sync gate", || gate.held.get() >= count).await;
}

#[test]
fn appends_complete_while_a_flush_waits_for_its_fdatasync() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().to_path_buf();
    run(move || async move {
        let (manager, gate) = gated_manager(&path);
        let log = manager
            .open_log("gated", 0, log_config(1 << 20))
            .await
            .expect("open");
        let first = log
            .append(&[batch_of(3, 200, 0, 0)], 0)
            .await
            .expect("first append");
        let syncs_before = gate.syncs.get();
        gate.hold_next();
        let flushing = {
            let log = log.clone();
            glommio::spawn_local(async move { log.flush().await })
        };
        until_held(&gate, 1).await;

        // The sync is held: an append must still go through.
        let second = bounded("an append during a held fdatasync", async {
            log.append(&[batch_of(4, 200, 1, 0)], 0).await
        })
        .await
        .expect("second append");
        assert!(
            log.flushed_offset() <= first.base_offset,
            "nothing durable yet"
        );

        // Two more flushers queue behind the running one; they need one more sync between them.
        // Each counts itself in the poll that starts its flush, so once both are counted both
        // flushes have run up to their first wait (the running flush's turn, if correct).
        let started = Rc::new(Cell::new(0));
        let queued: Vec<_> = (0..2)
            .map(|_| {
                let log = log.clone();
                let started = started.clone();
                glommio::spawn_local(async move {
                    started.set(started.get() + 1);
                    log.flush().await
                })
            })
            .collect();
        until("the queued flushers to start", || started.get() == 2).await;
        // Flushers that did not wait would each sync on their own: the coalescing count after
        // the release below catches them whatever the timing.
        assert_eq!(
            gate.syncs.get(),
            syncs_before,
            "queued flushers wait for the running one"
        );

        gate.release();
        let durable = bounded("the first flush", flushing).await.expect("flush 1");
        assert_eq!(
            durable,
            first.last_offset + 1,
            "a flush reports only what it wrote"
        );
        for task in queued {
            let durable = bounded("a queued flush", task).await.expect("queued flush");
            assert_eq!(durable, second.last_offset + 1);
        }
        assert_eq!(
            gate.syncs.get() - syncs_before,
            2,
            "queued flushers coalesce"
        );
        assert_eq!(log.flushed_offset(), log.log_end_offset());

        // A truncation while a sync is held: that sync must not report the old end durable.
        log.append(&[batch_of(5, 200, 2, 0)], 0)
            .await
            .expect("third append");
        gate.hold_next();
        let flushing = {
            let log = log.clone();
            glommio::spawn_local(async move { log.flush().await })
        };
        until_held(&gate, 1).await;
        bounded(
            "truncation during a held fdatasync",
            log.truncate_to(second.base_offset),
        )
        .await
        .expect("truncate");
        assert_eq!(log.log_end_offset(), second.base_offset);
        assert_eq!(log.flushed_offset(), second.base_offset);
        log.append(&[batch_of(9, 200, 3, 0)], 0)
            .await
            .expect("append after truncation");
        gate.release();
        let reported = bounded("the flush across a truncation", flushing)
            .await
            .expect("flush across truncation");
        assert_eq!(
            reported, second.base_offset,
            "a sync across a truncation must not report offsets appended after it durable"
        );
        let durable = log.flush().await.expect("flush after truncation");
        assert_eq!(durable, log.log_end_offset());
        manager.close_all().await.expect("close");
    });
}

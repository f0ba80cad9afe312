//! Disk full (issue 7): the broker's data dir on a small ext4 filesystem the test creates
//! (a 64 MiB image, `mkfs.ext4`, `mount -o loop`; unmounted by a Drop guard).
//!
//! 1. A "keep" topic gets acknowledged (acks=all) records.
//! 2. A "fill" topic is produced to until the device is full: the client must get
//!    KAFKA_STORAGE_ERROR (56) or another error code, never a success that was not stored, and
//!    the broker stays up and keeps serving reads and metadata.
//! 3. Deleting "fill" frees the space: produce to "keep" works again.
//! 4. SIGKILL and restart: every record acknowledged to "keep" is there, byte-exact.
//!
//! Skips (printing why) when loop mounts are not permitted; under CI=true as root it must run.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use bytes::Bytes;
use common::broker::{Broker, BrokerOptions};
use common::clients::under_ci;
use common::kafka::error_code::ResponseError;
use common::kafka::{self, error_code};
use common::records::{self, TestRecord};
use common::wait::wait_until;
use kafka_protocol::messages::DeleteTopicsRequest;

const IMAGE_BYTES: u64 = 64 * 1024 * 1024;
const KAFKA_STORAGE_ERROR: i16 = ResponseError::KafkaStorageError.code();
/// Each "fill" request carries one batch of this many 16 KiB records.
const FILL_RECORDS_PER_BATCH: usize = 8;
const FILL_VALUE_BYTES: usize = 16 * 1024;
/// More than the image can hold: the loop must hit "full" before this.
const FILL_BATCHES_MAX: usize = 2_000;
const FREE_RETRY_TIMEOUT: Duration = Duration::from_secs(60);

/// A loop-mounted ext4 image; unmounted and removed on drop.
struct LoopMount {
    dir: Option<tempfile::TempDir>,
    mount_point: PathBuf,
    mounted: bool,
}

impl LoopMount {
    fn create(size_bytes: u64) -> Result<LoopMount, String> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Err("not root".into());
        }
        let dir = tempfile::Builder::new()
            .prefix("sluice-diskfull-")
            .tempdir()
            .map_err(|e| format!("temp dir: {e}"))?;
        let image = dir.path().join("fs.img");
        let mount_point = dir.path().join("mnt");
        std::fs::create_dir(&mount_point).map_err(|e| format!("mkdir: {e}"))?;
        std::fs::File::create(&image)
            .and_then(|f| f.set_len(size_bytes))
            .map_err(|e| format!("image: {e}"))?;
        let mut mount = LoopMount {
            dir: Some(dir),
            mount_point,
            mounted: false,
        };
        run("mkfs.ext4", &["-q", "-F", image.to_str().ok_or("path")?])?;
        run(
            "mount",
            &[
                "-o",
                "loop",
                image.to_str().ok_or("path")?,
                mount.mount_point.to_str().ok_or("path")?,
            ],
        )?;
        mount.mounted = true;
        Ok(mount)
    }

    fn path(&self) -> &Path {
        &self.mount_point
    }
}

impl Drop for LoopMount {
    fn drop(&mut self) {
        if self.mounted {
            let target = self.mount_point.to_string_lossy().into_owned();
            if run("umount", &[&target]).is_err() {
                // Something still holds it (a broker being reaped): detach lazily.
                if let Err(e) = run("umount", &["-l", &target]) {
                    eprintln!("could not unmount {target}: {e}");
                }
            }
        }
        drop(self.dir.take());
    }
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let output = Command::new(program)
        .args(args)
        .output()
        .map_err(|e| format!("{program}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{program} {args:?}: {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    }
}

fn keep_record(i: usize) -> TestRecord {
    records::numbered_record("keep", i, records::now_ms())
}

fn fill_batch(i: usize) -> Bytes {
    let batch: Vec<TestRecord> = (0..FILL_RECORDS_PER_BATCH)
        .map(|r| TestRecord {
            key: Bytes::from(format!("fill-{i}-{r}")),
            value: Bytes::from(vec![(i + r) as u8; FILL_VALUE_BYTES]),
            timestamp_ms: records::now_ms(),
        })
        .collect();
    records::encode_batch(&batch)
}

fn read_all_values(broker: &Broker, topic: &str) -> Vec<Bytes> {
    let mut conn = broker.connect();
    let mut values = Vec::new();
    let mut offset = 0;
    loop {
        let end = kafka::list_offset(&mut conn, topic, 0, kafka::LATEST_TIMESTAMP).offset;
        if offset >= end {
            return values;
        }
        let data = kafka::fetch(&mut conn, topic, 0, offset, 1 << 20);
        assert_eq!(
            data.error_code,
            error_code::NONE,
            "fetch {topic} at {offset}"
        );
        let fetched = records::decode_records(&data.records.unwrap_or_default());
        assert!(!fetched.is_empty(), "no records at {offset} below {end}");
        for record in fetched {
            if record.offset >= offset {
                values.push(record.value.unwrap_or_default());
                offset = record.offset + 1;
            }
        }
    }
}

#[test]
fn full_disk_gets_storage_errors_then_recovers_without_losing_acked_data() {
    let mount = match LoopMount::create(IMAGE_BYTES) {
        Ok(mount) => mount,
        Err(why) => {
            let root = unsafe { libc::geteuid() } == 0;
            assert!(
                !(under_ci() && root),
                "CI as root must be able to loop-mount: {why}"
            );
            eprintln!("SKIPPED: cannot create a small loop-mounted filesystem ({why})");
            return;
        }
    };
    let mut broker = Broker::start(BrokerOptions::default().data_dir_in(mount.path()));
    let mut conn = broker.connect();
    kafka::create_topic(&mut conn, "keep", 1);
    kafka::create_topic_with_configs(&mut conn, "fill", 1, &[("segment.bytes", "1048576")]);

    let mut acked: Vec<Bytes> = Vec::new();
    let produce_keep = |conn: &mut common::wire::KafkaConnection, acked: &mut Vec<Bytes>| {
        let record = keep_record(acked.len());
        let response = kafka::produce(
            conn,
            "keep",
            0,
            records::encode_batch(std::slice::from_ref(&record)),
            -1,
        );
        if response.error_code == error_code::NONE {
            assert_eq!(response.base_offset, acked.len() as i64, "keep offsets");
            acked.push(record.value);
        }
        response.error_code
    };
    for _ in 0..20 {
        assert_eq!(
            produce_keep(&mut conn, &mut acked),
            error_code::NONE,
            "keep before full"
        );
    }

    // Fill the device.
    let mut fill_acked = 0usize;
    let mut full_error = None;
    for i in 0..FILL_BATCHES_MAX {
        let response = kafka::produce(&mut conn, "fill", 0, fill_batch(i), -1);
        if response.error_code != error_code::NONE {
            full_error = Some((response.error_code, response.error_message));
            break;
        }
        fill_acked += 1;
    }
    let (code, message) = full_error.expect("the small filesystem never filled up");
    eprintln!(
        "full after {fill_acked} acked fill batches (~{} MiB): error {code} {message:?}",
        (fill_acked * FILL_RECORDS_PER_BATCH * FILL_VALUE_BYTES) >> 20
    );
    assert_eq!(
        code, KAFKA_STORAGE_ERROR,
        "full disk should give KAFKA_STORAGE_ERROR"
    );
    broker.assert_alive();
    // Still serving: metadata, reads of acknowledged data, and further produces get errors,
    // not hangs.
    kafka::assert_serving(&mut broker.connect(), "keep");
    assert_eq!(
        read_all_values(&broker, "keep"),
        acked,
        "keep readable while full"
    );
    for _ in 0..3 {
        let code = kafka::produce(&mut conn, "fill", 0, fill_batch(0), -1).error_code;
        assert_ne!(code, error_code::NONE, "a produce succeeded on a full disk");
    }
    broker.assert_alive();

    // Free space: delete the fill topic. Producing to keep must work again (within a bound).
    let mut admin = broker.connect();
    let version = admin.version_for::<DeleteTopicsRequest>(1, 5);
    let response = admin.request(
        version,
        &DeleteTopicsRequest::default()
            .with_topic_names(vec![kafka::topic_name("fill")])
            .with_timeout_ms(30_000),
    );
    for result in &response.responses {
        assert_eq!(result.error_code, error_code::NONE, "delete fill topic");
    }
    wait_until(
        "a produce to keep to succeed after freeing space",
        FREE_RETRY_TIMEOUT,
        || produce_keep(&mut broker.connect(), &mut acked) == error_code::NONE,
    );
    let mut fresh = broker.connect();
    for _ in 0..20 {
        assert_eq!(
            produce_keep(&mut fresh, &mut acked),
            error_code::NONE,
            "keep after freeing"
        );
    }

    // Restart after SIGKILL: every acknowledged record is there, byte-exact.
    broker.restart();
    let values = read_all_values(&broker, "keep");
    assert_eq!(
        values.len(),
        acked.len(),
        "acknowledged records after restart"
    );
    assert_eq!(values, acked, "acknowledged records changed after restart");
    eprintln!(
        "{} acknowledged keep records verified after restart",
        acked.len()
    );
    drop(broker);
    drop(mount);
}

//! Keeps glibc's malloc from handing the kernel back the memory a receive buffer just used.
//!
//! Received frames (produce requests, replica fetch answers) are hundreds of KiB; their bytes
//! live on in the batch cache and are freed in cache order. With glibc's defaults, blocks this
//! size are mmapped one by one (until its dynamic threshold catches up) and freed memory at the
//! top of an arena is trimmed back to the kernel, so the next receive lands in fresh pages: a
//! page fault, a zeroed page and a memcg charge per 4 KiB, and a TLB shootdown of every shard
//! thread per munmap. Three brokers at RF 3 on one host took 35,000 faults a second each,
//! about 10 % of the CPU, nearly all inside recv's copy; with these two settings, 1,000 to
//! 10,000 (benches/results/replication-2026-12-03c.md).
//!
//! Fixed thresholds also switch off glibc's dynamic ones. An operator's own
//! `GLIBC_TUNABLES=glibc.malloc.*` wins: those are left alone.

use crate::limits::{MALLOC_MMAP_THRESHOLD_BYTES, MALLOC_TRIM_THRESHOLD_BYTES};

/// Sets the thresholds unless the environment already tunes malloc. Call before the shards
/// start (mallopt is process-wide, and glibc creates an arena per thread as it first
/// allocates). Returns what it did, for the start-up log.
pub fn apply() -> Result<String, String> {
    let tunables = std::env::var("GLIBC_TUNABLES").unwrap_or_default();
    if tunes_malloc(&tunables) {
        return Ok("left to GLIBC_TUNABLES".to_string());
    }
    set(
        libc::M_MMAP_THRESHOLD,
        MALLOC_MMAP_THRESHOLD_BYTES,
        "M_MMAP_THRESHOLD",
    )?;
    set(
        libc::M_TRIM_THRESHOLD,
        MALLOC_TRIM_THRESHOLD_BYTES,
        "M_TRIM_THRESHOLD",
    )?;
    Ok(format!(
        "mmap threshold {} KiB, trim threshold {} KiB",
        MALLOC_MMAP_THRESHOLD_BYTES / 1024,
        MALLOC_TRIM_THRESHOLD_BYTES / 1024
    ))
}

fn set(parameter: libc::c_int, value: i32, name: &str) -> Result<(), String> {
    // SAFETY: mallopt takes two integers and changes only malloc's own settings.
    if unsafe { libc::mallopt(parameter, value) } == 1 {
        Ok(())
    } else {
        Err(format!("mallopt({name}, {value}) was refused"))
    }
}

/// Whether a GLIBC_TUNABLES value sets any malloc tunable.
fn tunes_malloc(tunables: &str) -> bool {
    tunables
        .split(':')
        .any(|setting| setting.trim_start().starts_with("glibc.malloc."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operators_malloc_tunables_are_left_alone() {
        assert!(tunes_malloc("glibc.malloc.trim_threshold=1"));
        assert!(tunes_malloc(
            "glibc.pthread.rseq=0:glibc.malloc.mmap_threshold=65536"
        ));
        assert!(!tunes_malloc("glibc.pthread.rseq=0"));
        assert!(!tunes_malloc(""));
    }

    #[test]
    fn glibc_accepts_the_thresholds() {
        set(
            libc::M_MMAP_THRESHOLD,
            MALLOC_MMAP_THRESHOLD_BYTES,
            "M_MMAP_THRESHOLD",
        )
        .expect("within glibc's maximum (32 MiB on 64-bit)");
        set(
            libc::M_TRIM_THRESHOLD,
            MALLOC_TRIM_THRESHOLD_BYTES,
            "M_TRIM_THRESHOLD",
        )
        .expect("any size is accepted");
    }
}

//! Reports the io_uring features of the running kernel for the start-up log line, so a user can
//! tell at a glance whether the fast paths (fast poll, splice, zero-copy send) are available.

use io_uring::{opcode, IoUring, Probe};

/// A short human list like "fast_poll nodrop ext_arg splice send_zc", or the reason it failed.
pub fn describe() -> String {
    let ring = match IoUring::new(8) {
        Ok(ring) => ring,
        Err(err) => return format!("unavailable ({err})"),
    };
    let params = ring.params();
    let mut found: Vec<&str> = Vec::new();
    let features = [
        ("fast_poll", params.is_feature_fast_poll()),
        ("nodrop", params.is_feature_nodrop()),
        ("submit_stable", params.is_feature_submit_stable()),
        ("ext_arg", params.is_feature_ext_arg()),
        ("native_workers", params.is_feature_native_workers()),
    ];
    found.extend(features.iter().filter(|(_, on)| *on).map(|(name, _)| *name));
    let mut probe = Probe::new();
    if ring.submitter().register_probe(&mut probe).is_ok() {
        let opcodes = [
            ("splice", opcode::Splice::CODE),
            ("send_zc", opcode::SendZc::CODE),
            ("read_fixed", opcode::ReadFixed::CODE),
        ];
        found.extend(
            opcodes
                .iter()
                .filter(|(_, code)| probe.is_supported(*code))
                .map(|(name, _)| *name),
        );
    }
    found.join(" ")
}

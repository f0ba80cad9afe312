//! `check` and `apply` over the tunables: neither ever stops at one tunable's failure.

use crate::host::{refusal_reason, HostFs};
use crate::tunable::{Assessment, FileWrite, Status, Tunable};

/// One `check` row.
#[derive(Debug, Clone)]
pub struct CheckRow {
    pub name: String,
    pub why: &'static str,
    pub assessment: Assessment,
}

/// Reads every tunable. Read-only; needs no root.
pub fn check(tunables: &[Box<dyn Tunable>], host: &HostFs) -> Vec<CheckRow> {
    tunables
        .iter()
        .map(|t| CheckRow {
            name: t.name().to_string(),
            why: t.why(),
            assessment: t.assess(host),
        })
        .collect()
}

/// What `apply` did (or, with `--dry-run`, would do) to one tunable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    AlreadyOk {
        current: String,
    },
    /// Dry run: these writes would be made.
    Planned {
        current: String,
        writes: Vec<FileWrite>,
    },
    Changed {
        from: String,
        to: String,
    },
    /// Writes went through but the value still differs (irqbalance, kernel clamping, ...).
    StillDiffers {
        from: String,
        now: String,
        errors: Vec<String>,
    },
    /// `current` is the value read, when the setting could be read at all.
    NotTunable {
        current: Option<String>,
        reason: String,
    },
}

#[derive(Debug, Clone)]
pub struct ApplyRow {
    pub name: String,
    pub outcome: Outcome,
}

/// Applies every recommendation (or plans it when `dry_run`).
pub fn apply(tunables: &[Box<dyn Tunable>], host: &HostFs, dry_run: bool) -> Vec<ApplyRow> {
    tunables
        .iter()
        .map(|t| ApplyRow {
            name: t.name().to_string(),
            outcome: apply_one(t.as_ref(), host, dry_run),
        })
        .collect()
}

fn apply_one(tunable: &dyn Tunable, host: &HostFs, dry_run: bool) -> Outcome {
    let before = tunable.assess(host);
    match before.status {
        Status::Ok => {
            return Outcome::AlreadyOk {
                current: before.current,
            }
        }
        Status::NotTunable(reason) => {
            return Outcome::NotTunable {
                current: None,
                reason,
            }
        }
        Status::Differs => {}
    }
    if before.writes.is_empty() {
        let reason = before
            .manual_fix
            .map(|fix| format!("per-process limit, set by the service manager: {fix}"))
            .unwrap_or_else(|| "no automatic fix".to_string());
        return Outcome::NotTunable {
            current: Some(before.current),
            reason,
        };
    }
    if dry_run {
        return Outcome::Planned {
            current: before.current,
            writes: before.writes,
        };
    }
    // Every write is attempted: one refused IRQ must not keep the others where they are.
    let errors: Vec<String> = before
        .writes
        .iter()
        .filter_map(|w| {
            host.write(&w.path, &w.value)
                .err()
                .map(|e| refusal_reason(&w.path, &e))
        })
        .collect();
    let after = tunable.assess(host);
    match after.status {
        Status::Ok => Outcome::Changed {
            from: before.current,
            to: after.current,
        },
        _ if errors.len() == before.writes.len() => Outcome::NotTunable {
            current: Some(before.current),
            reason: errors.join("; "),
        },
        _ => Outcome::StillDiffers {
            from: before.current,
            now: after.current,
            errors,
        },
    }
}

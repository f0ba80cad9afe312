//! `--verify`: what was acked, what is in the log, and whether they agree.

pub mod checker;
pub mod collect;
pub mod history;

//! Host tuning for Sluice.

//! Sluice storage engine (see README.md).

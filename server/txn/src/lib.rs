//! Kafka's transaction coordinator as pure state (see the crate description). Filled in by the
//! transactions work (issue 14).

//! SASL mechanisms whose server side is a single message: PLAIN (RFC 4616). SCRAM, a
//! two-round exchange, lives in `crate::scram`.

pub mod plain;

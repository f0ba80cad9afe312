//! The Kafka wire protocol: framing, request dispatch, one handler per API, and the connection
//! loop that pipelines requests and writes responses in request order.

pub mod connection;
pub mod dispatch;
pub mod errors;
pub mod frame;
pub mod handlers;
pub mod response;
pub mod wire;

//! One controller request to one node: connect, say hello, send, read the reply, close.
//! Requests are rare (a heartbeat every 2 s per broker, admin operations), so a connection per
//! request keeps this simple and leaves nothing half-open after a peer dies.

use std::net::SocketAddr;
use std::time::Duration;

use super::controller_tls::{self, ControllerTls};
use super::wire::{
    decode_json, encode_json, read_frame, write_frame, ControllerReply, ControllerRequest,
    FrameKind, Hello, WireError,
};

/// The controller a request goes to.
pub struct Target<'a> {
    pub address: SocketAddr,
    /// As written in `controller.quorum.voters` (what its certificate names).
    pub host: &'a str,
    /// Some: mutual TLS.
    pub tls: Option<&'a ControllerTls>,
}

pub async fn call(
    target: Target<'_>,
    hello: &Hello,
    request: &ControllerRequest,
    timeout: Duration,
) -> Result<ControllerReply, WireError> {
    let address = target.address;
    let exchange = async {
        let mut stream = controller_tls::connect(target.tls, target.host, address)
            .await
            .map_err(WireError::Io)?;
        write_frame(&mut stream, FrameKind::Hello, 0, &encode_json(hello)).await?;
        write_frame(&mut stream, FrameKind::Request, 1, &encode_json(request)).await?;
        let frame = read_frame(&mut stream).await?;
        if frame.kind != FrameKind::Reply || frame.correlation_id != 1 {
            return Err(WireError::UnknownKind(frame.kind as u8));
        }
        decode_json("controller reply", &frame.payload)
    };
    futures_lite::future::or(exchange, async {
        glommio::timer::sleep(timeout).await;
        Err(WireError::Io(std::io::Error::new(
            std::io::ErrorKind::TimedOut,
            format!("no controller reply from {address} within {timeout:?}"),
        )))
    })
    .await
}

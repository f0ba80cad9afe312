//! One client connection: a reader that parses and dispatches requests one after another (so
//! appends keep the client's order), and a writer that writes responses strictly in request
//! order, awaiting deferred ones (acks=all, long-poll fetches) as their turn comes. At most
//! `REQUESTS_IN_FLIGHT_PER_CONNECTION_MAX` responses may be outstanding; beyond that the reader
//! stops reading, which pushes back on the client through TCP.
//!
//! On a TLS listener the connection first completes the handshake (within
//! `TLS_HANDSHAKE_MS_MAX`); the client certificate, if any, names the principal. Responses then
//! go through the encrypting writer: record bytes are copied once into TLS records instead of
//! leaving by writev or sendfile.

use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use futures_lite::io::{ReadHalf, WriteHalf};
use futures_lite::{future, AsyncWrite, AsyncWriteExt};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::net::TcpStream;
use glommio::Task;

use super::dispatch::{self, Conn, Outcome, RequestError};
use super::frame::{FrameError, FrameReader};
use super::listener::ListenerContext;
use super::response::{write_response, write_response_through, Response};
use super::sendfile;
use super::services::Services;
use super::session::Session;
use crate::fill_only_read::FillOnlyRead;
use crate::limits::{REQUESTS_IN_FLIGHT_PER_CONNECTION_MAX, TLS_HANDSHAKE_MS_MAX};

enum Pending {
    Ready(Option<Response>),
    Deferred(Task<Result<Option<Response>, RequestError>>),
}

pub async fn serve(services: Rc<Services>, listener: Rc<ListenerContext>, stream: TcpStream) {
    let (Ok(peer), Ok(local_addr)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%peer, "set_nodelay: {err}");
    }
    // A client that stops reading its responses is closed once no byte could be written for the
    // idle limit (Kafka closes such a connection on connections.max.idle.ms too).
    let idle_max = Duration::from_millis(services.config.connections_max_idle_ms);
    if let Err(err) = stream.set_write_timeout(Some(idle_max)) {
        tracing::warn!(%peer, "closing connection: set_write_timeout: {err}");
        return;
    }
    let session = Session::new(listener.clone(), &services.config.security);
    let conn = Rc::new(Conn {
        config: services.config.clone(),
        services,
        peer,
        local_addr,
        listener: listener.clone(),
        session,
    });
    let Some(tls) = &listener.tls else {
        let fd = stream.as_raw_fd();
        if let Err(err) = sendfile::set_nonblocking(fd) {
            tracing::warn!(%peer, "closing connection: cannot make the socket nonblocking: {err}");
            return;
        }
        let (reader, writer) = futures_lite::io::split(stream);
        run(&conn, reader, writer, Some(fd)).await;
        return;
    };
    let handshake = future::or(async { Some(tls.acceptor().accept(stream).await) }, async {
        glommio::timer::sleep(Duration::from_millis(TLS_HANDSHAKE_MS_MAX)).await;
        None
    });
    let stream = match handshake.await {
        Some(Ok(stream)) => stream,
        Some(Err(err)) => {
            crate::metrics::hooks::authentication(&listener.name, "TLS", false);
            tracing::warn!(
                %peer,
                listener = %listener.name,
                "closing connection: TLS handshake failed ({err}); is the client configured \
                 for {}?",
                listener.protocol
            );
            return;
        }
        None => {
            tracing::warn!(
                %peer,
                listener = %listener.name,
                "closing connection: no TLS handshake within {TLS_HANDSHAKE_MS_MAX} ms"
            );
            return;
        }
    };
    if let Some(certificate) = stream
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|c| c.first())
    {
        if let Err(err) = conn.session.set_certificate_principal(certificate.as_ref()) {
            tracing::warn!(%peer, "closing connection: client certificate: {err}");
            return;
        }
    }
    let (reader, writer) = futures_lite::io::split(stream);
    run(&conn, reader, writer, None).await;
}

/// Serves requests until the connection ends. `fd`: the plain socket, for the zero-copy write
/// path (None on TLS, where every byte goes through the encrypting writer).
async fn run<S>(conn: &Rc<Conn>, reader: ReadHalf<S>, writer: WriteHalf<S>, fd: Option<RawFd>)
where
    S: FillOnlyRead + AsyncWrite + 'static,
{
    let (sender, receiver) = local_channel::new_bounded(REQUESTS_IN_FLIGHT_PER_CONNECTION_MAX);
    let writer_task = glommio::spawn_local(write_loop(receiver, writer, fd, conn.peer));
    let frames = FrameReader::new(reader, conn.config.socket_request_max_bytes);
    read_loop(conn, frames, sender).await;
    writer_task.await;
}

async fn read_loop<R: FillOnlyRead>(
    conn: &Rc<Conn>,
    mut frames: FrameReader<R>,
    sender: LocalSender<Pending>,
) {
    let idle_max = Duration::from_millis(conn.config.connections_max_idle_ms);
    loop {
        // A whole frame must arrive within the idle limit: bounds idle connections and clients
        // that trickle a frame one byte at a time.
        let next = future::or(
            async { Some(frames.read_frame().await) },
            future::or(
                async {
                    conn.services.ctx.stopping().await;
                    None
                },
                async {
                    glommio::timer::sleep(idle_max).await;
                    Some(Err(FrameError::Io(std::io::Error::new(
                        std::io::ErrorKind::TimedOut,
                        format!(
                            "no complete request within connections.max.idle.ms ({idle_max:?})"
                        ),
                    ))))
                },
            ),
        )
        .await;
        let frame = match next {
            None => return,
            Some(Ok(frame)) => frame,
            Some(Err(FrameError::Io(err))) if err.kind() == std::io::ErrorKind::TimedOut => {
                tracing::info!(peer = %conn.peer, "closing connection: {err}");
                return;
            }
            Some(Err(FrameError::Closed)) => return,
            Some(Err(FrameError::TooLarge { size, .. })) if looks_like_tls(size) => {
                tracing::warn!(
                    peer = %conn.peer,
                    listener = %conn.listener.name,
                    "closing connection: the client began a TLS handshake, but this listener \
                     is {} (configure the client for it, or connect to a TLS listener)",
                    conn.listener.protocol
                );
                return;
            }
            Some(Err(FrameError::Io(err))) => {
                tracing::debug!(peer = %conn.peer, "connection read: {err}");
                return;
            }
            Some(Err(err)) => {
                tracing::warn!(peer = %conn.peer, "closing connection: {err}");
                return;
            }
        };
        let pending = match dispatch::handle(conn, frame).await {
            Ok(Outcome::Ready(response)) => Pending::Ready(response),
            Ok(Outcome::Deferred(future)) => Pending::Deferred(glommio::spawn_local(future)),
            Err(err) => {
                tracing::warn!(peer = %conn.peer, "closing connection: {err}");
                return;
            }
        };
        if sender.send(pending).await.is_err() {
            return;
        }
        // A failed authentication: its answer is queued; nothing after it is read.
        if conn.session.is_closing() {
            return;
        }
    }
}

/// A TLS record header (handshake type 22, major version 3) read as a Kafka frame size.
fn looks_like_tls(size: i64) -> bool {
    let bytes = (size as i32).to_be_bytes();
    bytes[0] == 0x16 && bytes[1] == 0x03
}

async fn write_loop<W: AsyncWrite + Unpin>(
    receiver: LocalReceiver<Pending>,
    mut writer: W,
    fd: Option<RawFd>,
    peer: std::net::SocketAddr,
) {
    while let Some(pending) = receiver.recv().await {
        let response = match pending {
            Pending::Ready(response) => response,
            Pending::Deferred(task) => match task.await {
                Ok(response) => response,
                Err(err) => {
                    tracing::warn!(%peer, "closing connection: {err}");
                    break;
                }
            },
        };
        let Some(response) = response else {
            continue;
        };
        crate::metrics::hooks::response_sent(response.bytes());
        let written = match fd {
            Some(fd) => write_response(fd, &mut writer, response).await,
            None => write_response_through(&mut writer, response).await,
        };
        match written {
            Ok(()) => {}
            Err(err) if err.kind() == std::io::ErrorKind::TimedOut => {
                tracing::info!(
                    %peer,
                    "closing connection: the client read nothing of its response within \
                     connections.max.idle.ms"
                );
                break;
            }
            Err(err) => {
                tracing::debug!(%peer, "connection write: {err}");
                break;
            }
        }
    }
    if let Err(err) = writer.close().await {
        tracing::debug!(%peer, "connection close: {err}");
    }
}

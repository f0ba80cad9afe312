//! One client connection: a reader that parses and dispatches requests one after another (so
//! appends keep the client's order), and a writer that writes responses strictly in request
//! order, awaiting deferred ones (acks=all, long-poll fetches) as their turn comes. At most
//! `REQUESTS_IN_FLIGHT_PER_CONNECTION_MAX` responses may be outstanding; beyond that the reader
//! stops reading, which pushes back on the client through TCP.

use std::os::fd::{AsRawFd, RawFd};
use std::rc::Rc;
use std::time::Duration;

use futures_lite::io::{BufReader, ReadHalf, WriteHalf};
use futures_lite::{future, AsyncWriteExt};
use glommio::channels::local_channel::{self, LocalReceiver, LocalSender};
use glommio::net::TcpStream;
use glommio::Task;

use super::dispatch::{self, Conn, Outcome, RequestError};
use super::frame::{read_frame, FrameError};
use super::response::{write_response, Response};
use super::services::Services;
use crate::limits::REQUESTS_IN_FLIGHT_PER_CONNECTION_MAX;

/// Read-side buffer; large produce frames bypass it.
const READ_BUFFER_BYTES: usize = 64 * 1024;

enum Pending {
    Ready(Option<Response>),
    Deferred(Task<Result<Option<Response>, RequestError>>),
}

pub async fn serve(services: Rc<Services>, stream: TcpStream) {
    let (Ok(peer), Ok(local_addr)) = (stream.peer_addr(), stream.local_addr()) else {
        return;
    };
    if let Err(err) = stream.set_nodelay(true) {
        tracing::debug!(%peer, "set_nodelay: {err}");
    }
    let fd = stream.as_raw_fd();
    let (reader, writer) = futures_lite::io::split(stream);
    let conn = Rc::new(Conn {
        config: services.config.clone(),
        services,
        peer,
        local_addr,
    });
    let (sender, receiver) = local_channel::new_bounded(REQUESTS_IN_FLIGHT_PER_CONNECTION_MAX);
    let writer_task = glommio::spawn_local(write_loop(receiver, writer, fd, peer));
    read_loop(
        &conn,
        BufReader::with_capacity(READ_BUFFER_BYTES, reader),
        sender,
    )
    .await;
    writer_task.await;
}

async fn read_loop(
    conn: &Rc<Conn>,
    mut reader: BufReader<ReadHalf<TcpStream>>,
    sender: LocalSender<Pending>,
) {
    let frame_bytes_max = conn.config.socket_request_max_bytes;
    let idle_max = Duration::from_millis(conn.config.connections_max_idle_ms);
    loop {
        // A whole frame must arrive within the idle limit: bounds idle connections and clients
        // that trickle a frame one byte at a time.
        let next = future::or(
            async { Some(read_frame(&mut reader, frame_bytes_max).await) },
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
    }
}

async fn write_loop(
    receiver: LocalReceiver<Pending>,
    mut writer: WriteHalf<TcpStream>,
    fd: RawFd,
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
        if let Err(err) = write_response(fd, &mut writer, response).await {
            tracing::debug!(%peer, "connection write: {err}");
            break;
        }
    }
    if let Err(err) = writer.close().await {
        tracing::debug!(%peer, "connection close: {err}");
    }
}

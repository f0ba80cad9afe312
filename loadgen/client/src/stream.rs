//! The byte stream under a [`Connection`](crate::Connection): a plain `TcpStream`, or TLS
//! over one. Either way a connection has two halves (writer and [`FrameReader`](crate::FrameReader))
//! that may live on two threads, each holding its own clone of the socket.
//!
//! Plain: each half reads or writes its `TcpStream` clone directly, as before TLS existed (one
//! `match` per call is the only addition).
//!
//! TLS: rustls' `ClientConnection` is one state machine for both directions, so the halves
//! share it behind a mutex, and **no half blocks on the socket while holding it**:
//! - the reader reads ciphertext from its socket clone into its own buffer without the lock,
//!   then takes the lock to feed it to rustls and take plaintext out;
//! - the writer takes the lock to encrypt (at most rustls' 64 KiB buffer limit per round) and
//!   move the records into its own buffer, then writes them to the socket without the lock.
//!
//! A writer blocked on a full socket therefore never stops the reader from draining the
//! broker's responses (which is what lets the broker go on reading requests). Only the writer
//! ever takes records out of rustls, so records reach the socket in the order they were
//! sealed; records rustls queues while reading (an alert, a TLS 1.3 KeyUpdate answer) go out
//! with the next write, before any later application data, as TLS requires.
//!
//! `rustls::StreamOwned` is not used after the handshake because it is one object for both
//! directions: a reader blocked in it would hold the writer up, which breaks pipelining.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::ClientConnection;

/// Ciphertext read from the socket per read call by a TLS reader (four full TLS records).
pub(crate) const TLS_READ_BUFFER_BYTES: usize = 64 * 1024;

/// One half's stream.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(TlsHalf),
}

/// One half of a TLS connection: its socket clone, the shared rustls state, and the half's
/// own buffers (each half uses one of them; both are empty until used).
pub(crate) struct TlsHalf {
    tcp: TcpStream,
    tls: Arc<Mutex<ClientConnection>>,
    /// Reader: ciphertext from the socket; `input[fed..filled]` is not yet handed to rustls.
    input: Vec<u8>,
    /// Writer: records taken out of rustls, to be written to the socket.
    output: Vec<u8>,
    fed: usize,
    filled: usize,
    /// Reader: the socket reached end-of-stream (rustls has been told).
    eof: bool,
}

impl Stream {
    /// The socket, for options (timeouts) and shutdown; shared by both halves' clones.
    pub(crate) fn tcp(&self) -> &TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(half) => &half.tcp,
        }
    }

    pub(crate) fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.tcp().shutdown(how)
    }

    /// The other half: a clone of the socket and, for TLS, the same rustls state.
    pub(crate) fn try_clone(&self) -> io::Result<Stream> {
        Ok(match self {
            Stream::Plain(tcp) => Stream::Plain(tcp.try_clone()?),
            Stream::Tls(half) => Stream::Tls(TlsHalf::new(half.tcp.try_clone()?, &half.tls)),
        })
    }

    /// Wraps a socket whose TLS handshake is complete.
    pub(crate) fn tls(tcp: TcpStream, connection: ClientConnection) -> Stream {
        assert!(!connection.is_handshaking());
        Stream::Tls(TlsHalf::new(tcp, &Arc::new(Mutex::new(connection))))
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }
}

impl Read for Stream {
    #[inline]
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.read(buf),
            Stream::Tls(half) => half.read_plaintext(buf),
        }
    }
}

impl Write for Stream {
    #[inline]
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(tcp) => tcp.write(buf),
            Stream::Tls(half) => half.write_plaintext(buf),
        }
    }

    #[inline]
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.write_all(buf),
            Stream::Tls(half) => {
                let mut rest = buf;
                while !rest.is_empty() {
                    let written = half.write_plaintext(rest)?;
                    rest = &rest[written..];
                }
                Ok(())
            }
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            // Every write sends its records before it returns.
            Stream::Tls(_) => Ok(()),
        }
    }
}

impl TlsHalf {
    fn new(tcp: TcpStream, tls: &Arc<Mutex<ClientConnection>>) -> TlsHalf {
        TlsHalf {
            tcp,
            tls: Arc::clone(tls),
            input: Vec::new(),
            output: Vec::new(),
            fed: 0,
            filled: 0,
            eof: false,
        }
    }

    /// Plaintext into `buf`: what rustls holds, else more ciphertext from the socket. Blocks
    /// (within the socket's read timeout) only while not holding the lock.
    fn read_plaintext(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if self.input.len() != TLS_READ_BUFFER_BYTES {
            self.input.resize(TLS_READ_BUFFER_BYTES, 0);
        }
        loop {
            {
                let mut tls = lock(&self.tls)?;
                match tls.reader().read(buf) {
                    // Ok(0): the broker sent close_notify.
                    Ok(read) => return Ok(read),
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => return Err(e),
                }
                if self.fed < self.filled {
                    let mut pending = &self.input[self.fed..self.filled];
                    let taken = tls.read_tls(&mut pending)?;
                    assert!(
                        taken > 0,
                        "rustls took no ciphertext while holding no plaintext"
                    );
                    self.fed += taken;
                    tls.process_new_packets()
                        .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
                    continue;
                }
                if self.eof {
                    // rustls knows of the end and has nothing more: the broker closed
                    // without close_notify (its reader reports that as UnexpectedEof).
                    return Err(ErrorKind::UnexpectedEof.into());
                }
            }
            let read = self.tcp.read(&mut self.input)?;
            assert!(read <= self.input.len());
            self.fed = 0;
            self.filled = read;
            if read == 0 {
                self.eof = true;
                let mut tls = lock(&self.tls)?;
                // A zero-byte read tells rustls the stream ended.
                tls.read_tls(&mut io::empty())?;
                tls.process_new_packets()
                    .map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
            }
        }
    }

    /// Encrypts a prefix of `buf` (as much as rustls buffers in one round) and sends it,
    /// along with any records rustls queued since the last write; returns the prefix length.
    fn write_plaintext(&mut self, buf: &[u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        self.output.clear();
        let accepted = {
            let mut tls = lock(&self.tls)?;
            let accepted = tls.writer().write(buf)?;
            while tls.wants_write() {
                tls.write_tls(&mut self.output)?;
            }
            accepted
        };
        if accepted == 0 {
            return Err(io::Error::new(
                ErrorKind::WriteZero,
                "rustls accepted no plaintext",
            ));
        }
        self.tcp.write_all(&self.output)?;
        Ok(accepted)
    }
}

/// The shared rustls state. A poisoned lock means the other half panicked mid-call: the TLS
/// state is unknown, so the connection fails.
fn lock(tls: &Mutex<ClientConnection>) -> io::Result<MutexGuard<'_, ClientConnection>> {
    tls.lock()
        .map_err(|_| io::Error::other("TLS state poisoned by a panic in the other half"))
}

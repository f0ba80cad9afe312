//! The raw-frame API over a loopback socket: a peer that answers, closes, talks then closes,
//! or stays silent is told apart, and every wait ends at the read timeout.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use sluice_kafka_client::{ConnectOptions, Connection, Error};

const READ_TIMEOUT: Duration = Duration::from_millis(300);
/// Longest a silent peer holds its connection waiting for the test to finish its checks.
const PEER_HOLD_MAX: Duration = Duration::from_secs(30);

/// Accepts one connection, reads `expect_bytes` bytes, then runs `then` on the socket.
fn peer(
    expect_bytes: usize,
    then: impl FnOnce(&mut TcpStream) + Send + 'static,
) -> (String, JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("local addr").to_string();
    let handle = thread::spawn(move || {
        let (mut stream, _) = listener.accept().expect("accept");
        let mut got = vec![0u8; expect_bytes];
        stream.read_exact(&mut got).expect("peer reads the request");
        then(&mut stream);
        got
    });
    (addr, handle)
}

fn connect(addr: &str) -> Connection {
    let options = ConnectOptions::new("sluice-tests").with_timeout(READ_TIMEOUT);
    Connection::connect(addr, &options).expect("connect")
}

#[test]
fn a_whole_frame_is_returned_and_the_rest_left_for_the_next_read() {
    let (addr, peer) = peer(3, |s| {
        // Two frames in one write: the first read must stop at the first frame's end.
        s.write_all(&[0, 0, 0, 2, b'a', b'b', 0, 0, 0, 1, b'c'])
            .expect("peer writes");
        s.shutdown(Shutdown::Write).expect("peer half-closes");
    });
    let mut conn = connect(&addr);
    conn.send_raw(b"xyz").expect("send");
    assert_eq!(
        conn.read_frame_or_close().expect("read").as_deref(),
        Some(&b"ab"[..])
    );
    assert_eq!(
        conn.read_frame_or_close().expect("read").as_deref(),
        Some(&b"c"[..])
    );
    assert_eq!(
        conn.read_frame_or_close().expect("read"),
        None,
        "then the close"
    );
    assert_eq!(peer.join().expect("peer thread"), b"xyz");
}

#[test]
fn a_silent_close_is_expected_closed() {
    let (addr, peer) = peer(1, |s| s.shutdown(Shutdown::Both).expect("peer closes"));
    let mut conn = connect(&addr);
    conn.send_raw(b"!").expect("send");
    conn.expect_closed().expect("closed");
    peer.join().expect("peer thread");
}

#[test]
fn bytes_before_the_close_fail_expect_closed() {
    let (addr, peer) = peer(1, |s| {
        s.write_all(&[0, 0, 0, 1, 9]).expect("peer writes");
        s.shutdown(Shutdown::Both).expect("peer closes");
    });
    let mut conn = connect(&addr);
    conn.send_raw(b"!").expect("send");
    let error = conn.expect_closed().map_err(|e| e.to_string());
    assert_eq!(
        error,
        Err(format!(
            "connection to {addr} not closed: bytes arrived before the close (5 bytes received)"
        ))
    );
    peer.join().expect("peer thread");
}

#[test]
fn a_silent_open_connection_times_out_both_ways() {
    let (checked, checked_rx) = std::sync::mpsc::channel::<()>();
    let (addr, peer) = peer(1, move |s| {
        // Hold the connection open, silent, until both waits below have timed out (bounded:
        // a test that never signals still ends).
        checked_rx.recv_timeout(PEER_HOLD_MAX).ok();
        let _closing = s.shutdown(Shutdown::Both);
    });
    let mut conn = connect(&addr);
    conn.send_raw(b"!").expect("send");
    let started = Instant::now();
    let still_open = conn.expect_closed();
    assert!(
        matches!(
            still_open,
            Err(Error::NotClosed {
                timed_out: true,
                received_bytes: 0,
                ..
            })
        ),
        "{still_open:?}"
    );
    let answer = conn.read_frame_or_close();
    assert!(answer.as_ref().is_err_and(Error::is_timeout), "{answer:?}");
    assert!(
        started.elapsed() < READ_TIMEOUT * 4,
        "each wait ends at the read timeout"
    );
    checked.send(()).expect("peer still holding the connection");
    peer.join().expect("peer thread");
}

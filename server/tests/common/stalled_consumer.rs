//! A consumer that sends one Fetch for a large range and then never reads its socket: the
//! broker's writes of the response stop making progress once the socket buffers are full.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::time::Duration;

use sluice_kafka_client::encode_request;

use super::broker::Broker;
use super::kafka;

pub struct StalledConsumer {
    stream: TcpStream,
}

impl StalledConsumer {
    /// Connects and sends a Fetch of `partition` from offset 0 for up to `max_bytes`.
    pub fn start(broker: &Broker, topic: &str, partition: i32, max_bytes: i32) -> StalledConsumer {
        let version = broker
            .connect()
            .version_for::<kafka_protocol::messages::FetchRequest>(4, 12);
        let request = kafka::fetch_request(topic, partition, 0, max_bytes, max_bytes, 500);
        let frame = encode_request(&request, version, 1, "stalled-consumer")
            .unwrap_or_else(|e| panic!("encode the stalled consumer's fetch: {e}"));
        let mut stream = TcpStream::connect(broker.addr())
            .unwrap_or_else(|e| panic!("stalled consumer connect: {e}"));
        stream
            .write_all(&frame)
            .unwrap_or_else(|e| panic!("stalled consumer send: {e}"));
        StalledConsumer { stream }
    }

    /// Bytes of the response waiting, unread, in this socket's receive queue.
    pub fn queued_bytes(&self) -> usize {
        let mut queued: libc::c_int = 0;
        // SAFETY: FIONREAD writes one c_int through the pointer, which outlives the call.
        let rc = unsafe { libc::ioctl(self.stream.as_raw_fd(), libc::FIONREAD, &mut queued) };
        assert_eq!(rc, 0, "FIONREAD: {}", std::io::Error::last_os_error());
        queued as usize
    }

    /// Starts reading at last: every byte until the broker closes the connection. Panics if
    /// the connection is still open after `timeout` without a byte.
    pub fn read_until_closed(&mut self, timeout: Duration) -> usize {
        self.stream
            .set_read_timeout(Some(timeout))
            .unwrap_or_else(|e| panic!("set_read_timeout: {e}"));
        let mut total = 0;
        let mut buffer = vec![0u8; 1 << 20];
        loop {
            match self.stream.read(&mut buffer) {
                Ok(0) => return total,
                Ok(n) => total += n,
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return total,
                Err(e) => panic!("stalled consumer read after {total} bytes: {e}"),
            }
        }
    }
}

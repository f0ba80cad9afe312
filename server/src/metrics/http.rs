//! A minimal HTTP/1.x responder for `GET /metrics`, on its own std thread (never on a shard).
//! One connection at a time, `Connection: close`, bounded request head and socket timeouts, so
//! a slow or hostile client can hold the endpoint for at most [`SOCKET_TIMEOUT`].

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use super::exposition;
use super::scrape;

/// Largest request head read (request line and headers).
const REQUEST_HEAD_BYTES_MAX: usize = 8 * 1024;
/// Read and write timeout of a scrape connection.
const SOCKET_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves scrapes on `listener` until the process exits.
pub fn serve(listener: TcpListener) {
    for stream in listener.incoming() {
        match stream {
            Ok(stream) => {
                if let Err(err) = answer(stream) {
                    tracing::debug!("metrics connection: {err}");
                }
            }
            Err(err) => {
                tracing::warn!("metrics accept: {err}");
                // Out of fds or similar: don't spin.
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
}

/// What the request head asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Metrics,
    NotFound,
    MethodNotAllowed,
    BadRequest,
}

fn route(head: &[u8]) -> Route {
    let Some(line) = head.split(|&b| b == b'\n').next() else {
        return Route::BadRequest;
    };
    let line = String::from_utf8_lossy(line);
    let mut parts = line.trim_end().split(' ');
    let (Some(method), Some(target), Some(version)) = (parts.next(), parts.next(), parts.next())
    else {
        return Route::BadRequest;
    };
    if !version.starts_with("HTTP/1.") {
        return Route::BadRequest;
    }
    if method != "GET" {
        return Route::MethodNotAllowed;
    }
    let path = target.split('?').next().unwrap_or_default();
    if path == "/metrics" {
        Route::Metrics
    } else {
        Route::NotFound
    }
}

fn read_head(stream: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < REQUEST_HEAD_BYTES_MAX {
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    Ok(head)
}

fn answer(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(SOCKET_TIMEOUT))?;
    stream.set_write_timeout(Some(SOCKET_TIMEOUT))?;
    let head = read_head(&mut stream)?;
    let (status, content_type, body) = match route(&head) {
        Route::Metrics => match exposition::encode(scrape::collect()) {
            Ok(text) => ("200 OK", exposition::CONTENT_TYPE, text),
            Err(err) => {
                tracing::error!("metrics encoding failed: {err}");
                let text = "encoding failed\n".to_string();
                ("500 Internal Server Error", "text/plain", text)
            }
        },
        Route::NotFound => ("404 Not Found", "text/plain", "try /metrics\n".to_string()),
        Route::MethodNotAllowed => ("405 Method Not Allowed", "text/plain", String::new()),
        Route::BadRequest => ("400 Bad Request", "text/plain", String::new()),
    };
    let header = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(header.as_bytes())?;
    stream.write_all(body.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_get_metrics_is_served() {
        assert_eq!(
            route(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"),
            Route::Metrics
        );
        assert_eq!(route(b"GET /metrics?x=1 HTTP/1.0\r\n\r\n"), Route::Metrics);
        assert_eq!(route(b"GET / HTTP/1.1\r\n\r\n"), Route::NotFound);
        assert_eq!(
            route(b"POST /metrics HTTP/1.1\r\n\r\n"),
            Route::MethodNotAllowed
        );
        assert_eq!(route(b"\x00\x01garbage"), Route::BadRequest);
        assert_eq!(route(b""), Route::BadRequest);
    }
}

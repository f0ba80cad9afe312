//! Steering a connection to a shard by its source port, so that a follower shard's replication
//! stream lands on the leader's shard of the same number (where its partitions live) instead
//! of wherever SO_REUSEPORT's hash puts it, and no replica fetch crosses shards.
//!
//! Every shard binds each client listener in shard order, so shard `i` is socket `i` of the
//! port's reuseport group, and attaches a classic BPF program that picks the socket from the
//! connection's source port: `shard_of_port`. A follower shard binds its connection to a
//! source port that maps to its own shard number before connecting. Client connections keep
//! kernel-chosen ports, which the program spreads evenly (the port is mixed by a
//! multiplication first, because the kernel prefers even ports for connect()).
//!
//! Steering is an optimisation only. A program that cannot be attached, a port that cannot be
//! bound, or a leader with another shard count leaves the connection where the kernel puts it,
//! and its requests hop to the owner shard as any client's do.

use std::net::{SocketAddr, TcpStream};
use std::os::fd::RawFd;
use std::time::Duration;

/// Multiplier that spreads consecutive (and all-even) source ports over the shards.
const PORT_MIX: u32 = 0x9E37_79B1;
/// `SO_ATTACH_REUSEPORT_CBPF` (asm-generic/socket.h; the same value on x86 and arm64).
const SO_ATTACH_REUSEPORT_CBPF: libc::c_int = 51;
/// Source ports a follower tries before it connects from a kernel-chosen one.
const STEERED_PORT_ATTEMPTS_MAX: usize = 64;
/// Linux's default `ip_local_port_range`, when /proc cannot be read.
const LOCAL_PORT_RANGE_DEFAULT: (u16, u16) = (32768, 60999);

/// The shard (of `shards`) a connection from source port `port` is accepted on.
pub fn shard_of_port(port: u16, shards: usize) -> usize {
    assert!(shards > 0 && shards <= u32::MAX as usize);
    ((u32::from(port).wrapping_mul(PORT_MIX) >> 16) % shards as u32) as usize
}

/// The classic BPF program computing `shard_of_port` from the SYN's TCP header, for IPv4 and
/// IPv6. The program sees the packet past the TCP header, so it reads from the network header
/// (`SKF_NET_OFF`); for IPv4 the TCP header starts after IHL words.
fn program(shards: usize) -> Vec<libc::sock_filter> {
    assert!(shards > 1 && shards <= u32::MAX as usize);
    let net = libc::SKF_NET_OFF as u32;
    let op = |code: u32, jt: u8, jf: u8, k: u32| libc::sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    use libc::{
        BPF_A, BPF_ABS, BPF_ALU, BPF_AND, BPF_B, BPF_H, BPF_IND, BPF_JA, BPF_JEQ, BPF_JMP, BPF_K,
        BPF_LD, BPF_LSH, BPF_MISC, BPF_MOD, BPF_MUL, BPF_RET, BPF_RSH, BPF_TAX,
    };
    vec![
        op(BPF_LD | BPF_B | BPF_ABS, 0, 0, net), // A = first byte of the IP header
        op(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 4),  // A = IP version
        op(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 6),  // IPv6: to the fixed offset below
        op(BPF_LD | BPF_B | BPF_ABS, 0, 0, net),
        op(BPF_ALU | BPF_AND | BPF_K, 0, 0, 0x0f), // IHL, in 32-bit words
        op(BPF_ALU | BPF_LSH | BPF_K, 0, 0, 2),
        op(BPF_MISC | BPF_TAX, 0, 0, 0), // X = IPv4 header length
        op(BPF_LD | BPF_H | BPF_IND, 0, 0, net), // A = TCP source port
        op(BPF_JMP | BPF_JA, 0, 0, 1),
        op(BPF_LD | BPF_H | BPF_ABS, 0, 0, net.wrapping_add(40)), // IPv6 source port
        op(BPF_ALU | BPF_MUL | BPF_K, 0, 0, PORT_MIX),
        op(BPF_ALU | BPF_RSH | BPF_K, 0, 0, 16),
        op(BPF_ALU | BPF_MOD | BPF_K, 0, 0, shards as u32),
        op(BPF_RET | BPF_A, 0, 0, 0), // the socket's index in the reuseport group
    ]
}

/// Attaches the steering program to the reuseport group of listener `fd` (the group keeps one
/// program; attaching again replaces it with the same).
pub fn attach(fd: RawFd, shards: usize) -> std::io::Result<()> {
    if shards < 2 {
        return Ok(());
    }
    let mut filter = program(shards);
    let fprog = libc::sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_mut_ptr(),
    };
    // SAFETY: `fprog` points at `filter`, which outlives the call; the kernel copies both.
    let status = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            SO_ATTACH_REUSEPORT_CBPF,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as libc::socklen_t,
        )
    };
    if status != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Source ports in `range` (inclusive) that `shard_of_port` maps to `shard`, starting at
/// `start` and wrapping once around the range.
fn ports_for(
    shard: usize,
    shards: usize,
    range: (u16, u16),
    start: u16,
) -> impl Iterator<Item = u16> {
    let (first, last) = range;
    assert!(first <= last && shard < shards);
    let width = u32::from(last - first) + 1;
    let offset = u32::from(start.clamp(first, last) - first);
    (0..width)
        .map(move |i| first + ((offset + i) % width) as u16)
        .filter(move |port| shard_of_port(*port, shards) == shard)
}

/// The kernel's ephemeral port range (`net.ipv4.ip_local_port_range`).
fn local_port_range() -> (u16, u16) {
    std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range")
        .ok()
        .and_then(|text| {
            let mut parts = text.split_whitespace().map(|p| p.parse::<u16>().ok());
            Some((parts.next()??, parts.next()??))
        })
        .filter(|(first, last)| first <= last)
        .unwrap_or(LOCAL_PORT_RANGE_DEFAULT)
}

/// Connects to `address` from a source port that steers the connection to shard `shard` of
/// `shards` (blocking: run it on a blocking thread). None when no such port could be bound:
/// the caller connects from any port.
pub fn connect_steered(
    address: SocketAddr,
    shard: usize,
    shards: usize,
    timeout: Duration,
) -> Option<std::io::Result<TcpStream>> {
    let range = local_port_range();
    let start = range
        .0
        .wrapping_add((std::process::id() as u16).wrapping_mul(31));
    for port in ports_for(shard, shards, range, start).take(STEERED_PORT_ATTEMPTS_MAX) {
        let domain = socket2::Domain::for_address(address);
        let socket = match socket2::Socket::new(domain, socket2::Type::STREAM, None) {
            Ok(socket) => socket,
            Err(err) => return Some(Err(err)),
        };
        // A port held only by connections in TIME_WAIT may be bound again.
        if let Err(err) = socket.set_reuse_address(true) {
            return Some(Err(err));
        }
        let local: SocketAddr = match address {
            SocketAddr::V4(_) => (std::net::Ipv4Addr::UNSPECIFIED, port).into(),
            SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, port).into(),
        };
        if socket.bind(&local.into()).is_err() {
            continue;
        }
        return Some(match socket.connect_timeout(&address.into(), timeout) {
            Ok(()) => Ok(socket.into()),
            // Another connection from this port to the same address: try the next port.
            Err(err) if err.kind() == std::io::ErrorKind::AddrNotAvailable => continue,
            Err(err) => Err(err),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::os::fd::AsRawFd;

    use super::*;

    #[test]
    fn ports_spread_evenly_even_when_the_kernel_picks_only_even_ones() {
        for shards in [2usize, 3, 4, 8] {
            let mut counts = vec![0usize; shards];
            for port in (32768u16..60999).step_by(2) {
                counts[shard_of_port(port, shards)] += 1;
            }
            let mean = counts.iter().sum::<usize>() / shards;
            assert!(
                counts
                    .iter()
                    .all(|&c| c > mean * 9 / 10 && c < mean * 11 / 10),
                "{shards} shards: {counts:?}"
            );
        }
    }

    #[test]
    fn ports_for_a_shard_map_to_it_and_wrap_around_the_range() {
        let ports: Vec<u16> = ports_for(1, 3, (100, 200), 190).collect();
        let expected: Vec<u16> = (190..=200)
            .chain(100..190)
            .filter(|&p| shard_of_port(p, 3) == 1)
            .collect();
        assert!(expected.len() > 20, "{expected:?}");
        assert_eq!(ports, expected);
    }

    /// A reuseport group of `shards` listeners on one port of `ip`, bound in order; None when
    /// the address cannot be bound (a host without IPv6).
    fn group(ip: std::net::IpAddr, shards: usize) -> Option<Vec<TcpListener>> {
        let mut listeners = Vec::new();
        let mut port = 0;
        for _ in 0..shards {
            let address = SocketAddr::new(ip, port);
            let domain = socket2::Domain::for_address(address);
            let socket =
                socket2::Socket::new(domain, socket2::Type::STREAM, None).expect("a socket");
            socket.set_reuse_port(true).expect("SO_REUSEPORT");
            socket.bind(&address.into()).ok()?;
            socket.listen(64).expect("listen");
            let listener: TcpListener = socket.into();
            port = listener.local_addr().expect("bound").port();
            listeners.push(listener);
        }
        Some(listeners)
    }

    /// Which listener of the group took the connection just made.
    fn acceptor(listeners: &[TcpListener]) -> usize {
        for listener in listeners {
            listener.set_nonblocking(true).expect("non-blocking");
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        loop {
            for (index, listener) in listeners.iter().enumerate() {
                if listener.accept().is_ok() {
                    return index;
                }
            }
            assert!(std::time::Instant::now() < deadline, "no listener accepted");
            std::thread::yield_now();
        }
    }

    #[test]
    fn the_kernel_accepts_a_steered_connection_on_its_shard() {
        let listeners = group([127, 0, 0, 1].into(), 3).expect("IPv4 loopback");
        steered_connections_land_on_their_socket(&listeners);
    }

    #[test]
    fn steering_reads_the_port_of_ipv6_connections_too() {
        let Some(listeners) = group(std::net::Ipv6Addr::LOCALHOST.into(), 3) else {
            eprintln!("no IPv6 loopback here");
            return;
        };
        steered_connections_land_on_their_socket(&listeners);
    }

    fn steered_connections_land_on_their_socket(listeners: &[TcpListener]) {
        let shards = listeners.len();
        attach(listeners[0].as_raw_fd(), shards).expect("the program attaches");
        let address = listeners[0].local_addr().expect("bound");
        for shard in 0..shards {
            for _ in 0..4 {
                let stream = connect_steered(address, shard, shards, Duration::from_secs(5))
                    .expect("a port to bind")
                    .expect("connected");
                assert_eq!(
                    shard_of_port(stream.local_addr().unwrap().port(), shards),
                    shard
                );
                assert_eq!(acceptor(listeners), shard);
            }
        }
        // Kernel-chosen ports reach every shard.
        let mut seen = vec![false; shards];
        for _ in 0..60 {
            let stream = TcpStream::connect(address).expect("connected");
            seen[acceptor(listeners)] = true;
            drop(stream);
        }
        assert!(seen.iter().all(|s| *s), "{seen:?}");
    }
}

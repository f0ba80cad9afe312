//! Refuses a client port that another process already listens on. Every shard binds its
//! listeners with SO_REUSEPORT, and the kernel lets any process of the same user join such a
//! group: a second broker (or any program) started on a broker's port would not fail with
//! "address in use" but silently take a share of its clients' connections, and a TLS listener
//! sharing a plaintext one answers half the clients with TLS alerts. Kafka fails at bind; so do
//! we, by looking for listening sockets on the port that are not this process's own.
//!
//! `sluice start` checks each client address before it touches the data dir (a broker started
//! second never joins the group), and each shard checks again once it listens (two brokers
//! that started at the same instant both see each other and both refuse, instead of both
//! serving).

use std::collections::BTreeSet;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

/// `/proc/net/tcp*`'s state code for a listening socket (`TCP_LISTEN`).
const STATE_LISTEN: &str = "0A";
/// Bounds the scan for the holder's pid.
const PROCESSES_SCANNED_MAX: usize = 100_000;
/// Between looks at a listening socket no process holds, while waiting for it to close.
const UNHELD_POLL_MS: u64 = 50;

/// A socket listening on the address that is not this process's.
#[derive(Debug, PartialEq)]
enum Foreign {
    /// A process holds it: the pid and command name.
    Held(u32, String),
    /// No process this one can see holds it. Most often it belongs to a process killed a
    /// moment ago: the kernel closes the sockets of a dead process's io_uring instance only
    /// once it has torn that instance down.
    Unheld,
}

/// Fails with `AddrInUse` when a socket other than this process's own listens on `address`
/// (or on an address overlapping it: the wildcard, or the same address in the other family).
/// Without `/proc` the check cannot run: it logs why and lets the bind stand.
pub fn refuse_foreign(address: SocketAddr) -> io::Result<()> {
    refuse_foreign_within(address, Duration::ZERO)
}

/// As [`refuse_foreign`], but gives listening sockets that no process holds up to `unheld_wait`
/// to close before refusing: a broker restarted right after a kill -9 then starts. (Before the
/// check, it joined the dead broker's socket, which took connections nobody would accept.)
pub fn refuse_foreign_within(address: SocketAddr, unheld_wait: Duration) -> io::Result<()> {
    wait_out_unheld(unheld_wait, || foreign_listener(address))
        .map_err(|err| io::Error::new(err.kind(), format!("address {address} in use: {err}")))
}

/// Asks `look` until it finds no foreign listener (Ok), a held one (Err at once), or an unheld
/// one still there after `unheld_wait` (Err).
fn wait_out_unheld(
    unheld_wait: Duration,
    mut look: impl FnMut() -> io::Result<Option<Foreign>>,
) -> io::Result<()> {
    let started = Instant::now();
    let mut waiting_told = false;
    loop {
        let foreign = match look() {
            Ok(foreign) => foreign,
            Err(err) => {
                tracing::warn!("cannot tell whether another process shares this port: {err}");
                return Ok(());
            }
        };
        let why = match foreign {
            None => return Ok(()),
            Some(Foreign::Unheld) if started.elapsed() < unheld_wait => {
                if !waiting_told {
                    waiting_told = true;
                    tracing::info!("waiting for a listening socket no process holds to close");
                }
                std::thread::sleep(Duration::from_millis(UNHELD_POLL_MS));
                continue;
            }
            Some(Foreign::Held(pid, name)) => format!("pid {pid} ({name}) listens on it"),
            Some(Foreign::Unheld) => format!(
                "a socket no visible process holds listens on it (still there after {} ms: a \
                 process in another pid namespace, or one killed and not yet torn down)",
                unheld_wait.as_millis()
            ),
        };
        return Err(io::Error::new(
            io::ErrorKind::AddrInUse,
            format!("{why}, and SO_REUSEPORT would hand it part of this broker's connections"),
        ));
    }
}

/// The first socket listening on `address` that is not this process's, if any.
fn foreign_listener(address: SocketAddr) -> io::Result<Option<Foreign>> {
    let listening = listening_inodes(address)?;
    if listening.is_empty() {
        return Ok(None);
    }
    let own = socket_inodes("/proc/self/fd")?;
    Ok(listening
        .difference(&own)
        .next()
        .map(|inode| match holder_of(*inode) {
            Some((pid, name)) => Foreign::Held(pid, name),
            None => Foreign::Unheld,
        }))
}

/// Inodes of the sockets listening on an address overlapping `address`, from this network
/// namespace's `/proc/net/tcp` and `/proc/net/tcp6`.
fn listening_inodes(address: SocketAddr) -> io::Result<BTreeSet<u64>> {
    let mut inodes = BTreeSet::new();
    for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
        let text = match std::fs::read_to_string(table) {
            Ok(text) => text,
            // A kernel without IPv6 has no tcp6 table.
            Err(err) if err.kind() == io::ErrorKind::NotFound && table.ends_with('6') => continue,
            Err(err) => return Err(io::Error::new(err.kind(), format!("{table}: {err}"))),
        };
        for line in text.lines().skip(1) {
            if let Some(row) = ListenRow::parse(line) {
                if row.port == address.port() && overlaps(row.ip, address.ip()) {
                    inodes.insert(row.inode);
                }
            }
        }
    }
    Ok(inodes)
}

/// One listening socket of a `/proc/net/tcp*` table.
#[derive(Debug, PartialEq)]
struct ListenRow {
    ip: IpAddr,
    port: u16,
    inode: u64,
}

impl ListenRow {
    /// None for a socket that is not listening or a line that is not a socket row. Columns:
    /// `sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...`.
    fn parse(line: &str) -> Option<ListenRow> {
        let columns: Vec<&str> = line.split_whitespace().collect();
        let (local, state, inode) = (columns.get(1)?, columns.get(3)?, columns.get(9)?);
        if *state != STATE_LISTEN {
            return None;
        }
        let (ip_hex, port_hex) = local.split_once(':')?;
        Some(ListenRow {
            ip: parse_ip(ip_hex)?,
            port: u16::from_str_radix(port_hex, 16).ok()?,
            inode: inode.parse().ok()?,
        })
    }
}

/// The kernel prints an address as 32-bit words, each the raw network-order bytes read as a
/// host-order integer: so each word's host-order bytes are the address's bytes.
fn parse_ip(hex: &str) -> Option<IpAddr> {
    let word = |chunk: &str| u32::from_str_radix(chunk, 16).ok().map(u32::to_ne_bytes);
    match hex.len() {
        8 => Some(IpAddr::V4(Ipv4Addr::from(word(hex)?))),
        32 => {
            let mut bytes = [0u8; 16];
            for (index, out) in bytes.chunks_exact_mut(4).enumerate() {
                out.copy_from_slice(&word(hex.get(index * 8..index * 8 + 8)?)?);
            }
            Some(IpAddr::V6(Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// Whether a listener on `a` and one on `b` (same port) would take each other's connections.
fn overlaps(a: IpAddr, b: IpAddr) -> bool {
    let (a, b) = (a.to_canonical(), b.to_canonical());
    a == b || a.is_unspecified() || b.is_unspecified()
}

/// Inodes of the sockets among the descriptors listed in `fd_dir` (`/proc/PID/fd`).
fn socket_inodes(fd_dir: &str) -> io::Result<BTreeSet<u64>> {
    let mut inodes = BTreeSet::new();
    for entry in std::fs::read_dir(fd_dir)? {
        // A descriptor closed while listing is simply gone.
        let Ok(target) = std::fs::read_link(entry?.path()) else {
            continue;
        };
        if let Some(inode) = socket_inode(&target.to_string_lossy()) {
            inodes.insert(inode);
        }
    }
    Ok(inodes)
}

/// `socket:[12345]` → 12345.
fn socket_inode(link: &str) -> Option<u64> {
    link.strip_prefix("socket:[")?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// The pid and command name of a process holding socket `inode`, if one can be read.
fn holder_of(inode: u64) -> Option<(u32, String)> {
    let processes = std::fs::read_dir("/proc").ok()?;
    for entry in processes.flatten().take(PROCESSES_SCANNED_MAX) {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|name| name.parse::<u32>().ok())
        else {
            continue;
        };
        let fd_dir = format!("/proc/{pid}/fd");
        if socket_inodes(&fd_dir).is_ok_and(|inodes| inodes.contains(&inode)) {
            let name = std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default();
            return Some((pid, name.trim().to_string()));
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn rows_give_the_listening_address_port_and_inode() {
        let v4 = "   3: 0100007F:2384 00000000:0000 0A 00000000:00000000 00:00000000 00000000     \
                  0        0 41817 1 0000000000000000 100 0 0 10 0";
        assert_eq!(
            ListenRow::parse(v4),
            Some(ListenRow {
                ip: IpAddr::from([127, 0, 0, 1]),
                port: 9092,
                inode: 41817
            })
        );
        let v6 =
            "   0: 00000000000000000000000001000000:2384 00000000000000000000000000000000:0000 \
                  0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0 100 0 0 10 0";
        let row = ListenRow::parse(v6).expect("a listening v6 row");
        assert_eq!(row.ip, IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(row.port, 9092);
        let established = v4.replace(" 0A ", " 01 ");
        assert_eq!(ListenRow::parse(&established), None);
        assert_eq!(
            ListenRow::parse("  sl  local_address rem_address   st"),
            None
        );
    }

    #[test]
    fn the_wildcard_and_the_mapped_address_overlap_their_family() {
        let loopback = IpAddr::from([127, 0, 0, 1]);
        assert!(overlaps(loopback, IpAddr::from([0, 0, 0, 0])));
        assert!(overlaps(IpAddr::V6(Ipv6Addr::UNSPECIFIED), loopback));
        assert!(overlaps(loopback, IpAddr::V6(loopback_v4_mapped())));
        assert!(!overlaps(loopback, IpAddr::from([127, 0, 0, 2])));
    }

    fn loopback_v4_mapped() -> Ipv6Addr {
        Ipv4Addr::LOCALHOST.to_ipv6_mapped()
    }

    #[test]
    fn this_process_own_listeners_are_not_foreign() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("bound");
        assert_eq!(listening_inodes(address).expect("/proc").len(), 1);
        refuse_foreign(address).expect("its own listener");
    }

    #[test]
    fn another_process_listening_on_the_port_is_refused_and_named() {
        let child = ListeningChild::start();
        let err = refuse_foreign(child.address).expect_err("the child's listener is foreign");
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        let message = err.to_string();
        assert!(message.contains("in use"), "{message}");
        assert!(
            message.contains(&format!("pid {}", child.process.id())),
            "{message}"
        );
    }

    #[test]
    fn an_unheld_listener_that_closes_within_the_wait_is_no_refusal() {
        let mut looks = vec![None, Some(Foreign::Unheld), Some(Foreign::Unheld)];
        let waited = wait_out_unheld(Duration::from_secs(60), || Ok(looks.pop().flatten()));
        waited.expect("the socket closed");
        assert!(looks.is_empty(), "looked until it closed");
    }

    #[test]
    fn a_held_listener_is_refused_at_once_and_an_unheld_one_after_the_wait() {
        let mut looks = 0;
        let held = wait_out_unheld(Duration::from_secs(60), || {
            looks += 1;
            Ok(Some(Foreign::Held(7, "kafka".into())))
        });
        let err = held.expect_err("held by another process");
        assert_eq!(looks, 1);
        assert_eq!(err.kind(), io::ErrorKind::AddrInUse);
        assert!(err.to_string().contains("pid 7 (kafka)"), "{err}");
        let unheld = wait_out_unheld(Duration::ZERO, || Ok(Some(Foreign::Unheld)));
        let err = unheld.expect_err("still there after the wait");
        assert!(err.to_string().contains("no visible process"), "{err}");
    }

    /// A child process (python3) listening on a loopback port, killed on drop.
    struct ListeningChild {
        process: std::process::Child,
        address: SocketAddr,
    }

    impl ListeningChild {
        fn start() -> ListeningChild {
            use std::io::BufRead;
            let script = "import socket,sys\n\
                          s=socket.socket()\n\
                          s.bind(('127.0.0.1',0))\n\
                          s.listen()\n\
                          print(s.getsockname()[1],flush=True)\n\
                          sys.stdin.read()\n";
            let mut process = std::process::Command::new("python3")
                .args(["-c", script])
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .spawn()
                .expect("python3 runs");
            let stdout = process.stdout.take().expect("piped stdout");
            let mut line = String::new();
            // The child prints its port once it listens, or exits (EOF) if it cannot.
            std::io::BufReader::new(stdout)
                .read_line(&mut line)
                .expect("read the child's port");
            let port: u16 = line.trim().parse().expect("the child's port");
            ListeningChild {
                process,
                address: SocketAddr::from(([127, 0, 0, 1], port)),
            }
        }
    }

    impl Drop for ListeningChild {
        fn drop(&mut self) {
            let _ = self.process.kill();
            let _ = self.process.wait();
        }
    }
}

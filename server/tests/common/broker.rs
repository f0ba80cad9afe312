//! One `sluice` broker process per test: free loopback port, temp data dir, logs in a file.
//!
//! The process is SIGKILLed and reaped when the [`Broker`] drops. If the test is failing at
//! that point, the broker's log is printed (and with `SLUICE_TEST_KEEP_DIRS=1` its data dir
//! is kept for inspection).

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::Duration;

use tempfile::TempDir;

use super::wait::wait_until;
use super::wire::KafkaConnection;

/// How long a broker may take from spawn to answering ApiVersions.
pub const STARTUP_TIMEOUT: Duration = Duration::from_secs(60);
/// Attempts at a fresh port when the one we picked was taken meanwhile.
const PORT_ATTEMPTS_MAX: usize = 3;
/// Set (to anything) to keep a failed test's broker data and log dirs.
pub const KEEP_DIRS_ENV: &str = "SLUICE_TEST_KEEP_DIRS";
/// Lines of broker log printed when a test fails.
const LOG_TAIL_LINES: usize = 300;

/// How to start the broker.
#[derive(Clone, Debug)]
pub struct BrokerOptions {
    /// `--cores N`.
    pub cores: usize,
    /// Contents of a TOML file passed as `--config`, using Kafka's key names.
    pub config_toml: Option<String>,
    /// Parent of the temp data dir (default: the system temp dir), e.g. a small mount.
    pub data_parent: Option<PathBuf>,
    /// The client port (default: a free one picked at start).
    pub port: Option<u16>,
    /// More `sluice start` arguments (cluster flags).
    pub extra_args: Vec<String>,
    /// The address the client listener binds (default 127.0.0.1).
    pub host: std::net::IpAddr,
    /// A command the broker runs under, e.g. `ip netns exec NS` (it must exec the broker,
    /// so that killing the child kills the broker).
    pub command_prefix: Vec<String>,
}

impl Default for BrokerOptions {
    fn default() -> Self {
        BrokerOptions {
            cores: 1,
            config_toml: None,
            data_parent: None,
            port: None,
            extra_args: Vec::new(),
            host: std::net::IpAddr::from([127, 0, 0, 1]),
            command_prefix: Vec::new(),
        }
    }
}

impl BrokerOptions {
    pub fn cores(mut self, cores: usize) -> Self {
        self.cores = cores;
        self
    }

    pub fn config(mut self, toml: &str) -> Self {
        self.config_toml = Some(toml.to_string());
        self
    }

    /// Put the data dir under `parent` (reliability tests: a small loop-mounted filesystem).
    pub fn data_dir_in(mut self, parent: &Path) -> Self {
        self.data_parent = Some(parent.to_path_buf());
        self
    }
}

/// A running `sluice start` child process owned by one test.
pub struct Broker {
    child: Option<Child>,
    options: BrokerOptions,
    port: u16,
    data_dir: Option<TempDir>,
    work_dir: Option<TempDir>,
    log_path: PathBuf,
    config_path: Option<PathBuf>,
    starts: usize,
    /// Where this start's lines begin in the log (after its harness header).
    log_start_bytes: u64,
}

impl Broker {
    /// Start a broker and wait until it answers ApiVersions.
    pub fn start(options: BrokerOptions) -> Broker {
        let mut broker = Broker::prepare(options);
        for attempt in 1..=PORT_ATTEMPTS_MAX {
            broker.port = broker.options.port.unwrap_or_else(free_loopback_port);
            match broker.spawn_and_wait_ready() {
                Ok(()) => return broker,
                Err(reason)
                    if attempt < PORT_ATTEMPTS_MAX
                        && reason.contains("in use")
                        && broker.options.port.is_none() =>
                {
                    eprintln!("broker start attempt {attempt} failed ({reason}); new port");
                }
                Err(reason) => broker.fail(&format!("broker did not start: {reason}")),
            }
        }
        unreachable!("the last attempt either returns or fails");
    }

    /// Starts a broker on `options.port` without waiting for it: members of a cluster are
    /// ready only once enough of them run. Call [`Broker::wait_started`] next.
    pub fn spawn(options: BrokerOptions) -> Broker {
        let port = options.port.expect("a cluster member needs a fixed port");
        let mut broker = Broker::prepare(options);
        broker.port = port;
        if let Err(reason) = broker.spawn_only() {
            broker.fail(&format!("broker did not start: {reason}"));
        }
        broker
    }

    /// Waits until a spawned broker answers ApiVersions (fails the test otherwise).
    pub fn wait_started(&mut self) {
        if let Err(reason) = self.wait_ready() {
            self.fail(&format!("broker did not start: {reason}"));
        }
    }

    /// [`Broker::wait_started`] that returns why it did not start (e.g. "address in use")
    /// instead of failing the test.
    pub fn try_wait_started(&mut self) -> Result<(), String> {
        self.wait_ready()
    }

    /// Restarts a killed broker without waiting for it (see [`Broker::spawn`]).
    pub fn respawn(&mut self) {
        assert!(self.child.is_none(), "respawn while the broker runs");
        if let Err(reason) = self.spawn_only() {
            self.fail(&format!("broker did not restart: {reason}"));
        }
    }

    fn prepare(options: BrokerOptions) -> Broker {
        let work_dir = tempfile::Builder::new()
            .prefix("sluice-test-work-")
            .tempdir()
            .expect("create temp work dir");
        let data_dir = match &options.data_parent {
            Some(parent) => tempfile::Builder::new()
                .prefix("sluice-test-data-")
                .tempdir_in(parent),
            None => tempfile::Builder::new()
                .prefix("sluice-test-data-")
                .tempdir(),
        }
        .expect("create temp data dir");
        let log_path = work_dir.path().join("broker.log");
        let config_path = options.config_toml.as_ref().map(|toml| {
            let path = work_dir.path().join("broker.toml");
            std::fs::write(&path, toml).expect("write broker config");
            path
        });
        Broker {
            child: None,
            options,
            port: 0,
            data_dir: Some(data_dir),
            work_dir: Some(work_dir),
            log_path,
            config_path,
            starts: 0,
            log_start_bytes: 0,
        }
    }

    /// The broker's process id while it runs (reliability tests read /proc/PID/status).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|child| child.id())
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.options.host, self.port)
    }

    /// `HOST:PORT`, for client bootstrap settings.
    pub fn bootstrap(&self) -> String {
        self.addr().to_string()
    }

    pub fn data_dir(&self) -> &Path {
        self.data_dir
            .as_ref()
            .expect("data dir lives until drop")
            .path()
    }

    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// A new raw connection to the broker.
    pub fn connect(&self) -> KafkaConnection {
        match KafkaConnection::connect(self.addr()) {
            Ok(connection) => connection,
            Err(e) => self.fail(&format!("connect to broker: {e}")),
        }
    }

    /// SIGKILL the broker (no shutdown path runs) and reap it.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            // kill() fails only if the child was already reaped; wait() tells us either way.
            if let Err(e) = child.kill() {
                eprintln!("kill broker: {e}");
            }
            match child.wait() {
                Ok(status) => eprintln!("broker killed: {status}"),
                Err(e) => eprintln!("wait for killed broker: {e}"),
            }
        }
    }

    /// SIGSTOP the broker: the process and its sockets stay (the kernel still accepts and
    /// buffers), but it runs nothing, heartbeats included, until [`Broker::resume`].
    pub fn pause(&self) {
        self.signal(libc::SIGSTOP, "SIGSTOP");
    }

    /// SIGCONT a paused broker.
    pub fn resume(&self) {
        self.signal(libc::SIGCONT, "SIGCONT");
    }

    /// SIGHUP: the broker re-reads its TLS certificates at its next connections.
    pub fn reload_certificates(&self) {
        self.signal(libc::SIGHUP, "SIGHUP");
    }

    fn signal(&self, signal: libc::c_int, name: &str) {
        let Some(pid) = self.pid() else {
            self.fail(&format!("{name}: the broker is not running"));
        };
        // SAFETY: kill(2) on our own child's pid; it has not been reaped yet.
        let rc = unsafe { libc::kill(pid as libc::pid_t, signal) };
        assert_eq!(rc, 0, "kill({name}) failed");
    }

    /// SIGTERM the broker (its clean shutdown path) and wait for it to exit.
    pub fn terminate(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let Some(pid) = self.pid() else {
            self.fail("terminate: broker is not running");
        };
        // SAFETY: kill(2) on our own child's pid; it has not been reaped yet.
        let rc = unsafe { libc::kill(pid as libc::pid_t, libc::SIGTERM) };
        assert_eq!(rc, 0, "kill(SIGTERM) failed");
        // The child stays in `self` meanwhile: if it never exits, the drop kills it and
        // prints its log.
        let status = wait_until("the broker to exit after SIGTERM", timeout, || {
            let child = self.child.as_mut().expect("the broker we signalled");
            child
                .try_wait()
                .unwrap_or_else(|e| panic!("wait for broker after SIGTERM: {e}"))
        });
        self.child = None;
        status
    }

    /// Kill -9 if running, then start again on the same port and data dir.
    pub fn restart(&mut self) {
        self.kill9();
        wait_until("the broker to restart on its port", STARTUP_TIMEOUT, || {
            match self.spawn_and_wait_ready() {
                Ok(()) => true,
                // The kernel may hold the port briefly after the kill.
                Err(reason) if reason.contains("in use") => false,
                Err(reason) => self.fail(&format!("broker did not restart: {reason}")),
            }
        })
    }

    /// Panics (with the log) if the broker process has exited.
    pub fn assert_alive(&mut self) {
        let exited = match self.child.as_mut().map(|c| c.try_wait()) {
            None => Some("not running".to_string()),
            Some(Ok(Some(status))) => Some(format!("exited: {status}")),
            Some(Ok(None)) => None,
            Some(Err(e)) => Some(format!("try_wait failed: {e}")),
        };
        if let Some(reason) = exited {
            self.fail(&format!("broker is not alive: {reason}"));
        }
    }

    /// The whole broker log so far.
    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Panic with `why` after printing the tail of the broker log.
    /// Waits until the broker's log holds `needle` (log lines reach the file a moment after
    /// the event that wrote them) and returns the log.
    pub fn wait_for_log(&self, needle: &str, deadline: Duration) -> String {
        wait_until(&format!("broker log line {needle:?}"), deadline, || {
            let log = self.log_text();
            log.contains(needle).then_some(log)
        })
    }

    pub fn fail(&self, why: &str) -> ! {
        self.print_log_tail();
        panic!("{why}");
    }

    fn print_log_tail(&self) {
        let text = self.log_text();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(LOG_TAIL_LINES);
        eprintln!(
            "----- broker log {} (last {} of {} lines) -----",
            self.log_path.display(),
            lines.len() - from,
            lines.len()
        );
        for line in &lines[from..] {
            eprintln!("{line}");
        }
        eprintln!("----- end of broker log -----");
    }

    fn spawn_and_wait_ready(&mut self) -> Result<(), String> {
        self.spawn_only()?;
        self.wait_ready()
    }

    fn spawn_only(&mut self) -> Result<(), String> {
        assert!(self.child.is_none(), "spawn while a broker is running");
        self.starts += 1;
        let log = self.open_log()?;
        self.log_start_bytes = log
            .metadata()
            .map_err(|e| format!("stat broker log: {e}"))?
            .len();
        let log_err = log.try_clone().map_err(|e| format!("clone log fd: {e}"))?;
        let mut command = match self.options.command_prefix.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(env!("CARGO_BIN_EXE_sluice"));
                command
            }
            None => Command::new(env!("CARGO_BIN_EXE_sluice")),
        };
        command
            .arg("start")
            .arg("--listen")
            .arg(self.bootstrap())
            .arg("--data-dir")
            .arg(self.data_dir())
            .arg("--cores")
            .arg(self.options.cores.to_string());
        if let Some(path) = &self.config_path {
            command.arg("--config").arg(path);
        }
        command.args(&self.options.extra_args);
        // Tests run brokers side by side: each gets its own metrics port unless it chose one.
        let metrics_chosen = self
            .options
            .config_toml
            .as_deref()
            .is_some_and(|toml| toml.contains("sluice.metrics.listen"));
        if !metrics_chosen {
            command.arg("--metrics-listen").arg("127.0.0.1:0");
        }
        // Readiness waits for the start line: a RUST_LOG of the caller's keeps it.
        let log_filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "info".to_string());
        command.env(
            "RUST_LOG",
            format!("{log_filter},{LISTENING_LINE_TARGET}=info"),
        );
        command
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(log_err));
        let child = command.spawn().map_err(|e| format!("spawn sluice: {e}"))?;
        self.child = Some(child);
        Ok(())
    }

    fn open_log(&self) -> Result<File, String> {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .map_err(|e| format!("open broker log: {e}"))?;
        writeln!(
            log,
            "===== test harness: start #{} on {} (cores {}) =====",
            self.starts,
            self.bootstrap(),
            self.options.cores
        )
        .map_err(|e| format!("write broker log: {e}"))?;
        Ok(log)
    }

    /// Ready means: accepts a connection and answers ApiVersions v0. Err when the broker
    /// exited meanwhile; a broker still not ready at [`STARTUP_TIMEOUT`] fails the test (the
    /// drop prints its log).
    fn wait_ready(&mut self) -> Result<(), String> {
        wait_until("the broker to answer ApiVersions", STARTUP_TIMEOUT, || {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(status)) = child.try_wait() {
                    self.child = None;
                    let log = self.log_text();
                    let in_use = log.contains("Address already in use") || log.contains("in use");
                    return Some(Err(format!(
                        "broker exited during startup ({status}){}",
                        if in_use { ": address in use" } else { "" }
                    )));
                }
            }
            // An answer alone could come from another process sharing the port through
            // SO_REUSEPORT while this broker is about to refuse it (`foreign_listeners`): ready
            // is this start's own "listening on" line (logged once every listener is bound)
            // and an answer.
            if !self.logged_since_start(LISTENING_LINE) {
                return None;
            }
            let ping = KafkaConnection::connect(self.addr()).and_then(|mut c| c.ping());
            ping.is_ok().then_some(Ok(()))
        })
    }

    /// Whether the log since this start's header contains `text`.
    fn logged_since_start(&self, text: &str) -> bool {
        let Ok(mut log) = File::open(&self.log_path) else {
            return false;
        };
        let mut since_start = String::new();
        log.seek(SeekFrom::Start(self.log_start_bytes)).is_ok()
            && log.read_to_string(&mut since_start).is_ok()
            && since_start.contains(text)
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.kill9();
        if thread::panicking() {
            self.print_log_tail();
            // Kept only on request: failing runs would otherwise fill the disk.
            if std::env::var_os(KEEP_DIRS_ENV).is_some() {
                if let Some(dir) = self.data_dir.take() {
                    eprintln!("keeping broker data dir {}", dir.keep().display());
                }
                if let Some(dir) = self.work_dir.take() {
                    eprintln!("keeping broker log dir {}", dir.keep().display());
                }
            } else {
                eprintln!("set {KEEP_DIRS_ENV}=1 to keep the broker's data and log dirs");
            }
        }
    }
}

/// What a broker logs once it listens on every client listener (`sluice start`).
const LISTENING_LINE: &str = " listening on ";
/// The module that logs [`LISTENING_LINE`], for `RUST_LOG`.
const LISTENING_LINE_TARGET: &str = "sluice_server::cli";

/// First and end of the port range cluster tests pick from: below Linux's ephemeral range
/// (32768-60999), so no process binding port 0 or connecting out can take a port between the
/// pick and the broker's bind.
const FIXED_PORTS: std::ops::Range<u16> = 20_000..32_000;
/// Ports [`free_fixed_port`] handed out in this process.
static HANDED_OUT: std::sync::Mutex<std::collections::BTreeSet<u16>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());
/// Tries at a free port in [`FIXED_PORTS`].
const FIXED_PORT_ATTEMPTS_MAX: usize = 200;

/// A loopback port below the ephemeral range that was free a moment ago.
pub fn free_fixed_port() -> u16 {
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0)
        ^ u64::from(std::process::id()).rotate_left(17);
    for _ in 0..FIXED_PORT_ATTEMPTS_MAX {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        let span = u64::from(FIXED_PORTS.end - FIXED_PORTS.start);
        let port = FIXED_PORTS.start + ((seed >> 33) % span) as u16;
        // Never the same port twice in one test process (one cluster's ports must differ).
        let fresh = HANDED_OUT
            .lock()
            .map(|mut handed| handed.insert(port))
            .unwrap_or(false);
        if fresh && TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
    panic!("no free port in {FIXED_PORTS:?} after {FIXED_PORT_ATTEMPTS_MAX} tries");
}

/// A loopback port that was free a moment ago (the OS picks it).
pub fn free_loopback_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral loopback port");
    listener
        .local_addr()
        .expect("local addr of listener")
        .port()
}

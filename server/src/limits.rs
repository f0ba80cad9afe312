//! Named bounds of the server, in one place. Settings a user may change live in `config.rs`;
//! these are the fixed limits behind them.

/// Smallest `socket.request.max.bytes` we accept (a request header alone is a few dozen bytes).
pub const FRAME_BYTES_MIN: u32 = 1024;
/// Smallest `connections.max.idle.ms` we accept.
pub const CONNECTION_IDLE_MS_MIN: u64 = 100;
/// Smallest frame that can hold api_key, api_version and correlation_id.
pub const REQUEST_HEADER_BYTES_MIN: usize = 8;
/// Requests accepted on one connection whose responses are not yet written (pipelining depth).
pub const REQUESTS_IN_FLIGHT_PER_CONNECTION_MAX: usize = 64;

/// A TLS client must finish its handshake within this time, or it is disconnected.
pub const TLS_HANDSHAKE_MS_MAX: u64 = 10_000;
/// Partitions per topic (CreateTopics, CreatePartitions, `num.partitions`).
pub const PARTITIONS_PER_TOPIC_MAX: i32 = 10_000;
/// Kafka's topic name length limit.
pub const TOPIC_NAME_BYTES_MAX: usize = 249;
/// Messages queued on one cross-shard channel before senders wait.
pub const MESH_CHANNEL_CAPACITY: usize = 1024;
/// Longest `max_wait_ms` a fetch may ask for; longer waits are clipped.
pub const FETCH_WAIT_MS_MAX: i32 = 30_000;
/// Time a shutting-down shard gives its connections to answer requests in flight.
pub const SHUTDOWN_DRAIN_MS_MAX: u64 = 5_000;
/// How long `sluice start` waits for a listening socket on its client port that no process
/// holds to close (a broker killed a moment ago, its io_uring instance still being torn down)
/// before it refuses the port.
pub const PORT_UNHELD_WAIT_MS_MAX: u64 = 10_000;
/// How often a shard checks whether the process was asked to stop.
pub const SHUTDOWN_POLL_MS: u64 = 20;
/// Threads of each shard's blocking pool. Cold fetches sendfile on these; they wait for the
/// disk only, never for a socket (kafka/sendfile.rs), so a consumer that stops reading holds none.
pub const BLOCKING_THREADS_PER_SHARD: usize = 4;
/// io-wq workers (threads that run fdatasyncs and extent-converting O_DIRECT writes for
/// io_uring) one shard may have; the kernel's default is four per CPU the shard may run on
/// (`iowq_workers.rs`). Enough for a flush round over this many partitions to sync at once.
pub const IOWQ_BOUNDED_WORKERS_PER_SHARD: u32 = 64;
/// Allocations at least this large get their own mmap from glibc's malloc; smaller ones come
/// from the shard's arena (`malloc_tuning.rs`). Above produce requests and replica fetch
/// answers of the default sizes, below the largest frames.
pub const MALLOC_MMAP_THRESHOLD_BYTES: i32 = 4 * 1024 * 1024;
/// Free memory at the top of an arena that glibc keeps rather than return to the kernel
/// (`malloc_tuning.rs`).
pub const MALLOC_TRIM_THRESHOLD_BYTES: i32 = 64 * 1024 * 1024;
/// glommio refuses to start with less io_memory than this.
pub const IO_MEMORY_BYTES_MIN: usize = 512 * 1024;
/// io_memory per shard when memlock is unlimited (glommio's own default).
pub const IO_MEMORY_BYTES_DEFAULT: usize = 10 * 1024 * 1024;
/// glommio registers io_memory in this many io_uring rings; each counts against memlock.
pub const IO_MEMORY_RINGS: usize = 3;
/// Largest Fetch response a follower accepts from a leader: `replica.fetch.response.max.bytes`
/// may be set up to this, and a leader always returns at least one whole batch.
pub const REPLICA_FRAME_BYTES_MAX: usize = 256 * 1024 * 1024;
/// How long a follower waits for a connection to its leader.
pub const REPLICA_CONNECT_TIMEOUT_MS: u64 = 5_000;
/// How soon a follower first asks again for a partition its leader refused for leadership or
/// epoch: the leader is usually a few milliseconds behind on the same metadata change. Each
/// further refusal in a row doubles the wait, up to `replica.fetch.backoff.ms` (a leader that
/// keeps disagreeing is asked about as often as Kafka's fetcher asks).
pub const REPLICA_METADATA_RETRY_FIRST_MS: u64 = 10;
/// How long after sending a fetch a follower still waits for its answer once it starts
/// following another partition from the same leader: past this, it drops the connection (a
/// long poll can last `replica.fetch.wait.max.ms`) and asks again with the new partition, whose
/// first acks=all write is waiting for exactly that fetch.
pub const REPLICA_JOIN_GRACE_MS: u64 = 50;
/// How much longer than its own long poll a follower waits for a Fetch answer.
pub const REPLICA_FETCH_TIMEOUT_MARGIN_MS: u64 = 10_000;
/// How often each shard looks for ISR changes to propose (at most: sooner when a follower
/// catches up).
pub const ISR_CHECK_INTERVAL_MS: u64 = 1_000;
/// Largest controller-protocol frame: a metadata snapshot sent to a lagging voter fits.
pub const CONTROLLER_FRAME_BYTES_MAX: u32 = 64 * 1024 * 1024;
/// Raft messages queued for one peer while its connection is down; older ones are dropped
/// (Raft retransmits what matters).
pub const CONTROLLER_PEER_QUEUE_MAX: usize = 1024;
/// How long a controller request (register, heartbeat, admin) may take, redirects included.
pub const CONTROLLER_REQUEST_MS_MAX: u64 = 10_000;
/// Pause before reconnecting to a peer or retrying a request without a known controller.
pub const CONTROLLER_RETRY_MS: u64 = 100;
/// Raft tick period: election and heartbeat timeouts are counted in ticks.
pub const RAFT_TICK_MS: u64 = 100;
/// Committed entries between metadata snapshots (the Raft log before one is dropped).
pub const METADATA_SNAPSHOT_ENTRIES: u64 = 1_000;
/// Heartbeat period of a fenced broker: it is waiting to be unfenced to serve.
pub const FENCED_HEARTBEAT_MS: u64 = 50;
/// How long a stopping broker waits for the controller to move its leaderships.
pub const CONTROLLED_SHUTDOWN_MS_MAX: u64 = 5_000;
/// How long a broker waits for its own shards to apply a metadata change it made.
pub const METADATA_APPLY_MS_MAX: u64 = 10_000;

/// ACL bindings one CreateAcls may carry, and filters one DeleteAcls may carry.
pub const ACL_CREATIONS_PER_REQUEST_MAX: usize = 1_000;

/// Users and credentials one DescribeUserScramCredentials or AlterUserScramCredentials may name.
pub const SCRAM_USERS_PER_REQUEST_MAX: usize = 1_000;

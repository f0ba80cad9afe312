//! The controller's simulated clients: brokers that register (a new incarnation at each
//! restart), heartbeat with the metadata offset of the voter they read metadata from, pause
//! (their session expires) and shut down; and admins that create and delete topics from a
//! small set of names (so that they collide), add partitions and set configs.

use std::collections::BTreeMap;

use sluice_controller::controller::Heartbeat;

use super::random::Random;

/// Topic names the admins pick from: few, so that creations and deletions collide.
pub const TOPIC_NAMES: [&str; 3] = ["orders", "payments", "audit"];

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// The active controller's periodic pass (fencing on session expiry, elections).
    Tick,
    Register {
        broker_id: i32,
        incarnation_id: u128,
    },
    Heartbeat(Heartbeat),
    CreateTopic {
        name: String,
        partitions: i32,
        replication_factor: i16,
    },
    DeleteTopic {
        name: String,
    },
    CreatePartitions {
        name: String,
        count: i32,
    },
    SetConfigs {
        name: String,
        configs: BTreeMap<String, String>,
    },
}

pub struct Broker {
    pub broker_id: i32,
    /// The voter whose image this broker serves metadata from.
    pub home: usize,
    pub incarnation_id: u128,
    /// The epoch of this incarnation's registration, once acknowledged.
    pub broker_epoch: Option<i64>,
    /// No heartbeats before this time (a pause: GC, a stalled host).
    pub paused_until: u64,
    /// Asked to shut down: heartbeats want a controlled shutdown until told to stop.
    pub stopping: bool,
    /// The last acknowledged registration (epoch, incarnation id), across restarts: a new
    /// incarnation's epoch is above it, a retry of the same incarnation gets it again.
    pub registered: Option<(i64, u128)>,
    /// Highest metadata offset it reported (its home voter's image, which a crash resets
    /// until replayed).
    pub metadata_offset: u64,
}

impl Broker {
    pub fn restart(&mut self, random: &mut Random) {
        self.incarnation_id = fresh_incarnation(random);
        self.broker_epoch = None;
        self.stopping = false;
    }
}

pub enum Role {
    Broker(Broker),
    Admin,
}

/// A request being served: the command, and when the client gives up on it.
pub struct Outstanding {
    pub request: u64,
    pub command: Command,
    pub deadline: u64,
    /// Sent when the chaos was over (for the liveness check).
    pub after_heal: bool,
    /// Proposed, waiting for the outcome.
    pub proposed_at: Option<usize>,
}

pub struct Client {
    pub role: Role,
    pub believed_leader: usize,
    pub outstanding: Option<Outstanding>,
    /// Requests sent so far; numbers each one, so that a late outcome of an abandoned one is
    /// told apart.
    pub requests: u64,
    /// Only the newest scheduled wake-up counts.
    pub wake_generation: u64,
}

impl Client {
    pub fn new(role: Role) -> Client {
        Client {
            role,
            believed_leader: 0,
            outstanding: None,
            requests: 0,
            wake_generation: 0,
        }
    }

    /// The next command of this client, or `None` to stay idle for now.
    pub fn next_command(&self, now: u64, random: &mut Random) -> Option<Command> {
        match &self.role {
            Role::Broker(broker) => {
                if now < broker.paused_until {
                    return None;
                }
                Some(match broker.broker_epoch {
                    None => Command::Register {
                        broker_id: broker.broker_id,
                        incarnation_id: broker.incarnation_id,
                    },
                    Some(broker_epoch) => Command::Heartbeat(Heartbeat {
                        broker_id: broker.broker_id,
                        broker_epoch,
                        metadata_offset: broker.metadata_offset,
                        want_shutdown: broker.stopping,
                    }),
                })
            }
            Role::Admin => Some(admin_command(random)),
        }
    }
}

fn admin_command(random: &mut Random) -> Command {
    let name = TOPIC_NAMES[random.index(TOPIC_NAMES.len())].to_string();
    match random.range(0, 10) {
        0..=3 => Command::CreateTopic {
            name,
            partitions: random.range(1, 4) as i32,
            replication_factor: random.range(1, 4) as i16,
        },
        4..=5 => Command::DeleteTopic { name },
        6..=7 => Command::CreatePartitions {
            name,
            count: random.range(2, 7) as i32,
        },
        _ => {
            let mut configs = BTreeMap::new();
            configs.insert("retention.ms".into(), random.range(1, 1000).to_string());
            if random.chance(500) {
                configs.insert("cleanup.policy".into(), "compact".into());
            }
            Command::SetConfigs { name, configs }
        }
    }
}

/// A new process's incarnation id (never zero).
pub fn fresh_incarnation(random: &mut Random) -> u128 {
    (u128::from(random.next_u64()) << 64 | u128::from(random.next_u64())) | 1
}

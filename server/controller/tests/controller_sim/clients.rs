//! The controller's simulated clients: brokers that register (a new incarnation at each
//! restart), heartbeat with the metadata offset of the voter they read metadata from, pause
//! (their session expires) and shut down, and, where their voter's image says they lead,
//! shrink and expand ISRs with AlterPartition (from that image, so often stale); and admins
//! that create and delete topics from a small set of names (so that they collide), add
//! partitions, set configs (sometimes allowing unclean elections) and start and cancel
//! partition reassignments.

use std::collections::BTreeMap;

use sluice_controller::controller::{AlterPartition, Heartbeat, PartitionReassignment};
use sluice_controller::image::MetadataImage;

use super::random::Random;

/// Broker ids the admins name in reassignments: 0 up to this (the simulation's brokers).
pub const BROKERS_MAX: usize = 4;

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
    AlterPartition(AlterPartition),
    Reassign(PartitionReassignment),
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

    /// The next command of this client, or `None` to stay idle for now. A broker reads
    /// `home_image`, its voter's image (`None` while that voter is down).
    pub fn next_command(
        &self,
        now: u64,
        random: &mut Random,
        home_image: Option<&MetadataImage>,
    ) -> Option<Command> {
        match &self.role {
            Role::Broker(broker) => {
                if now < broker.paused_until {
                    return None;
                }
                if let (Some(broker_epoch), Some(image)) = (broker.broker_epoch, home_image) {
                    if !broker.stopping && random.chance(ALTER_PARTITION_PER_MILLE) {
                        let alter = alter_partition(broker, broker_epoch, image, random);
                        if let Some(alter) = alter {
                            return Some(Command::AlterPartition(alter));
                        }
                    }
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
            Role::Admin => Some(admin_command(random, BROKERS_MAX)),
        }
    }
}

/// Of a broker's acts, the share (per mille) that change an ISR instead of heartbeating.
const ALTER_PARTITION_PER_MILLE: u64 = 300;

/// An ISR change of a partition `broker` leads in `image`: drop a follower, or take back a
/// replica that is out of the ISR (which the controller refuses while it is fenced). Made
/// from the broker's voter's image, so its epochs are often stale; a partition recovering
/// from an unclean election is sometimes reported still recovering.
fn alter_partition(
    broker: &Broker,
    broker_epoch: i64,
    image: &MetadataImage,
    random: &mut Random,
) -> Option<AlterPartition> {
    let led: Vec<_> = image.partitions_led_by(broker.broker_id).collect();
    if led.is_empty() {
        return None;
    }
    let view = led[random.index(led.len())];
    let current = view.image;
    let mut new_isr = current.isr.clone();
    let followers: Vec<i32> = new_isr
        .iter()
        .copied()
        .filter(|r| *r != current.leader)
        .collect();
    let outside: Vec<i32> = current
        .replicas
        .iter()
        .copied()
        .filter(|r| !current.isr.contains(r))
        .collect();
    if !followers.is_empty() && (outside.is_empty() || random.chance(400)) {
        let dropped = followers[random.index(followers.len())];
        new_isr.retain(|r| *r != dropped);
    } else if !outside.is_empty() {
        new_isr.push(outside[random.index(outside.len())]);
    }
    let still_recovering = !current.leader_recovery_state.is_recovered() && random.chance(300);
    if still_recovering {
        new_isr = vec![current.leader];
    }
    Some(AlterPartition {
        broker_id: broker.broker_id,
        broker_epoch,
        topic_id: view.topic.topic_id,
        partition: view.partition,
        leader_epoch: current.leader_epoch,
        partition_epoch: current.partition_epoch,
        new_isr,
        leader_recovered: !still_recovering,
    })
}

/// A reassignment of one of the first partitions of a topic: new targets of one to three of
/// the brokers, or a cancellation.
fn reassign(name: String, random: &mut Random, brokers: usize) -> Command {
    let partition = random.range(0, 3) as i32;
    let replicas = (!random.chance(200)).then(|| {
        let count = random.range(1, 4) as usize;
        let mut replicas: Vec<i32> = Vec::new();
        while replicas.len() < count.min(brokers) {
            let broker_id = random.index(brokers) as i32;
            if !replicas.contains(&broker_id) {
                replicas.push(broker_id);
            }
        }
        replicas
    });
    Command::Reassign(PartitionReassignment {
        topic: name,
        partition,
        replicas,
        allow_replication_factor_change: true,
    })
}

fn admin_command(random: &mut Random, brokers: usize) -> Command {
    let name = TOPIC_NAMES[random.index(TOPIC_NAMES.len())].to_string();
    if random.chance(200) {
        return reassign(name, random, brokers);
    }
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
            if random.chance(300) {
                configs.insert("unclean.leader.election.enable".into(), "true".into());
            }
            Command::SetConfigs { name, configs }
        }
    }
}

/// A new process's incarnation id (never zero).
pub fn fresh_incarnation(random: &mut Random) -> u128 {
    (u128::from(random.next_u64()) << 64 | u128::from(random.next_u64())) | 1
}

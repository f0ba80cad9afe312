//! Seeded random walks through registrations, heartbeats, silences, shutdowns, restarts and
//! topic changes. After every committed command: nobody inactive leads, and after every tick no
//! offline partition has an active ISR member and no unfenced broker has an expired session.

use super::*;
use crate::controller::rng::SeededRng;
use crate::records::NO_LEADER;

const BROKER_COUNT: i32 = 4;
const STEPS_PER_WALK: usize = 400;
const WALKS: u64 = 20;

/// Brokers the walk currently keeps quiet (crashed or partitioned away).
struct Walk {
    cluster: Cluster,
    rng: SeededRng,
    silent: [bool; BROKER_COUNT as usize + 1],
    topics_created: usize,
}

impl Walk {
    fn step(&mut self) {
        let broker_id = 1 + self.rng.below(BROKER_COUNT as usize) as i32;
        match self.rng.below(10) {
            0..=3 => self.heartbeat_all(),
            4 => self.cluster.advance(1_000 + self.rng.below(5_000) as u64),
            5 => self.silent[broker_id as usize] = !self.silent[broker_id as usize],
            6 => self.restart(broker_id),
            7 => self.shut_down(broker_id),
            8 => self.create_topic(),
            _ => self.grow_or_delete(),
        }
        self.cluster.advance(100);
        self.cluster.tick();
        self.check();
    }

    fn heartbeat_all(&mut self) {
        for broker_id in 1..=BROKER_COUNT {
            let registered = self.cluster.image.broker(broker_id).is_some();
            if registered && !self.silent[broker_id as usize] {
                self.cluster.heartbeat(broker_id);
            }
        }
    }

    fn restart(&mut self, broker_id: i32) {
        let incarnation = self.cluster.next_incarnation();
        match self.cluster.try_register(broker_id, incarnation) {
            Ok(_) => self.silent[broker_id as usize] = false,
            Err(error) => assert_eq!(error.kind, ErrorKind::DuplicateBrokerRegistration),
        }
    }

    fn shut_down(&mut self, broker_id: i32) {
        let registered = self.cluster.image.broker(broker_id).is_some();
        if registered && self.cluster.shutdown_heartbeat(broker_id).should_shutdown {
            self.silent[broker_id as usize] = true;
        }
    }

    fn create_topic(&mut self) {
        let name = format!("t{}", self.topics_created);
        self.topics_created += 1;
        let partitions = 1 + self.rng.below(6) as i32;
        let replication_factor = 1 + self.rng.below(3) as i16;
        if let Err(error) = self
            .cluster
            .create_topic(create(&name, partitions, replication_factor))
        {
            assert_eq!(error.kind, ErrorKind::InvalidReplicationFactor, "{error}");
        }
    }

    fn grow_or_delete(&mut self) {
        let Some(name) = self.cluster.image.topics.keys().next().cloned() else {
            return;
        };
        let image = &self.cluster.image;
        let batch = if self.rng.below(2) == 0 {
            let count = image.topic(&name).unwrap().partitions.len() as i32 + 1;
            match self
                .cluster
                .controller
                .create_partitions(image, &name, count, None, false)
            {
                Ok(batch) => batch,
                Err(error) => {
                    assert_eq!(error.kind, ErrorKind::InvalidReplicationFactor, "{error}");
                    return;
                }
            }
        } else {
            self.cluster.controller.delete_topic(image, &name).unwrap()
        };
        self.cluster.commit(batch);
    }

    fn check(&self) {
        let image = &self.cluster.image;
        for partition in image.partitions() {
            let p = partition.image;
            if p.leader == NO_LEADER {
                let electable = p.isr.iter().any(|r| image.is_broker_active(*r));
                assert!(!electable, "offline with an active ISR member: {p:?}");
            } else {
                assert!(image.is_broker_active(p.leader), "inactive leader: {p:?}");
            }
        }
        let timeout_ms = self.cluster.controller.config().session_timeout_ms;
        for broker in image.brokers.values().filter(|b| !b.fenced) {
            let sessions = &self.cluster.controller.sessions;
            let alive = sessions.is_alive(
                broker.broker_id,
                broker.broker_epoch,
                self.cluster.now_ms,
                timeout_ms,
            );
            assert!(
                alive,
                "unfenced broker {} with an expired session",
                broker.broker_id
            );
        }
    }
}

#[test]
fn random_walks_keep_leaders_active_and_partitions_led_when_they_can_be() {
    for seed in 0..WALKS {
        let mut walk = Walk {
            cluster: Cluster::with_seed(seed),
            rng: SeededRng::new(seed ^ 0x5eed),
            silent: [false; BROKER_COUNT as usize + 1],
            topics_created: 0,
        };
        for broker_id in 1..=BROKER_COUNT {
            walk.cluster.start_broker(broker_id);
        }
        for _ in 0..STEPS_PER_WALK {
            walk.step();
        }
        let image = &walk.cluster.image;
        assert!(image.offset > 10, "seed {seed}: the walk did something");
    }
}

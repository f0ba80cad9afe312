//! The network between the simulated processes: one FIFO link per (sender, receiver), like a
//! TCP connection. A message takes 1 to `DELAY_MS_MAX` ms; messages on one link arrive in
//! order, across links in any order. A lost message breaks its connection: everything in
//! flight on that link is lost with it (the next message goes over a new connection). A
//! network partition cuts pairs of endpoints both ways until it heals; a message that reaches a
//! cut is dropped.

use std::collections::BTreeMap;

use super::messages::Endpoint;
use super::random::Random;

/// A message takes 1 to this many ms.
pub const DELAY_MS_MAX: u64 = 8;

#[derive(Debug, Default, Clone, Copy)]
struct Link {
    arrival_last_ms: u64,
    generation: u64,
}

#[derive(Default)]
pub struct Network {
    links: BTreeMap<(Endpoint, Endpoint), Link>,
    /// Cut pairs (smaller endpoint first), each with the id of the partition that cut it.
    cuts: BTreeMap<(Endpoint, Endpoint), u64>,
    pub loss_per_mille: u64,
}

/// Where a sent message is: when it arrives, and on which connection of its link.
#[derive(Debug, Clone, Copy)]
pub struct InFlight {
    pub arrival_ms: u64,
    pub generation: u64,
}

fn pair(a: Endpoint, b: Endpoint) -> (Endpoint, Endpoint) {
    if a <= b {
        (a, b)
    } else {
        (b, a)
    }
}

impl Network {
    /// Sends a message now; None when it is lost on the way out.
    pub fn send(
        &mut self,
        now_ms: u64,
        from: Endpoint,
        to: Endpoint,
        random: &mut Random,
    ) -> Option<InFlight> {
        if self.is_cut(from, to) {
            return None;
        }
        if random.chance(self.loss_per_mille) {
            self.break_connection(from, to);
            return None;
        }
        let delay_ms = random.range(1, DELAY_MS_MAX + 1);
        let link = self.links.entry((from, to)).or_default();
        link.arrival_last_ms = link.arrival_last_ms.max(now_ms + delay_ms);
        Some(InFlight {
            arrival_ms: link.arrival_last_ms,
            generation: link.generation,
        })
    }

    /// True when a message sent on `generation` of the link still arrives now.
    pub fn delivers(&self, from: Endpoint, to: Endpoint, generation: u64) -> bool {
        let current = self
            .links
            .get(&(from, to))
            .map_or(0, |link| link.generation);
        current == generation && !self.is_cut(from, to)
    }

    /// The connection breaks: what is in flight on it, either way, is lost.
    pub fn break_connection(&mut self, a: Endpoint, b: Endpoint) {
        for key in [(a, b), (b, a)] {
            self.links.entry(key).or_default().generation += 1;
        }
    }

    pub fn is_cut(&self, a: Endpoint, b: Endpoint) -> bool {
        self.cuts.contains_key(&pair(a, b))
    }

    pub fn cut(&mut self, a: Endpoint, b: Endpoint, partition: u64) {
        assert_ne!(a, b);
        self.cuts.insert(pair(a, b), partition);
    }

    pub fn heal(&mut self, partition: u64) {
        self.cuts.retain(|_, cut_by| *cut_by != partition);
    }

    pub fn heal_all(&mut self) {
        self.cuts.clear();
    }
}

//! A network of network namespaces for partition tests: one namespace per node, each with a
//! veth pair to a bridge in the test's namespace, all on one /24. The test reaches every node
//! through the bridge; [`NetLab::isolate`] cuts a node off from the other nodes (blackhole
//! routes on both sides) while the test can still talk to it. Everything is removed on drop.
//!
//! Needs root and iproute2 (`ip`). Outside CI a machine without them skips the test; under CI
//! it fails.

use std::net::IpAddr;
use std::process::Command;

use super::clients::under_ci;

pub struct NetLab {
    tag: String,
    subnet: [u8; 3],
    nodes: usize,
    bridge_up: bool,
    namespaces: Vec<String>,
}

impl NetLab {
    /// A lab of `nodes` namespaces, or None (after saying why) where it cannot be built.
    pub fn create(nodes: usize) -> Option<NetLab> {
        assert!(nodes > 0 && nodes < 250);
        if let Err(why) = probe() {
            assert!(
                !under_ci(),
                "network namespaces are required under CI: {why}"
            );
            eprintln!("SKIPPED: cannot build network namespaces here: {why}");
            return None;
        }
        let unique = std::process::id() % 200;
        let tag = format!("sl{unique}");
        let mut lab = NetLab {
            tag: tag.clone(),
            subnet: [10, 213, (unique as u8).wrapping_add(20)],
            nodes,
            bridge_up: false,
            namespaces: Vec::new(),
        };
        let bridge = lab.bridge();
        // A bridge left by an earlier run that was killed: remove it first.
        let _ = Command::new("ip").args(["link", "del", &bridge]).status();
        ip(&["link", "add", &bridge, "type", "bridge"]);
        lab.bridge_up = true;
        ip(&[
            "addr",
            "add",
            &format!("{}/24", lab.host_ip()),
            "dev",
            &bridge,
        ]);
        ip(&["link", "set", &bridge, "up"]);
        for node in 0..nodes {
            let namespace = format!("{tag}n{node}");
            let _ = Command::new("ip")
                .args(["netns", "del", &namespace])
                .status();
            ip(&["netns", "add", &namespace]);
            lab.namespaces.push(namespace.clone());
            let outside = format!("{tag}h{node}");
            let inside = format!("{tag}p{node}");
            ip(&[
                "link", "add", &outside, "type", "veth", "peer", "name", &inside,
            ]);
            ip(&["link", "set", &inside, "netns", &namespace]);
            ip(&["link", "set", &outside, "master", &bridge]);
            ip(&["link", "set", &outside, "up"]);
            let address = format!("{}/24", lab.node_ip(node));
            ip(&[
                "netns", "exec", &namespace, "ip", "addr", "add", &address, "dev", &inside,
            ]);
            ip(&[
                "netns", "exec", &namespace, "ip", "link", "set", &inside, "up",
            ]);
            ip(&["netns", "exec", &namespace, "ip", "link", "set", "lo", "up"]);
        }
        Some(lab)
    }

    fn bridge(&self) -> String {
        format!("{}br", self.tag)
    }

    fn host_ip(&self) -> IpAddr {
        IpAddr::from([self.subnet[0], self.subnet[1], self.subnet[2], 254])
    }

    pub fn node_ip(&self, node: usize) -> IpAddr {
        assert!(node < self.nodes);
        IpAddr::from([
            self.subnet[0],
            self.subnet[1],
            self.subnet[2],
            node as u8 + 1,
        ])
    }

    /// Runs a program inside node `node`'s namespace.
    pub fn prefix(&self, node: usize) -> Vec<String> {
        vec![
            "ip".into(),
            "netns".into(),
            "exec".into(),
            self.namespaces[node].clone(),
        ]
    }

    /// Cuts `node` off from every other node, both ways.
    pub fn isolate(&self, node: usize) {
        self.routes(node, "add");
    }

    /// Undoes [`NetLab::isolate`].
    pub fn heal(&self, node: usize) {
        self.routes(node, "del");
    }

    fn routes(&self, node: usize, verb: &str) {
        for other in (0..self.nodes).filter(|o| *o != node) {
            let to_other = format!("{}/32", self.node_ip(other));
            let to_node = format!("{}/32", self.node_ip(node));
            let ns = &self.namespaces;
            ip(&[
                "netns",
                "exec",
                &ns[node],
                "ip",
                "route",
                verb,
                "blackhole",
                &to_other,
            ]);
            ip(&[
                "netns",
                "exec",
                &ns[other],
                "ip",
                "route",
                verb,
                "blackhole",
                &to_node,
            ]);
        }
    }
}

impl Drop for NetLab {
    fn drop(&mut self) {
        for namespace in &self.namespaces {
            let _ = Command::new("ip")
                .args(["netns", "del", namespace])
                .status();
        }
        if self.bridge_up {
            let _ = Command::new("ip")
                .args(["link", "del", &self.bridge()])
                .status();
        }
    }
}

fn probe() -> Result<(), String> {
    let probe = format!("slprobe{}", std::process::id() % 10_000);
    let added = Command::new("ip")
        .args(["netns", "add", &probe])
        .status()
        .map_err(|e| format!("cannot run ip: {e}"))?;
    if !added.success() {
        return Err("`ip netns add` failed (not root?)".into());
    }
    let _ = Command::new("ip").args(["netns", "del", &probe]).status();
    Ok(())
}

fn ip(args: &[&str]) {
    let status = Command::new("ip")
        .args(args)
        .status()
        .unwrap_or_else(|e| panic!("ip {args:?}: {e}"));
    assert!(status.success(), "ip {args:?} failed: {status}");
}

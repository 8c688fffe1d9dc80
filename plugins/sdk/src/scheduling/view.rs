//! The policy's own copy of the cluster, kept current by the host's changes.

use std::collections::HashMap;

use super::{Change, HostPort, Node, Placement, Rejection, Resources, Taint, filters};

/// Requests the scheduler assumes for a container that states none, when scoring
/// (not when filtering), as Kubernetes does: 100 millicores and 200 MiB.
pub const DEFAULT_MILLI_CPU: u64 = 100;
pub const DEFAULT_MEMORY_BYTES: u64 = 200 * 1024 * 1024;

/// What the pods placed on one node use.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    /// Sum of the placed pods' requests (`pods` counts the pods).
    pub requested: Resources,
    /// The same with [`DEFAULT_MILLI_CPU`]/[`DEFAULT_MEMORY_BYTES`] standing in for
    /// requests left unset; scoring uses this so empty pods still spread.
    pub nonzero_requested: Resources,
    pub host_ports: Vec<HostPort>,
    /// Placed pods per controlling owner uid.
    pub by_owner: HashMap<String, u32>,
}

impl Usage {
    fn add(&mut self, p: &Placement) {
        add(&mut self.requested, &p.requests, 1);
        add(&mut self.nonzero_requested, &nonzero(&p.requests), 1);
        self.host_ports.extend(p.host_ports.iter().cloned());
        if let Some(owner) = &p.owner_uid {
            // Looked up before inserting: `entry` would take an owned key, a copy
            // of the uid made (and, for a known owner, freed) per placement.
            match self.by_owner.get_mut(owner) {
                Some(n) => *n += 1,
                None => {
                    self.by_owner.insert(owner.clone(), 1);
                }
            }
        }
    }

    fn remove(&mut self, p: &Placement) {
        sub(&mut self.requested, &p.requests);
        sub(&mut self.nonzero_requested, &nonzero(&p.requests));
        for hp in &p.host_ports {
            if let Some(i) = self.host_ports.iter().position(|h| {
                h.port == hp.port && h.protocol == hp.protocol && h.host_ip == hp.host_ip
            }) {
                self.host_ports.swap_remove(i);
            }
        }
        if let Some(owner) = &p.owner_uid
            && let Some(n) = self.by_owner.get_mut(owner)
        {
            *n = n.saturating_sub(1);
            if *n == 0 {
                self.by_owner.remove(owner);
            }
        }
    }
}

/// A node and what is placed on it.
#[derive(Debug, Clone)]
pub struct NodeInfo {
    pub node: Node,
    pub usage: Usage,
    /// `topology.kubernetes.io/zone`, when labelled.
    pub zone: Option<String>,
    /// TaintToleration's rejection for each of `node.taints`, in order: built when
    /// the node enters the view rather than each time a cycle passes it. Only the
    /// view sets `node` and this, always together.
    untolerated: Vec<Rejection>,
}

impl NodeInfo {
    #[inline]
    pub fn label(&self, key: &str) -> Option<&str> {
        self.node
            .labels
            .iter()
            .find(|l| l.key == key)
            .map(|l| l.value.as_str())
    }

    #[inline]
    pub fn pod_count(&self) -> u32 {
        self.usage.requested.pods
    }

    /// The rejection for the node's `index`-th taint when the pod does not tolerate
    /// it: "node(s) had untolerated taint {key: value}".
    #[inline]
    pub fn untolerated(&self, index: usize) -> Rejection {
        match self.untolerated.get(index) {
            Some(r) => r.clone(),
            // Not reached: the view sets both lists together. This form, rather
            // than indexing (a panic path) or zipping the two lists, is what
            // compiled to the fastest guest: both measured 0.3-0.5 us slower
            // per decision in wasm (benchmarks.md, S15).
            None => filters::untolerated_message(&self.node.taints[index]).into(),
        }
    }

    /// Pods of the controller `owner_uid` placed here.
    #[inline]
    pub fn owned_by(&self, owner_uid: &str) -> u32 {
        self.usage.by_owner.get(owner_uid).copied().unwrap_or(0)
    }
}

/// Every node and placement the host has told this instance about.
#[derive(Debug, Default)]
pub struct View {
    nodes: Vec<NodeInfo>,
    index: HashMap<String, usize>,
    placements: HashMap<String, Placement>,
    /// Usage of pods placed on nodes this view does not (yet, or any longer) know;
    /// it joins the node when the node appears.
    detached: HashMap<String, Usage>,
}

pub const ZONE_LABEL: &str = "topology.kubernetes.io/zone";

impl View {
    pub fn nodes(&self) -> &[NodeInfo] {
        &self.nodes
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.index.get(name).map(|&i| &self.nodes[i])
    }

    pub fn placements(&self) -> impl Iterator<Item = &Placement> {
        self.placements.values()
    }

    pub fn apply(&mut self, change: Change) {
        match change {
            Change::NodeUpserted(node) => self.upsert_node(node),
            Change::NodeRemoved(name) => self.remove_node(&name),
            Change::PodPlaced(p) => self.place(p),
            Change::PodRemoved(uid) => self.unplace(&uid),
        }
    }

    fn upsert_node(&mut self, node: Node) {
        let zone = node
            .labels
            .iter()
            .find(|l| l.key == ZONE_LABEL)
            .map(|l| l.value.clone());
        if let Some(&i) = self.index.get(&node.name) {
            // The host sends a node only when what placement reads of it changed,
            // so rebuilding the messages here is rare (and free for untainted nodes).
            let known = &mut self.nodes[i];
            known.untolerated = untolerated(&node.taints);
            known.node = node;
            known.zone = zone;
            return;
        }
        let usage = self.detached.remove(&node.name).unwrap_or_default();
        self.index.insert(node.name.clone(), self.nodes.len());
        let untolerated = untolerated(&node.taints);
        self.nodes.push(NodeInfo {
            node,
            usage,
            zone,
            untolerated,
        });
    }

    fn remove_node(&mut self, name: &str) {
        let Some(i) = self.index.remove(name) else {
            return;
        };
        let removed = self.nodes.swap_remove(i);
        if i < self.nodes.len() {
            self.index.insert(self.nodes[i].node.name.clone(), i);
        }
        if removed.usage.requested.pods > 0 {
            self.detached.insert(removed.node.name, removed.usage);
        }
    }

    fn usage_mut(&mut self, node: &str) -> &mut Usage {
        match self.index.get(node) {
            Some(&i) => &mut self.nodes[i].usage,
            None => self.detached.entry(node.to_string()).or_default(),
        }
    }

    fn place(&mut self, p: Placement) {
        // A placement seen again (a bound pod confirming its assumed node) replaces
        // the old one rather than counting twice.
        self.unplace(&p.pod_uid);
        self.usage_mut(&p.node_name).add(&p);
        self.placements.insert(p.pod_uid.clone(), p);
    }

    fn unplace(&mut self, uid: &str) {
        if let Some(p) = self.placements.remove(uid) {
            let node = p.node_name.clone();
            self.usage_mut(&node).remove(&p);
            if let Some(u) = self.detached.get(&node)
                && u.requested.pods == 0
            {
                self.detached.remove(&node);
            }
        }
    }
}

fn untolerated(taints: &[Taint]) -> Vec<Rejection> {
    taints
        .iter()
        .map(|t| filters::untolerated_message(t).into())
        .collect()
}

fn nonzero(r: &Resources) -> Resources {
    Resources {
        milli_cpu: if r.milli_cpu == 0 {
            DEFAULT_MILLI_CPU
        } else {
            r.milli_cpu
        },
        memory_bytes: if r.memory_bytes == 0 {
            DEFAULT_MEMORY_BYTES
        } else {
            r.memory_bytes
        },
        pods: r.pods,
    }
}

fn add(total: &mut Resources, r: &Resources, pods: u32) {
    total.milli_cpu = total.milli_cpu.saturating_add(r.milli_cpu);
    total.memory_bytes = total.memory_bytes.saturating_add(r.memory_bytes);
    total.pods = total.pods.saturating_add(pods);
}

fn sub(total: &mut Resources, r: &Resources) {
    total.milli_cpu = total.milli_cpu.saturating_sub(r.milli_cpu);
    total.memory_bytes = total.memory_bytes.saturating_sub(r.memory_bytes);
    total.pods = total.pods.saturating_sub(1);
}

// The type is generated by wit-bindgen, which derives no Default; this cannot be a
// derive here.
#[allow(clippy::derivable_impls)]
impl Default for Resources {
    fn default() -> Self {
        Resources {
            milli_cpu: 0,
            memory_bytes: 0,
            pods: 0,
        }
    }
}

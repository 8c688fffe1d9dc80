//! Builders for testing a policy natively with `cargo test`, no host needed:
//! describe nodes and pods, run cycles, check where pods go.
//!
//! ```
//! use wharf_plugin_sdk::scheduling::{Decision, Policy, Pod, NodeInfo, Rejection, View, filters};
//! use wharf_plugin_sdk::testing::{Cluster, node, pod};
//!
//! #[derive(Default)]
//! struct FirstFit;
//! impl Policy for FirstFit {
//!     fn filter(&self, v: &View, p: &Pod, n: &NodeInfo) -> Result<(), Rejection> {
//!         filters::standard(v, p, n)
//!     }
//!     fn score(&self, _: &View, _: &Pod, _: &NodeInfo) -> i64 { 0 }
//! }
//!
//! let mut c = Cluster::<FirstFit>::new(vec![node("a").cpu(1000), node("b").cpu(4000)]);
//! assert_eq!(c.place(pod("p").cpu(2000)), Ok("b".to_string()));
//! ```

use crate::scheduling::{
    Change, Decision, HostPort, Instance, Label, Node, Placement, Pod, Policy, Resources,
    SelectorOperator, SelectorRequirement, SelectorTerm, Taint, TaintEffect, Toleration,
    TolerationOperator, WeightedTerm,
};

pub fn node(name: &str) -> NodeBuilder {
    NodeBuilder(Node {
        name: name.into(),
        labels: vec![Label {
            key: "kubernetes.io/hostname".into(),
            value: name.into(),
        }],
        taints: vec![],
        allocatable: Resources {
            milli_cpu: 4000,
            memory_bytes: 16 << 30,
            pods: 110,
        },
        unschedulable: false,
    })
}

pub struct NodeBuilder(pub Node);

impl NodeBuilder {
    pub fn cpu(mut self, milli: u64) -> Self {
        self.0.allocatable.milli_cpu = milli;
        self
    }
    pub fn memory(mut self, bytes: u64) -> Self {
        self.0.allocatable.memory_bytes = bytes;
        self
    }
    pub fn pods(mut self, n: u32) -> Self {
        self.0.allocatable.pods = n;
        self
    }
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.labels.push(Label {
            key: key.into(),
            value: value.into(),
        });
        self
    }
    pub fn taint(mut self, key: &str, value: &str, effect: TaintEffect) -> Self {
        self.0.taints.push(Taint {
            key: key.into(),
            value: value.into(),
            effect,
        });
        self
    }
    pub fn cordoned(mut self) -> Self {
        self.0.unschedulable = true;
        self
    }
}

pub fn pod(name: &str) -> PodBuilder {
    PodBuilder(Pod {
        uid: format!("uid-{name}"),
        namespace: "default".into(),
        name: name.into(),
        labels: vec![],
        node_name: None,
        node_selector: vec![],
        required_terms: vec![],
        preferred_terms: vec![],
        tolerations: vec![],
        requests: Resources {
            milli_cpu: 0,
            memory_bytes: 0,
            pods: 1,
        },
        host_ports: vec![],
        owner_uid: None,
        priority: 0,
    })
}

pub struct PodBuilder(pub Pod);

/// A requirement in a node selector term: `req("zone", In, &["a"])`.
pub fn req(key: &str, operator: SelectorOperator, values: &[&str]) -> SelectorRequirement {
    SelectorRequirement {
        key: key.into(),
        operator,
        values: values.iter().map(|v| v.to_string()).collect(),
    }
}

impl PodBuilder {
    pub fn cpu(mut self, milli: u64) -> Self {
        self.0.requests.milli_cpu = milli;
        self
    }
    pub fn memory(mut self, bytes: u64) -> Self {
        self.0.requests.memory_bytes = bytes;
        self
    }
    pub fn on(mut self, node: &str) -> Self {
        self.0.node_name = Some(node.into());
        self
    }
    pub fn node_selector(mut self, key: &str, value: &str) -> Self {
        self.0.node_selector.push(Label {
            key: key.into(),
            value: value.into(),
        });
        self
    }
    /// Adds a required node affinity term (terms are ORed).
    pub fn require(mut self, expressions: Vec<SelectorRequirement>) -> Self {
        self.0.required_terms.push(SelectorTerm {
            match_expressions: expressions,
            match_fields: vec![],
        });
        self
    }
    pub fn prefer(mut self, weight: i32, expressions: Vec<SelectorRequirement>) -> Self {
        self.0.preferred_terms.push(WeightedTerm {
            weight,
            term: SelectorTerm {
                match_expressions: expressions,
                match_fields: vec![],
            },
        });
        self
    }
    pub fn tolerate(mut self, key: &str, value: Option<&str>, effect: Option<TaintEffect>) -> Self {
        self.0.tolerations.push(Toleration {
            key: key.into(),
            operator: if value.is_some() {
                TolerationOperator::Equal
            } else {
                TolerationOperator::Exists
            },
            value: value.unwrap_or("").into(),
            effect,
        });
        self
    }
    pub fn host_port(mut self, port: u16) -> Self {
        self.0.host_ports.push(HostPort {
            port,
            protocol: "TCP".into(),
            host_ip: String::new(),
        });
        self
    }
    pub fn owner(mut self, uid: &str) -> Self {
        self.0.owner_uid = Some(uid.into());
        self
    }
}

/// A policy instance over a set of nodes; placed pods are added to its view, as
/// the host does after binding.
pub struct Cluster<P: Policy> {
    instance: Instance<P>,
}

impl<P: Policy> Cluster<P> {
    pub fn new(nodes: Vec<NodeBuilder>) -> Self {
        Self::with_config(nodes, "{}")
    }

    pub fn with_config(nodes: Vec<NodeBuilder>, config: &str) -> Self {
        let mut instance = Instance::<P>::default();
        instance.configure(config).expect("config accepted");
        instance.sync(
            nodes
                .into_iter()
                .map(|n| Change::NodeUpserted(n.0))
                .collect(),
        );
        Cluster { instance }
    }

    /// Adds the node, or replaces the view's copy of it (a taint added with
    /// `kubectl taint`, say), as the host does when a node changes.
    pub fn upsert(&mut self, node: NodeBuilder) {
        self.instance.sync(vec![Change::NodeUpserted(node.0)]);
    }

    /// Schedules the pod; on success records the placement. Err carries the
    /// rejections as `node: reason` lines, sorted.
    pub fn place(&mut self, pod: PodBuilder) -> Result<String, Vec<String>> {
        let pod = pod.0;
        match self.instance.schedule(&pod) {
            Decision::Place(chosen) => {
                self.instance.sync(vec![Change::PodPlaced(Placement {
                    pod_uid: pod.uid.clone(),
                    namespace: pod.namespace.clone(),
                    node_name: chosen.node.clone(),
                    requests: pod.requests,
                    host_ports: pod.host_ports.clone(),
                    owner_uid: pod.owner_uid.clone(),
                })]);
                Ok(chosen.node)
            }
            Decision::Unschedulable(rejections) => {
                let mut lines: Vec<String> = rejections
                    .into_iter()
                    .map(|r| format!("{}: {}", r.node, r.reason))
                    .collect();
                lines.sort();
                Err(lines)
            }
        }
    }
}

//! Pods and Nodes, as the API serves them, reduced to the records a policy sees.
//!
//! The reflectors decode each object straight into [`PodDoc`] or [`NodeDoc`]: the
//! fields scheduling reads, with everything else in the object (images, commands,
//! environment, conditions, managed fields) skipped by the parser rather than built
//! and dropped. The scheduler reads every pod event the cluster makes, three or more
//! per pod, so this is most of what it costs the API server's process.
//!
//! Small parts whose shape varies (resources, affinity, tolerations, taints, ports)
//! stay `serde_json::Value`s and are read leniently, as before.

use serde::Deserialize;
use serde_json::Value;
use wharf_api_types::quantity::{parse_milli, parse_value};
use wharf_client::{Meta, Object, nullable};
use wharf_plugin_host::scheduler_policy::{
    HostPort, Label, Node, Placement, Pod, Resources, SelectorOperator, SelectorRequirement,
    SelectorTerm, Taint, TaintEffect, Toleration, TolerationOperator, WeightedTerm,
};

/// The name Kubernetes gives a pod's scheduler when the pod names none.
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

/// A pod, as the scheduler reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodDoc {
    #[serde(deserialize_with = "nullable")]
    pub metadata: Meta,
    #[serde(deserialize_with = "nullable")]
    pub spec: PodSpecDoc,
    #[serde(deserialize_with = "nullable")]
    pub status: PodStatusDoc,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpecDoc {
    #[serde(deserialize_with = "nullable")]
    pub node_name: String,
    #[serde(deserialize_with = "nullable")]
    pub scheduler_name: String,
    pub priority: Value,
    #[serde(deserialize_with = "nullable")]
    pub containers: Vec<ContainerDoc>,
    #[serde(deserialize_with = "nullable")]
    pub init_containers: Vec<ContainerDoc>,
    pub overhead: Value,
    pub node_selector: Value,
    pub affinity: Value,
    pub tolerations: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerDoc {
    pub resources: Value,
    pub ports: Value,
    pub restart_policy: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct PodStatusDoc {
    pub phase: Value,
}

/// A node, as the scheduler reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NodeDoc {
    #[serde(deserialize_with = "nullable")]
    pub metadata: Meta,
    #[serde(deserialize_with = "nullable")]
    pub spec: NodeSpecDoc,
    #[serde(deserialize_with = "nullable")]
    pub status: NodeStatusDoc,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NodeSpecDoc {
    pub taints: Value,
    pub unschedulable: Value,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NodeStatusDoc {
    pub allocatable: Value,
    pub capacity: Value,
}

impl Object for PodDoc {
    fn resource_version(&self) -> Option<&str> {
        self.metadata.resource_version()
    }
}

impl Object for NodeDoc {
    fn resource_version(&self) -> Option<&str> {
        self.metadata.resource_version()
    }
}

fn str_at<'a>(v: &'a Value, path: &str) -> &'a str {
    v.pointer(path).and_then(Value::as_str).unwrap_or("")
}

fn labels(map: &Value) -> Vec<Label> {
    match map {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| Label {
                key: k.clone(),
                value: v.as_str().unwrap_or("").to_string(),
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn array<'a>(v: &'a Value, path: &str) -> &'a [Value] {
    v.pointer(path)
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or(&[])
}

fn items(v: &Value) -> &[Value] {
    v.as_array().map(Vec::as_slice).unwrap_or(&[])
}

pub fn pod_uid(pod: &PodDoc) -> &str {
    &pod.metadata.uid
}

pub fn node_name_of(node: &NodeDoc) -> &str {
    &node.metadata.name
}

pub fn scheduler_name(pod: &PodDoc) -> &str {
    match pod.spec.scheduler_name.as_str() {
        "" => DEFAULT_SCHEDULER_NAME,
        s => s,
    }
}

/// Succeeded and Failed pods no longer hold their node's resources.
pub fn is_finished(pod: &PodDoc) -> bool {
    matches!(
        pod.status.phase.as_str().unwrap_or(""),
        "Succeeded" | "Failed"
    )
}

fn effect(s: &str) -> Option<TaintEffect> {
    match s {
        "NoSchedule" => Some(TaintEffect::NoSchedule),
        "PreferNoSchedule" => Some(TaintEffect::PreferNoSchedule),
        "NoExecute" => Some(TaintEffect::NoExecute),
        _ => None,
    }
}

pub fn node(obj: &NodeDoc) -> Node {
    let alloc = match &obj.status.allocatable {
        Value::Null => &obj.status.capacity,
        a => a,
    };
    let q = |key: &str, parse: fn(&str) -> Option<u64>| {
        alloc
            .get(key)
            .and_then(Value::as_str)
            .and_then(parse)
            .unwrap_or(0)
    };
    Node {
        name: obj.metadata.name.clone(),
        labels: labels(&obj.metadata.labels),
        taints: items(&obj.spec.taints)
            .iter()
            .filter_map(|t| {
                Some(Taint {
                    key: str_at(t, "/key").to_string(),
                    value: str_at(t, "/value").to_string(),
                    effect: effect(str_at(t, "/effect"))?,
                })
            })
            .collect(),
        allocatable: Resources {
            milli_cpu: q("cpu", parse_milli),
            memory_bytes: q("memory", parse_value),
            pods: q("pods", parse_value).min(u32::MAX as u64) as u32,
        },
        unschedulable: obj.spec.unschedulable.as_bool().unwrap_or(false),
    }
}

fn requirement(r: &Value) -> Option<SelectorRequirement> {
    let operator = match str_at(r, "/operator") {
        "In" => SelectorOperator::In,
        "NotIn" => SelectorOperator::NotIn,
        "Exists" => SelectorOperator::Exists,
        "DoesNotExist" => SelectorOperator::DoesNotExist,
        "Gt" => SelectorOperator::Gt,
        "Lt" => SelectorOperator::Lt,
        // An operator we do not know must not loosen the term: `In` nothing
        // matches nothing.
        _ => {
            return Some(SelectorRequirement {
                key: str_at(r, "/key").to_string(),
                operator: SelectorOperator::In,
                values: Vec::new(),
            });
        }
    };
    Some(SelectorRequirement {
        key: str_at(r, "/key").to_string(),
        operator,
        values: array(r, "/values")
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
    })
}

fn term(t: &Value) -> SelectorTerm {
    SelectorTerm {
        match_expressions: array(t, "/matchExpressions")
            .iter()
            .filter_map(requirement)
            .collect(),
        match_fields: array(t, "/matchFields")
            .iter()
            .filter_map(requirement)
            .collect(),
    }
}

/// A container's requests, falling back to its limits as Kubernetes defaults them.
fn container_requests(c: &ContainerDoc) -> (u64, u64) {
    let get = |key: &str, parse: fn(&str) -> Option<u64>| {
        ["requests", "limits"]
            .iter()
            .find_map(|kind| c.resources.get(kind)?.get(key))
            .and_then(Value::as_str)
            .and_then(parse)
            .unwrap_or(0)
    };
    (get("cpu", parse_milli), get("memory", parse_value))
}

/// What the pod asks of a node: the sum over its containers, or the largest init
/// container if that is more, plus the declared overhead.
pub fn requests(pod: &PodDoc) -> Resources {
    let (mut cpu, mut mem) = (0u64, 0u64);
    for c in &pod.spec.containers {
        let (c_cpu, c_mem) = container_requests(c);
        cpu += c_cpu;
        mem += c_mem;
    }
    // Init containers run one after another before the others, so the largest
    // counts; sidecars (restartPolicy: Always) keep running, so they add up.
    let (mut init_cpu, mut init_mem) = (0u64, 0u64);
    for c in &pod.spec.init_containers {
        let (c_cpu, c_mem) = container_requests(c);
        if c.restart_policy.as_str() == Some("Always") {
            cpu += c_cpu;
            mem += c_mem;
        } else {
            init_cpu = init_cpu.max(c_cpu);
            init_mem = init_mem.max(c_mem);
        }
    }
    cpu = cpu.max(init_cpu);
    mem = mem.max(init_mem);
    let o = &pod.spec.overhead;
    cpu += o
        .get("cpu")
        .and_then(Value::as_str)
        .and_then(parse_milli)
        .unwrap_or(0);
    mem += o
        .get("memory")
        .and_then(Value::as_str)
        .and_then(parse_value)
        .unwrap_or(0);
    Resources {
        milli_cpu: cpu,
        memory_bytes: mem,
        pods: 1,
    }
}

fn host_ports(pod: &PodDoc) -> Vec<HostPort> {
    let mut out = Vec::new();
    for c in &pod.spec.containers {
        for p in items(&c.ports) {
            let port = p.get("hostPort").and_then(Value::as_u64).unwrap_or(0);
            if port == 0 || port > u16::MAX as u64 {
                continue;
            }
            out.push(HostPort {
                port: port as u16,
                protocol: match str_at(p, "/protocol") {
                    "" => "TCP".to_string(),
                    s => s.to_string(),
                },
                host_ip: str_at(p, "/hostIP").to_string(),
            });
        }
    }
    out
}

pub fn owner_uid(meta: &Meta) -> Option<String> {
    items(&meta.owner_references)
        .iter()
        .find(|r| r.get("controller").and_then(Value::as_bool) == Some(true))
        .map(|r| str_at(r, "/uid").to_string())
}

pub fn pod(obj: &PodDoc) -> Pod {
    let affinity = obj.spec.affinity.get("nodeAffinity");
    let required = affinity
        .and_then(|a| {
            a.pointer("/requiredDuringSchedulingIgnoredDuringExecution/nodeSelectorTerms")
        })
        .and_then(Value::as_array)
        .map(|terms| terms.iter().map(term).collect())
        .unwrap_or_default();
    let preferred = affinity
        .and_then(|a| a.pointer("/preferredDuringSchedulingIgnoredDuringExecution"))
        .and_then(Value::as_array)
        .map(|terms| {
            terms
                .iter()
                .map(|t| WeightedTerm {
                    weight: t.get("weight").and_then(Value::as_i64).unwrap_or(0) as i32,
                    term: t.get("preference").map(term).unwrap_or(SelectorTerm {
                        match_expressions: vec![],
                        match_fields: vec![],
                    }),
                })
                .collect()
        })
        .unwrap_or_default();
    let meta = &obj.metadata;
    Pod {
        uid: meta.uid.clone(),
        namespace: meta.namespace.clone(),
        name: meta.name.clone(),
        labels: labels(&meta.labels),
        node_name: match obj.spec.node_name.as_str() {
            "" => None,
            n => Some(n.to_string()),
        },
        node_selector: labels(&obj.spec.node_selector),
        required_terms: required,
        preferred_terms: preferred,
        tolerations: items(&obj.spec.tolerations)
            .iter()
            .map(|t| Toleration {
                key: str_at(t, "/key").to_string(),
                operator: if str_at(t, "/operator") == "Exists" {
                    TolerationOperator::Exists
                } else {
                    TolerationOperator::Equal
                },
                value: str_at(t, "/value").to_string(),
                effect: effect(str_at(t, "/effect")),
            })
            .collect(),
        requests: requests(obj),
        host_ports: host_ports(obj),
        owner_uid: owner_uid(meta),
        priority: obj
            .spec
            .priority
            .as_i64()
            .unwrap_or(0)
            .clamp(i32::MIN as i64, i32::MAX as i64) as i32,
    }
}

pub fn placement(pod: &Pod, node: &str) -> Placement {
    Placement {
        pod_uid: pod.uid.clone(),
        namespace: pod.namespace.clone(),
        node_name: node.to_string(),
        requests: pod.requests,
        host_ports: pod.host_ports.clone(),
        owner_uid: pod.owner_uid.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc<T: serde::de::DeserializeOwned>(v: Value) -> T {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn pod_requests_follow_kubernetes_rules() {
        let p = json!({"metadata": {"uid": "u", "name": "p", "namespace": "d",
        "ownerReferences": [{"uid": "rs1", "controller": true}]},
        "spec": {
            "containers": [
                {"resources": {"requests": {"cpu": "250m", "memory": "64Mi"}},
                 "ports": [{"containerPort": 80, "hostPort": 8080}]},
                {"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}
            ],
            "initContainers": [{"resources": {"requests": {"cpu": "2"}}}],
            "tolerations": [{"key": "k", "operator": "Exists", "effect": "NoSchedule"}],
            "nodeSelector": {"disk": "ssd"},
            "priority": 1000
        }});
        let pod = pod(&doc(p));
        assert_eq!(pod.requests.milli_cpu, 2000);
        assert_eq!(pod.requests.memory_bytes, (64 << 20) + (1 << 30));
        assert_eq!(pod.host_ports[0].port, 8080);
        assert_eq!(pod.host_ports[0].protocol, "TCP");
        assert_eq!(pod.owner_uid.as_deref(), Some("rs1"));
        assert_eq!(pod.priority, 1000);
        assert_eq!(pod.tolerations[0].operator, TolerationOperator::Exists);
        assert_eq!(pod.node_selector[0].key, "disk");
    }

    #[test]
    fn nodes_read_allocatable_and_taints() {
        let n = json!({"metadata": {"name": "n1", "labels": {"a": "b"}},
            "spec": {"taints": [{"key": "k", "value": "v", "effect": "NoExecute"}], "unschedulable": true},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}});
        let node = node(&doc(n));
        assert_eq!(node.allocatable.milli_cpu, 4000);
        assert_eq!(node.allocatable.memory_bytes, 8 << 30);
        assert_eq!(node.allocatable.pods, 110);
        assert_eq!(node.taints[0].effect, TaintEffect::NoExecute);
        assert!(node.unschedulable);
    }

    #[test]
    fn documents_skip_what_scheduling_does_not_read_and_accept_nulls() {
        let p: PodDoc = serde_json::from_str(
            r#"{"apiVersion":"v1","kind":"Pod",
                "metadata":{"name":"p","namespace":"d","uid":"u","resourceVersion":"9",
                            "labels":null,"managedFields":[{"manager":"kubectl"}],
                            "deletionTimestamp":null,"ownerReferences":null},
                "spec":{"nodeName":null,"schedulerName":"binpack","priority":null,
                        "containers":[{"name":"c","image":"i","command":["sh"],
                                       "resources":null,"ports":null}],
                        "initContainers":null,"affinity":null,"tolerations":null},
                "status":{"phase":"Pending","conditions":[{"type":"PodScheduled"}]}}"#,
        )
        .unwrap();
        assert_eq!(p.resource_version(), Some("9"));
        assert_eq!(scheduler_name(&p), "binpack");
        assert!(!p.metadata.is_deleting() && !is_finished(&p));
        let pod = pod(&p);
        assert_eq!((pod.uid.as_str(), pod.node_name), ("u", None));
        assert_eq!(pod.requests.milli_cpu, 0);
        assert!(pod.labels.is_empty() && pod.owner_uid.is_none());

        let bare: PodDoc = serde_json::from_str(r#"{"metadata":null,"spec":null}"#).unwrap();
        assert_eq!(scheduler_name(&bare), DEFAULT_SCHEDULER_NAME);
        assert_eq!(bare.resource_version(), None);

        let n: NodeDoc = serde_json::from_str(
            r#"{"metadata":{"name":"n"},"spec":{"taints":null},
                "status":{"capacity":{"cpu":"2"},"images":[{"names":["x"]}]}}"#,
        )
        .unwrap();
        let node = node(&n);
        assert_eq!(
            (node.name.as_str(), node.allocatable.milli_cpu),
            ("n", 2000)
        );
        assert!(node.taints.is_empty() && !node.unschedulable);
    }
}

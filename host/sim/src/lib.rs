//! `wharf sim nodes N`: N nodes that exist only in the API. Each is registered
//! with capacity, the standard labels and optional taints, renews its Lease in
//! `kube-node-lease` as a kubelet does, and reports the pods bound to it Running
//! and Ready with a pod IP — without running anything. Pods being deleted are
//! finished off as a kubelet would once their containers stopped.
//!
//! Several sim processes with different prefixes can serve one cluster; stopping
//! one stops its nodes' heartbeats (their nodes stay registered, as a crashed
//! kubelet's do).

mod pod;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::{Value, json};
use tokio::sync::{Semaphore, mpsc};
use wharf_api_types::meta::{now_micro_rfc3339, now_rfc3339};
use wharf_client::{Client, ClientError, Reflected, reflect};

use crate::pod::SimPod;

#[derive(Debug, Clone)]
pub struct SimConfig {
    pub count: usize,
    pub prefix: String,
    pub cpu: String,
    pub memory: String,
    pub pods: u32,
    /// Nodes are spread round-robin over this many zones (`<prefix>-zone-<i>`).
    pub zones: usize,
    /// `key=value:Effect` or `key:Effect`.
    pub taints: Vec<String>,
    /// How often leases are renewed (a kubelet's default is 10 s).
    pub renew_every: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            count: 1,
            prefix: "sim".into(),
            cpu: "4".into(),
            memory: "16Gi".into(),
            pods: 110,
            zones: 3,
            taints: Vec::new(),
            renew_every: Duration::from_secs(10),
        }
    }
}

/// Lease duration a node claims; the node lifecycle controller marks a node
/// NotReady once its lease is this old (kubelet's default is 40 s).
pub const LEASE_DURATION_SECONDS: u64 = 40;
const WRITES_IN_FLIGHT: usize = 32;

/// Parses `key=value:Effect` / `key:Effect` into a taint, naming what is wrong.
pub fn parse_taint(spec: &str) -> anyhow::Result<Value> {
    let (kv, effect) = spec
        .rsplit_once(':')
        .with_context(|| format!("taint {spec:?}: expected key=value:Effect"))?;
    if !matches!(effect, "NoSchedule" | "PreferNoSchedule" | "NoExecute") {
        bail!(
            "taint {spec:?}: effect must be NoSchedule, PreferNoSchedule or NoExecute, not {effect:?}"
        );
    }
    let (key, value) = kv.split_once('=').unwrap_or((kv, ""));
    if key.is_empty() {
        bail!("taint {spec:?}: the key is empty");
    }
    Ok(json!({"key": key, "value": value, "effect": effect}))
}

fn node_names(config: &SimConfig) -> Vec<String> {
    (0..config.count)
        .map(|i| format!("{}-{i}", config.prefix))
        .collect()
}

fn stable_hash(s: &str) -> u32 {
    s.bytes()
        .fold(2166136261u32, |h, b| (h ^ b as u32).wrapping_mul(16777619))
}

/// The InternalIP of the sim's node `index`, which its pods report as their host's.
fn node_ip(prefix: &str, index: usize) -> String {
    let host = stable_hash(prefix) as usize + index;
    format!(
        "172.{}.{}.{}",
        16 + (host >> 16) % 16,
        (host >> 8) & 255,
        (host & 255).max(1)
    )
}

fn node_object(config: &SimConfig, index: usize, name: &str, taints: &[Value]) -> Value {
    let zone = format!("{}-zone-{}", config.prefix, index % config.zones.max(1));
    let ip = node_ip(&config.prefix, index);
    let capacity =
        json!({"cpu": config.cpu, "memory": config.memory, "pods": config.pods.to_string()});
    let now = now_rfc3339();
    let mut node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "topology.kubernetes.io/zone": zone,
                "type": "wharf-sim",
            },
            "annotations": {"wharf.dev/simulated": "true"},
        },
        "spec": {},
        "status": {
            "capacity": capacity,
            "allocatable": capacity,
            "phase": "Running",
            "addresses": [
                {"type": "InternalIP", "address": ip},
                {"type": "Hostname", "address": name},
            ],
            "conditions": [
                {"type": "Ready", "status": "True", "reason": "KubeletReady",
                 "message": "wharf sim node is posting ready status",
                 "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "MemoryPressure", "status": "False", "reason": "KubeletHasSufficientMemory",
                 "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "DiskPressure", "status": "False", "reason": "KubeletHasNoDiskPressure",
                 "lastHeartbeatTime": now, "lastTransitionTime": now},
                {"type": "PIDPressure", "status": "False", "reason": "KubeletHasSufficientPID",
                 "lastHeartbeatTime": now, "lastTransitionTime": now},
            ],
            "nodeInfo": {
                "kubeletVersion": "v1.32.0-wharf-sim",
                "kubeProxyVersion": "v1.32.0-wharf-sim",
                "operatingSystem": "linux",
                "architecture": "amd64",
                "containerRuntimeVersion": "wharf-sim://0.1.0",
                "osImage": "wharf simulated node",
                "kernelVersion": "",
                "machineID": "", "systemUUID": "", "bootID": "",
            },
        },
    });
    if !taints.is_empty() {
        node["spec"]["taints"] = json!(taints);
    }
    node
}

/// Registers the nodes and their leases, then keeps them alive and runs their
/// pods until `shutdown` resolves.
pub async fn run(
    client: Client,
    config: SimConfig,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    if config.count == 0 {
        bail!("sim nodes: the node count must be at least 1");
    }
    if wharf_api_types::quantity::parse_milli(&config.cpu).is_none() {
        bail!("--cpu {:?}: not a quantity (e.g. 4, 500m)", config.cpu);
    }
    if wharf_api_types::quantity::parse_value(&config.memory).is_none() {
        bail!(
            "--memory {:?}: not a quantity (e.g. 16Gi, 512Mi)",
            config.memory
        );
    }
    if config.pods == 0 {
        bail!("--pods must be at least 1");
    }
    let taints = config
        .taints
        .iter()
        .map(|t| parse_taint(t))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let names = node_names(&config);
    register(&client, &config, &names, &taints).await?;
    tracing::info!(
        nodes = names.len(),
        first = %format!("{}-0", config.prefix),
        last = %format!("{}-{}", config.prefix, names.len() - 1),
        heartbeat = ?config.renew_every,
        "simulated nodes registered and heartbeating"
    );
    let ours: Arc<HashMap<String, usize>> = Arc::new(
        names
            .iter()
            .cloned()
            .enumerate()
            .map(|(i, n)| (n, i))
            .collect(),
    );
    let heartbeats = tokio::spawn(heartbeat(client.clone(), names, config.renew_every));
    let kubelet = tokio::spawn(run_pods(client, config.prefix.clone(), ours));
    shutdown.await;
    heartbeats.abort();
    kubelet.abort();
    Ok(())
}

async fn register(
    client: &Client,
    config: &SimConfig,
    names: &[String],
    taints: &[Value],
) -> anyhow::Result<()> {
    let permits = Arc::new(Semaphore::new(WRITES_IN_FLIGHT));
    let mut tasks = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let permit = permits.clone().acquire_owned().await?;
        let client = client.clone();
        let node = node_object(config, i, name, taints);
        let name = name.clone();
        tasks.push(tokio::spawn(async move {
            let _permit = permit;
            let registered = match client.create("/api/v1/nodes", &node).await {
                Ok(node) => node,
                Err(ClientError::Api { code: 409, .. }) => {
                    // Registered by an earlier run: refresh what a kubelet reports.
                    client
                        .merge_patch(
                            &format!("/api/v1/nodes/{name}/status"),
                            &json!({"status": node["status"]}),
                        )
                        .await
                        .with_context(|| format!("refreshing node {name}"))?
                }
                Err(e) => {
                    return Err(anyhow::Error::new(e).context(format!("registering node {name}")));
                }
            };
            // Owned by its node, as a kubelet makes it, so the garbage collector
            // takes it when the node is deleted.
            let owner = json!({
                "apiVersion": "v1",
                "kind": "Node",
                "name": name,
                "uid": registered["metadata"]["uid"],
            });
            let lease = json!({
                "apiVersion": "coordination.k8s.io/v1",
                "kind": "Lease",
                "metadata": {"name": name, "namespace": "kube-node-lease", "ownerReferences": [owner]},
                "spec": {
                    "holderIdentity": name,
                    "leaseDurationSeconds": LEASE_DURATION_SECONDS,
                    "renewTime": now_micro_rfc3339(),
                },
            });
            match client
                .create(
                    "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
                    &lease,
                )
                .await
            {
                Ok(_) | Err(ClientError::Api { code: 409, .. }) => Ok(()),
                Err(e) => {
                    Err(anyhow::Error::new(e).context(format!("creating the lease of node {name}")))
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(())
}

/// Renews every lease once per interval, spread evenly over it.
async fn heartbeat(client: Client, names: Vec<String>, every: Duration) {
    let permits = Arc::new(Semaphore::new(WRITES_IN_FLIGHT));
    let gap = every / names.len().max(1) as u32;
    loop {
        for name in &names {
            tokio::time::sleep(gap).await;
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let client = client.clone();
            let name = name.clone();
            tokio::spawn(async move {
                let patch =
                    json!({"spec": {"renewTime": now_micro_rfc3339(), "holderIdentity": name}});
                if let Err(e) = client
                    .merge_patch_unread(
                        &format!(
                            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/{name}"
                        ),
                        &patch,
                    )
                    .await
                {
                    tracing::debug!(node = name, error = %e, "lease renewal failed");
                }
                drop(permit);
            });
        }
    }
}

/// Watches pods and plays kubelet for the ones bound to our nodes.
async fn run_pods(client: Client, prefix: String, ours: Arc<HashMap<String, usize>>) {
    let (tx, mut rx) = mpsc::unbounded_channel::<Reflected<SimPod>>();
    // Only bound pods concern a node: unbound ones are filtered out by the server.
    tokio::spawn(reflect(
        client.clone(),
        "/api/v1/pods?fieldSelector=spec.nodeName!%3D".into(),
        tx,
    ));
    let permits = Arc::new(Semaphore::new(WRITES_IN_FLIGHT));
    // Pods we have reported running (uid → node and the host part of its IP),
    // and the host parts in use on each node, so no two live pods share an IP.
    let mut started: HashMap<String, (String, u8)> = HashMap::new();
    let mut in_use: HashMap<String, std::collections::BTreeSet<u8>> = HashMap::new();
    let release = |started: &mut HashMap<String, (String, u8)>,
                   in_use: &mut HashMap<String, std::collections::BTreeSet<u8>>,
                   uid: &str| {
        if let Some((node, host)) = started.remove(uid)
            && let Some(set) = in_use.get_mut(&node)
        {
            set.remove(&host);
        }
    };
    let subnet_base = stable_hash(&prefix) as usize;
    while let Some(r) = rx.recv().await {
        let listed = matches!(r, Reflected::Listed(_));
        let pods = match r {
            Reflected::Listed(items) => {
                // A fresh list is the whole truth: forget pods no longer there.
                let present: HashSet<&str> =
                    items.iter().map(|p| p.metadata.uid.as_str()).collect();
                let gone: Vec<String> = started
                    .keys()
                    .filter(|uid| !present.contains(uid.as_str()))
                    .cloned()
                    .collect();
                for uid in gone {
                    release(&mut started, &mut in_use, &uid);
                }
                items
            }
            Reflected::Applied(p) => vec![p],
            Reflected::Deleted(p) => {
                release(&mut started, &mut in_use, &p.metadata.uid);
                continue;
            }
        };
        for pod in pods {
            let node = pod.spec.node_name.as_str();
            let Some(&index) = ours.get(node) else {
                continue;
            };
            let uid = pod.metadata.uid.clone();
            let ns = pod.metadata.namespace.clone();
            let name = pod.metadata.name.clone();
            let deleting = pod.metadata.is_deleting();
            let Ok(permit) = permits.clone().acquire_owned().await else {
                return;
            };
            let client = client.clone();
            if deleting {
                // Nothing to stop: finish the graceful deletion at once.
                tokio::spawn(async move {
                    let path = format!("/api/v1/namespaces/{ns}/pods/{name}?gracePeriodSeconds=0");
                    if let Err(e) = client.delete(&path).await {
                        tracing::debug!(pod = name, error = %e, "finishing a deletion failed");
                    }
                    drop(permit);
                });
                continue;
            }
            if listed && pod.status.running_but_not_ready() {
                // A kubelet back from a silence reports its running pods ready
                // again (the node lifecycle controller marked them not ready). Only
                // on a list, chiefly the sim's start, just after it reported its
                // nodes ready: on every change it would undo the controller's mark
                // while a node is still not ready.
                tokio::spawn(async move {
                    let path = format!("/api/v1/namespaces/{ns}/pods/{name}/status");
                    let body = json!({"status": {"conditions": [
                        {"type": "Ready", "status": "True", "lastTransitionTime": now_rfc3339()},
                    ]}});
                    if let Err(e) = client.strategic_patch(&path, &body).await {
                        tracing::debug!(pod = name, error = %e, "reporting a pod ready failed");
                    }
                    drop(permit);
                });
                continue;
            }
            let phase = pod.status.phase.as_str();
            if phase == "Running"
                || phase == "Succeeded"
                || phase == "Failed"
                || started.contains_key(&uid)
            {
                continue;
            }
            let host_ip = node_ip(&prefix, index);
            let pod_ip = if pod.spec.host_network {
                // On the host's network a pod has the node's address.
                started.insert(uid, (node.to_string(), 0));
                host_ip.clone()
            } else {
                // The lowest free host number in the node's /24 (2..=254); a
                // node running more than 253 pods at once reuses numbers.
                let used = in_use.entry(node.to_string()).or_default();
                let k = (2..=254u8).find(|h| !used.contains(h)).unwrap_or(2);
                used.insert(k);
                started.insert(uid, (node.to_string(), k));
                let subnet = (subnet_base.wrapping_mul(977) + index) & 0xffff;
                format!("10.{}.{}.{}", subnet >> 8, subnet & 255, k)
            };
            let status = running_status(&pod, &pod_ip, &host_ip);
            tokio::spawn(async move {
                let path = format!("/api/v1/namespaces/{ns}/pods/{name}/status");
                let body = json!({"status": status});
                // A few tries: nothing else would make this pod report Running.
                for attempt in 0..5u32 {
                    match client.merge_patch_unread(&path, &body).await {
                        Ok(_) | Err(ClientError::Api { code: 404, .. }) => break,
                        Err(e) => {
                            tracing::debug!(pod = name, error = %e, attempt, "reporting a pod running failed");
                            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                        }
                    }
                }
                drop(permit);
            });
        }
    }
}

/// What a kubelet reports of a pod it started. The QoS class is left out: it
/// was fixed when the pod was created.
fn running_status(pod: &SimPod, pod_ip: &str, host_ip: &str) -> Value {
    let now = now_rfc3339();
    let status_of = |c: &crate::pod::Container, running: bool| {
        let state = if running {
            json!({"running": {"startedAt": now}})
        } else {
            json!({"terminated": {"exitCode": 0, "reason": "Completed", "startedAt": now, "finishedAt": now}})
        };
        json!({
            "name": c.name,
            "image": c.image,
            "imageID": "",
            "containerID": format!("sim://{}", c.name),
            "ready": true,
            "started": running,
            "restartCount": 0,
            "state": state,
        })
    };
    let containers: Vec<Value> = pod
        .spec
        .containers
        .iter()
        .map(|c| status_of(c, true))
        .collect();
    // Init containers ran to completion, except sidecars, which keep running.
    let init: Vec<Value> = pod
        .spec
        .init_containers
        .iter()
        .map(|c| status_of(c, c.restart_policy == "Always"))
        .collect();
    let condition = |t: &str| json!({"type": t, "status": "True", "lastProbeTime": null, "lastTransitionTime": now});
    let mut status = json!({
        "phase": "Running",
        "conditions": [condition("PodReadyToStartContainers"), condition("Initialized"), condition("Ready"), condition("ContainersReady"), condition("PodScheduled")],
        "hostIP": host_ip,
        "hostIPs": [{"ip": host_ip}],
        "podIP": pod_ip,
        "podIPs": [{"ip": pod_ip}],
        "startTime": now,
        "containerStatuses": containers,
    });
    if !init.is_empty() {
        status["initContainerStatuses"] = json!(init);
    }
    status
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn taints_parse_or_name_the_problem() {
        assert_eq!(
            parse_taint("dedicated=gpu:NoSchedule").unwrap(),
            json!({"key": "dedicated", "value": "gpu", "effect": "NoSchedule"})
        );
        assert_eq!(parse_taint("spot:PreferNoSchedule").unwrap()["value"], "");
        assert!(
            parse_taint("x=y:Sometimes")
                .unwrap_err()
                .to_string()
                .contains("effect")
        );
        assert!(parse_taint("novalue").is_err());
    }

    #[test]
    fn init_containers_report_completed_and_sidecars_running() {
        let pod: SimPod = serde_json::from_value(json!({
            "metadata": {"name": "p", "uid": "u"},
            "spec": {"nodeName": "n", "hostNetwork": true,
                     "initContainers": [{"name": "setup", "image": "i"},
                                        {"name": "proxy", "image": "i", "restartPolicy": "Always"}],
                     "containers": [{"name": "app", "image": "i"}]}}))
        .unwrap();
        assert!(pod.spec.host_network);
        let status = running_status(&pod, "10.0.0.1", "10.0.0.1");
        let init = &status["initContainerStatuses"];
        assert_eq!(init[0]["state"]["terminated"]["reason"], "Completed");
        assert!(init[1]["state"]["running"].is_object());
        assert_eq!(init[1]["ready"], true);
        assert_eq!(status["containerStatuses"][0]["name"], "app");
    }

    #[test]
    fn nodes_carry_the_standard_labels() {
        let config = SimConfig {
            zones: 2,
            ..SimConfig::default()
        };
        let n = node_object(&config, 3, "sim-3", &[]);
        assert_eq!(n["metadata"]["labels"]["kubernetes.io/hostname"], "sim-3");
        assert_eq!(
            n["metadata"]["labels"]["topology.kubernetes.io/zone"],
            "sim-zone-1"
        );
        assert_eq!(n["status"]["allocatable"]["pods"], "110");
    }
}

//! The scheduler in a real `wharf server`, on simulated nodes from real `wharf sim`
//! processes, driven with real kubectl: placement, explanations, profiles.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Server, Sim, artifact, wait_for, wharf};

fn pod_manifest(name: &str, extra_spec: &str, cpu: &str) -> String {
    format!(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  labels: {{app: {name}}}
spec:
{extra_spec}
  containers:
  - name: c
    image: busybox:1.36
    resources:
      requests: {{cpu: "{cpu}", memory: 64Mi}}
"#
    )
}

fn node_of(s: &Server, pod: &str) -> String {
    let p = s.get_json(&["pod", pod]);
    p["spec"]["nodeName"].as_str().unwrap_or("").to_string()
}

fn wait_bound(s: &Server, pod: &str) -> String {
    let mut node = String::new();
    wait_for(Duration::from_secs(20), &format!("pod {pod} bound"), || {
        node = node_of(s, pod);
        !node.is_empty()
    });
    node
}

#[test]
fn pods_are_placed_run_and_explained() {
    let s = Server::start();
    let _plain = Sim::start(&s, 3, "plain", &["--cpu", "2", "--zones", "3"]);
    let _gpu = Sim::start(
        &s,
        2,
        "gpu",
        &["--cpu", "8", "--taint", "dedicated=gpu:NoSchedule"],
    );

    // No requirement: any untainted node; the sim reports it Running with an IP.
    s.apply(&pod_manifest("web", "", "500m"));
    let node = wait_bound(&s, "web");
    assert!(
        node.starts_with("plain-"),
        "untainted node expected, got {node}"
    );
    wait_for(Duration::from_secs(20), "web running", || {
        let p = s.get_json(&["pod", "web"]);
        p["status"]["phase"] == "Running" && p["status"]["podIP"].is_string()
    });
    let wide = s.ok(&["get", "pod", "web", "-o", "wide"]);
    assert!(wide.contains("Running") && wide.contains(&node), "{wide}");
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=web",
    ]);
    assert!(
        events.contains("Scheduled")
            && events.contains(&format!("Successfully assigned default/web to {node}")),
        "{events}"
    );

    // A toleration opens the tainted nodes; needing 4 cpus, only they fit.
    s.apply(&pod_manifest(
        "trainer",
        "  tolerations:\n  - {key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}",
        "4",
    ));
    assert!(wait_bound(&s, "trainer").starts_with("gpu-"));

    // nodeSelector pins a pod to one zone.
    s.apply(&pod_manifest(
        "zoned",
        "  nodeSelector: {topology.kubernetes.io/zone: plain-zone-1}",
        "100m",
    ));
    assert_eq!(wait_bound(&s, "zoned"), "plain-1");

    // Nothing fits: FailedScheduling names every reason, as kube-scheduler does,
    // and the pod carries PodScheduled=False.
    s.apply(&pod_manifest("huge", "", "16"));
    let mut describe = String::new();
    wait_for(Duration::from_secs(20), "FailedScheduling on huge", || {
        describe = s.ok(&["describe", "pod", "huge"]);
        describe.contains("FailedScheduling")
    });
    assert!(
        describe.contains(
            "0/5 nodes are available: 2 node(s) had untolerated taint {dedicated: gpu}, 3 Insufficient cpu."
        ),
        "{describe}"
    );
    let huge = s.get_json(&["pod", "huge"]);
    let cond = huge["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "PodScheduled")
        .cloned()
        .unwrap();
    assert_eq!(cond["status"], "False");
    assert_eq!(cond["reason"], "Unschedulable");
    assert_eq!(node_of(&s, "huge"), "");

    // Retries that fail the same way are counted on one Event, as client-go's
    // recorder counts them: describe prints "(xN over …)", not N lines. A change
    // to the nodes that makes no room is what has the pod tried again.
    s.ok(&["label", "nodes", "--all", "wharf-test/retried=yes"]);
    wait_for(
        Duration::from_secs(20),
        "a repeated FailedScheduling",
        || {
            describe = s.ok(&["describe", "pod", "huge"]);
            describe.contains("FailedScheduling") && describe.contains(" over ")
        },
    );
    assert_eq!(
        describe.matches("FailedScheduling").count(),
        1,
        "{describe}"
    );
    let events = s.get_json(&[
        "events",
        "--field-selector",
        "involvedObject.name=huge,reason=FailedScheduling",
    ]);
    let items = events["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{events}");
    assert!(items[0]["count"].as_u64().unwrap() >= 2, "{events}");

    // Room appears (a bigger node joins): the waiting pod is retried and placed.
    let _big = Sim::start(&s, 1, "big", &["--cpu", "32"]);
    assert_eq!(wait_bound(&s, "huge"), "big-0");

    // Deleting a pod completes (the sim node finishes it as a kubelet would).
    s.ok(&["delete", "pod", "web", "--timeout=20s"]);
    assert!(s.fails(&["get", "pod", "web"]).contains("NotFound"));
}

#[test]
fn resources_are_accounted_across_pods() {
    let s = Server::start();
    let _sim = Sim::start(&s, 2, "n", &["--cpu", "1", "--zones", "1"]);
    // Two nodes of 1 cpu take four 500m pods; the fifth waits.
    for i in 0..5 {
        s.apply(&pod_manifest(&format!("p{i}"), "", "500m"));
    }
    let mut per_node = std::collections::HashMap::new();
    for i in 0..4 {
        *per_node
            .entry(wait_bound(&s, &format!("p{i}")))
            .or_insert(0) += 1;
    }
    assert_eq!(per_node.values().copied().collect::<Vec<_>>(), [2, 2]);
    wait_for(Duration::from_secs(20), "p4 unschedulable", || {
        s.ok(&["describe", "pod", "p4"])
            .contains("0/2 nodes are available: 2 Insufficient cpu.")
    });
    // Freeing room lets it in.
    s.ok(&["delete", "pod", "p0", "--timeout=20s"]);
    wait_bound(&s, "p4");
}

/// Pods of a profile that is not installed yet wait unclaimed; installing it
/// queues them all at once, so which one gets the only free cpu shows the queue's
/// order alone (no backoff timing): the later but more urgent pod, by the
/// priority its PriorityClass gave it at admission.
#[test]
fn higher_priority_pods_are_scheduled_first() {
    let s = Server::start();
    s.apply(
        r#"
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: urgent}
value: 100000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: whenever}
value: -100
"#,
    );
    let _sim = Sim::start(&s, 1, "n", &["--cpu", "1", "--zones", "1"]);
    for (pod, class) in [("low", "whenever"), ("high", "urgent")] {
        let spec = format!("  priorityClassName: {class}\n  schedulerName: later");
        s.apply(&pod_manifest(pod, &spec, "1"));
    }
    assert_eq!(s.get_json(&["pod", "high"])["spec"]["priority"], 100000);
    assert_eq!(s.get_json(&["pod", "low"])["spec"]["priority"], -100);
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(node_of(&s, "low"), "", "no profile `later` yet");
    let policy = artifact("wharf_scheduler_default.wasm");
    let (ok, out) = wharf(
        &s,
        &["plugin", "install", "later", policy.to_str().unwrap()],
    );
    assert!(ok, "{out}");
    wait_bound(&s, "high");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(
        node_of(&s, "low"),
        "",
        "the low-priority pod must still wait"
    );
}

#[test]
fn profiles_choose_their_policy() {
    let s = Server::start();
    let _sim = Sim::start(&s, 4, "n", &["--cpu", "8", "--zones", "2"]);
    // Pods of one owner each, so that spreading has an owner to count. The owners
    // must exist: the garbage collector deletes pods whose owner is gone. Real
    // ReplicaSets would run pods of their own, so ConfigMaps stand in for them.
    let owners: Vec<String> = (1..=3)
        .map(|i| {
            s.ok(&["create", "configmap", &format!("owner-{i}")]);
            s.get_json(&["configmap", &format!("owner-{i}")])["metadata"]["uid"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let owned = |name: &str, scheduler: &str, owner: usize| {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata:
  name: {name}
  ownerReferences:
  - {{apiVersion: v1, kind: ConfigMap, name: owner-{owner}, uid: {uid}, controller: true}}
spec:
  schedulerName: {scheduler}
  containers:
  - name: c
    image: busybox:1.36
    resources:
      requests: {{cpu: 500m, memory: 64Mi}}
"#,
            uid = owners[owner - 1]
        )
    };
    // binpack fills one node before using another.
    for i in 0..4 {
        s.apply(&owned(&format!("packed{i}"), "binpack", 1));
        wait_bound(&s, &format!("packed{i}"));
    }
    let nodes: std::collections::HashSet<String> =
        (0..4).map(|i| node_of(&s, &format!("packed{i}"))).collect();
    assert_eq!(nodes.len(), 1, "binpack used {nodes:?}");
    // Its events come from the profile, as kube-scheduler's come from each
    // profile's schedulerName.
    wait_for(Duration::from_secs(20), "packed0's Scheduled event", || {
        s.get_json(&[
            "events",
            "--field-selector",
            "involvedObject.name=packed0,reason=Scheduled",
        ])["items"]
            .as_array()
            .is_some_and(|e| e.iter().any(|e| e["source"]["component"] == "binpack"))
    });
    // Four pods on one simulated node: each gets its own IP.
    let mut ips = std::collections::HashSet::new();
    wait_for(Duration::from_secs(20), "packed pods running", || {
        ips = (0..4)
            .filter_map(|i| {
                s.get_json(&["pod", &format!("packed{i}")])["status"]["podIP"]
                    .as_str()
                    .map(str::to_string)
            })
            .collect();
        ips.len() == 4
    });

    // spread puts another controller's pods on distinct nodes, alternating zones
    // (the packed pods belong to a different owner, so they do not count).
    for i in 0..4 {
        s.apply(&owned(&format!("spread{i}"), "spread", 2));
        wait_bound(&s, &format!("spread{i}"));
    }
    let spread: Vec<String> = (0..4).map(|i| node_of(&s, &format!("spread{i}"))).collect();
    let distinct: std::collections::HashSet<_> = spread.iter().collect();
    assert_eq!(distinct.len(), 4, "spread placed {spread:?}");

    // A pod naming no scheduler gets default-scheduler, served by `default`.
    s.apply(&pod_manifest("plain", "", "100m"));
    wait_bound(&s, "plain");
    let p = s.get_json(&["pod", "plain"]);
    assert_eq!(p["spec"]["schedulerName"], "default-scheduler");

    // A pod for a scheduler nobody runs is left alone, as Kubernetes does.
    s.apply(&owned("other", "someone-else", 3));
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(node_of(&s, "other"), "");
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=other",
    ]);
    assert!(!events.contains("FailedScheduling"), "{events}");
}

#[test]
fn sim_nodes_heartbeat_until_stopped() {
    let s = Server::start();
    let mut sim = Sim::start(&s, 2, "hb", &["--heartbeat-seconds", "1"]);
    let renew = || {
        let lease: Value = s.get_json(&["lease", "-n", "kube-node-lease", "hb-0"]);
        lease["spec"]["renewTime"]
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    let first = renew();
    assert!(!first.is_empty());
    wait_for(Duration::from_secs(10), "a lease renewal", || {
        renew() != first
    });
    let node = s.get_json(&["node", "hb-1"]);
    assert_eq!(node["metadata"]["labels"]["kubernetes.io/hostname"], "hb-1");
    assert_eq!(node["status"]["allocatable"]["pods"], "110");
    sim.stop();
    std::thread::sleep(Duration::from_millis(1500));
    let after_stop = renew();
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(renew(), after_stop, "a stopped sim no longer heartbeats");
}

//! The controller manager in a real `wharf server`, on simulated nodes, driven with
//! real kubectl: the shipped controllers do what a Kubernetes user relies on.

mod support;

use std::time::Duration;

use serde_json::Value;
use support::{Server, Sim, wait_for};

const RS: &str = r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: c
        image: busybox:1.36
        resources:
          requests: {cpu: 100m, memory: 32Mi}
"#;

/// Pods of `app=web` that are not being deleted, by name.
fn live_pods(s: &Server, selector: &str) -> Vec<Value> {
    let list = s.get_json(&["pods", "-l", selector]);
    list["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

fn names(pods: &[Value]) -> Vec<String> {
    pods.iter()
        .map(|p| p["metadata"]["name"].as_str().unwrap_or("").to_string())
        .collect()
}

fn wait_replicas(s: &Server, rs: &str, selector: &str, want: usize) {
    wait_for(
        Duration::from_secs(30),
        &format!("{want} running pods of {rs}, all counted as ready"),
        || {
            let pods = live_pods(s, selector);
            let running = pods
                .iter()
                .filter(|p| p["status"]["phase"] == "Running")
                .count();
            let status = s.get_json(&["rs", rs])["status"].clone();
            pods.len() == want
                && running == want
                && status["replicas"] == want
                && status["readyReplicas"].as_u64().unwrap_or(0) as usize == want
                && status["availableReplicas"].as_u64().unwrap_or(0) as usize == want
        },
    );
}

#[test]
fn a_replicaset_keeps_its_pods() {
    let s = Server::start();
    let _sim = Sim::start(&s, 3, "node", &[]);
    s.apply(RS);
    wait_replicas(&s, "web", "app=web", 3);
    let rs = s.get_json(&["rs", "web"]);
    assert_eq!(
        rs["status"]["observedGeneration"], rs["metadata"]["generation"],
        "{rs}"
    );
    let uid = rs["metadata"]["uid"].as_str().unwrap().to_string();
    for p in live_pods(&s, "app=web") {
        let name = p["metadata"]["name"].as_str().unwrap();
        assert!(name.starts_with("web-"), "{name}");
        let owner = &p["metadata"]["ownerReferences"][0];
        assert_eq!(owner["uid"], uid.as_str(), "{p}");
        assert_eq!(owner["controller"], true);
    }
    // kubectl get rs prints what the status says.
    let table = s.ok(&["get", "rs", "web"]);
    assert!(
        table.lines().nth(1).is_some_and(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols[1..4] == ["3", "3", "3"]
        }),
        "{table}"
    );
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=ReplicaSet,involvedObject.name=web",
    ]);
    assert!(
        events.contains("SuccessfulCreate") && events.contains("Created pod: web-"),
        "{events}"
    );

    // Scale up and down through the scale subresource, as kubectl does it.
    s.ok(&["scale", "rs", "web", "--replicas=5"]);
    wait_replicas(&s, "web", "app=web", 5);
    s.ok(&["scale", "rs", "web", "--replicas=2"]);
    wait_replicas(&s, "web", "app=web", 2);

    // A deleted pod is replaced by a new one.
    let before = names(&live_pods(&s, "app=web"));
    s.ok(&["delete", "pod", &before[0], "--wait=false"]);
    wait_for(Duration::from_secs(30), "the deleted pod replaced", || {
        let now = names(&live_pods(&s, "app=web"));
        now.len() == 2 && !now.contains(&before[0])
    });
    wait_replicas(&s, "web", "app=web", 2);

    // An orphan that matches is adopted, and then is one too many.
    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata:
  name: stray
  labels: {app: web}
spec:
  containers: [{name: c, image: busybox:1.36}]
"#,
    );
    wait_for(
        Duration::from_secs(30),
        "the orphan adopted and the count back at 2",
        || {
            let pods = live_pods(&s, "app=web");
            pods.len() == 2
                && pods
                    .iter()
                    .all(|p| p["metadata"]["ownerReferences"][0]["uid"] == uid.as_str())
        },
    );

    // A pod relabelled out of the selector is released and replaced.
    let kept = names(&live_pods(&s, "app=web"));
    s.ok(&["label", "pod", &kept[0], "app=other", "--overwrite"]);
    wait_for(
        Duration::from_secs(30),
        "the relabelled pod released",
        || {
            let p = s.get_json(&["pod", &kept[0]]);
            p["metadata"]["ownerReferences"]
                .as_array()
                .is_none_or(|r| r.is_empty())
        },
    );
    wait_replicas(&s, "web", "app=web", 2);
}

#[test]
fn every_namespace_has_a_default_service_account() {
    let s = Server::start();
    s.ok(&["create", "namespace", "team-a"]);
    wait_for(Duration::from_secs(20), "team-a's default account", || {
        s.kubectl(&["get", "serviceaccount", "default", "-n", "team-a"])
            .status
            .success()
    });
    // The built-in namespaces get one too.
    for ns in ["default", "kube-system"] {
        wait_for(Duration::from_secs(20), &format!("{ns}'s account"), || {
            s.kubectl(&["get", "serviceaccount", "default", "-n", ns])
                .status
                .success()
        });
    }
    let first = s.get_json(&["serviceaccount", "default", "-n", "team-a"]);
    s.ok(&["delete", "serviceaccount", "default", "-n", "team-a"]);
    wait_for(Duration::from_secs(20), "the account recreated", || {
        let out = s.kubectl(&[
            "get",
            "serviceaccount",
            "default",
            "-n",
            "team-a",
            "-o",
            "json",
        ]);
        out.status.success()
            && serde_json::from_slice::<Value>(&out.stdout)
                .is_ok_and(|v| v["metadata"]["uid"] != first["metadata"]["uid"])
    });
}

#[test]
fn controllers_are_plugin_objects() {
    let s = Server::start();
    wait_for(
        Duration::from_secs(20),
        "the built-in controllers listed",
        || {
            let out = s.kubectl(&["get", "plugins"]);
            let text = String::from_utf8_lossy(&out.stdout).to_string();
            ["replicaset", "serviceaccount"].iter().all(|name| {
                text.lines()
                    .any(|l| l.starts_with(name) && l.contains("Loaded"))
            })
        },
    );
    let p = s.get_json(&["plugin", "replicaset"]);
    assert_eq!(p["spec"]["kind"], "controller");
    assert_eq!(p["metadata"]["annotations"]["wharf.dev/builtin"], "true");
}

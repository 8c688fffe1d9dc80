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

/// Pods matching `selector`, those being deleted included.
fn all_pods(s: &Server, selector: &str) -> Vec<Value> {
    s.get_json(&["pods", "-l", selector])["items"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// Pods matching `selector` that are not being deleted.
fn live_pods(s: &Server, selector: &str) -> Vec<Value> {
    all_pods(s, selector)
        .into_iter()
        .filter(|p| p["metadata"]["deletionTimestamp"].is_null())
        .collect()
}

/// Whether a pod's `Ready` condition is true.
fn is_ready(pod: &Value) -> bool {
    pod["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| c["type"] == "Ready" && c["status"] == "True")
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
        // Its node's kubelet reports where it runs, and leaves the QoS class
        // (requests without limits) as admission set it.
        let node = s.get_json(&["node", p["spec"]["nodeName"].as_str().unwrap()]);
        assert_eq!(
            p["status"]["hostIP"],
            node["status"]["addresses"][0]["address"]
        );
        assert_eq!(p["status"]["qosClass"], "Burstable", "{p}");
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
    // A fresh server compiles every built-in plugin before it reports Loaded; on a
    // fresh machine that runs beside the other tests' servers and cargo builds.
    wait_for(
        Duration::from_secs(90),
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

fn deployment(replicas: u32, image: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
  annotations: {{kubernetes.io/change-cause: "image {image}"}}
spec:
  replicas: {replicas}
  selector:
    matchLabels: {{app: api}}
  strategy:
    type: RollingUpdate
    rollingUpdate: {{maxSurge: 1, maxUnavailable: 1}}
  template:
    metadata:
      labels: {{app: api}}
    spec:
      containers:
      - name: c
        image: {image}
        resources:
          requests: {{cpu: 100m, memory: 32Mi}}
"#
    )
}

fn rollout_status(s: &Server) -> String {
    s.ok(&["rollout", "status", "deployment/api", "--timeout=90s"])
}

fn images(s: &Server) -> Vec<String> {
    live_pods(s, "app=api")
        .iter()
        .map(|p| {
            p["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[test]
fn a_deployment_rolls_out_scales_rolls_back_and_is_collected() {
    let s = Server::start();
    let _sim = Sim::start(&s, 4, "node", &[]);
    s.apply(&deployment(4, "busybox:1.36"));
    let out = rollout_status(&s);
    assert!(out.contains("successfully rolled out"), "{out}");
    let table = s.ok(&["get", "deployment", "api"]);
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(row[1..4], ["4/4", "4", "4"], "{table}");
    let d = s.get_json(&["deployment", "api"]);
    let conditions = d["status"]["conditions"].as_array().unwrap();
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Available" && c["status"] == "True")
    );
    assert!(
        conditions
            .iter()
            .any(|c| c["type"] == "Progressing" && c["reason"] == "NewReplicaSetAvailable")
    );

    // Scaling goes through the scale subresource and reaches the pods.
    s.ok(&["scale", "deployment", "api", "--replicas=6"]);
    rollout_status(&s);
    wait_for(Duration::from_secs(30), "6 pods", || {
        live_pods(&s, "app=api").len() == 6
    });
    s.ok(&["scale", "deployment", "api", "--replicas=4"]);
    rollout_status(&s);
    wait_for(Duration::from_secs(30), "4 pods", || {
        live_pods(&s, "app=api").len() == 4
    });

    // A new image rolls out without ever dropping below 4 - maxUnavailable
    // available pods, nor going above 4 + maxSurge pods.
    s.ok(&["set", "image", "deployment/api", "c=busybox:1.37"]);
    s.ok(&[
        "annotate",
        "deployment/api",
        "kubernetes.io/change-cause=image busybox:1.37",
        "--overwrite",
    ]);
    let mut lowest_available = i64::MAX;
    let mut highest_total = 0usize;
    wait_for(
        Duration::from_secs(90),
        "every pod on the new image",
        || {
            let d = s.get_json(&["deployment", "api"]);
            if d["status"]["observedGeneration"] == d["metadata"]["generation"] {
                lowest_available =
                    lowest_available.min(d["status"]["availableReplicas"].as_i64().unwrap_or(0));
            }
            let pods = live_pods(&s, "app=api");
            highest_total = highest_total.max(pods.len());
            let imgs: Vec<String> = pods
                .iter()
                .map(|p| {
                    p["spec"]["containers"][0]["image"]
                        .as_str()
                        .unwrap_or("")
                        .to_string()
                })
                .collect();
            imgs.len() == 4 && imgs.iter().all(|i| i == "busybox:1.37")
        },
    );
    rollout_status(&s);
    assert!(
        lowest_available >= 3,
        "availability dipped to {lowest_available}"
    );
    assert!(highest_total <= 5, "{highest_total} pods at once");
    let history = s.ok(&["rollout", "history", "deployment/api"]);
    assert!(
        history.contains("1 ") && history.contains("2 "),
        "{history}"
    );
    assert!(history.contains("image busybox:1.37"), "{history}");
    let sets = s.get_json(&["rs", "-l", "app=api"]);
    assert_eq!(sets["items"].as_array().unwrap().len(), 2, "{sets}");

    // Undo returns to the first template; its ReplicaSet becomes revision 3.
    s.ok(&["rollout", "undo", "deployment/api"]);
    wait_for(
        Duration::from_secs(90),
        "every pod back on the old image",
        || {
            let imgs = images(&s);
            imgs.len() == 4 && imgs.iter().all(|i| i == "busybox:1.36")
        },
    );
    rollout_status(&s);
    let d = s.get_json(&["deployment", "api"]);
    assert_eq!(
        d["metadata"]["annotations"]["deployment.kubernetes.io/revision"], "3",
        "{d}"
    );

    // The controller writes its revision annotation through the status endpoint,
    // which is no new generation; a user's annotation is one (it is copied to
    // the ReplicaSets), and is observed.
    let generation = d["metadata"]["generation"].as_i64().unwrap();
    assert_eq!(d["status"]["observedGeneration"], generation, "{d}");
    s.ok(&["annotate", "deployment/api", "note=x"]);
    let d = s.get_json(&["deployment", "api"]);
    assert_eq!(d["metadata"]["generation"], generation + 1, "{d}");
    wait_for(
        Duration::from_secs(30),
        "the annotation observed and copied",
        || {
            let d = s.get_json(&["deployment", "api"]);
            let sets = s.get_json(&["rs", "-l", "app=api"]);
            d["status"]["observedGeneration"] == generation + 1
                && sets["items"].as_array().unwrap().iter().any(|rs| {
                    rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
                        && rs["metadata"]["annotations"]["note"] == "x"
                })
        },
    );
    rollout_status(&s);

    // Deleting the Deployment takes its ReplicaSets and their pods along.
    s.ok(&["delete", "deployment", "api"]);
    wait_for(
        Duration::from_secs(60),
        "ReplicaSets and pods collected",
        || {
            s.get_json(&["rs", "-l", "app=api"])["items"]
                .as_array()
                .is_some_and(|i| i.is_empty())
                && s.get_json(&["pods", "-l", "app=api"])["items"]
                    .as_array()
                    .is_some_and(|i| i.is_empty())
        },
    );
}

#[test]
fn orphan_and_foreground_deletion_follow_the_propagation_policy() {
    let s = Server::start();
    let _sim = Sim::start(&s, 2, "node", &[]);
    s.apply(RS);
    wait_replicas(&s, "web", "app=web", 3);

    // Orphan: the ReplicaSet goes, its pods stay, released.
    s.ok(&["delete", "rs", "web", "--cascade=orphan"]);
    wait_for(Duration::from_secs(30), "the ReplicaSet gone", || {
        !s.kubectl(&["get", "rs", "web"]).status.success()
    });
    let orphans = live_pods(&s, "app=web");
    assert_eq!(orphans.len(), 3);
    wait_for(Duration::from_secs(30), "the pods released", || {
        live_pods(&s, "app=web").iter().all(|p| {
            p["metadata"]["ownerReferences"]
                .as_array()
                .is_none_or(|r| r.is_empty())
        })
    });

    // A new ReplicaSet adopts them; foreground deletion then waits for them.
    s.apply(RS);
    wait_for(Duration::from_secs(30), "the orphans adopted", || {
        let rs = s.get_json(&["rs", "web"]);
        let uid = rs["metadata"]["uid"].clone();
        let pods = live_pods(&s, "app=web");
        pods.len() == 3
            && pods
                .iter()
                .all(|p| p["metadata"]["ownerReferences"][0]["uid"] == uid)
    });
    s.ok(&[
        "delete",
        "rs",
        "web",
        "--cascade=foreground",
        "--wait=false",
    ]);
    wait_for(
        Duration::from_secs(60),
        "the pods and then the ReplicaSet gone",
        || {
            s.get_json(&["pods", "-l", "app=web"])["items"]
                .as_array()
                .is_some_and(|i| i.is_empty())
                && !s.kubectl(&["get", "rs", "web"]).status.success()
        },
    );
}

/// A ReplicaSet that selects nothing, owning (without controlling) pods made by
/// hand: `holder` and two pods, one of them also owned by the ConfigMap `keeper`.
fn shared_dependents(s: &Server) {
    s.apply(
        r#"
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: holder}
spec:
  replicas: 0
  selector: {matchLabels: {app: holder}}
  template:
    metadata: {labels: {app: holder}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: keeper}
"#,
    );
    let uid = |args: &[&str]| s.get_json(args)["metadata"]["uid"].clone();
    let (rs, cm) = (uid(&["rs", "holder"]), uid(&["configmap", "keeper"]));
    let pod = |name: &str, owners: Value| {
        serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": {"shared": "test"}, "ownerReferences": owners},
            "spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]},
        })
        .to_string()
    };
    let by_rs = serde_json::json!({"apiVersion": "apps/v1", "kind": "ReplicaSet",
        "name": "holder", "uid": rs, "blockOwnerDeletion": true});
    let by_cm = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "name": "keeper", "uid": cm});
    s.apply(&pod("shared", serde_json::json!([by_rs, by_cm])));
    s.apply(&pod("sole", serde_json::json!([by_rs])));
}

/// The names of the `shared=test` pods and the kinds of their owners.
fn shared_pods(s: &Server) -> Vec<(String, Vec<String>)> {
    all_pods(s, "shared=test")
        .iter()
        .map(|p| {
            let owners = p["metadata"]["ownerReferences"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|r| r["kind"].as_str().unwrap_or_default().to_string())
                .collect();
            (
                p["metadata"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                owners,
            )
        })
        .collect()
}

#[test]
fn a_dependent_another_owner_holds_outlives_its_deleted_owner() {
    let s = Server::start();
    let only_the_keeper = || vec![("shared".to_string(), vec!["ConfigMap".to_string()])];

    // Foreground, as Kubernetes' collector does it: the owner waits for the pod
    // it alone owns; the pod the ConfigMap also owns stays, let go of.
    shared_dependents(&s);
    s.ok(&[
        "delete",
        "rs",
        "holder",
        "--cascade=foreground",
        "--wait=false",
    ]);
    wait_for(Duration::from_secs(60), "the ReplicaSet gone", || {
        !s.kubectl(&["get", "rs", "holder"]).status.success()
    });
    wait_for(Duration::from_secs(30), "only the shared pod left", || {
        shared_pods(&s) == only_the_keeper()
    });

    // Background: the same outcome, the pods following after their owner went.
    s.ok(&["delete", "pod", "shared"]);
    shared_dependents(&s);
    s.ok(&["delete", "rs", "holder"]);
    wait_for(Duration::from_secs(60), "only the shared pod left", || {
        shared_pods(&s) == only_the_keeper()
    });
}

/// Whether `kubectl get ARGS` finds the object.
fn exists(s: &Server, args: &[&str]) -> bool {
    let mut full = vec!["get"];
    full.extend_from_slice(args);
    s.kubectl(&full).status.success()
}

/// As Kubernetes' collector, Wharf's follows owner references between objects
/// of any kind: a Deployment's Secret, Service, ServiceAccount, ConfigMap,
/// EndpointSlice and Lease go with it, one that another owner still holds stays
/// (let go of), one whose only owner does not exist goes at once, and a deleted
/// node's Lease goes with the node.
#[test]
fn dependents_of_every_kind_follow_their_owners() {
    let s = Server::start();
    let _sim = Sim::start(&s, 1, "gc", &[]);
    s.apply(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: owner}
spec:
  replicas: 0
  selector: {matchLabels: {app: owner}}
  template:
    metadata: {labels: {app: owner}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: keeper}
"#,
    );
    let uid = |args: &[&str]| s.get_json(args)["metadata"]["uid"].clone();
    let by_deployment = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "name": "owner", "uid": uid(&["deployment", "owner"]), "controller": true});
    let by_keeper = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap",
        "name": "keeper", "uid": uid(&["configmap", "keeper"])});
    // A Lease that never existed: a kind no collector watches, looked up in the API.
    let by_ghost = serde_json::json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
        "name": "ghost", "uid": "0b1e5c2d-0000-4000-8000-000000000000"});
    let object = |api_version: &str, kind: &str, name: &str, owners: Value, rest: Value| {
        let mut o = serde_json::json!({"apiVersion": api_version, "kind": kind,
            "metadata": {"name": name, "ownerReferences": owners}});
        o.as_object_mut()
            .unwrap()
            .extend(rest.as_object().unwrap().clone());
        o.to_string()
    };
    let owned = [
        (
            "v1",
            "Secret",
            "secret",
            serde_json::json!({"stringData": {"k": "v"}}),
        ),
        (
            "v1",
            "Service",
            "service",
            serde_json::json!({"spec": {"ports": [{"port": 80}]}}),
        ),
        (
            "v1",
            "ServiceAccount",
            "serviceaccount",
            serde_json::json!({}),
        ),
        (
            "v1",
            "ConfigMap",
            "configmap",
            serde_json::json!({"data": {"k": "v"}}),
        ),
        (
            "discovery.k8s.io/v1",
            "EndpointSlice",
            "endpointslice",
            serde_json::json!({"addressType": "IPv4", "endpoints": []}),
        ),
        (
            "coordination.k8s.io/v1",
            "Lease",
            "lease",
            serde_json::json!({"spec": {}}),
        ),
    ];
    let mut items: Vec<String> = owned
        .iter()
        .map(|(v, k, name, rest)| {
            object(v, k, name, serde_json::json!([by_deployment]), rest.clone())
        })
        .collect();
    items.push(object(
        "v1",
        "Secret",
        "shared",
        serde_json::json!([by_deployment, by_keeper]),
        serde_json::json!({}),
    ));
    items.push(object(
        "v1",
        "Secret",
        "stray",
        serde_json::json!([by_ghost]),
        serde_json::json!({}),
    ));
    // One JSON document: kubectl reads JSON input as a single object, a List here.
    s.apply(&format!(
        r#"{{"apiVersion": "v1", "kind": "List", "items": [{}]}}"#,
        items.join(", ")
    ));

    wait_for(
        Duration::from_secs(30),
        "the Secret whose owner never existed gone",
        || !exists(&s, &["secret", "stray"]),
    );
    for (_, _, name, _) in &owned {
        assert!(
            exists(&s, &[name, name]),
            "the {name} went before its owner"
        );
    }

    s.ok(&["delete", "deployment", "owner"]);
    wait_for(
        Duration::from_secs(30),
        "every dependent of the Deployment gone",
        || {
            owned
                .iter()
                .all(|(_, _, name, _)| !exists(&s, &[name, name]))
        },
    );
    wait_for(
        Duration::from_secs(30),
        "the shared Secret let go of",
        || {
            let refs = s.get_json(&["secret", "shared"])["metadata"]["ownerReferences"].clone();
            refs.as_array()
                .is_some_and(|r| r.len() == 1 && r[0]["kind"] == "ConfigMap")
        },
    );

    // A kubelet's node Lease is owned by its Node.
    let lease = s.get_json(&["lease", "gc-0", "-n", "kube-node-lease"]);
    assert_eq!(
        lease["metadata"]["ownerReferences"][0]["uid"],
        uid(&["node", "gc-0"])
    );
    s.ok(&["delete", "node", "gc-0"]);
    wait_for(
        Duration::from_secs(30),
        "the deleted node's Lease gone",
        || !exists(&s, &["lease", "gc-0", "-n", "kube-node-lease"]),
    );
}

/// An owner deleted with `orphan` lets go of dependents of every kind, whichever
/// collector it has; one deleted in the foreground waits for blocking dependents
/// of every kind.
#[test]
fn orphan_and_foreground_deletion_reach_dependents_of_every_kind() {
    let s = Server::start();
    s.apply(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: keep}
spec:
  replicas: 0
  selector: {matchLabels: {app: keep}}
  template:
    metadata: {labels: {app: keep}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
---
apiVersion: v1
kind: Secret
metadata: {name: owner}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: waiter}
"#,
    );
    let reference = |kind: &str, name: &str| {
        let api_version = if kind == "Deployment" {
            "apps/v1"
        } else {
            "v1"
        };
        let uid = s.get_json(&[kind, name])["metadata"]["uid"].clone();
        serde_json::json!([{"apiVersion": api_version, "kind": kind, "name": name,
            "uid": uid, "blockOwnerDeletion": true}])
    };
    let owned = |kind: &str, name: &str, owners: &Value, extra: Value| {
        let mut o = serde_json::json!({"apiVersion": "v1", "kind": kind,
            "metadata": {"name": name, "ownerReferences": owners}});
        for (k, v) in extra.as_object().unwrap() {
            o[k] = v.clone();
        }
        o.to_string()
    };
    let pod_spec =
        serde_json::json!({"spec": {"containers": [{"name": "c", "image": "busybox:1.36"}]}});
    let by_keep = reference("Deployment", "keep");
    let by_owner = reference("Secret", "owner");
    let kept = [
        owned("Secret", "kept-secret", &by_keep, serde_json::json!({})),
        owned("ConfigMap", "kept-cm", &by_keep, serde_json::json!({})),
        owned("ServiceAccount", "kept-sa", &by_keep, serde_json::json!({})),
        owned("Pod", "kept-pod", &by_keep, pod_spec.clone()),
        owned(
            "ConfigMap",
            "kept-by-secret",
            &by_owner,
            serde_json::json!({}),
        ),
    ];
    s.apply(&format!(
        r#"{{"apiVersion": "v1", "kind": "List", "items": [{}]}}"#,
        kept.join(", ")
    ));

    // Orphan, from a Deployment (whose collector caches only ReplicaSets) and
    // from a Secret: every dependent stays, released.
    s.ok(&["delete", "deployment", "keep", "--cascade=orphan"]);
    s.ok(&["delete", "secret", "owner", "--cascade=orphan"]);
    let names = [
        ("secret", "kept-secret"),
        ("configmap", "kept-cm"),
        ("serviceaccount", "kept-sa"),
        ("pod", "kept-pod"),
        ("configmap", "kept-by-secret"),
    ];
    wait_for(Duration::from_secs(30), "every dependent released", || {
        names.iter().all(|(kind, name)| {
            s.get_json(&[kind, name])["metadata"]
                .get("ownerReferences")
                .is_none()
        })
    });
    std::thread::sleep(Duration::from_secs(2));
    for (kind, name) in names {
        assert!(
            exists(&s, &[kind, name]),
            "the orphaned {kind} {name} was deleted"
        );
    }

    // Foreground, from a ConfigMap: it waits for a blocking Secret that a
    // finalizer holds, and goes once the Secret does.
    let by_waiter = reference("ConfigMap", "waiter");
    s.apply(&owned(
        "Secret",
        "held",
        &by_waiter,
        serde_json::json!({"metadata": {"name": "held", "ownerReferences": by_waiter,
            "finalizers": ["example.com/hold"]}}),
    ));
    s.ok(&[
        "delete",
        "configmap",
        "waiter",
        "--cascade=foreground",
        "--wait=false",
    ]);
    wait_for(
        Duration::from_secs(30),
        "the held Secret marked for deletion",
        || {
            s.get_json(&["secret", "held"])["metadata"]
                .get("deletionTimestamp")
                .is_some()
        },
    );
    std::thread::sleep(Duration::from_secs(2));
    let waiter = s.get_json(&["configmap", "waiter"]);
    assert_eq!(
        waiter["metadata"]["finalizers"],
        serde_json::json!(["foregroundDeletion"])
    );
    s.ok(&[
        "patch",
        "secret",
        "held",
        "--type=json",
        "-p",
        r#"[{"op": "remove", "path": "/metadata/finalizers"}]"#,
    ]);
    wait_for(
        Duration::from_secs(30),
        "the owner gone after its dependent",
        || !exists(&s, &["configmap", "waiter"]) && !exists(&s, &["secret", "held"]),
    );
}

#[test]
fn endpoints_follow_the_pods_a_service_selects() {
    let s = Server::start();
    let _sim = Sim::start(&s, 2, "node", &[]);
    s.apply(RS);
    s.apply(
        r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
"#,
    );
    wait_replicas(&s, "web", "app=web", 3);
    let addresses = |field: &str| -> Vec<String> {
        let out = s.kubectl(&["get", "endpoints", "web", "-o", "json"]);
        let Ok(ep) = serde_json::from_slice::<Value>(&out.stdout) else {
            return Vec::new();
        };
        ep["subsets"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|s| s[field].as_array().cloned().unwrap_or_default())
            .map(|a| a["ip"].as_str().unwrap_or("").to_string())
            .collect()
    };
    let pod_ips = || -> Vec<String> {
        let mut ips: Vec<String> = live_pods(&s, "app=web")
            .iter()
            .map(|p| p["status"]["podIP"].as_str().unwrap_or("").to_string())
            .collect();
        ips.sort();
        ips
    };
    wait_for(Duration::from_secs(30), "3 ready addresses", || {
        addresses("addresses") == pod_ips() && pod_ips().len() == 3
    });
    let ep = s.get_json(&["endpoints", "web"]);
    assert_eq!(ep["subsets"][0]["ports"][0]["port"], 8080, "{ep}");
    assert_eq!(ep["subsets"][0]["ports"][0]["name"], "http", "{ep}");
    assert_eq!(
        ep["metadata"]["labels"]["endpoints.kubernetes.io/managed-by"], "endpoint-controller",
        "the controller marks what it writes: {ep}"
    );

    // The same pods are in the Service's EndpointSlices, which `kubectl describe
    // service` (and kube-proxy) read: (address, ready) of each endpoint.
    let slice_endpoints = || -> Vec<(String, bool)> {
        let out = s.kubectl(&[
            "get",
            "endpointslices",
            "-l",
            "kubernetes.io/service-name=web",
            "-o",
            "json",
        ]);
        let Ok(list) = serde_json::from_slice::<Value>(&out.stdout) else {
            return Vec::new();
        };
        let mut seen: Vec<(String, bool)> = list["items"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|slice| slice["endpoints"].as_array().cloned().unwrap_or_default())
            .map(|e| {
                (
                    e["addresses"][0].as_str().unwrap_or("").to_string(),
                    e["conditions"]["ready"] == true,
                )
            })
            .collect();
        seen.sort();
        seen
    };
    wait_for(
        Duration::from_secs(30),
        "3 ready endpoints in a slice",
        || {
            slice_endpoints()
                == pod_ips()
                    .into_iter()
                    .map(|ip| (ip, true))
                    .collect::<Vec<_>>()
        },
    );
    let slices = s.get_json(&["endpointslices", "-l", "kubernetes.io/service-name=web"]);
    let slice = &slices["items"][0];
    assert_eq!(slice["addressType"], "IPv4", "{slice}");
    assert!(
        slice["endpoints"][0]["zone"]
            .as_str()
            .is_some_and(|z| !z.is_empty()),
        "an endpoint names its node's zone: {slice}"
    );
    assert_eq!(slice["ports"][0]["port"], 8080, "{slice}");
    assert_eq!(slice["ports"][0]["name"], "http", "{slice}");
    assert_eq!(
        slice["metadata"]["ownerReferences"][0]["kind"], "Service",
        "{slice}"
    );
    let table = s.ok(&["get", "endpointslices"]);
    assert!(
        table.contains("ADDRESSTYPE") && table.contains("IPv4") && table.contains("8080"),
        "{table}"
    );
    let described = s.ok(&["describe", "service", "web"]);
    let first_ip = &pod_ips()[0];
    assert!(
        described
            .lines()
            .any(|l| l.starts_with("Endpoints:") && l.contains(&format!("{first_ip}:8080"))),
        "{described}"
    );
    // The same through `kubectl expose`, whose port has no name (kubectl's
    // describe dereferences a slice port's name, so it must be "", not absent).
    s.ok(&[
        "expose",
        "rs",
        "web",
        "--name=plain",
        "--port=80",
        "--target-port=8080",
    ]);
    wait_for(
        Duration::from_secs(30),
        "plain described with endpoints",
        || {
            let out = s.kubectl(&["describe", "service", "plain"]);
            out.status.success()
                && String::from_utf8_lossy(&out.stdout)
                    .lines()
                    .any(|l| l.starts_with("Endpoints:") && l.contains(&format!("{first_ip}:8080")))
        },
    );
    s.ok(&["delete", "service", "plain"]);

    // A pod that stops being ready moves to the not-ready addresses.
    let pod = names(&live_pods(&s, "app=web"))[0].clone();
    let ip = s.get_json(&["pod", &pod])["status"]["podIP"]
        .as_str()
        .unwrap()
        .to_string();
    s.ok(&[
        "patch",
        "pod",
        &pod,
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"conditions":[{"type":"Ready","status":"False"}]}}"#,
    ]);
    wait_for(
        Duration::from_secs(30),
        "the unready pod listed apart",
        || addresses("notReadyAddresses") == [ip.clone()] && addresses("addresses").len() == 2,
    );
    wait_for(Duration::from_secs(30), "the unready endpoint", || {
        let seen = slice_endpoints();
        seen.len() == 3 && seen.iter().all(|(a, ready)| *ready == (*a != ip))
    });

    // Scaling down shrinks the endpoints; deleting the Service removes them.
    s.ok(&["scale", "rs", "web", "--replicas=1"]);
    wait_for(Duration::from_secs(30), "one address", || {
        addresses("addresses").len() + addresses("notReadyAddresses").len() == 1
    });
    s.ok(&["delete", "service", "web"]);
    wait_for(Duration::from_secs(30), "the endpoints removed", || {
        !s.kubectl(&["get", "endpoints", "web"]).status.success()
    });
    wait_for(Duration::from_secs(30), "the slices removed", || {
        s.get_json(&["endpointslices"])["items"]
            .as_array()
            .is_some_and(|i| i.is_empty())
    });
}

/// Endpoints a user writes for a selector-less Service are theirs: kept when they
/// arrive before their Service (`kubectl apply -f dir/` in file-name order) or
/// without one, and deleted with their Service, as Kubernetes' registry does. Only
/// Endpoints the controller marked as its own go when their Service is missing.
#[test]
fn a_users_endpoints_are_kept_until_their_service_goes() {
    let s = Server::start();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a-endpoints.yaml"),
        r#"
apiVersion: v1
kind: Endpoints
metadata: {name: db}
subsets: [{addresses: [{ip: 10.9.0.7}], ports: [{name: pg, port: 5432}]}]
"#,
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b-service.yaml"),
        r#"
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  ports: [{name: pg, port: 5432}]
"#,
    )
    .unwrap();
    s.ok(&["apply", "-f", dir.path().to_str().unwrap()]);
    s.apply(
        r#"
apiVersion: v1
kind: Endpoints
metadata: {name: lone}
subsets: [{addresses: [{ip: 10.9.0.8}], ports: [{port: 80}]}]
---
apiVersion: v1
kind: Endpoints
metadata:
  name: stale
  labels: {endpoints.kubernetes.io/managed-by: endpoint-controller}
subsets: [{addresses: [{ip: 10.9.0.9}], ports: [{port: 80}]}]
"#,
    );
    // The controller's own, without a Service, goes; a user's stays.
    wait_for(
        Duration::from_secs(30),
        "the stale managed endpoints gone",
        || !exists(&s, &["endpoints", "stale"]),
    );
    std::thread::sleep(Duration::from_secs(1));
    let ep = s.get_json(&["endpoints", "db"]);
    assert_eq!(ep["subsets"][0]["addresses"][0]["ip"], "10.9.0.7", "{ep}");
    assert!(
        exists(&s, &["endpoints", "lone"]),
        "an Endpoints without a Service stays"
    );

    // They are mirrored into an EndpointSlice, which `kubectl describe service`
    // reads; an Endpoints without a Service is not.
    let mirrored = |name: &str| -> Vec<Value> {
        let selector = format!(
            "kubernetes.io/service-name={name},endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io"
        );
        s.get_json(&["endpointslices", "-l", &selector])["items"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    };
    wait_for(Duration::from_secs(30), "the endpoints mirrored", || {
        mirrored("db").len() == 1
    });
    let slice = &mirrored("db")[0];
    assert_eq!(slice["endpoints"][0]["addresses"][0], "10.9.0.7", "{slice}");
    assert_eq!(
        slice["endpoints"][0]["conditions"]["ready"], true,
        "{slice}"
    );
    assert_eq!(slice["ports"][0]["port"], 5432, "{slice}");
    assert_eq!(
        slice["metadata"]["ownerReferences"][0]["kind"], "Endpoints",
        "{slice}"
    );
    let described = s.ok(&["describe", "service", "db"]);
    assert!(
        described
            .lines()
            .any(|l| l.starts_with("Endpoints:") && l.contains("10.9.0.7:5432")),
        "{described}"
    );
    assert!(
        mirrored("lone").is_empty(),
        "nothing mirrored without a service"
    );

    // A change to the Endpoints reaches its slice.
    s.ok(&[
        "patch",
        "endpoints",
        "db",
        "--type=merge",
        "-p",
        r#"{"subsets":[{"addresses":[{"ip":"10.9.0.7"},{"ip":"10.9.0.10"}],"ports":[{"name":"pg","port":5432}]}]}"#,
    ]);
    wait_for(Duration::from_secs(30), "the change mirrored", || {
        mirrored("db")
            .first()
            .is_some_and(|s| s["endpoints"].as_array().is_some_and(|e| e.len() == 2))
    });

    // Deleting the Service deletes its Endpoints, written by whoever, and so
    // their mirror.
    s.ok(&["delete", "service", "db"]);
    assert!(
        !exists(&s, &["endpoints", "db"]),
        "the endpoints go with their service"
    );
    wait_for(Duration::from_secs(30), "the mirror gone", || {
        mirrored("db").is_empty()
    });
}

const BACKUP_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: backups.example.wharf.dev
spec:
  group: example.wharf.dev
  scope: Namespaced
  names: {plural: backups, singular: backup, kind: Backup}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              schedule: {type: string}
"#;

#[test]
fn a_deleted_namespace_is_emptied_then_gone() {
    let s = Server::start();
    let _sim = Sim::start(&s, 2, "node", &[]);
    s.ok(&["create", "namespace", "doomed"]);
    s.ok(&[
        "create",
        "configmap",
        "settings",
        "-n",
        "doomed",
        "--from-literal=a=b",
    ]);
    let rs = RS.replace("name: web\n", "name: web\n  namespace: doomed\n");
    s.apply(&rs);
    // Objects of a custom kind go too: the namespace controller finds the kind
    // through its definition.
    s.apply(BACKUP_CRD);
    wait_for(Duration::from_secs(20), "the Backup kind served", || {
        s.kubectl(&["get", "backups", "-n", "doomed"])
            .status
            .success()
    });
    s.apply(
        "apiVersion: example.wharf.dev/v1\nkind: Backup\nmetadata: {name: nightly, namespace: doomed}\nspec: {schedule: daily}\n",
    );
    wait_for(Duration::from_secs(30), "the pods running", || {
        s.get_json(&["pods", "-n", "doomed"])["items"]
            .as_array()
            .is_some_and(|i| i.len() == 3)
    });
    // A ConfigMap held by a finalizer holds the namespace, which says so.
    s.apply(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: held, namespace: doomed, finalizers: [example.com/hold]}\n",
    );
    let deleted = s.get_json(&["namespace", "doomed"]);
    s.ok(&["delete", "namespace", "doomed", "--wait=false"]);
    assert_eq!(deleted["status"]["phase"], "Active");
    let condition = |ns: &Value, ty: &str| {
        ns["status"]["conditions"]
            .as_array()
            .and_then(|c| c.iter().find(|c| c["type"] == ty).cloned())
            .unwrap_or_default()
    };
    wait_for(
        Duration::from_secs(60),
        "only the held ConfigMap left, reported",
        || {
            let ns = s.get_json(&["namespace", "doomed"]);
            assert_eq!(ns["status"]["phase"], "Terminating", "{ns}");
            let content = condition(&ns, "NamespaceContentRemaining");
            let finalizers = condition(&ns, "NamespaceFinalizersRemaining");
            content["status"] == "True"
                && content["reason"] == "SomeResourcesRemain"
                && content["message"]
                    == "Some resources are remaining: configmaps. has 1 resource instances"
                && finalizers["reason"] == "SomeFinalizersRemain"
                && finalizers["message"]
                    == "Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances"
                && condition(&ns, "NamespaceDeletionContentFailure")["status"] == "False"
        },
    );
    let described = s.ok(&["describe", "namespace", "doomed"]);
    assert!(
        described.contains("NamespaceFinalizersRemaining"),
        "{described}"
    );
    s.ok(&[
        "patch",
        "configmap",
        "held",
        "-n",
        "doomed",
        "--type=json",
        "-p",
        r#"[{"op": "remove", "path": "/metadata/finalizers"}]"#,
    ]);
    wait_for(Duration::from_secs(60), "the namespace gone", || {
        !s.kubectl(&["get", "namespace", "doomed"]).status.success()
    });
    // Nothing of it is left behind.
    for kind in [
        "pods",
        "replicasets",
        "configmaps",
        "serviceaccounts",
        "backups",
    ] {
        let list = s.get_json(&[kind, "-n", "doomed"]);
        assert!(
            list["items"].as_array().is_some_and(|i| i.is_empty()),
            "{kind}: {list}"
        );
    }
}

/// `wharf up`, the README's all-in-one command, says where its API is and when its
/// built-in controllers run (a first start compiles them); they then work.
#[test]
fn wharf_up_says_when_its_controllers_run() {
    let s = Server::start_up();
    let log = s.log();
    assert!(
        log.contains("wharf up: store + API server, scheduler and controller manager on http://"),
        "{log}"
    );
    assert!(log.contains("not yet built: kubelet, proxy"), "{log}");
    // "wharf up: N of M built-in controllers running, …", every one of them.
    let all_running = || {
        s.log().lines().any(|l| {
            let words: Vec<&str> = l.split_whitespace().collect();
            words.len() >= 8
                && words[..2] == ["wharf", "up:"]
                && words[3] == "of"
                && words[5..8] == ["built-in", "controllers", "running,"]
                && words[2] == words[4]
        })
    };
    wait_for(
        Duration::from_secs(90),
        "every built-in controller running",
        all_running,
    );
    // Each built-in's Plugin object asks for the version already running, most
    // while that version is still compiling: nothing is swapped for itself.
    wait_for(
        Duration::from_secs(60),
        "every controller's Plugin object Loaded",
        || {
            let items = s.get_json(&["plugins"])["items"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            let controllers: Vec<_> = items
                .iter()
                .filter(|p| p["spec"]["kind"] == "controller")
                .collect();
            controllers.len() >= 11
                && controllers.iter().all(|p| {
                    p["status"]["phase"] == "Loaded"
                        && p["status"]["observedGeneration"] == p["metadata"]["generation"]
                })
        },
    );
    let metrics = s.ok(&["get", "--raw", "/metrics"]);
    let swaps: Vec<&str> = metrics
        .lines()
        .filter(|l| l.starts_with("wharf_controller_swaps_total{") && !l.ends_with(" 0"))
        .collect();
    assert!(swaps.is_empty(), "{swaps:?}");
    s.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox",
        "--replicas=2",
    ]);
    wait_for(
        Duration::from_secs(30),
        "the Deployment's ReplicaSet",
        || {
            s.get_json(&["rs", "-l", "app=web"])["items"]
                .as_array()
                .is_some_and(|items| items.len() == 1 && items[0]["spec"]["replicas"] == 2)
        },
    );
}

/// Sets the node lifecycle controller's config (seconds rather than minutes, in
/// tests) through its Plugin object, as an operator would, and waits until the
/// controller runs with it.
fn tune_node_lifecycle(s: &Server, config: &str) {
    wait_for(
        Duration::from_secs(30),
        "the built-in controller's Plugin",
        || {
            s.kubectl(&["get", "plugin", "node-lifecycle"])
                .status
                .success()
        },
    );
    s.ok(&[
        "patch",
        "plugin",
        "node-lifecycle",
        "--type=merge",
        "-p",
        &format!(r#"{{"spec":{{"config":{config}}}}}"#),
    ]);
    wait_for(Duration::from_secs(30), "the new config in force", || {
        let p = s.get_json(&["plugin", "node-lifecycle"]);
        p["status"]["observedGeneration"] == p["metadata"]["generation"]
            && p["status"]["phase"] == "Loaded"
    });
}

#[test]
fn pods_of_a_silent_node_are_replaced_elsewhere() {
    // New pods tolerate a failed node for 1 s instead of 300 (kube-apiserver's
    // flags, which its DefaultTolerationSeconds admission reads).
    let temp = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        &temp.path().join("data"),
        &[
            "--default-not-ready-toleration-seconds",
            "1",
            "--default-unreachable-toleration-seconds",
            "1",
        ],
    );
    tune_node_lifecycle(&s, r#"{"gracePeriodSeconds":3,"evictAfterSeconds":1}"#);
    let mut doomed = Sim::start(&s, 2, "doomed", &["--heartbeat-seconds", "1"]);
    let _healthy = Sim::start(&s, 2, "healthy", &["--heartbeat-seconds", "1"]);
    s.apply(&RS.replace("replicas: 3", "replicas: 6"));
    wait_replicas(&s, "web", "app=web", 6);
    let on_doomed = live_pods(&s, "app=web")
        .iter()
        .filter(|p| {
            p["spec"]["nodeName"]
                .as_str()
                .unwrap_or("")
                .starts_with("doomed")
        })
        .count();
    assert!(on_doomed > 0, "the spread put nothing on the doomed nodes");
    let pod = &live_pods(&s, "app=web")[0];
    let tolerations = pod["spec"]["tolerations"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    for key in [
        "node.kubernetes.io/not-ready",
        "node.kubernetes.io/unreachable",
    ] {
        assert!(
            tolerations.contains(&serde_json::json!({"key": key, "operator": "Exists",
                "effect": "NoExecute", "tolerationSeconds": 1})),
            "{pod}"
        );
    }

    doomed.stop();
    wait_for(
        Duration::from_secs(30),
        "the silent nodes unreachable",
        || {
            (0..2).all(|i| {
                let n = s.get_json(&["node", &format!("doomed-{i}")]);
                let ready_unknown = n["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "Unknown");
                let tainted = n["spec"]["taints"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|t| {
                        t["key"] == "node.kubernetes.io/unreachable" && t["effect"] == "NoExecute"
                    });
                ready_unknown && tainted
            })
        },
    );
    let nodes = s.ok(&["get", "nodes"]);
    assert!(nodes.contains("NotReady"), "{nodes}");
    wait_for(
        Duration::from_secs(60),
        "6 pods running on the healthy nodes",
        || {
            let pods = live_pods(&s, "app=web");
            pods.len() == 6
                && pods.iter().all(|p| {
                    p["spec"]["nodeName"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("healthy")
                        && p["status"]["phase"] == "Running"
                })
        },
    );
}

/// As Kubernetes' pod garbage collector does, the pods of a deleted node are marked
/// (`DisruptionTarget`), then, after the quarantine, failed and deleted, with no
/// kubelet to finish them off; their ReplicaSet replaces them on the nodes left.
/// A pod bound to a node that never existed is found by the sweep and goes too;
/// one whose node registers within the quarantine is unmarked instead.
/// `kubectl drain` evicts (through `pods/{name}/eviction`, which discovery
/// offers as `policy/v1 Eviction`) rather than deletes, and the ReplicaSet puts
/// the pods back on the nodes left; an operator's NoExecute taint evicts at once
/// the pods that do not tolerate it.
#[test]
fn draining_and_no_execute_taints_move_pods_off_a_node() {
    let s = Server::start();
    let _sim = Sim::start(&s, 2, "node", &[]);
    s.apply(&RS.replace("replicas: 3", "replicas: 4"));
    wait_replicas(&s, "web", "app=web", 4);
    let on = |node: &str| -> Vec<Value> {
        live_pods(&s, "app=web")
            .into_iter()
            .filter(|p| p["spec"]["nodeName"] == node)
            .collect()
    };
    let evicted = names(&on("node-0"));
    assert!(!evicted.is_empty(), "the spread put nothing on node-0");

    let out = s.ok(&["drain", "node-0", "--ignore-daemonsets", "--timeout=60s"]);
    for pod in &evicted {
        assert!(out.contains(&format!("pod/{pod} evicted")), "{out}");
    }
    assert!(out.contains("node/node-0 drained"), "{out}");
    assert_eq!(
        s.get_json(&["node", "node-0"])["spec"]["unschedulable"],
        true
    );
    wait_for(Duration::from_secs(30), "4 pods, all on node-1", || {
        let pods = live_pods(&s, "app=web");
        pods.len() == 4 && pods.iter().all(|p| p["spec"]["nodeName"] == "node-1")
    });
    // A cordoned node is tainted as Kubernetes' node lifecycle controller taints it.
    let taints = |node: &str| s.ok(&["get", "node", node, "-o", "jsonpath={.spec.taints}"]);
    wait_for(
        Duration::from_secs(20),
        "node-0 tainted unschedulable",
        || taints("node-0").contains(r#""key":"node.kubernetes.io/unschedulable""#),
    );
    assert!(
        s.ok(&["describe", "node", "node-0"])
            .contains("node.kubernetes.io/unschedulable:NoSchedule")
    );

    s.ok(&["uncordon", "node-0"]);
    wait_for(Duration::from_secs(20), "node-0 untainted", || {
        !taints("node-0").contains("unschedulable")
    });
    s.ok(&["taint", "nodes", "node-1", "maintenance=yes:NoExecute"]);
    wait_for(Duration::from_secs(30), "4 pods, all on node-0", || {
        let pods = live_pods(&s, "app=web");
        pods.len() == 4 && pods.iter().all(|p| p["spec"]["nodeName"] == "node-0")
    });

    // A pod tolerating a NoExecute taint for a while is evicted that long after
    // `kubectl taint` adds it (which sets no timeAdded; the server does).
    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: patient}
spec:
  nodeName: node-0
  tolerations: [{key: soon, operator: Exists, effect: NoExecute, tolerationSeconds: 3}]
  containers: [{name: c, image: busybox:1.36}]
"#,
    );
    s.ok(&["taint", "nodes", "node-0", "soon=yes:NoExecute"]);
    let node = s.get_json(&["node", "node-0"]);
    let taint = node["spec"]["taints"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["key"] == "soon").cloned())
        .unwrap_or_default();
    assert!(taint["timeAdded"].is_string(), "{node}");
    wait_for(
        Duration::from_secs(30),
        "the tolerating pod evicted",
        || !s.kubectl(&["get", "pod", "patient"]).status.success(),
    );
    // The eviction is told on the pod, as Kubernetes' taint manager tells it.
    let events = s.ok(&[
        "get",
        "events",
        "--field-selector",
        "involvedObject.name=patient,reason=TaintManagerEviction",
    ]);
    assert!(
        events.contains("Marking for deletion Pod default/patient"),
        "{events}"
    );

    // An eviction of a pod that is not there is 404; one naming another pod, or a
    // body that is no Eviction, is 400.
    let path = "/api/v1/namespaces/default/pods/gone/eviction";
    let eviction = |name: &str| {
        serde_json::json!({"apiVersion": "policy/v1", "kind": "Eviction",
                           "metadata": {"name": name}})
        .to_string()
        .into_bytes()
    };
    let (code, body) = s
        .http()
        .send("POST", path, "application/json", eviction("gone"));
    assert_eq!(code, 404, "{body}");
    let (code, body) = s
        .http()
        .send("POST", path, "application/json", eviction("other"));
    assert_eq!(code, 400, "{body}");
    let not_an_eviction = serde_json::json!({"apiVersion": "v1", "kind": "Pod"});
    let (code, body) = s.http().send(
        "POST",
        path,
        "application/json",
        not_an_eviction.to_string().into_bytes(),
    );
    assert_eq!(code, 400, "{body}");
}

#[test]
fn pods_of_a_deleted_node_are_collected_and_replaced() {
    let s = Server::start();
    tune_node_lifecycle(&s, r#"{"orphanQuarantineSeconds":4}"#);
    let mut doomed = Sim::start(&s, 1, "doomed", &["--heartbeat-seconds", "1"]);
    let _healthy = Sim::start(&s, 2, "healthy", &["--heartbeat-seconds", "1"]);
    s.apply(&RS.replace("replicas: 3", "replicas: 6"));
    wait_replicas(&s, "web", "app=web", 6);
    let on_doomed = |pods: &[Value]| -> Vec<Value> {
        pods.iter()
            .filter(|p| p["spec"]["nodeName"] == "doomed-0")
            .cloned()
            .collect()
    };
    let orphans = names(&on_doomed(&live_pods(&s, "app=web")));
    assert!(!orphans.is_empty(), "the spread put nothing on doomed-0");

    // The machine is gone, and so is its kubelet; an operator deletes the Node.
    doomed.stop();
    s.ok(&["delete", "node", "doomed-0"]);
    let marked = |pod: &Value| {
        pod["status"]["conditions"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|c| {
                c["type"] == "DisruptionTarget"
                    && c["status"] == "True"
                    && c["reason"] == "DeletionByPodGC"
                    && c["message"] == "PodGC: node no longer exists"
            })
    };
    wait_for(
        Duration::from_secs(10),
        "the orphans marked, still there in their quarantine",
        || {
            let pods = on_doomed(&all_pods(&s, "app=web"));
            names(&pods) == orphans
                && pods
                    .iter()
                    .all(|p| marked(p) && p["status"]["phase"] == "Running")
        },
    );
    wait_for(
        Duration::from_secs(60),
        "the orphans gone and 6 pods running on the nodes left",
        || {
            let all = all_pods(&s, "app=web");
            all.len() == 6
                && all.iter().all(|p| {
                    p["spec"]["nodeName"]
                        .as_str()
                        .unwrap_or("")
                        .starts_with("healthy")
                        && p["status"]["phase"] == "Running"
                        && p["metadata"]["deletionTimestamp"].is_null()
                })
        },
    );
    for name in &orphans {
        let gone = s.kubectl(&["get", "pod", name]);
        assert!(!gone.status.success(), "{name} is still there");
    }

    // A pod bound by hand to a node that never existed has no deletion to be
    // found by: the periodic sweep of all pods finds it, as Kubernetes' pod GC
    // does, and it goes the same way.
    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: stray}
spec:
  nodeName: ghost-0
  containers: [{name: app, image: busybox}]
"#,
    );
    wait_for(
        Duration::from_secs(60),
        "the pod bound to a node that never existed collected",
        || !s.kubectl(&["get", "pod", "stray"]).status.success(),
    );
    assert_eq!(live_pods(&s, "app=web").len(), 6);

    // A pod bound to a node that registers within the quarantine is marked while
    // the node is missing, and unmarked, not deleted, once it is there.
    tune_node_lifecycle(&s, r#"{"orphanQuarantineSeconds":300}"#);
    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: early}
spec:
  nodeName: late-0
  containers: [{name: app, image: busybox}]
"#,
    );
    wait_for(Duration::from_secs(60), "early marked", || {
        marked(&s.get_json(&["pod", "early"]))
    });
    let _late = Sim::start(&s, 1, "late", &["--heartbeat-seconds", "1"]);
    wait_for(Duration::from_secs(60), "early unmarked", || {
        !marked(&s.get_json(&["pod", "early"]))
    });
    assert!(s.kubectl(&["get", "pod", "early"]).status.success());
}

/// As on Kubernetes, the pods of a node that went silent are marked not ready
/// (before any eviction), so its Service's endpoints drop them; when the node's
/// kubelet is back they are ready again, on the same node.
#[test]
fn pods_of_a_silent_node_leave_the_endpoints_until_it_returns() {
    let s = Server::start();
    // A long eviction timeout: the pods stay on the node while it is away.
    tune_node_lifecycle(&s, r#"{"gracePeriodSeconds":3,"evictAfterSeconds":3600}"#);
    let mut edge = Sim::start(&s, 1, "edge", &["--heartbeat-seconds", "1"]);
    s.apply(&RS.replace("replicas: 3", "replicas: 2"));
    s.apply(
        r#"
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80}]
"#,
    );
    wait_replicas(&s, "web", "app=web", 2);
    let pods = names(&live_pods(&s, "app=web"));
    // (ready, not ready) addresses of the Service.
    let endpoints = || -> (usize, usize) {
        let ep = s.get_json(&["endpoints", "web"]);
        let count = |field: &str| {
            ep["subsets"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|s| s[field].as_array().map_or(0, |a| a.len()))
                .sum::<usize>()
        };
        (count("addresses"), count("notReadyAddresses"))
    };
    wait_for(Duration::from_secs(30), "2 ready addresses", || {
        endpoints() == (2, 0)
    });

    edge.stop();
    wait_for(Duration::from_secs(30), "the pods marked not ready", || {
        let pods = live_pods(&s, "app=web");
        pods.len() == 2
            && pods
                .iter()
                .all(|p| !is_ready(p) && p["status"]["phase"] == "Running")
    });
    wait_for(Duration::from_secs(30), "the addresses not ready", || {
        endpoints() == (0, 2)
    });
    // As on Kubernetes, `kubectl get pods` still says 1/1 Running: its READY
    // column counts the containers the kubelet last reported ready.
    let event_on = |pod: &str| {
        s.get_json(&[
            "events",
            "--field-selector",
            &format!("involvedObject.name={pod}"),
        ])["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|e| {
                e["reason"] == "NodeNotReady"
                    && e["type"] == "Warning"
                    && e["message"] == "Node is not ready"
            })
    };
    wait_for(Duration::from_secs(30), "NodeNotReady events", || {
        pods.iter().all(|p| event_on(p))
    });
    let rs = s.get_json(&["rs", "web"]);
    assert_eq!(
        rs["status"]["readyReplicas"].as_u64().unwrap_or(0),
        0,
        "{rs}"
    );

    let _edge = Sim::start(&s, 1, "edge", &["--heartbeat-seconds", "1"]);
    wait_for(Duration::from_secs(30), "the same pods ready again", || {
        let now = live_pods(&s, "app=web");
        now.iter().all(is_ready) && names(&now) == pods
    });
    wait_for(Duration::from_secs(30), "2 ready addresses again", || {
        endpoints() == (2, 0)
    });
    wait_for(
        Duration::from_secs(30),
        "the node ready and untainted",
        || {
            let n = s.get_json(&["node", "edge-0"]);
            n["spec"]["taints"].as_array().is_none_or(|t| t.is_empty())
                && n["status"]["conditions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|c| c["type"] == "Ready" && c["status"] == "True")
        },
    );
}

/// The ReplicaSet controller swapped ten times while ReplicaSets are created and
/// scaled: no key is lost (every ReplicaSet converges, with its status observed)
/// and none is handled twice at once (no ReplicaSet overshoots).
#[test]
fn hot_swaps_under_a_stream_of_work_lose_nothing() {
    let s = Server::start();
    let _sim = Sim::start(&s, 4, "node", &["--pods", "200"]);
    let module = support::artifact("wharf_controller_replicaset.wasm");
    let module = module.to_str().unwrap().to_string();
    let install = |config: &str| {
        support::wharf(
            &s,
            &[
                "plugin",
                "install",
                "replicaset",
                &module,
                "--kind",
                "controller",
                "--config",
                config,
            ],
        )
    };
    let sets = 24usize;
    let desired = |i: usize, round: usize| (i + round) % 4 + 1;
    let manifest = |i: usize, replicas: usize| {
        RS.replace("name: web", &format!("name: set-{i}"))
            .replace("app: web", &format!("app: set-{i}"))
            .replace("replicas: 3", &format!("replicas: {replicas}"))
    };

    std::thread::scope(|scope| {
        let writer = scope.spawn(|| {
            for i in 0..sets {
                s.apply(&manifest(i, desired(i, 0)));
            }
            for i in 0..sets {
                s.ok(&[
                    "scale",
                    "rs",
                    &format!("set-{i}"),
                    &format!("--replicas={}", desired(i, 1)),
                ]);
            }
        });
        for n in 0..10 {
            // Each version differs by a setting the controller takes.
            let (ok, out) = install(&format!(r#"{{"burstReplicas": {}}}"#, 500 + n));
            assert!(ok, "swap {n}: {out}");
        }
        writer.join().unwrap();
    });

    wait_for(
        Duration::from_secs(120),
        "every ReplicaSet converged",
        || {
            let list = s.get_json(&["rs"]);
            let items = list["items"].as_array().cloned().unwrap_or_default();
            items.len() == sets
                && items.iter().all(|rs| {
                    let i: usize = rs["metadata"]["name"].as_str().unwrap()[4..]
                        .parse()
                        .unwrap();
                    let want = desired(i, 1) as u64;
                    rs["status"]["observedGeneration"] == rs["metadata"]["generation"]
                        && rs["status"]["replicas"] == want
                        && rs["status"]["readyReplicas"] == want
                })
        },
    );
    for i in 0..sets {
        let pods = live_pods(&s, &format!("app=set-{i}"));
        assert_eq!(pods.len(), desired(i, 1), "set-{i}");
    }
    let metrics = s.ok(&["get", "--raw", "/metrics"]);
    let swaps = metrics
        .lines()
        .find(|l| l.starts_with("wharf_controller_swaps_total{controller=\"replicaset\"}"))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0);
    assert!(swaps >= 10.0, "{swaps} swaps counted");

    // A module that is not a controller is refused; the running one stays.
    let policy = support::artifact("wharf_scheduler_default.wasm");
    let (ok, out) = support::wharf(
        &s,
        &[
            "plugin",
            "install",
            "replicaset",
            policy.to_str().unwrap(),
            "--kind",
            "controller",
        ],
    );
    assert!(!ok && out.contains("spec.kind is controller"), "{out}");
    // So is a configuration the controller does not take, by the key at fault.
    let (ok, out) = install(r#"{"burstReplica": 2}"#);
    assert!(
        !ok && out.contains("replicaset controller") && out.contains("burstReplica"),
        "{out}"
    );
    s.ok(&["scale", "rs", "set-0", "--replicas=5"]);
    wait_for(Duration::from_secs(30), "set-0 still reconciled", || {
        live_pods(&s, "app=set-0").len() == 5
    });

    // Roll back: the version before the last good one runs again.
    let (ok, out) = support::wharf(&s, &["plugin", "rollback", "replicaset"]);
    assert!(ok, "{out}");
    let p = s.get_json(&["plugin", "replicaset"]);
    assert_eq!(p["spec"]["config"]["burstReplicas"], 508, "{p}");
    assert_eq!(p["status"]["phase"], "Loaded", "{p}");
}

/// Builds examples/custom-controller as its README says: version 1, and version 2
/// with `--features shout`.
fn build_example(features: &[&str], dir: &str) -> std::path::PathBuf {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let target = support::checkout_target_dir(dir);
    let status = std::process::Command::new("cargo")
        .current_dir(root.join("examples/custom-controller"))
        .args([
            "build",
            "--release",
            "--locked",
            "--target",
            "wasm32-wasip2",
        ])
        .args(features)
        .arg("--target-dir")
        .arg(&target)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .status()
        .expect("cargo builds the example");
    assert!(
        status.success(),
        "building examples/custom-controller failed"
    );
    target.join("wasm32-wasip2/release/greeter.wasm")
}

/// The worked example: a CRD served at once (discovery, schema, strict fields,
/// status), its controller installed, hot-swapped to version 2 and rolled back,
/// its owned objects collected, and the kind gone with its CRD.
#[test]
fn a_custom_kind_and_its_controller_hot_swapped() {
    let v1 = build_example(&[], "example-controller");
    let v2 = build_example(&["--features", "shout"], "example-controller-v2");
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../examples/custom-controller");
    let s = Server::start();
    s.ok(&["apply", "-f", root.join("crd.yaml").to_str().unwrap()]);
    s.ok(&[
        "wait",
        "--for",
        "condition=established",
        "crd/greetings.example.wharf.dev",
        "--timeout=30s",
    ]);
    let resources = s.ok(&["api-resources", "--api-group=example.wharf.dev"]);
    assert!(
        resources.contains("greetings") && resources.contains("gr"),
        "{resources}"
    );

    // The schema is enforced: a required field, an enum, and unknown fields.
    let bad = |spec: &str| {
        let manifest = format!(
            "apiVersion: example.wharf.dev/v1\nkind: Greeting\nmetadata: {{name: bad}}\nspec: {spec}\n"
        );
        let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(&manifest));
        assert!(!out.status.success(), "{spec} was accepted");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let err = bad("{audience: world}");
    assert!(err.contains("spec.message: Required value"), "{err}");
    let err = bad("{message: hi, audience: galaxy}");
    assert!(
        err.contains("spec.audience: Unsupported value: \"galaxy\""),
        "{err}"
    );
    let err = bad("{message: hi, colour: red}");
    assert!(err.contains("unknown field \"spec.colour\""), "{err}");

    let (ok, out) = support::wharf(
        &s,
        &[
            "plugin",
            "install",
            "greeter",
            v1.to_str().unwrap(),
            "--kind",
            "controller",
        ],
    );
    assert!(ok, "{out}");
    s.ok(&["apply", "-f", root.join("greeting.yaml").to_str().unwrap()]);
    let greeting = || -> String {
        let out = s.kubectl(&[
            "get",
            "configmap",
            "hello-greeting",
            "-o",
            "jsonpath={.data.greeting}",
        ]);
        String::from_utf8_lossy(&out.stdout).to_string()
    };
    wait_for(
        Duration::from_secs(30),
        "the ConfigMap of version 1",
        || greeting() == "hello, world",
    );
    wait_for(Duration::from_secs(30), "the Greeting's status", || {
        s.get_json(&["greeting", "hello"])["status"]["configMap"] == "hello-greeting"
    });
    // Printed with the CRD's printer columns; the priority-1 one only when wide.
    let listed = s.ok(&["get", "gr"]);
    let header: Vec<&str> = listed
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "MESSAGE", "AUDIENCE", "AGE"], "{listed}");
    let row: Vec<&str> = listed
        .lines()
        .nth(1)
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(row[..3], ["hello", "hello", "world"], "{listed}");
    assert!(row[3].ends_with('s') || row[3].ends_with('m'), "{listed}");
    let wide = s.ok(&["get", "gr", "-o", "wide"]);
    assert!(
        wide.lines().next().unwrap_or("").contains("GREETING") && wide.contains("hello, world"),
        "{wide}"
    );
    // A kind whose CRD names no columns gets Kubernetes' default: NAME, AGE.
    s.apply(BACKUP_CRD);
    wait_for(Duration::from_secs(20), "the Backup kind served", || {
        s.kubectl(&["get", "backups"]).status.success()
    });
    s.apply(
        "apiVersion: example.wharf.dev/v1\nkind: Backup\nmetadata: {name: nightly}\nspec: {schedule: daily}\n",
    );
    let backups = s.ok(&["get", "backups"]);
    let header: Vec<&str> = backups
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    assert_eq!(header, ["NAME", "AGE"], "{backups}");

    // Version 2 swapped in: the existing Greeting is looked at again.
    let (ok, out) = support::wharf(
        &s,
        &[
            "plugin",
            "install",
            "greeter",
            v2.to_str().unwrap(),
            "--kind",
            "controller",
        ],
    );
    assert!(ok, "{out}");
    wait_for(
        Duration::from_secs(30),
        "the ConfigMap of version 2",
        || greeting() == "HELLO, WORLD!",
    );
    let (ok, out) = support::wharf(&s, &["plugin", "rollback", "greeter"]);
    assert!(ok, "{out}");
    wait_for(Duration::from_secs(30), "version 1 again", || {
        greeting() == "hello, world"
    });

    // The collector, run once more for this owner kind, takes the ConfigMap
    // along when its Greeting goes.
    let module = s.get_json(&["plugin", "garbage-collector-configmaps"])["spec"]["module"]
        .as_str()
        .unwrap()
        .to_string();
    s.apply(&format!(
        "apiVersion: wharf.dev/v1alpha1\nkind: Plugin\nmetadata: {{name: garbage-collector-greetings}}\nspec:\n  kind: controller\n  module: \"{module}\"\n  config: {{kind: v1/ConfigMap, owners: [example.wharf.dev/v1/Greeting]}}\n"
    ));
    wait_for(Duration::from_secs(30), "the collector loaded", || {
        s.get_json(&["plugin", "garbage-collector-greetings"])["status"]["phase"] == "Loaded"
    });
    s.ok(&["delete", "greeting", "hello"]);
    wait_for(Duration::from_secs(30), "the ConfigMap collected", || {
        !s.kubectl(&["get", "configmap", "hello-greeting"])
            .status
            .success()
    });

    // Deleting the CRD stops serving the kind.
    s.ok(&["delete", "crd", "greetings.example.wharf.dev"]);
    wait_for(Duration::from_secs(30), "the kind gone", || {
        !s.kubectl(&["get", "greetings"]).status.success()
    });
}

/// Recreate takes every old pod down before the new ones start; a paused
/// Deployment is scaled but not rolled until it is resumed.
#[test]
fn recreate_and_pause_behave_as_on_kubernetes() {
    let s = Server::start();
    let _sim = Sim::start(&s, 3, "node", &[]);
    let recreate = deployment(3, "busybox:1.36").replace(
        "type: RollingUpdate\n    rollingUpdate: {maxSurge: 1, maxUnavailable: 1}",
        "type: Recreate",
    );
    s.apply(&recreate);
    rollout_status(&s);
    s.ok(&["set", "image", "deployment/api", "c=busybox:1.37"]);
    // Never old and new pods at once.
    let mut mixed = false;
    wait_for(Duration::from_secs(90), "the new pods running", || {
        let imgs = images(&s);
        mixed |=
            imgs.iter().any(|i| i == "busybox:1.36") && imgs.iter().any(|i| i == "busybox:1.37");
        imgs.len() == 3 && imgs.iter().all(|i| i == "busybox:1.37")
    });
    assert!(!mixed, "Recreate ran old and new pods together");
    rollout_status(&s);

    // Paused: a template change waits; scaling still happens.
    s.ok(&["rollout", "pause", "deployment/api"]);
    s.ok(&["set", "image", "deployment/api", "c=busybox:1.38"]);
    s.ok(&["scale", "deployment", "api", "--replicas=4"]);
    wait_for(
        Duration::from_secs(30),
        "4 pods, still on the old image",
        || {
            let imgs = images(&s);
            imgs.len() == 4 && imgs.iter().all(|i| i == "busybox:1.37")
        },
    );
    let d = s.get_json(&["deployment", "api"]);
    let progressing = d["status"]["conditions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["type"] == "Progressing")
        .cloned()
        .unwrap();
    assert_eq!(progressing["reason"], "DeploymentPaused", "{d}");
    s.ok(&["rollout", "resume", "deployment/api"]);
    wait_for(
        Duration::from_secs(90),
        "the paused change rolled out",
        || {
            let imgs = images(&s);
            imgs.len() == 4 && imgs.iter().all(|i| i == "busybox:1.38")
        },
    );
    rollout_status(&s);
}

/// The value of one sample on `/metrics`, 0 when it is absent.
fn metric(s: &Server, series: &str) -> f64 {
    s.ok(&["get", "--raw", "/metrics"])
        .lines()
        .find(|l| l.starts_with(series) && l[series.len()..].starts_with(' '))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

fn faulty_config_map(name: &str, data: &[(&str, &str)]) -> String {
    let data: Vec<String> = data.iter().map(|(k, v)| format!("{k}: \"{v}\"")).collect();
    format!(
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: faults}}\ndata: {{{}}}\n",
        data.join(", ")
    )
}

/// A controller that loops, panics or hoards memory is interrupted and contained:
/// its other keys and every other controller carry on, each failure is counted by
/// kind, logged under the plugin's name and reported on the Plugin. Time spent in
/// host calls does not count against the deadline. A version that keeps trapping
/// gives way to the previous one by itself.
#[test]
fn faulty_controllers_are_contained_and_fall_back() {
    let s = Server::start_with(
        &tempfile::tempdir().unwrap().keep().join("data"),
        &[
            "--controller-deadline-ms",
            "250",
            "--controller-memory-mib",
            "64",
        ],
    );
    let faulty = support::artifact("wharf_test_faulty_controller.wasm");
    let faulty = faulty.to_str().unwrap();
    s.ok(&["create", "namespace", "faults"]);
    let (ok, out) = support::wharf(
        &s,
        &[
            "plugin",
            "install",
            "faulty",
            faulty,
            "--kind",
            "controller",
        ],
    );
    assert!(ok, "{out}");
    let reconciled = |name: &str| {
        s.get_json(&["configmap", "-n", "faults", name])["metadata"]["annotations"]
            ["faulty.wharf.dev/reconciled"]
            .as_str()
            .map(str::to_string)
    };

    // Eight times the deadline spent waiting on the API server is not the guest's
    // time: the reconcile completes, with no trap.
    s.apply(&faulty_config_map("calm", &[]));
    s.apply(&faulty_config_map(
        "host-heavy",
        &[("fault", "host-heavy"), ("hostMillis", "2000")],
    ));
    wait_for(
        Duration::from_secs(60),
        "calm and host-heavy reconciled",
        || reconciled("calm").is_some() && reconciled("host-heavy").is_some(),
    );
    let reads: u64 = reconciled("host-heavy").unwrap().parse().unwrap();
    assert!(reads > 1, "{reads} reads from the API server");
    for kind in ["deadline", "memory", "crash"] {
        let series =
            format!("wharf_controller_plugin_traps_total{{controller=\"faulty\",kind=\"{kind}\"}}");
        assert_eq!(metric(&s, &series), 0.0, "{series}");
    }

    // Each fault traps, is counted by its kind, and leaves the others alone.
    for fault in ["loop", "panic", "memory"] {
        s.apply(&faulty_config_map(fault, &[("fault", fault)]));
    }
    for kind in ["deadline", "crash", "memory"] {
        let series =
            format!("wharf_controller_plugin_traps_total{{controller=\"faulty\",kind=\"{kind}\"}}");
        wait_for(Duration::from_secs(30), &series, || {
            metric(&s, &series) > 0.0
        });
    }
    s.apply(&faulty_config_map("after", &[]));
    wait_for(Duration::from_secs(30), "a key after the faults", || {
        reconciled("after").is_some()
    });
    for fault in ["loop", "panic", "memory"] {
        assert_eq!(reconciled(fault), None, "{fault}");
    }
    // What the guest printed (its panic message) is in the server's log under the
    // plugin's name, and the failures are on the Plugin.
    let log = s.log();
    assert!(
        log.lines()
            .any(|l| l.contains("plugin=faulty") && l.contains("panics as asked")),
        "{log}"
    );
    wait_for(Duration::from_secs(20), "failures on the Plugin", || {
        s.get_json(&["plugin", "faulty"])["status"]["failures"]
            .as_u64()
            .unwrap_or(0)
            > 0
    });
    wait_for(Duration::from_secs(20), "a PluginFailed event", || {
        s.ok(&["describe", "plugin", "faulty"])
            .contains("PluginFailed")
    });
    // The built-in controllers never noticed.
    s.ok(&["create", "namespace", "still-served"]);
    wait_for(Duration::from_secs(30), "a default ServiceAccount", || {
        s.kubectl(&["get", "serviceaccount", "default", "-n", "still-served"])
            .status
            .success()
    });

    // A ServiceAccount controller that panics on every key traps three times,
    // and the built-in version takes over by itself: namespaces get their
    // accounts again, and the Plugin says what happened.
    let (ok, out) = support::wharf(
        &s,
        &[
            "plugin",
            "install",
            "serviceaccount",
            faulty,
            "--kind",
            "controller",
            "--config",
            r#"{"fault": "panic"}"#,
        ],
    );
    // It may fail so fast that the command, waiting to see it active, already
    // sees the fallback, and says so.
    assert!(ok || out.contains("took over"), "{out}");
    wait_for(
        Duration::from_secs(60),
        "the previous version took over",
        || {
            let p = s.get_json(&["plugin", "serviceaccount"]);
            p["status"]["phase"] == "Failed"
                && p["status"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .contains("took over")
        },
    );
    s.ok(&["create", "namespace", "after-fallback"]);
    wait_for(Duration::from_secs(30), "accounts made again", || {
        s.kubectl(&["get", "serviceaccount", "default", "-n", "after-fallback"])
            .status
            .success()
    });
    wait_for(Duration::from_secs(20), "a PluginFellBack event", || {
        s.ok(&["describe", "plugin", "serviceaccount"])
            .contains("PluginFellBack")
    });
}

/// A PodDisruptionBudget holds evictions to what it can afford, as on Kubernetes:
/// the disruption controller keeps its status, the eviction subresource charges
/// it and refuses with 429 once nothing is allowed, and `kubectl drain` waits
/// until replacements are ready elsewhere.
#[test]
fn disruption_budgets_hold_evictions_to_what_they_allow() {
    let s = Server::start();
    let _sim = Sim::start(&s, 1, "node", &[]);
    s.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox:1.36",
        "--replicas=3",
    ]);
    wait_for(Duration::from_secs(30), "3 ready pods", || {
        let pods = live_pods(&s, "app=web");
        pods.len() == 3 && pods.iter().all(is_ready)
    });

    // Checked as Kubernetes checks it.
    let bad = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: bad}\nspec: {minAvailable: 1, maxUnavailable: 1, selector: {}}\n"),
    );
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains("minAvailable and maxUnavailable cannot be both set"),
        "{err}"
    );

    // kubectl's generator sends protobuf; the controller fills in the status.
    s.ok(&[
        "create",
        "pdb",
        "web",
        "--selector=app=web",
        "--min-available=2",
    ]);
    wait_for(Duration::from_secs(30), "the budget's status", || {
        let status = &s.get_json(&["pdb", "web"])["status"];
        status["disruptionsAllowed"] == 1
            && status["currentHealthy"] == 3
            && status["desiredHealthy"] == 2
            && status["expectedPods"] == 3
    });
    let table = s.ok(&["get", "pdb"]);
    assert!(
        table.starts_with("NAME   MIN AVAILABLE   MAX UNAVAILABLE   ALLOWED DISRUPTIONS   AGE"),
        "{table}"
    );
    assert!(
        table.lines().nth(1).is_some_and(
            |l| l.split_whitespace().collect::<Vec<_>>()[..4] == ["web", "2", "N/A", "1"]
        ),
        "{table}"
    );

    // One eviction is allowed and charged; the next is refused while the
    // replacement cannot be scheduled (the only node is cordoned by the drain).
    let pods = names(&live_pods(&s, "app=web"));
    let evict = |pod: &str| {
        s.http().post_json(
            &format!("/api/v1/namespaces/default/pods/{pod}/eviction"),
            &serde_json::json!({"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": pod}}),
        )
    };
    s.ok(&["cordon", "node-0"]);
    let (code, body) = evict(&pods[0]);
    assert_eq!(code, 201, "{body}");
    let (code, body) = evict(&pods[1]);
    assert_eq!(code, 429, "{body}");
    assert_eq!(body["reason"], "TooManyRequests", "{body}");
    assert_eq!(
        body["message"],
        "Cannot evict pod as it would violate the pod's disruption budget."
    );
    assert_eq!(
        body["details"]["causes"][0]["reason"], "DisruptionBudget",
        "{body}"
    );
    assert!(
        body["details"]["causes"][0]["message"]
            .as_str()
            .is_some_and(
                |m| m.starts_with("The disruption budget web needs 2 healthy pods and has ")
            ),
        "{body}"
    );
    let out = s.kubectl(&["drain", "node-0", "--timeout=8s"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("Cannot evict pod as it would violate the pod's disruption budget."),
        "{err}"
    );

    // Room elsewhere: replacements become ready there, and the drain finishes.
    let _spare = Sim::start(&s, 1, "spare", &[]);
    let out = s.ok(&["drain", "node-0", "--timeout=90s"]);
    assert!(out.contains("node/node-0 drained"), "{out}");
    wait_for(
        Duration::from_secs(30),
        "3 ready pods on the spare node",
        || {
            let pods = live_pods(&s, "app=web");
            pods.len() == 3
                && pods
                    .iter()
                    .all(|p| is_ready(p) && p["spec"]["nodeName"] == "spare-0")
        },
    );
}

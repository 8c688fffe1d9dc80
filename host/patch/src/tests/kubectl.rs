//! The patches kubectl actually sends: client-side `apply` (three-way patches with
//! `$setElementOrder`, `$retainKeys`, deletions) and the imperative commands.

use serde_json::{Value, json};

use super::{deployment, smp_ok};

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

fn pod_spec(v: &Value) -> &Value {
    &v["spec"]["template"]["spec"]
}

#[test]
fn apply_of_a_changed_image() {
    let patch = json!({
        "metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"new\":true}"}},
        "spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
            "containers": [{"image": "x:2", "name": "app"}]
        }}}
    });
    let original = deployment();
    let patched = smp_ok(&original, &patch);
    let containers = &pod_spec(&patched)["containers"];
    assert_eq!(names(containers), ["app", "sidecar"]);
    assert_eq!(containers[0]["image"], "x:2");
    assert_eq!(
        containers[0]["env"],
        pod_spec(&original)["containers"][0]["env"]
    );
    assert_eq!(containers[1], pod_spec(&original)["containers"][1]);
    assert_eq!(
        patched["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"],
        "{\"new\":true}"
    );
    // Everything else is untouched.
    let mut expected = original.clone();
    expected["spec"]["template"]["spec"]["containers"][0]["image"] = json!("x:2");
    expected["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"] =
        json!("{\"new\":true}");
    assert_eq!(patched, expected);
    // Applying the same patch again changes nothing more.
    assert_eq!(smp_ok(&patched, &patch), patched);
}

#[test]
fn apply_that_removes_a_container() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{"$patch": "delete", "name": "sidecar"}]
        }}}}),
    );
    assert_eq!(names(&pod_spec(&patched)["containers"]), ["app"]);
}

#[test]
fn apply_that_adds_a_container_in_front() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "new"}, {"name": "app"}, {"name": "sidecar"}],
            "containers": [{"image": "n:1", "name": "new"}]
        }}}}),
    );
    assert_eq!(
        names(&pod_spec(&patched)["containers"]),
        ["new", "app", "sidecar"]
    );
}

#[test]
fn apply_that_appends_a_container() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}, {"name": "new"}],
            "containers": [{"image": "n:1", "name": "new"}]
        }}}}),
    );
    assert_eq!(
        names(&pod_spec(&patched)["containers"]),
        ["app", "sidecar", "new"]
    );
}

#[test]
fn apply_that_edits_env_inside_a_container() {
    // B removed, C added after A, in the container's own nested directives.
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"spec": {
            "$setElementOrder/containers": [{"name": "app"}, {"name": "sidecar"}],
            "containers": [{
                "$setElementOrder/env": [{"name": "A"}, {"name": "C"}],
                "env": [{"name": "C", "value": "3"}, {"$patch": "delete", "name": "B"}],
                "name": "app"
            }]
        }}}}),
    );
    assert_eq!(
        pod_spec(&patched)["containers"][0]["env"],
        json!([{"name": "A", "value": "1"}, {"name": "C", "value": "3"}])
    );
}

#[test]
fn apply_that_switches_the_rollout_strategy() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"strategy": {"$retainKeys": ["type"], "rollingUpdate": null, "type": "Recreate"}}}),
    );
    assert_eq!(patched["spec"]["strategy"], json!({"type": "Recreate"}));
}

#[test]
fn apply_that_switches_a_volume_source() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"spec": {
            "$setElementOrder/volumes": [{"name": "cfg"}],
            "volumes": [{
                "$retainKeys": ["name", "secret"],
                "configMap": null,
                "name": "cfg",
                "secret": {"secretName": "s"}
            }]
        }}}}),
    );
    assert_eq!(
        pod_spec(&patched)["volumes"],
        json!([{"name": "cfg", "secret": {"secretName": "s"}}])
    );
}

#[test]
fn apply_that_removes_a_finalizer_and_a_label() {
    let patched = smp_ok(
        &deployment(),
        &json!({"metadata": {
            "$setElementOrder/finalizers": ["example.com/a"],
            "$deleteFromPrimitiveList/finalizers": ["example.com/b"],
            "labels": {"tier": null}
        }}),
    );
    assert_eq!(patched["metadata"]["finalizers"], json!(["example.com/a"]));
    assert_eq!(patched["metadata"]["labels"], json!({"app": "web"}));
}

#[test]
fn apply_of_a_service_port_change() {
    let service = json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "web"},
        "spec": {
            "clusterIP": "10.96.0.10",
            "ports": [
                {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 8080},
                {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}
            ],
            "selector": {"app": "web"}
        }
    });
    let patched = smp_ok(
        &service,
        &json!({"spec": {
            "$setElementOrder/ports": [{"port": 80}, {"port": 443}],
            "ports": [{"port": 80, "targetPort": 9090}]
        }}),
    );
    assert_eq!(
        patched["spec"]["ports"],
        json!([
            {"name": "http", "port": 80, "protocol": "TCP", "targetPort": 9090},
            {"name": "https", "port": 443, "protocol": "TCP", "targetPort": 8443}
        ])
    );
    assert_eq!(patched["spec"]["clusterIP"], "10.96.0.10");
}

#[test]
fn apply_of_a_configmap_data_change() {
    let cm = json!({"kind": "ConfigMap", "metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
    let patched = smp_ok(&cm, &json!({"data": {"a": "10", "b": null, "c": "3"}}));
    assert_eq!(patched["data"], json!({"a": "10", "c": "3"}));
}

#[test]
fn imperative_commands() {
    // kubectl scale / patch -p '{"spec":{"replicas":3}}'
    let patched = smp_ok(&deployment(), &json!({"spec": {"replicas": 3}}));
    assert_eq!(patched["spec"]["replicas"], 3);

    // kubectl rollout restart
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}}}}}),
    );
    assert_eq!(
        patched["spec"]["template"]["metadata"],
        json!({"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "2024-01-01T00:00:00Z"}})
    );

    // kubectl set image deployment/web app=x:3
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"spec": {"containers": [{"name": "app", "image": "x:3"}]}}}}),
    );
    assert_eq!(names(&pod_spec(&patched)["containers"]), ["app", "sidecar"]);
    assert_eq!(pod_spec(&patched)["containers"][0]["image"], "x:3");

    // kubectl cordon, and kubectl taint (which sends the whole taints list).
    let node = json!({"kind": "Node", "spec": {"taints": [{"key": "a", "effect": "NoSchedule"}]}});
    let patched = smp_ok(
        &node,
        &json!({"spec": {"unschedulable": true, "taints": [{"key": "a", "effect": "NoSchedule"}, {"key": "b", "effect": "NoExecute"}]}}),
    );
    assert_eq!(patched["spec"]["unschedulable"], true);
    assert_eq!(patched["spec"]["taints"].as_array().unwrap().len(), 2);

    // kubectl label/annotate --overwrite, and removal with `key-`.
    let patched = smp_ok(
        &deployment(),
        &json!({"metadata": {"labels": {"tier": null, "team": "x"}}}),
    );
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"app": "web", "team": "x"})
    );
}

#[test]
fn status_updates_from_controllers() {
    // A controller patching one condition leaves the others in place.
    let patched = smp_ok(
        &deployment(),
        &json!({"status": {"conditions": [{"type": "Progressing", "status": "False", "reason": "Stuck"}]}}),
    );
    assert_eq!(
        patched["status"]["conditions"],
        json!([
            {"type": "Available", "status": "True"},
            {"type": "Progressing", "status": "False", "reason": "Stuck"}
        ])
    );
}

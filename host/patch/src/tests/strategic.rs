//! Strategic merge patch: every directive, the merge-key contexts, and the failures.

use serde_json::{Value, json};

use super::{assert_no_directives, deployment, smp, smp_err, smp_ok};
use crate::{PatchError, PatchType, apply};

fn containers(v: &Value) -> &Value {
    &v["spec"]["template"]["spec"]["containers"]
}

fn pod_spec_patch(spec: Value) -> Value {
    json!({"spec": {"template": {"spec": spec}}})
}

fn names(list: &Value) -> Vec<&str> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

#[track_caller]
fn assert_status(e: &PatchError, status: u16, reason: &str) {
    assert_eq!(
        (e.http_status(), e.reason()),
        (status, reason),
        "{e:?}: {e}"
    );
}

#[test]
fn maps_merge_recursively_and_null_deletes() {
    let patched = smp_ok(
        &deployment(),
        &json!({"metadata": {"labels": {"tier": null, "env": "prod"}}, "spec": {"replicas": 3}}),
    );
    assert_eq!(
        patched["metadata"]["labels"],
        json!({"app": "web", "env": "prod"})
    );
    assert_eq!(patched["spec"]["replicas"], 3);
    assert_eq!(
        patched["spec"]["strategy"],
        deployment()["spec"]["strategy"]
    );
}

#[test]
fn nulls_with_nothing_to_delete_vanish() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"paused": null, "extra": {"a": null, "b": 1, "c": [{"d": null}]}}}),
    );
    assert!(patched["spec"].get("paused").is_none());
    assert_eq!(patched["spec"]["extra"], json!({"b": 1, "c": [{}]}));
}

#[test]
fn a_value_of_another_type_replaces_the_stored_one() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"replicas": "two", "selector": ["x"]}}),
    );
    assert_eq!(patched["spec"]["replicas"], "two");
    assert_eq!(patched["spec"]["selector"], json!(["x"]));
}

#[test]
fn lists_without_a_strategy_are_replaced() {
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(json!({
            "tolerations": [{"key": "b", "operator": "Exists"}],
            "containers": [{"name": "app", "args": ["--x"]}]
        })),
    );
    assert_eq!(
        patched["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "b", "operator": "Exists"}])
    );
    let patched = smp_ok(
        &patched,
        &pod_spec_patch(json!({"containers": [{"name": "app", "args": ["--y"]}]})),
    );
    assert_eq!(containers(&patched)[0]["args"], json!(["--y"]));
}

#[test]
fn keyed_lists_merge_element_by_element() {
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(json!({"containers": [
            {"name": "sidecar", "image": "s:2"},
            {"name": "new", "image": "n:1"}
        ]})),
    );
    let c = containers(&patched);
    assert_eq!(names(c), ["app", "sidecar", "new"]);
    assert_eq!(
        c[0],
        deployment()["spec"]["template"]["spec"]["containers"][0]
    );
    assert_eq!(c[1], json!({"name": "sidecar", "image": "s:2"}));
}

#[test]
fn new_elements_follow_the_patch_element_before_them() {
    // kube does not simply append: server-only elements keep their place relative to the
    // patch's elements, and a new element goes right after the patch element it followed.
    let original = json!({"spec": {"containers": [{"name": "a"}, {"name": "b"}, {"name": "c"}]}});
    let patched = smp_ok(
        &original,
        &json!({"spec": {"containers": [{"name": "b", "image": "b:2"}, {"name": "d"}]}}),
    );
    assert_eq!(names(&patched["spec"]["containers"]), ["a", "b", "d", "c"]);
}

#[test]
fn primitive_merge_lists_are_unioned() {
    let patched = smp_ok(
        &deployment(),
        &json!({"metadata": {"finalizers": ["example.com/c", "example.com/a"]}}),
    );
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["example.com/c", "example.com/a", "example.com/b"])
    );
}

#[test]
fn patch_replace_on_a_map_replaces_it() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"selector": {"$patch": "replace", "matchLabels": {"x": "y"}}}}),
    );
    assert_eq!(
        patched["spec"]["selector"],
        json!({"matchLabels": {"x": "y"}})
    );

    let patched = smp_ok(&deployment(), &json!({"$patch": "replace", "kind": "X"}));
    assert_eq!(patched, json!({"kind": "X"}));
}

#[test]
fn patch_replace_keeps_no_nested_directive() {
    // kube returns the replacing map as sent, directives and all, and its decode into the Go
    // type drops them; we drop them too.
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"template": {"$patch": "replace", "spec": {
            "$setElementOrder/containers": [{"name": "x"}],
            "containers": [{"name": "x", "image": "i", "$patch": "delete"}],
            "$retainKeys": ["containers"]
        }}}}),
    );
    assert_eq!(
        patched["spec"]["template"],
        json!({"spec": {"containers": [{"name": "x", "image": "i"}]}})
    );
}

#[test]
fn patch_delete_on_a_map_empties_it() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"strategy": {"$patch": "delete"}}}),
    );
    assert_eq!(patched["spec"]["strategy"], json!({}));
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"absent": {"$patch": "delete"}}}),
    );
    assert!(patched["spec"].get("absent").is_none());
    assert_eq!(
        smp_ok(&deployment(), &json!({"$patch": "delete"})),
        json!({})
    );
}

#[test]
fn patch_replace_element_replaces_a_keyed_list() {
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(
            json!({"containers": [{"$patch": "replace"}, {"name": "only", "image": "o:1"}]}),
        ),
    );
    assert_eq!(
        containers(&patched),
        &json!([{"name": "only", "image": "o:1"}])
    );
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(json!({"containers": [{"$patch": "replace"}]})),
    );
    assert_eq!(containers(&patched), &json!([]));
}

#[test]
fn patch_delete_element_removes_every_match() {
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(json!({"containers": [{"name": "sidecar", "$patch": "delete"}]})),
    );
    assert_eq!(names(containers(&patched)), ["app"]);

    let original = json!({"spec": {"containers": [
        {"name": "a", "env": [{"name": "X"}, {"name": "Y"}, {"name": "X", "value": "again"}]}
    ]}});
    let patched = smp_ok(
        &original,
        &json!({"spec": {"containers": [{"name": "a", "env": [{"name": "X", "$patch": "delete"}]}]}}),
    );
    assert_eq!(
        patched["spec"]["containers"][0]["env"],
        json!([{"name": "Y"}])
    );
}

#[test]
fn list_directives_that_kube_rejects_are_500s() {
    for element in [
        json!({"$patch": "delete"}),
        json!({"name": "app", "$patch": "merge"}),
        json!({"name": "app", "$patch": "frobnicate"}),
        json!({"name": "app", "$patch": 1}),
    ] {
        let e = smp_err(
            &deployment(),
            &pod_spec_patch(json!({"containers": [element]})),
        );
        assert_status(&e, 500, "");
    }
    let e = smp_err(
        &deployment(),
        &json!({"spec": {"strategy": {"$patch": "merge"}}}),
    );
    assert!(
        e.to_string().contains("unknown patch type: \"merge\""),
        "{e}"
    );
    assert_status(&e, 500, "");
}

#[test]
fn retain_keys_clears_everything_it_does_not_name() {
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"strategy": {"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": null}}}),
    );
    assert_eq!(patched["spec"]["strategy"], json!({"type": "Recreate"}));

    let original = json!({"spec": {"volumes": [{"name": "v", "configMap": {"name": "c"}}]}});
    let patched = smp_ok(
        &original,
        &json!({"spec": {"volumes": [{"$retainKeys": ["name", "secret"], "name": "v", "secret": {"secretName": "s"}}]}}),
    );
    assert_eq!(
        patched["spec"]["volumes"],
        json!([{"name": "v", "secret": {"secretName": "s"}}])
    );
}

#[test]
fn malformed_retain_keys_are_400s() {
    for strategy in [
        json!({"$retainKeys": "type", "type": "Recreate"}),
        json!({"$retainKeys": ["type"], "type": "Recreate", "rollingUpdate": {"maxSurge": 1}}),
        json!({"$retainKeys": [], "type": "Recreate"}),
    ] {
        let e = smp_err(&deployment(), &json!({"spec": {"strategy": strategy}}));
        assert!(matches!(e, PatchError::InvalidDirective { .. }), "{e:?}");
        assert_status(&e, 400, "BadRequest");
        assert_eq!(e.to_string(), "invalid patch format of retainKeys");
    }
}

#[test]
fn delete_from_primitive_list_removes_values() {
    let patched = smp_ok(
        &deployment(),
        &json!({"metadata": {"$deleteFromPrimitiveList/finalizers": ["example.com/a", "nope"]}}),
    );
    assert_eq!(patched["metadata"]["finalizers"], json!(["example.com/b"]));
    // Nothing to delete from: nothing happens.
    let patched = smp_ok(
        &deployment(),
        &json!({"spec": {"$deleteFromPrimitiveList/nothing": ["x"]}}),
    );
    assert!(patched["spec"].get("nothing").is_none());
    // Additions and deletions in one patch.
    let patched = smp_ok(
        &deployment(),
        &json!({"metadata": {
            "$deleteFromPrimitiveList/finalizers": ["example.com/b"],
            "finalizers": ["example.com/c"]
        }}),
    );
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["example.com/c", "example.com/a"])
    );
}

#[test]
fn malformed_directive_keys_are_400s() {
    for (key, message) in [
        (
            "$deleteFromPrimitiveList",
            "invalid patch format of primitive list",
        ),
        (
            "$deleteFromPrimitiveListfinalizers/x",
            "invalid patch format of primitive list",
        ),
        (
            "$setElementOrder",
            "invalid patch format of setElementOrder list",
        ),
        (
            "$setElementOrderfinalizers",
            "invalid patch format of setElementOrder list",
        ),
    ] {
        let e = smp_err(&deployment(), &json!({"metadata": {key: []}}));
        assert_status(&e, 400, "BadRequest");
        assert_eq!(e.to_string(), message);
    }
}

#[test]
fn set_element_order_reorders_without_other_changes() {
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(
            json!({"$setElementOrder/containers": [{"name": "sidecar"}, {"name": "app"}]}),
        ),
    );
    assert_eq!(names(containers(&patched)), ["sidecar", "app"]);
    assert_eq!(
        containers(&patched)[1],
        deployment()["spec"]["template"]["spec"]["containers"][0]
    );

    let patched = smp_ok(
        &deployment(),
        &json!({"metadata": {"$setElementOrder/finalizers": ["example.com/b", "example.com/a"]}}),
    );
    assert_eq!(
        patched["metadata"]["finalizers"],
        json!(["example.com/b", "example.com/a"])
    );
}

#[test]
fn set_element_order_wins_over_patch_order() {
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(json!({
            "$setElementOrder/containers": [{"name": "new"}, {"name": "app"}, {"name": "sidecar"}],
            "containers": [{"name": "new", "image": "n:1"}]
        })),
    );
    assert_eq!(names(containers(&patched)), ["new", "app", "sidecar"]);
}

#[test]
fn set_element_order_sees_the_stored_list_as_go_leaves_it() {
    // kube's vector "add map and delete map from merging list": the order depends on how Go's
    // in-place deletion and append share the stored list's backing array.
    let original = json!({"spec": {"containers": [
        {"name": "one"}, {"name": "two", "image": "b"}, {"name": "four", "image": "c"}
    ]}});
    let patched = smp_ok(
        &original,
        &json!({"spec": {
            "$setElementOrder/containers": [{"name": "two"}, {"name": "three"}],
            "containers": [{"name": "three"}, {"name": "one", "$patch": "delete"}]
        }}),
    );
    assert_eq!(
        names(&patched["spec"]["containers"]),
        ["two", "four", "three"]
    );

    let original = json!({"spec": {"containers": [{"name": "one", "image": "a"}, {"name": "four", "image": "c"}]}});
    let patched = smp_ok(
        &original,
        &json!({"spec": {
            "$setElementOrder/containers": [{"name": "two"}, {"name": "three"}],
            "containers": [{"name": "two"}, {"name": "three"}, {"name": "one", "$patch": "delete"}]
        }}),
    );
    assert_eq!(
        names(&patched["spec"]["containers"]),
        ["four", "two", "three"]
    );
}

#[test]
fn set_element_order_errors() {
    // Not a list: kube's type assertion fails, a plain error, so 500.
    let e = smp_err(
        &deployment(),
        &pod_spec_patch(json!({"$setElementOrder/containers": "app"})),
    );
    assert_status(&e, 500, "");
    // The patch lists an element the order does not.
    let e = smp_err(
        &deployment(),
        &pod_spec_patch(json!({
            "$setElementOrder/containers": [{"name": "app"}],
            "containers": [{"name": "sidecar", "image": "s:2"}]
        })),
    );
    assert!(
        e.to_string()
            .contains("doesn't match $setElementOrder list"),
        "{e}"
    );
    assert_status(&e, 500, "");
}

#[test]
fn a_missing_merge_key_is_kubes_500() {
    let e = smp_err(
        &deployment(),
        &pod_spec_patch(json!({"volumes": [{"hostPath": {"path": "/var"}}]})),
    );
    assert!(matches!(e, PatchError::MergeFailed { .. }));
    assert!(
        e.to_string()
            .contains("does not contain declared merge key: name"),
        "{e}"
    );
    assert_status(&e, 500, "");
}

#[test]
fn lists_of_lists_are_422() {
    let original = json!({"metadata": {"finalizers": []}});
    let e = smp_err(&original, &json!({"metadata": {"finalizers": [["x"]]}}));
    assert!(matches!(e, PatchError::Unprocessable { .. }));
    assert_status(&e, 422, "Invalid");
    assert_eq!(e.to_string(), "lists of lists are not supported");
}

#[test]
fn odd_list_elements_are_500s() {
    for finalizers in [json!(["a", 1]), json!([null]), json!([{"a": 1}])] {
        let e = smp_err(
            &deployment(),
            &json!({"metadata": {"finalizers": finalizers}}),
        );
        assert_status(&e, 500, "");
    }
    // A primitive-merge list of maps has no key to merge on.
    let original = json!({"metadata": {"finalizers": [{"a": 1}]}});
    let e = smp_err(&original, &json!({"metadata": {"finalizers": [{"a": 2}]}}));
    assert!(e.to_string().contains("without merge key"), "{e}");
    // Merge keys that are maps cannot be compared (Go panics).
    let e = smp_err(
        &deployment(),
        &pod_spec_patch(json!({"containers": [{"name": {"x": 1}}]})),
    );
    assert_status(&e, 500, "");
}

#[test]
fn bodies_that_are_not_an_object_are_400_and_null_is_a_no_op() {
    let original = deployment();
    assert_eq!(
        apply(PatchType::StrategicMerge, &original, b"null").unwrap(),
        original
    );
    assert_eq!(smp_ok(&original, &json!({})), original);
    for patch in ["", "[]", "[{}]", "1", "\"x\"", "{", "{\"a\":1,}", "{}x"] {
        let e = apply(PatchType::StrategicMerge, &original, patch.as_bytes()).unwrap_err();
        assert!(
            matches!(e, PatchError::MalformedPatch { .. }),
            "{patch:?}: {e:?}"
        );
        assert_status(&e, 400, "BadRequest");
    }
}

#[test]
fn new_elements_go_first_when_nothing_orders_them() {
    // With no stored element before it to follow, kube puts a new element ahead of the stored
    // ones (`mergeSortedSlice` takes the patch side whenever it cannot compare).
    let original =
        json!({"spec": {"containers": [{"name": "a", "env": [{"name": "A"}, {"name": "B"}]}]}});
    let patched = smp_ok(
        &original,
        &json!({"spec": {"containers": [{"name": "a", "env": [{"name": "C"}]}, {"name": "z"}]}}),
    );
    assert_eq!(names(&patched["spec"]["containers"]), ["a", "z"]);
    assert_eq!(
        names(&patched["spec"]["containers"][0]["env"]),
        ["C", "A", "B"]
    );
}

#[test]
fn merge_keys_depend_on_where_the_list_is() {
    // Container ports merge on containerPort.
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(
            json!({"containers": [{"name": "app", "ports": [{"containerPort": 9090}]}]}),
        ),
    );
    assert_eq!(
        containers(&patched)[0]["ports"],
        json!([{"containerPort": 9090}, {"containerPort": 8080, "protocol": "TCP"}])
    );

    // Service ports merge on port.
    let service = json!({"kind": "Service", "spec": {"ports": [{"name": "http", "port": 80, "targetPort": 8080}]}});
    let patched = smp_ok(
        &service,
        &json!({"spec": {"ports": [{"port": 80, "targetPort": 9090}, {"port": 443}]}}),
    );
    assert_eq!(
        patched["spec"]["ports"],
        json!([{"name": "http", "port": 80, "targetPort": 9090}, {"port": 443}])
    );

    // ServiceAccount: secrets merge on name, imagePullSecrets are replaced.
    let sa = json!({"kind": "ServiceAccount", "secrets": [{"name": "s1"}], "imagePullSecrets": [{"name": "p1"}]});
    let patched = smp_ok(
        &sa,
        &json!({"secrets": [{"name": "s2"}], "imagePullSecrets": [{"name": "p2"}]}),
    );
    assert_eq!(names(&patched["secrets"]), ["s2", "s1"]);
    assert_eq!(names(&patched["imagePullSecrets"]), ["p2"]);

    // ... while a PodSpec's imagePullSecrets merge on name.
    let pod = json!({"kind": "Pod", "spec": {"imagePullSecrets": [{"name": "p1"}]}});
    let patched = smp_ok(
        &pod,
        &json!({"spec": {"imagePullSecrets": [{"name": "p2"}]}}),
    );
    assert_eq!(names(&patched["spec"]["imagePullSecrets"]), ["p2", "p1"]);

    // Namespace spec.finalizers are replaced; metadata.finalizers merge.
    let ns = json!({"kind": "Namespace", "metadata": {"finalizers": ["a"]}, "spec": {"finalizers": ["kubernetes"]}});
    let patched = smp_ok(
        &ns,
        &json!({"metadata": {"finalizers": ["b"]}, "spec": {"finalizers": ["other"]}}),
    );
    assert_eq!(patched["metadata"]["finalizers"], json!(["b", "a"]));
    assert_eq!(patched["spec"]["finalizers"], json!(["other"]));

    // Endpoints subsets are replaced, ports and all.
    let ep = json!({"kind": "Endpoints", "subsets": [{"addresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]});
    let patched = smp_ok(&ep, &json!({"subsets": [{"ports": [{"port": 81}]}]}));
    assert_eq!(patched["subsets"], json!([{"ports": [{"port": 81}]}]));
}

#[test]
fn node_and_status_lists_merge_on_type_and_ip() {
    let node = json!({
        "kind": "Node",
        "spec": {"podCIDRs": ["10.0.0.0/24"], "taints": [{"key": "a", "effect": "NoSchedule"}]},
        "status": {
            "addresses": [{"type": "InternalIP", "address": "10.1.1.1"}, {"type": "Hostname", "address": "n1"}],
            "conditions": [{"type": "Ready", "status": "False"}, {"type": "MemoryPressure", "status": "False"}]
        }
    });
    let patched = smp_ok(
        &node,
        &json!({
            "spec": {"podCIDRs": ["fd00::/64"], "taints": [{"key": "b", "effect": "NoExecute"}]},
            "status": {
                "addresses": [{"type": "InternalIP", "address": "10.1.1.2"}],
                "conditions": [{"type": "Ready", "status": "True"}]
            }
        }),
    );
    assert_eq!(
        patched["spec"]["podCIDRs"],
        json!(["fd00::/64", "10.0.0.0/24"])
    );
    assert_eq!(
        patched["spec"]["taints"],
        json!([{"key": "b", "effect": "NoExecute"}])
    );
    assert_eq!(
        patched["status"]["addresses"],
        json!([{"type": "InternalIP", "address": "10.1.1.2"}, {"type": "Hostname", "address": "n1"}])
    );
    assert_eq!(
        patched["status"]["conditions"],
        json!([{"type": "Ready", "status": "True"}, {"type": "MemoryPressure", "status": "False"}])
    );

    let pod = json!({"status": {"podIPs": [{"ip": "10.0.0.1"}], "conditions": [{"type": "Ready", "status": "False"}]}});
    let patched = smp_ok(
        &pod,
        &json!({"status": {"podIPs": [{"ip": "fd00::1"}], "conditions": [{"type": "Ready", "status": "True"}]}}),
    );
    assert_eq!(
        patched["status"]["podIPs"],
        json!([{"ip": "fd00::1"}, {"ip": "10.0.0.1"}])
    );
    assert_eq!(
        patched["status"]["conditions"],
        json!([{"type": "Ready", "status": "True"}])
    );
}

#[test]
fn metadata_and_pod_spec_keys() {
    let original = json!({
        "metadata": {"ownerReferences": [{"uid": "u1", "name": "a"}, {"uid": "u2", "name": "b"}]},
        "spec": {
            "hostAliases": [{"ip": "1.1.1.1", "hostnames": ["a"]}],
            "topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 1}],
            "volumes": [{"name": "v1", "emptyDir": {}}],
            "containers": [{"name": "c", "volumeMounts": [{"name": "v1", "mountPath": "/a"}],
                            "volumeDevices": [{"name": "d", "devicePath": "/dev/x"}]}]
        }
    });
    let patched = smp_ok(
        &original,
        &json!({
            "metadata": {"ownerReferences": [{"uid": "u2", "name": "b2"}]},
            "spec": {
                "hostAliases": [{"ip": "1.1.1.1", "hostnames": ["b"]}],
                "topologySpreadConstraints": [{"topologyKey": "zone", "maxSkew": 2}],
                "volumes": [{"name": "v2", "emptyDir": {}}],
                "containers": [{"name": "c",
                                "volumeMounts": [{"name": "v2", "mountPath": "/a"}],
                                "volumeDevices": [{"name": "e", "devicePath": "/dev/y"}]}]
            }
        }),
    );
    assert_eq!(
        patched["metadata"]["ownerReferences"],
        json!([{"uid": "u1", "name": "a"}, {"uid": "u2", "name": "b2"}])
    );
    let spec = &patched["spec"];
    assert_eq!(
        spec["hostAliases"],
        json!([{"ip": "1.1.1.1", "hostnames": ["b"]}])
    );
    assert_eq!(
        spec["topologySpreadConstraints"],
        json!([{"topologyKey": "zone", "maxSkew": 2}])
    );
    assert_eq!(names(&spec["volumes"]), ["v2", "v1"]);
    assert_eq!(
        spec["containers"][0]["volumeMounts"],
        json!([{"name": "v2", "mountPath": "/a"}])
    );
    assert_eq!(
        spec["containers"][0]["volumeDevices"],
        json!([{"name": "e", "devicePath": "/dev/y"}, {"name": "d", "devicePath": "/dev/x"}])
    );
}

#[test]
fn new_subtrees_lose_their_directives() {
    // Nothing stored to merge with: kube takes the patch's value, minus `$patch` maps, and its
    // decode drops the other directive keys.
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(json!({
            "$setElementOrder/initContainers": [{"name": "i"}],
            "initContainers": [{"name": "i", "image": "i:1"}],
            "affinity": {"$retainKeys": ["nodeAffinity"], "nodeAffinity": {}},
            "dnsConfig": {"options": [{"name": "x", "$patch": "delete"}, {"name": "y"}]},
            "securityContext": {"$patch": "replace", "runAsUser": 1}
        })),
    );
    let spec = &patched["spec"]["template"]["spec"];
    assert_eq!(
        spec["initContainers"],
        json!([{"name": "i", "image": "i:1"}])
    );
    assert_eq!(spec["affinity"], json!({"nodeAffinity": {}}));
    assert_eq!(spec["dnsConfig"], json!({"options": [{"name": "y"}]}));
    assert!(spec.get("securityContext").is_none());
}

#[test]
fn directive_lookalikes_in_replaced_lists_are_dropped() {
    // tolerations have no strategy: kube keeps the list as sent and its decode drops `$patch`.
    let patched = smp_ok(
        &deployment(),
        &pod_spec_patch(json!({"tolerations": [{"key": "a", "$patch": "delete"}]})),
    );
    assert_eq!(
        patched["spec"]["template"]["spec"]["tolerations"],
        json!([{"key": "a"}])
    );
    assert_no_directives(&patched);
}

#[test]
fn unknown_fields_merge_like_any_other_map() {
    let original = json!({"spec": {"custom": {"a": 1, "list": [1, 2]}}});
    let patched = smp(
        &original,
        &json!({"spec": {"custom": {"b": 2, "list": [3]}}}),
    )
    .unwrap();
    assert_eq!(
        patched,
        json!({"spec": {"custom": {"a": 1, "b": 2, "list": [3]}}})
    );
}

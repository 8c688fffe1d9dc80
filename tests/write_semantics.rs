//! Update and delete semantics as Kubernetes has them, driven with kubectl where a
//! user would and raw HTTP where kubectl cannot express the request: cascading
//! deletes that finish, what a deleting object may no longer gain, preconditions,
//! and what a status endpoint may change.

mod support;

use serde_json::{Value, json};
use support::Server;

const CONFIGMAPS: &str = "/api/v1/namespaces/default/configmaps";

fn send(s: &Server, method: &str, path: &str, content_type: &str, body: Value) -> (u16, Value) {
    s.http()
        .send(method, path, content_type, body.to_string().into_bytes())
}

/// `kubectl delete --cascade=foreground` finishes, on a kind whose collector
/// propagates it (a Service with no dependents) and on one no collector
/// propagates it for (a finalizer nothing removes would hold the object, and
/// kubectl's wait, forever); `--cascade=orphan` on the latter is refused, as
/// deleting at once could let a collector take the dependents it asked to keep.
#[test]
fn cascading_deletes_of_kinds_without_dependents_finish() {
    let s = Server::start();
    s.ok(&["create", "service", "clusterip", "web", "--tcp=80:80"]);
    // Endpoints a user keeps for Services without a selector.
    let endpoints = "apiVersion: v1\nkind: Service\nmetadata: {name: manual}\nspec: {ports: [{port: 80}]}\n---\napiVersion: v1\nkind: Endpoints\nmetadata: {name: manual}\nsubsets: [{addresses: [{ip: 10.1.2.3}], ports: [{port: 80}]}]\n";
    s.apply(endpoints);
    s.apply(&endpoints.replace("manual", "kept"));
    for (kind, name) in [("service", "web"), ("endpoints", "manual")] {
        s.ok(&[
            "delete",
            kind,
            name,
            "--cascade=foreground",
            // The collector that finishes it may still be starting (compiling
            // its module) on a busy machine.
            "--timeout=90s",
        ]);
        let left = s.fails(&["get", kind, name]);
        assert!(left.contains("NotFound"), "{left}");
    }
    let refused = s.fails(&[
        "delete",
        "endpoints",
        "kept",
        "--cascade=orphan",
        "--timeout=20s",
    ]);
    assert!(
        refused.contains("no garbage collector orphans the dependents of endpoints"),
        "{refused}"
    );
    s.ok(&["get", "endpoints", "kept"]);
}

/// DeleteOptions are checked as Kubernetes checks them: every problem is a cause
/// of one 422 Invalid about the DeleteOptions, and nothing is deleted.
#[test]
fn bad_delete_options_are_invalid_and_delete_nothing() {
    let s = Server::start();
    s.ok(&["create", "configmap", "kept"]);
    let path = format!("{CONFIGMAPS}/kept");
    let body = json!({"kind": "DeleteOptions", "apiVersion": "v1",
        "propagationPolicy": "Sideways", "dryRun": ["Maybe"]});
    let (code, status) = send(&s, "DELETE", &path, "application/json", body);
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["reason"], "Invalid", "{status}");
    assert_eq!(status["details"]["kind"], "DeleteOptions", "{status}");
    assert_eq!(status["details"]["group"], "meta.k8s.io", "{status}");
    let message = status["message"].as_str().unwrap_or_default();
    assert!(
        message.starts_with("DeleteOptions.meta.k8s.io \"\" is invalid: [propagationPolicy: Unsupported value: \"Sideways\""),
        "{status}"
    );
    let fields: Vec<&str> = status["details"]["causes"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|c| c["field"].as_str())
        .collect();
    assert_eq!(fields, ["propagationPolicy", "dryRun"], "{status}");
    let (code, status) = send(
        &s,
        "DELETE",
        &format!("{path}?propagationPolicy=Background&orphanDependents=true"),
        "application/json",
        json!({}),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(
        status["details"]["causes"][0]["message"],
        "Invalid value: \"Background\": orphanDependents and deletionPropagation cannot be both set",
        "{status}"
    );
    s.ok(&["get", "configmap", "kept"]);
    // Fields of the wrong type are a 400, as Kubernetes' decoding makes them.
    for body in [json!({"gracePeriodSeconds": "x"}), json!({"dryRun": "All"})] {
        let (code, status) = send(&s, "DELETE", &path, "application/json", body.clone());
        assert_eq!(
            (code, status["reason"].as_str()),
            (400, Some("BadRequest")),
            "{body}: {status}"
        );
    }
    s.ok(&["get", "configmap", "kept"]);

    // The same in the query, for each verb's options; a read ignores it.
    let (code, status) = send(
        &s,
        "POST",
        &format!("{CONFIGMAPS}?dryRun=Maybe"),
        "application/json",
        json!({"metadata": {"name": "made"}}),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["kind"], "CreateOptions", "{status}");
    assert_eq!(
        status["details"]["causes"][0]["field"], "dryRun",
        "{status}"
    );
    let (code, status) = send(
        &s,
        "DELETE",
        &format!("{path}?dryRun=Maybe"),
        "application/json",
        json!({}),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["details"]["kind"], "DeleteOptions", "{status}");
    assert_eq!(s.http().get(&format!("{path}?dryRun=Maybe")).0, 200);
    assert_eq!(s.http().get(&format!("{CONFIGMAPS}/made")).0, 404);
}

/// A pod held by a finalizer is still given its grace period (for its kubelet to
/// stop it), not marked as already past it.
#[test]
fn a_pod_held_by_a_finalizer_keeps_its_grace_period() {
    let s = Server::start();
    let (code, body) = s.http().post_json(
        "/api/v1/namespaces/default/pods",
        &json!({"metadata": {"name": "held", "finalizers": ["example.com/hold"]},
                "spec": {"nodeName": "n1", "terminationGracePeriodSeconds": 45,
                         "containers": [{"name": "c", "image": "busybox"}]}}),
    );
    assert_eq!(code, 201, "{body}");
    let (code, body) = send(
        &s,
        "DELETE",
        "/api/v1/namespaces/default/pods/held",
        "application/json",
        json!({}),
    );
    assert!(code == 200 || code == 202, "{code}: {body}");
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 45, "{body}");
    // A forced delete shortens it to 0, so that removing the finalizer then ends it.
    let (code, body) = send(
        &s,
        "DELETE",
        "/api/v1/namespaces/default/pods/held",
        "application/json",
        json!({"gracePeriodSeconds": 0}),
    );
    assert!(code == 200 || code == 202, "{code}: {body}");
    assert_eq!(body["metadata"]["deletionGracePeriodSeconds"], 0, "{body}");
    let (code, body) = send(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/pods/held",
        "application/merge-patch+json",
        json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(code, 200, "{body}");
    let (code, _) = s.http().get("/api/v1/namespaces/default/pods/held");
    assert_eq!(code, 404, "gone once the finalizer is");
}

/// Once deletion has started, an object may lose finalizers but not gain them:
/// 422 with Kubernetes' message.
#[test]
fn a_deleting_object_gains_no_finalizers() {
    let s = Server::start();
    let (code, body) = s.http().post_json(
        CONFIGMAPS,
        &json!({"metadata": {"name": "going", "finalizers": ["example.com/a"]}}),
    );
    assert_eq!(code, 201, "{body}");
    let (code, body) = send(
        &s,
        "DELETE",
        &format!("{CONFIGMAPS}/going"),
        "application/json",
        json!({}),
    );
    assert!(code == 200 || code == 202, "{code}: {body}");
    let (code, body) = send(
        &s,
        "PATCH",
        &format!("{CONFIGMAPS}/going"),
        "application/merge-patch+json",
        json!({"metadata": {"finalizers": ["example.com/a", "example.com/b"]}}),
    );
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("no new finalizers can be added if the object is being deleted"),
        "{body}"
    );
    // Removing the last one ends the deletion.
    let (code, body) = send(
        &s,
        "PATCH",
        &format!("{CONFIGMAPS}/going"),
        "application/merge-patch+json",
        json!({"metadata": {"finalizers": null}}),
    );
    assert_eq!(code, 200, "{body}");
    let (code, _) = s.http().get(&format!("{CONFIGMAPS}/going"));
    assert_eq!(code, 404);
}

/// A PUT to a name nothing has yet creates a Service, Endpoints, Event or Lease,
/// as their Kubernetes registries allow (`kubectl replace` of a missing Service,
/// leader election writing its Lease whole), whatever resourceVersion it names; a
/// uid names an object that is not there (409), and other kinds are 404. A Lease,
/// as in Kubernetes, is then only updated at a version.
#[test]
fn a_put_creates_the_kinds_kubernetes_creates_on_update() {
    let s = Server::start();
    let service =
        "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]\n";
    let out = s.kubectl_stdin(&["replace", "-f", "-"], Some(service));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let web = s.get_json(&["service", "web"]);
    assert!(web["spec"]["clusterIP"].is_string(), "{web}");
    assert!(web["metadata"]["uid"].is_string(), "{web}");

    let leases = "/apis/coordination.k8s.io/v1/namespaces/default/leases";
    let lease = |name: &str, holder: &str| {
        json!({"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
               "metadata": {"name": name}, "spec": {"holderIdentity": holder}})
    };
    let put = |name: &str, body: Value| {
        send(
            &s,
            "PUT",
            &format!("{leases}/{name}"),
            "application/json",
            body,
        )
    };
    let (code, created) = put("leader", lease("leader", "a"));
    assert_eq!(code, 201, "{created}");
    let (code, refused) = put("leader", lease("leader", "b"));
    assert_eq!(code, 422, "{refused}");
    assert_eq!(
        refused["message"],
        "leases.coordination.k8s.io \"leader\" is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update",
    );
    let mut renewed = lease("leader", "b");
    renewed["metadata"]["resourceVersion"] = created["metadata"]["resourceVersion"].clone();
    let (code, updated) = put("leader", renewed);
    assert_eq!(code, 200, "{updated}");
    assert_eq!(updated["spec"]["holderIdentity"], "b");
    assert_eq!(updated["metadata"]["uid"], created["metadata"]["uid"]);

    // A version plays no part in a create; a uid does, and so does the URL's name.
    let mut versioned = lease("other", "c");
    versioned["metadata"]["resourceVersion"] = json!("5");
    let (code, body) = put("other", versioned);
    assert_eq!(code, 201, "{body}");
    assert_ne!(body["metadata"]["resourceVersion"], "5", "{body}");
    let mut with_uid = lease("third", "c");
    with_uid["metadata"]["uid"] = json!("6e3c2a4e-0000-4000-8000-000000000000");
    let (code, body) = put("third", with_uid);
    assert_eq!(code, 409, "{body}");
    let (code, body) = put("elsewhere", lease("leader", "c"));
    assert_eq!(code, 400, "{body}");
    let (code, body) = send(
        &s,
        "PUT",
        &format!("{CONFIGMAPS}/missing"),
        "application/json",
        json!({"metadata": {"name": "missing"}, "data": {"k": "v"}}),
    );
    assert_eq!(code, 404, "{body}");
    for path in [
        format!("{leases}/third"),
        format!("{leases}/elsewhere"),
        format!("{CONFIGMAPS}/missing"),
    ] {
        assert_eq!(s.http().get(&path).0, 404, "{path}");
    }
}

/// Marking an object deleting is a new generation for kinds that have one, as in
/// Kubernetes, so a controller comparing observedGeneration notices.
#[test]
fn deletion_is_a_new_generation() {
    let s = Server::start();
    s.apply(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: held, finalizers: [example.com/hold]}
spec:
  replicas: 0
  selector: {matchLabels: {app: held}}
  template:
    metadata: {labels: {app: held}}
    spec: {containers: [{name: c, image: busybox:1.36}]}
"#,
    );
    assert_eq!(
        s.get_json(&["deployment", "held"])["metadata"]["generation"],
        1
    );
    s.ok(&["delete", "deployment", "held", "--wait=false"]);
    let d = s.get_json(&["deployment", "held"]);
    assert!(d["metadata"]["deletionTimestamp"].is_string(), "{d}");
    assert_eq!(d["metadata"]["generation"], 2, "{d}");
    // A second delete marks nothing anew.
    s.ok(&["delete", "deployment", "held", "--wait=false"]);
    assert_eq!(
        s.get_json(&["deployment", "held"])["metadata"]["generation"],
        2
    );
    s.ok(&[
        "patch",
        "deployment",
        "held",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ]);
    assert!(s.fails(&["get", "deployment", "held"]).contains("NotFound"));
}

/// Namespaces have no deletecollection (one request would empty the cluster), and
/// discovery does not offer it; the deprecated `orphanDependents` still works.
#[test]
fn namespaces_cannot_be_deleted_wholesale() {
    let s = Server::start();
    let (code, body) = send(
        &s,
        "DELETE",
        "/api/v1/namespaces",
        "application/json",
        json!({}),
    );
    assert_eq!(code, 405, "{body}");
    assert_eq!(body["reason"], "MethodNotAllowed", "{body}");
    let (code, _) = s.http().get("/api/v1/namespaces/default");
    assert_eq!(code, 200, "nothing was deleted");
    let (_, discovery) = s.http().get("/api/v1");
    let namespaces = discovery["resources"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "namespaces")
        .unwrap();
    assert!(
        !namespaces["verbs"]
            .as_array()
            .unwrap()
            .contains(&json!("deletecollection")),
        "{namespaces}"
    );
    let (code, body) = send(
        &s,
        "DELETE",
        &format!("{CONFIGMAPS}/none?orphanDependents=maybe"),
        "application/json",
        json!({}),
    );
    assert_eq!(code, 400, "{body}");
}

/// A uid in a PUT body is a precondition: an update meant for an object deleted
/// and created again under its name is refused with 409, not applied to the new
/// one. Changing the uid by PATCH is 422, as the field is immutable.
#[test]
fn a_stale_uid_is_refused() {
    let s = Server::start();
    let (_, first) = s
        .http()
        .post_json(CONFIGMAPS, &json!({"metadata": {"name": "c"}}));
    let (code, _) = send(
        &s,
        "DELETE",
        &format!("{CONFIGMAPS}/c"),
        "application/json",
        json!({}),
    );
    assert_eq!(code, 200);
    let (code, _) = s
        .http()
        .post_json(CONFIGMAPS, &json!({"metadata": {"name": "c"}}));
    assert_eq!(code, 201);
    let stale = json!({"metadata": {"name": "c", "uid": first["metadata"]["uid"]},
                       "data": {"k": "stale"}});
    let (code, body) = send(
        &s,
        "PUT",
        &format!("{CONFIGMAPS}/c"),
        "application/json",
        stale,
    );
    assert_eq!(code, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("Precondition failed: UID in precondition"),
        "{body}"
    );
    let (code, body) = send(
        &s,
        "PATCH",
        &format!("{CONFIGMAPS}/c"),
        "application/merge-patch+json",
        json!({"metadata": {"uid": "not-this-one"}}),
    );
    assert_eq!(code, 422, "{body}");
    // A resourceVersion of "0" is no version: the update is unconditional.
    let (code, body) = send(
        &s,
        "PUT",
        &format!("{CONFIGMAPS}/c"),
        "application/json",
        json!({"metadata": {"name": "c", "resourceVersion": "0"}, "data": {"k": "v"}}),
    );
    assert_eq!(code, 200, "{body}");
}

/// A pod's labels and annotations may change through its status endpoint (as a
/// kubelet's status patch may carry them); its spec may not. A Deployment's
/// labels may not change there, its annotations may.
#[test]
fn status_endpoints_change_what_kubernetes_lets_them() {
    let s = Server::start();
    let (code, body) = s.http().post_json(
        "/api/v1/namespaces/default/pods",
        &json!({"metadata": {"name": "p"},
                "spec": {"containers": [{"name": "c", "image": "busybox"}]}}),
    );
    assert_eq!(code, 201, "{body}");
    let (code, pod) = send(
        &s,
        "PATCH",
        "/api/v1/namespaces/default/pods/p/status",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"seen": "yes"}},
               "spec": {"activeDeadlineSeconds": 5},
               "status": {"phase": "Running"}}),
    );
    assert_eq!(code, 200, "{pod}");
    assert_eq!(pod["metadata"]["labels"]["seen"], "yes", "{pod}");
    assert_eq!(pod["status"]["phase"], "Running");
    assert!(pod["spec"].get("activeDeadlineSeconds").is_none(), "{pod}");

    s.ok(&["create", "deployment", "d", "--image=busybox"]);
    let (code, d) = send(
        &s,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/d/status",
        "application/merge-patch+json",
        json!({"metadata": {"labels": {"x": "1"}, "annotations": {"note": "kept"}}}),
    );
    assert_eq!(code, 200, "{d}");
    assert!(d["metadata"]["labels"].get("x").is_none(), "{d}");
    assert_eq!(d["metadata"]["annotations"]["note"], "kept", "{d}");
}

/// A custom resource allows no unconditional update: a PUT without a
/// resourceVersion is 422, as Kubernetes answers it.
#[test]
fn custom_resources_are_updated_only_at_a_version() {
    let s = Server::start();
    s.apply(
        "apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.wharf.dev}
spec:
  group: example.wharf.dev
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
",
    );
    s.ok(&[
        "wait",
        "--for=condition=established",
        "crd/gadgets.example.wharf.dev",
        "--timeout=20s",
    ]);
    let path = "/apis/example.wharf.dev/v1/namespaces/default/gadgets";
    let (code, created) = s.http().post_json(
        path,
        &json!({"apiVersion": "example.wharf.dev/v1", "kind": "Gadget",
                "metadata": {"name": "g"}, "spec": {"size": 1}}),
    );
    assert_eq!(code, 201, "{created}");
    let unconditional = json!({"apiVersion": "example.wharf.dev/v1", "kind": "Gadget",
                               "metadata": {"name": "g"}, "spec": {"size": 2}});
    let (code, body) = send(
        &s,
        "PUT",
        &format!("{path}/g"),
        "application/json",
        unconditional,
    );
    assert_eq!(code, 422, "{body}");
    assert!(
        body["message"].as_str().unwrap().ends_with(
            "is invalid: metadata.resourceVersion: Invalid value: 0x0: must be specified for an update"
        ),
        "{body}"
    );
    let mut versioned = created.clone();
    versioned["spec"]["size"] = json!(2);
    let (code, body) = send(
        &s,
        "PUT",
        &format!("{path}/g"),
        "application/json",
        versioned,
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["metadata"]["generation"], 2, "{body}");
}

/// `kubectl scale --resource-version` is a precondition on the scale, and a
/// Scale whose name is not the URL's is refused.
#[test]
fn scale_honours_its_preconditions() {
    // No controllers: nothing else writes the Deployment between the reads and
    // the scales below.
    let temp = tempfile::tempdir().unwrap();
    let data = temp.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let s = Server::start_with(&data, &["--no-controllers"]);
    s.ok(&[
        "create",
        "deployment",
        "d",
        "--image=busybox",
        "--replicas=0",
    ]);
    let stale = s.get_json(&["deployment", "d"])["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    s.ok(&["label", "deployment", "d", "moved=on"]);
    // kubectl checks its --resource-version itself first; the server checks it
    // too, for a write that lands in between.
    let (code, body) = send(
        &s,
        "PATCH",
        "/apis/apps/v1/namespaces/default/deployments/d/scale",
        "application/merge-patch+json",
        json!({"metadata": {"resourceVersion": stale}, "spec": {"replicas": 2}}),
    );
    assert_eq!(code, 409, "{body}");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("the object has been modified"),
        "{body}"
    );
    let current = s.get_json(&["deployment", "d"])["metadata"]["resourceVersion"]
        .as_str()
        .unwrap()
        .to_string();
    s.ok(&[
        "scale",
        "deployment",
        "d",
        "--replicas=2",
        "--resource-version",
        &current,
    ]);
    assert_eq!(s.get_json(&["deployment", "d"])["spec"]["replicas"], 2);
    let (code, body) = send(
        &s,
        "PUT",
        "/apis/apps/v1/namespaces/default/deployments/d/scale",
        "application/json",
        json!({"apiVersion": "autoscaling/v1", "kind": "Scale",
               "metadata": {"name": "other", "namespace": "default"},
               "spec": {"replicas": 3}}),
    );
    assert_eq!(code, 400, "{body}");
}

/// What is written reads back as Kubernetes' encoding gives it: an optional list or
/// map left empty is gone (so a script's `ownerReferences[0]` after an orphaning
/// reads `<none>`), quantities are canonical, and the defaults Kubernetes fills
/// into probes, volumes, field references and a pod's requests are there.
#[test]
fn objects_read_back_in_kubernetes_canonical_form() {
    let s = Server::start();
    s.ok(&["create", "configmap", "owned", "--from-literal=k=v"]);
    s.ok(&["label", "configmap", "owned", "tier=web"]);
    s.ok(&["label", "configmap", "owned", "tier-"]);
    s.ok(&["create", "configmap", "owner"]);
    let uid = s.get_json(&["configmap", "owner"])["metadata"]["uid"].clone();
    let owner = json!([{"op": "add", "path": "/metadata/ownerReferences", "value":
        [{"apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid}]}]);
    s.ok(&[
        "patch",
        "configmap",
        "owned",
        "--type=json",
        "-p",
        &owner.to_string(),
    ]);
    let orphaned = r#"[{"op": "remove", "path": "/metadata/ownerReferences/0"}]"#;
    s.ok(&["patch", "configmap", "owned", "--type=json", "-p", orphaned]);
    let cm = s.get_json(&["configmap", "owned"]);
    assert!(
        cm["metadata"].get("labels").is_none() && cm["metadata"].get("ownerReferences").is_none(),
        "{cm}"
    );
    let columns = s.ok(&[
        "get",
        "configmap",
        "owned",
        "-o",
        "custom-columns=NAME:.metadata.name,OWNER:.metadata.ownerReferences[0].name",
    ]);
    assert!(columns.contains("owned   <none>"), "{columns}");

    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: probed, finalizers: []}
spec:
  tolerations: []
  containers:
  - name: app
    image: registry.local/app:1
    args: []
    readinessProbe: {httpGet: {port: 8080}}
    env: [{name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}]
    resources: {limits: {cpu: 1000m, memory: 1048576Ki}, requests: {cpu: "0.5"}}
  volumes: [{name: scratch}, {name: config, configMap: {name: app}}]
"#,
    );
    let pod = s.get_json(&["pod", "probed"]);
    let spec = &pod["spec"];
    let app = &spec["containers"][0];
    // The empty tolerations hold only the two that admission adds to every pod.
    let tolerations = spec["tolerations"].as_array().cloned().unwrap_or_default();
    assert!(
        pod["metadata"].get("finalizers").is_none()
            && tolerations.len() == 2
            && app.get("args").is_none(),
        "{pod}"
    );
    assert_eq!(
        app["resources"],
        json!({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m", "memory": "1Gi"}})
    );
    assert_eq!(
        app["readinessProbe"],
        json!({"httpGet": {"port": 8080, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
               "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
    );
    assert_eq!(app["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
    assert_eq!(
        spec["volumes"][0],
        json!({"name": "scratch", "emptyDir": {}})
    );
    assert_eq!(spec["volumes"][1]["configMap"]["defaultMode"], 420);
    assert_eq!(pod["status"]["qosClass"], "Burstable");
}

/// A Service whose type becomes ExternalName gives back the address its old type
/// was given (a patch of the type alone carries it over), as Kubernetes'
/// `dropTypeDependentFields` does; asking for an address on an ExternalName is
/// refused, naming the field.
#[test]
fn a_service_turned_external_name_gives_back_its_address() {
    let s = Server::start();
    s.ok(&["create", "service", "clusterip", "db", "--tcp=5432:5432"]);
    let before = s.get_json(&["service", "db"]);
    assert!(
        before["spec"]["clusterIP"]
            .as_str()
            .is_some_and(|ip| ip.starts_with("10.96."))
    );
    s.ok(&[
        "patch",
        "service",
        "db",
        "--type=merge",
        "-p",
        r#"{"spec": {"type": "ExternalName", "externalName": "db.example.com"}}"#,
    ]);
    let after = s.get_json(&["service", "db"]);
    assert_eq!(after["spec"]["type"], "ExternalName");
    for field in ["clusterIP", "clusterIPs", "ipFamilies", "ipFamilyPolicy"] {
        assert!(after["spec"].get(field).is_none(), "{field} kept: {after}");
    }

    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(
            "apiVersion: v1\nkind: Service\nmetadata: {name: cname}\nspec:\n  type: ExternalName\n  externalName: Not_A_Host\n  clusterIP: 10.96.9.9\n",
        ),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("spec.clusterIPs: Forbidden: may not be set for ExternalName services")
            && stderr.contains("spec.externalName: Invalid value: \"Not_A_Host\""),
        "{stderr}"
    );
    assert!(!s.kubectl(&["get", "service", "cname"]).status.success());
}

/// What a pod says about where it runs and how it is probed is checked before it
/// is stored, with Kubernetes' messages, as kubectl shows them.
#[test]
fn malformed_pod_specs_are_refused_by_field() {
    let s = Server::start();
    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(
            r#"apiVersion: v1
kind: Pod
metadata: {name: bad}
spec:
  nodeSelector: {"bad key!": x}
  tolerations: [{key: dedicated, operator: Exists, value: gpu}]
  containers:
  - name: c
    image: "busybox "
    ports: [{name: http, containerPort: 80}, {name: http, containerPort: 81}]
    livenessProbe: {periodSeconds: 5}
"#,
        ),
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    for want in [
        "spec.nodeSelector: Invalid value: \"bad key!\"",
        "spec.tolerations[0].operator: Invalid value:",
        "value must be empty when `operator` is 'Exists'",
        "spec.containers[0].image: Invalid value: \"busybox \": must not have leading or trailing whitespace",
        "spec.containers[0].ports[1].name: Duplicate value: \"http\"",
        "spec.containers[0].livenessProbe: Required value: must specify a handler type",
    ] {
        assert!(stderr.contains(want), "missing {want:?} in {stderr}");
    }
    assert!(!s.kubectl(&["get", "pod", "bad"]).status.success());
}

/// Events expire once not written for `--event-ttl` (kube-apiserver's flag, an
/// hour by default), counted from their last write, so a long-running cluster
/// does not keep them all.
#[test]
fn events_expire_after_their_ttl() {
    let temp = tempfile::tempdir().unwrap();
    let s = Server::start_with(
        &temp.path().join("data"),
        &["--event-ttl", "2s", "--no-scheduler", "--no-controllers"],
    );
    let event = |name: &str, last: &str| {
        format!(
            "apiVersion: v1\nkind: Event\nmetadata: {{name: {name}}}\ninvolvedObject: {{kind: Pod, name: p, namespace: default}}\nreason: Tested\nmessage: m\ntype: Normal\nlastTimestamp: \"{last}\"\n"
        )
    };
    s.apply(&event("old", "2026-01-01T00:00:00Z"));
    s.apply(&event("recent", "2999-01-01T00:00:00Z"));
    support::wait_for(
        std::time::Duration::from_secs(30),
        "the old Event expired",
        || !s.kubectl(&["get", "event", "old"]).status.success(),
    );
    s.ok(&["get", "event", "recent"]);
}

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.wharf.dev}
spec:
  group: example.wharf.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget, shortNames: [wd], listKind: WidgetCollection}
  versions:
  - name: v1alpha1
    served: true
    storage: false
    deprecated: true
    deprecationWarning: "v1alpha1 widgets are old; use v1"
    schema: &schema
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            properties:
              color: {type: string, default: red}
              replicas: {type: integer, default: 1, minimum: 0}
              code: {type: string, pattern: '^[a-z]{3}$'}
              tags: {type: array, items: {type: string}, x-kubernetes-list-type: set}
              nested:
                type: object
                default: {}
                properties:
                  inner: {type: string, default: deep}
          status:
            type: object
            properties:
              replicas: {type: integer}
              selector: {type: string}
    subresources: &subresources
      status: {}
      scale:
        specReplicasPath: .spec.replicas
        statusReplicasPath: .status.replicas
        labelSelectorPath: .status.selector
  - name: v1
    served: true
    storage: true
    schema: *schema
    subresources: *subresources
    selectableFields: [{jsonPath: .spec.color}]
"#;

/// A custom kind's schema defaults fill in what an object leaves out, nested ones
/// too; its `pattern` and set-typed lists are enforced; its scale subresource is
/// served at the CRD's paths (so `kubectl scale` works); a deprecated version
/// warns; the preferred version is the highest GA one; and the CRD's scope may
/// not change under its objects, as in Kubernetes.
#[test]
fn custom_kinds_default_validate_and_scale_as_their_crd_says() {
    let s = Server::start();
    s.apply(WIDGET_CRD);
    s.ok(&[
        "wait",
        "--for=condition=established",
        "crd/widgets.example.wharf.dev",
        "--timeout=20s",
    ]);
    s.apply(
        "apiVersion: example.wharf.dev/v1\nkind: Widget\nmetadata: {name: w}\nspec: {code: abc}\n",
    );
    let w = s.get_json(&["widget", "w"]);
    assert_eq!(w["spec"]["color"], "red", "{w}");
    assert_eq!(w["spec"]["replicas"], 1, "{w}");
    assert_eq!(w["spec"]["nested"]["inner"], "deep", "{w}");
    assert_eq!(w["spec"]["code"], "abc", "{w}");

    let refused = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some("apiVersion: example.wharf.dev/v1\nkind: Widget\nmetadata: {name: bad}\nspec: {code: ABCD, tags: [a, a]}\n"),
    );
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.contains(
            r#"spec.code: Invalid value: "ABCD": spec.code in body should match '^[a-z]{3}$'"#
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains(r#"spec.tags[1]: Duplicate value: "a""#),
        "{stderr}"
    );

    // Scale: read and written at the CRD's paths, selector in string form.
    s.ok(&[
        "patch",
        "widget",
        "w",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":1,"selector":"app=w"}}"#,
    ]);
    let out = s.ok(&["scale", "widget", "w", "--replicas=4"]);
    assert!(out.contains("widget.example.wharf.dev/w scaled"), "{out}");
    assert_eq!(s.get_json(&["widget", "w"])["spec"]["replicas"], 4);
    let (code, scale) = s
        .http()
        .get("/apis/example.wharf.dev/v1/namespaces/default/widgets/w/scale");
    assert_eq!(code, 200, "{scale}");
    assert_eq!(scale["kind"], "Scale", "{scale}");
    assert_eq!(scale["spec"]["replicas"], 4, "{scale}");
    assert_eq!(scale["status"]["replicas"], 1, "{scale}");
    assert_eq!(scale["status"]["selector"], "app=w", "{scale}");
    let (code, refused) = send(
        &s,
        "PATCH",
        "/apis/example.wharf.dev/v1/namespaces/default/widgets/w/scale",
        "application/merge-patch+json",
        json!({"spec": {"replicas": -1}}),
    );
    assert_eq!(code, 422, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("Scale.autoscaling \"w\" is invalid: spec.replicas")),
        "{refused}"
    );

    // The preferred version is v1, and v1alpha1 warns.
    let (_, group) = s.http().get("/apis/example.wharf.dev");
    assert_eq!(group["preferredVersion"]["version"], "v1", "{group}");
    let old = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some("apiVersion: example.wharf.dev/v1alpha1\nkind: Widget\nmetadata: {name: old}\n"),
    );
    assert!(old.status.success());
    let stderr = String::from_utf8_lossy(&old.stderr);
    assert!(
        stderr.contains("Warning: v1alpha1 widgets are old; use v1"),
        "{stderr}"
    );
    // Read through any served version, an object is at that version (conversion
    // strategy None): one at a time and listed.
    let out = s.ok(&["get", "widget", "old", "-o", "jsonpath={.apiVersion}"]);
    assert_eq!(out, "example.wharf.dev/v1");
    let listed = s.get_json(&["widgets"]);
    let versions: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["apiVersion"].as_str().unwrap())
        .collect();
    assert_eq!(versions, ["example.wharf.dev/v1"; 2], "{listed}");
    let (_, list) = s
        .http()
        .get("/apis/example.wharf.dev/v1/namespaces/default/widgets");
    assert_eq!(list["kind"], "WidgetCollection", "the CRD's listKind");
    let (code, old) = s
        .http()
        .get("/apis/example.wharf.dev/v1alpha1/namespaces/default/widgets/w");
    assert_eq!(code, 200, "{old}");
    assert_eq!(old["apiVersion"], "example.wharf.dev/v1alpha1", "{old}");

    // A selectable field selects, in this version (not in v1alpha1).
    s.apply("apiVersion: example.wharf.dev/v1\nkind: Widget\nmetadata: {name: blue}\nspec: {color: blue}\n");
    let out = s.ok(&[
        "get",
        "widgets",
        "--field-selector=spec.color=blue",
        "-o",
        "name",
    ]);
    assert_eq!(out.trim(), "widget.example.wharf.dev/blue");
    let (code, refused) = s.http().get(
        "/apis/example.wharf.dev/v1alpha1/namespaces/default/widgets?fieldSelector=spec.color%3Dblue",
    );
    assert_eq!(code, 400, "{refused}");

    // Ratcheting: once the schema is tightened, an update that leaves a now
    // invalid field as it was goes through; one that changes it must pass.
    s.ok(&[
        "patch",
        "crd",
        "widgets.example.wharf.dev",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/versions/1/schema/openAPIV3Schema/properties/spec/properties/code/pattern","value":"^x{3}$"},
            {"op":"add","path":"/spec/versions/1/schema/openAPIV3Schema/properties/spec/properties/size","value":{"type":"string","default":"M"}}]"#,
    ]);
    // A default added later shows on objects written before, when read.
    let size = s.ok(&["get", "widget", "w", "-o", "jsonpath={.spec.size}"]);
    assert_eq!(size, "M");
    s.ok(&["label", "widget", "w", "tightened=yes"]);
    let refused = s.fails(&[
        "patch",
        "widget",
        "w",
        "--type=merge",
        "-p",
        r#"{"spec":{"code":"abd"}}"#,
    ]);
    assert!(
        refused.contains("spec.code in body should match '^x{3}$'"),
        "{refused}"
    );

    // The scope is fixed once objects may exist.
    let refused = s.fails(&[
        "patch",
        "crd",
        "widgets.example.wharf.dev",
        "--type=merge",
        "-p",
        r#"{"spec":{"scope":"Cluster"}}"#,
    ]);
    assert!(
        refused.contains("spec.scope: Invalid value: \"Cluster\": field is immutable"),
        "{refused}"
    );

    // Deleting the CRD ends its kind's watches, once its objects' deletions are
    // sent (the test client gives up after 30 s; the watch asked for 120).
    let http = s.http();
    let watch = std::thread::spawn(move || {
        http.get(
            "/apis/example.wharf.dev/v1/namespaces/default/widgets?watch=true&timeoutSeconds=120",
        )
    });
    std::thread::sleep(std::time::Duration::from_secs(1));
    s.ok(&["delete", "crd", "widgets.example.wharf.dev"]);
    let (code, events) = watch.join().expect("the watch ended");
    assert_eq!(code, 200, "{events}");
    let text = events.as_str().unwrap_or_default();
    assert_eq!(text.matches(r#""type":"DELETED""#).count(), 3, "{text}");
}

/// A CRD that would take a kind another CRD serves is stored but not served (its
/// status says why), so the first kind's objects stay reachable; CEL rules are
/// flagged as unenforced; webhook conversion is refused; and custom objects take
/// no strategic merge patches, as in Kubernetes.
#[test]
fn conflicting_and_unservable_crds_are_told_apart() {
    let s = Server::start();
    s.apply(WIDGET_CRD);
    s.ok(&[
        "wait",
        "--for=condition=established",
        "crd/widgets.example.wharf.dev",
        "--timeout=20s",
    ]);
    s.apply("apiVersion: example.wharf.dev/v1\nkind: Widget\nmetadata: {name: w}\n");
    s.apply(
        r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: others.example.wharf.dev}
spec:
  group: example.wharf.dev
  scope: Namespaced
  names: {plural: others, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
"#,
    );
    let crd = s.get_json(&["crd", "others.example.wharf.dev"]);
    let accepted = &crd["status"]["conditions"][0];
    assert_eq!(accepted["type"], "NamesAccepted", "{crd}");
    assert_eq!(accepted["status"], "False", "{crd}");
    assert_eq!(accepted["reason"], "KindConflict", "{crd}");
    assert_eq!(crd["spec"]["names"]["listKind"], "WidgetList", "{crd}");
    assert_eq!(
        s.ok(&["get", "widgets", "-o", "name"]).trim(),
        "widget.example.wharf.dev/w"
    );

    let ruled = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(
            r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: ruled.example.wharf.dev}
spec:
  group: example.wharf.dev
  scope: Namespaced
  names: {plural: ruled, kind: Ruled}
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
            x-kubernetes-validations: [{rule: "self.a > 1"}]
            properties: {a: {type: integer}}
"#,
        ),
    );
    assert!(ruled.status.success());
    let stderr = String::from_utf8_lossy(&ruled.stderr);
    assert!(
        stderr.contains("Warning: x-kubernetes-validations rules are not enforced"),
        "{stderr}"
    );

    let webhook = s.fails(&[
        "patch",
        "crd",
        "ruled.example.wharf.dev",
        "--type=merge",
        "-p",
        r#"{"spec":{"conversion":{"strategy":"Webhook"}}}"#,
    ]);
    assert!(
        webhook.contains(r#"spec.conversion.strategy: Unsupported value: "Webhook""#),
        "{webhook}"
    );

    let (code, refused) = send(
        &s,
        "PATCH",
        "/apis/example.wharf.dev/v1/namespaces/default/widgets/w",
        "application/strategic-merge-patch+json",
        json!({"spec": {"color": "blue"}}),
    );
    assert_eq!(code, 415, "{refused}");
    s.ok(&[
        "patch",
        "widget",
        "w",
        "--type=merge",
        "-p",
        r#"{"spec":{"color":"blue"}}"#,
    ]);
}

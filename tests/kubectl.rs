//! The real `kubectl` (1.32) against a real `wharf server`, with kubectl's defaults:
//! its OpenAPI-driven validation, discovery cache and server-side tables. No
//! `--validate=false` or other workaround flags anywhere.

mod support;

use std::io::Read;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use support::Server;

const DEPLOYMENT: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: app
        image: busybox:1.36
        ports:
        - containerPort: 8080
"#;

const POD: &str = r#"
apiVersion: v1
kind: Pod
metadata:
  name: p1
  labels: {app: p, tier: fe}
spec:
  containers:
  - name: c
    image: busybox:1.36
    command: ["sleep", "3600"]
"#;

#[test]
fn version_and_api_resources() {
    let s = Server::start();
    let version = s.ok(&["version"]);
    assert!(
        version.contains("Server Version: v1.32.0-wharf"),
        "{version}"
    );
    let resources = s.ok(&["api-resources"]);
    for row in [
        ("pods", "po", "v1", "true", "Pod"),
        ("nodes", "no", "v1", "false", "Node"),
        ("deployments", "deploy", "apps/v1", "true", "Deployment"),
        ("replicasets", "rs", "apps/v1", "true", "ReplicaSet"),
        ("leases", "", "coordination.k8s.io/v1", "true", "Lease"),
        ("serviceaccounts", "sa", "v1", "true", "ServiceAccount"),
    ] {
        let found = resources.lines().any(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            cols.first() == Some(&row.0)
                && cols.contains(&row.2)
                && cols.contains(&row.4)
                && (row.1.is_empty() || cols.contains(&row.1))
        });
        assert!(found, "api-resources lacks {row:?}:\n{resources}");
    }
    // Categories: `kubectl get all` resolves through discovery.
    s.apply(POD);
    let all = s.ok(&["get", "all"]);
    assert!(
        all.contains("pod/p1") && all.contains("service/kubernetes"),
        "{all}"
    );
    // Admission gives a new pod what Kubernetes' does: the default service
    // account (which `describe` shows) and priority 0.
    let pod = s.get_json(&["pod", "p1"]);
    assert_eq!(pod["spec"]["serviceAccountName"], "default", "{pod}");
    assert_eq!(pod["spec"]["serviceAccount"], "default", "{pod}");
    assert_eq!(pod["spec"]["priority"], 0, "{pod}");
    assert_eq!(pod["spec"]["preemptionPolicy"], "PreemptLowerPriority");
    assert!(
        s.ok(&["describe", "pod", "p1"])
            .contains("Service Account:  default")
    );

    // Each health check by name, as kubectl's raw GETs reach them.
    assert_eq!(s.ok(&["get", "--raw", "/livez/ping"]), "ok");
    assert_eq!(s.ok(&["get", "--raw", "/readyz/bootstrap"]), "ok");
    assert!(
        s.fails(&["get", "--raw", "/readyz/nothing"])
            .contains("NotFound")
    );
}

#[test]
fn create_apply_configure_unchanged() {
    let s = Server::start();
    assert_eq!(s.apply(DEPLOYMENT).trim(), "deployment.apps/web created");
    let changed = DEPLOYMENT
        .replace("replicas: 2", "replicas: 4")
        .replace("busybox:1.36", "busybox:1.37");
    assert_eq!(s.apply(&changed).trim(), "deployment.apps/web configured");
    assert_eq!(s.apply(&changed).trim(), "deployment.apps/web unchanged");
    let d = s.get_json(&["deployment", "web"]);
    assert_eq!(d["spec"]["replicas"], 4);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "busybox:1.37"
    );
    assert_eq!(
        d["metadata"]["generation"], 2,
        "one spec change, one generation"
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .unwrap()
            .len(),
        1,
        "strategic merge kept the container list keyed by name"
    );
    assert!(
        d["metadata"]["annotations"]["kubectl.kubernetes.io/last-applied-configuration"]
            .is_string()
    );
    // A second container added by apply, then removed by apply.
    let two = changed.replace(
        "        ports:\n",
        "        ports:\n        - containerPort: 9090\n",
    );
    s.apply(&two);
    let d = s.get_json(&["deployment", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    s.apply(&changed);
    let d = s.get_json(&["deployment", "web"]);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // kubectl create of an existing object is AlreadyExists.
    let out = s.kubectl_stdin(&["create", "-f", "-"], Some(DEPLOYMENT));
    assert!(String::from_utf8_lossy(&out.stderr).contains("AlreadyExists"));
}

#[test]
fn get_tables_wide_yaml_json_and_labels() {
    let s = Server::start();
    s.apply(POD);
    s.apply(DEPLOYMENT);
    s.apply(
        &POD.replace("name: p1", "name: p2")
            .replace("tier: fe", "tier: be"),
    );

    let pods = s.ok(&["get", "pods"]);
    let header: Vec<&str> = pods.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
    assert!(
        pods.lines()
            .any(|l| l.starts_with("p1") && l.contains("0/1") && l.contains("Pending")),
        "{pods}"
    );

    let wide = s.ok(&["get", "pods", "-o", "wide"]);
    let header = wide.lines().next().unwrap();
    for col in ["IP", "NODE", "NOMINATED NODE", "READINESS GATES"] {
        assert!(header.contains(col), "{header}");
    }

    let deploys = s.ok(&["get", "deployments"]);
    let header: Vec<&str> = deploys.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]);
    assert!(deploys.contains("0/2"), "{deploys}");

    let yaml = s.ok(&["get", "pod", "p1", "-o", "yaml"]);
    assert!(
        yaml.contains("kind: Pod")
            && yaml.contains("restartPolicy: Always")
            && yaml.contains("uid:"),
        "{yaml}"
    );
    let json = s.get_json(&["pod", "p1"]);
    assert_eq!(json["spec"]["dnsPolicy"], "ClusterFirst");
    assert_eq!(json["status"]["phase"], "Pending");

    // (The Deployment applied earlier has pods of its own now: its controllers run.)
    let names = s.ok(&["get", "pods", "-l", "app=p", "-o", "name"]);
    assert_eq!(names.lines().collect::<Vec<_>>(), ["pod/p1", "pod/p2"]);

    let fe = s.ok(&["get", "pods", "-l", "tier=fe", "-o", "name"]);
    assert_eq!(fe.trim(), "pod/p1");
    let set = s.ok(&["get", "pods", "-l", "tier in (fe,be),app=p", "-o", "name"]);
    assert_eq!(set.lines().count(), 2);
    let none = s.ok(&[
        "get",
        "pods",
        "-l",
        "app=p,tier notin (fe,be)",
        "-o",
        "name",
    ]);
    assert_eq!(none.trim(), "");
    let others = s.ok(&["get", "pods", "-l", "tier notin (fe,be)", "-o", "name"]);
    assert!(
        others.lines().all(|l| l.starts_with("pod/web-")),
        "only the Deployment's pods lack a tier: {others}"
    );
    let by_field = s.ok(&[
        "get",
        "pods",
        "--field-selector",
        "metadata.name=p2",
        "-o",
        "name",
    ]);
    assert_eq!(by_field.trim(), "pod/p2");
    let nodes = s.ok(&["get", "nodes"]);
    assert!(
        nodes.is_empty() || nodes.contains("No resources"),
        "{nodes}"
    );
    // Pagination: kubectl's --chunk-size walks continue tokens.
    for i in 0..7 {
        s.apply(&POD.replace("name: p1", &format!("name: page-{i}")));
    }
    let chunked = s.ok(&["get", "pods", "-l", "app=p", "--chunk-size=2", "-o", "name"]);
    assert_eq!(chunked.lines().count(), 9, "{chunked}");
}

#[test]
fn get_watch_receives_later_changes() {
    let s = Server::start();
    s.apply(POD);
    let mut watcher = Command::new("kubectl")
        .args(["get", "pods", "-w", "-o", "name"])
        .env("KUBECONFIG", &s.kubeconfig)
        .env("HOME", &s.home)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdout = watcher.stdout.take().unwrap();
    let reader = std::thread::spawn(move || read_until(&mut stdout, |l| l == "pod/p2"));
    std::thread::sleep(Duration::from_millis(1500));
    s.apply(&POD.replace("name: p1", "name: p2"));
    let seen = reader.join().unwrap();
    let _ = watcher.kill();
    let _ = watcher.wait();
    assert!(seen.contains("pod/p1"), "initial state listed: {seen}");
    assert!(
        seen.contains("pod/p2"),
        "a later create arrived through the watch: {seen}"
    );

    // The table form of a watch (what plain `kubectl get -w` prints).
    let mut table = Command::new("kubectl")
        .args(["get", "pods", "-w"])
        .env("KUBECONFIG", &s.kubeconfig)
        .env("HOME", &s.home)
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(s.home.join("watch.err")).unwrap())
        .spawn()
        .unwrap();
    let mut stdout = table.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        read_until(&mut stdout, |l| {
            l.starts_with("p3 ") && l.contains("Pending")
        })
    });
    std::thread::sleep(Duration::from_millis(1500));
    s.apply(&POD.replace("name: p1", "name: p3"));
    let seen = reader.join().unwrap();
    let _ = table.kill();
    let _ = table.wait();
    assert!(seen.starts_with("NAME"), "{seen}");
    assert_eq!(seen.matches("NAME").count(), 1, "one header: {seen}");
    assert!(
        seen.lines()
            .any(|l| l.starts_with("p3") && l.contains("Pending")),
        "{seen}\nkubectl: {}\nserver: {}",
        std::fs::read_to_string(s.home.join("watch.err")).unwrap_or_default(),
        s.log()
    );
}

/// Reads until a complete line satisfies `done` (or 20 s pass, or the stream ends).
fn read_until(stdout: &mut impl Read, done: impl Fn(&str) -> bool) -> String {
    let mut buf = String::new();
    let mut chunk = [0u8; 1024];
    let deadline = Instant::now() + Duration::from_secs(20);
    let complete = |b: &str| b.rfind('\n').map_or(String::new(), |i| b[..=i].to_string());
    while Instant::now() < deadline && !complete(&buf).lines().any(&done) {
        match stdout.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.push_str(&String::from_utf8_lossy(&chunk[..n])),
        }
    }
    buf
}

#[test]
fn describe_shows_the_objects_events() {
    let s = Server::start();
    s.apply(POD);
    let uid = s.get_json(&["pod", "p1"])["metadata"]["uid"]
        .as_str()
        .unwrap()
        .to_string();
    let event = format!(
        r#"
apiVersion: v1
kind: Event
metadata: {{name: p1.scheduled}}
involvedObject: {{kind: Pod, name: p1, namespace: default, uid: {uid}, apiVersion: v1}}
reason: Scheduled
message: Successfully assigned default/p1 to node-1
type: Normal
source: {{component: default-scheduler}}
count: 1
"#
    );
    s.apply(&event);
    // An event about another object must not show up.
    s.apply(
        &event
            .replace("name: p1.scheduled", "name: other")
            .replace("name: p1,", "name: p9,")
            .replace("to node-1", "to elsewhere"),
    );
    let out = s.ok(&["describe", "pod", "p1"]);
    assert!(out.contains("Name:") && out.contains("p1"), "{out}");
    assert!(out.contains("busybox:1.36"), "{out}");
    let events = out.split("Events:").nth(1).expect("an Events section");
    assert!(
        events.contains("Scheduled")
            && events.contains("Successfully assigned default/p1 to node-1"),
        "{out}"
    );
    assert!(!events.contains("elsewhere"), "{out}");
    let d = s.ok(&["describe", "namespace", "default"]);
    assert!(d.contains("Active"), "{d}");
}

#[test]
fn label_annotate_and_three_patch_types() {
    let s = Server::start();
    s.apply(POD);
    s.ok(&["label", "pod", "p1", "color=blue"]);
    s.ok(&["annotate", "pod", "p1", "note=hello"]);
    s.ok(&["label", "pod", "p1", "tier-"]);
    s.ok(&[
        "patch",
        "pod",
        "p1",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"merged":"yes"}}}"#,
    ]);
    s.ok(&[
        "patch",
        "pod",
        "p1",
        "--type=json",
        "-p",
        r#"[{"op":"add","path":"/metadata/labels/jsonpatch","value":"yes"}]"#,
    ]);
    s.ok(&[
        "patch",
        "pod",
        "p1",
        "-p",
        r#"{"spec":{"containers":[{"name":"c","image":"busybox:1.37"}]}}"#,
    ]);
    let p = s.get_json(&["pod", "p1"]);
    let labels = &p["metadata"]["labels"];
    assert_eq!(labels["color"], "blue");
    assert_eq!(labels["merged"], "yes");
    assert_eq!(labels["jsonpatch"], "yes");
    assert!(labels.get("tier").is_none(), "label removed: {labels}");
    assert_eq!(p["metadata"]["annotations"]["note"], "hello");
    let containers = p["spec"]["containers"].as_array().unwrap();
    assert_eq!(containers.len(), 1, "strategic merge merged by name");
    assert_eq!(containers[0]["image"], "busybox:1.37");
    assert_eq!(
        containers[0]["command"][0], "sleep",
        "untouched fields survive"
    );
    // A JSON patch whose test fails changes nothing.
    let err = s.fails(&["patch", "pod", "p1", "--type=json", "-p", r#"[{"op":"test","path":"/metadata/labels/color","value":"red"},{"op":"remove","path":"/metadata/labels/color"}]"#]);
    assert!(!err.is_empty());
    assert_eq!(
        s.get_json(&["pod", "p1"])["metadata"]["labels"]["color"],
        "blue"
    );
    // Pod specs are mostly immutable, as on Kubernetes.
    let err = s.fails(&[
        "patch",
        "pod",
        "p1",
        "-p",
        r#"{"spec":{"restartPolicy":"Never"}}"#,
    ]);
    assert!(
        err.contains("Forbidden") || err.contains("may not change"),
        "{err}"
    );
}

#[test]
fn scale_a_deployment() {
    let s = Server::start();
    s.apply(DEPLOYMENT);
    let out = s.ok(&["scale", "deployment", "web", "--replicas=5"]);
    assert_eq!(out.trim(), "deployment.apps/web scaled");
    let d = s.get_json(&["deploy", "web"]);
    assert_eq!(d["spec"]["replicas"], 5);
    assert_eq!(d["metadata"]["generation"], 2);
    // With a precondition on the current size.
    s.ok(&[
        "scale",
        "deployment",
        "web",
        "--current-replicas=5",
        "--replicas=1",
    ]);
    assert_eq!(s.get_json(&["deploy", "web"])["spec"]["replicas"], 1);
    let err = s.fails(&[
        "scale",
        "deployment",
        "web",
        "--current-replicas=7",
        "--replicas=2",
    ]);
    assert!(err.contains("Expected replicas to be 7, was 1"), "{err}");
    let err = s.fails(&["scale", "deployment", "web", "--replicas=-1"]);
    assert!(!err.is_empty());
}

#[test]
fn delete_one_all_and_collections() {
    let s = Server::start();
    s.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: team}\n");
    for name in ["a", "b", "c"] {
        s.ok(&[
            "run",
            name,
            "-n",
            "team",
            "--image=busybox:1.36",
            "--restart=Never",
        ]);
    }
    s.apply(POD);
    let out = s.ok(&["delete", "pod", "p1"]);
    assert_eq!(out.trim(), "pod \"p1\" deleted");
    assert!(s.fails(&["get", "pod", "p1"]).contains("NotFound"));
    let out = s.ok(&["delete", "pods", "--all", "-n", "team"]);
    assert_eq!(out.lines().count(), 3, "{out}");
    assert!(
        s.ok(&["get", "pods", "-n", "team", "-o", "name"])
            .trim()
            .is_empty()
    );
    // By label, through deletecollection semantics.
    s.apply(POD);
    s.apply(
        &POD.replace("name: p1", "name: keep")
            .replace("tier: fe", "tier: be"),
    );
    s.ok(&["delete", "pods", "-l", "tier=fe"]);
    assert_eq!(s.ok(&["get", "pods", "-o", "name"]).trim(), "pod/keep");
    // Objects in a namespace that does not exist are refused.
    let err = s.fails(&["run", "x", "-n", "nowhere", "--image=busybox:1.36"]);
    assert!(err.contains("namespaces \"nowhere\" not found"), "{err}");
    // The system namespaces cannot be deleted.
    let err = s.fails(&["delete", "namespace", "kube-system"]);
    assert!(err.contains("forbidden"), "{err}");
}

#[test]
fn stale_update_is_a_conflict() {
    let s = Server::start();
    s.apply(POD);
    let mut stale = s.get_json(&["pod", "p1"]);
    s.ok(&["label", "pod", "p1", "moved=on"]);
    stale["metadata"]["labels"]["stale"] = "yes".into();
    let out = s.kubectl_stdin(&["replace", "-f", "-"], Some(&stale.to_string()));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("Conflict") && err.contains("the object has been modified"),
        "{err}"
    );
    let now = s.get_json(&["pod", "p1"]);
    assert!(
        now["metadata"]["labels"].get("stale").is_none(),
        "the stale write changed nothing"
    );
    assert_eq!(now["metadata"]["labels"]["moved"], "on");
}

const WIDGET_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.example.wharf.dev
spec:
  group: example.wharf.dev
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        description: A widget someone ordered.
        type: object
        properties:
          spec:
            type: object
            properties:
              size:
                type: integer
                description: How many centimetres across the widget is.
"#;

/// `kubectl explain` reads the kinds' schemas from the OpenAPI documents:
/// Kubernetes' own descriptions for the built-in kinds, the definition's schema
/// for a custom kind.
/// A `kind: List` manifest, as `kubectl get -o yaml` writes several objects: kubectl
/// validates every item against the OpenAPI v2 document before it creates any.
#[test]
fn list_manifests_are_validated_then_created_and_applied() {
    let s = Server::start();
    let list = "apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: listed-a}
  data: {k: one}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: listed-web}
  spec:
    replicas: 1
    selector: {matchLabels: {app: listed}}
    strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 2}}
    template:
      metadata: {labels: {app: listed}}
      spec:
        containers:
        - {name: a, image: busybox:1.36, ports: [{containerPort: 80}]}
        - {name: b, image: busybox:1.36}
";
    let out = s.kubectl_stdin(&["create", "-f", "-"], Some(list));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configmap/listed-a created"), "{stdout}");
    assert!(
        stdout.contains("deployment.apps/listed-web created"),
        "{stdout}"
    );

    // What `get -o yaml` exports for several objects is a List too.
    let exported = s.ok(&[
        "get",
        "configmap/listed-a",
        "deployment/listed-web",
        "-o",
        "yaml",
    ]);
    assert!(exported.contains("kind: List"), "{exported}");
    // Created again as exported: kubectl drops the resourceVersion the export
    // carries before it creates...
    let again = exported
        .replace("listed-a", "listed-copy")
        .replace("listed-web", "listed-web-copy");
    let out = s.kubectl_stdin(&["create", "-f", "-"], Some(&again));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // ...because Kubernetes refuses a create that carries one (a 500 with no
    // reason, from its storage), as other clients find out.
    let (code, status) = s.http().post_json(
        "/api/v1/namespaces/default/configmaps",
        &serde_json::json!({"metadata": {"name": "with-rv", "resourceVersion": "5"}}),
    );
    assert_eq!(code, 500, "{status}");
    assert_eq!(status["kind"], "Status");
    assert!(status.get("reason").is_none(), "{status}");
    let (code, _) = s.http().post_json(
        "/api/v1/namespaces/default/configmaps",
        &serde_json::json!({"metadata": {"name": "with-rv", "resourceVersion": "0"}}),
    );
    assert_eq!(code, 201);

    // Applied with a change: kubectl computes the strategic merge patch from the v2
    // definitions, so containers merge by name and a strategy type change clears
    // the old type's parameters (retainKeys).
    let changed = list
        .replace("{k: one}", "{k: two}")
        .replace(
            "{type: RollingUpdate, rollingUpdate: {maxSurge: 2}}",
            "{type: Recreate}",
        )
        .replace(
            "{name: a, image: busybox:1.36",
            "{name: a, image: busybox:1.37",
        );
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(&changed));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("configmap/listed-a configured"), "{stdout}");
    let d = s.get_json(&["deployment", "listed-web"]);
    assert_eq!(
        d["spec"]["strategy"],
        serde_json::json!({"type": "Recreate"})
    );
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    let images: Vec<&str> = containers
        .iter()
        .map(|c| c["image"].as_str().unwrap())
        .collect();
    assert_eq!(images, ["busybox:1.37", "busybox:1.36"]);
    assert_eq!(containers[0]["ports"][0]["containerPort"], 80);

    // An unknown field in any item stops the whole list before anything is written.
    let bad = list
        .replace("listed-a", "listed-b")
        .replace("listed-web", "listed-web2")
        .replace("data: {k: one}", "datta: {k: one}");
    let out = s.kubectl_stdin(&["create", "-f", "-"], Some(&bad));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("datta"), "{stderr}");
    assert!(
        s.kubectl(&["get", "deployment", "listed-web2"])
            .status
            .code()
            != Some(0)
    );

    let v2 = s.ok(&[
        "explain",
        "--output=plaintext-openapiv2",
        "deployment.spec.strategy",
    ]);
    assert!(v2.contains("rollingUpdate"), "{v2}");
}

#[test]
fn explain_describes_kinds_and_their_fields() {
    let s = Server::start();
    let pod = s.ok(&["explain", "pods"]);
    assert!(pod.contains("KIND:       Pod"), "{pod}");
    // As Kubernetes publishes it: the server fills metadata in.
    assert!(pod.contains("metadata\t<ObjectMeta>\n"), "{pod}");
    assert!(pod.contains("VERSION:    v1"), "{pod}");
    assert!(
        pod.contains("Pod is a collection of containers that can run on a host"),
        "{pod}"
    );
    assert!(pod.contains("spec\t<PodSpec>"), "{pod}");

    let field = s.ok(&["explain", "deployment.spec.replicas"]);
    assert!(field.contains("GROUP:      apps"), "{field}");
    assert!(field.contains("FIELD: replicas <integer>"), "{field}");
    assert!(field.contains("Number of desired pods"), "{field}");

    let nested = s.ok(&["explain", "pod.spec.containers.resources.requests"]);
    assert!(
        nested.contains("FIELD: requests <map[string]Quantity>"),
        "{nested}"
    );

    let recursive = s.ok(&["explain", "services", "--recursive"]);
    assert!(recursive.contains("clusterIP\t<string>"), "{recursive}");

    let plugin = s.ok(&["explain", "plugins.spec"]);
    assert!(plugin.contains("module\t<string> -required-"), "{plugin}");
    assert!(
        plugin.contains("Digest of the active module's blob"),
        "{plugin}"
    );

    s.apply(WIDGET_CRD);
    support::wait_for(Duration::from_secs(20), "the Widget kind served", || {
        s.kubectl(&["get", "widgets"]).status.success()
    });
    let widget = s.ok(&["explain", "widgets.spec.size"]);
    assert!(widget.contains("FIELD: size <integer>"), "{widget}");
    assert!(
        widget.contains("How many centimetres across the widget is."),
        "{widget}"
    );
    let top = s.ok(&["explain", "widgets"]);
    assert!(top.contains("A widget someone ordered."), "{top}");
    assert!(top.contains("metadata\t<ObjectMeta>"), "{top}");

    let missing = s.fails(&["explain", "pods.spec.nosuchfield"]);
    assert!(missing.contains("nosuchfield"), "{missing}");
}

#[test]
fn bad_manifests_get_clear_errors() {
    let s = Server::start();
    // kubectl's default strict validation reaches the server's field checks.
    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(&POD.replace("  containers:", "  bogusField: 1\n  containers:")),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("unknown field \"spec.bogusField\""), "{err}");
    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(&POD.replace("name: p1", "name: Not_Valid")),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains("is invalid") && err.contains("metadata.name"),
        "{err}"
    );
    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(&POD.replace("    image: busybox:1.36\n", "")),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("spec.containers[0].image: Required value"),
        "{err}"
    );
    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(&DEPLOYMENT.replace("replicas: 2", "replicas: two")),
    );
    assert!(!out.status.success());
    assert!(
        s.ok(&["get", "pods,deploy", "-o", "name"])
            .trim()
            .is_empty(),
        "nothing was written"
    );
}

/// kubectl's typed `create` commands send Kubernetes protobuf, not JSON.
#[test]
fn typed_create_commands_work() {
    let s = Server::start();
    s.ok(&["create", "namespace", "shop"]);
    s.ok(&[
        "create",
        "deployment",
        "web",
        "--image=busybox:1.36",
        "--replicas=3",
        "--port=8080",
        "-n",
        "shop",
    ]);
    s.ok(&[
        "create",
        "configmap",
        "cfg",
        "--from-literal=color=blue",
        "-n",
        "shop",
    ]);
    s.ok(&[
        "create",
        "secret",
        "generic",
        "pw",
        "--from-literal=password=hunter2",
        "-n",
        "shop",
    ]);
    s.ok(&[
        "create",
        "service",
        "nodeport",
        "front",
        "--tcp=80:8080",
        "-n",
        "shop",
    ]);
    s.ok(&["create", "serviceaccount", "robot", "-n", "shop"]);
    s.ok(&[
        "expose",
        "deployment",
        "web",
        "--port=80",
        "--target-port=8080",
        "-n",
        "shop",
    ]);
    let d = s.get_json(&["deploy", "web", "-n", "shop"]);
    assert_eq!(d["spec"]["replicas"], 3);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["image"],
        "busybox:1.36"
    );
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"],
        8080
    );
    assert_eq!(
        d["spec"]["strategy"]["type"], "RollingUpdate",
        "defaults applied after decoding"
    );
    let cm = s.get_json(&["cm", "cfg", "-n", "shop"]);
    assert_eq!(cm["data"]["color"], "blue");
    let secret = s.get_json(&["secret", "pw", "-n", "shop"]);
    assert_eq!(secret["data"]["password"], "aHVudGVyMg==");
    let front = s.get_json(&["svc", "front", "-n", "shop"]);
    let node_port = front["spec"]["ports"][0]["nodePort"].as_i64().unwrap();
    assert!((30000..=32767).contains(&node_port), "{front}");
    let web = s.get_json(&["svc", "web", "-n", "shop"]);
    assert_eq!(web["spec"]["selector"]["app"], "web");
    assert!(
        web["spec"]["clusterIP"]
            .as_str()
            .unwrap()
            .starts_with("10.96.")
    );
    assert_ne!(
        web["spec"]["clusterIP"], front["spec"]["clusterIP"],
        "distinct cluster IPs"
    );
    let err = s.fails(&["create", "namespace", "shop"]);
    assert!(err.contains("AlreadyExists"), "{err}");
}

/// `kubectl logs`, `exec`, `attach` and `port-forward` are answered by the pod's
/// kubelet in Kubernetes. Wharf has none yet: each says so, after the checks
/// Kubernetes makes before forwarding, instead of a 404 that reads as if the pod
/// did not exist.
#[test]
fn kubelet_subresources_say_why_they_cannot_be_served() {
    let s = Server::start();
    // No nodes: the scheduler leaves it unbound.
    s.ok(&["run", "waiting", "--image=busybox"]);
    let err = s.fails(&["logs", "waiting"]);
    assert!(
        err.contains("(BadRequest): pod waiting does not have a host assigned"),
        "{err}"
    );
    s.apply(
        r#"
apiVersion: v1
kind: Pod
metadata: {name: placed}
spec:
  nodeName: n1
  containers: [{name: app, image: busybox}]
"#,
    );
    // Running, as a simulated node reports it (kubectl port-forward checks).
    s.ok(&[
        "patch",
        "pod",
        "placed",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"phase":"Running"}}"#,
    ]);
    for args in [
        &["logs", "placed"][..],
        &["logs", "placed", "-c", "app"],
        &["exec", "placed", "--", "true"],
        &["port-forward", "pod/placed", "18080:80"],
    ] {
        let err = s.fails(args);
        assert!(
            err.contains("is served by the kubelet of node \"n1\", and no node runs one"),
            "kubectl {args:?}: {err}"
        );
    }
    let err = s.fails(&["logs", "placed", "-c", "nope"]);
    assert!(
        err.contains("container nope is not valid for pod placed"),
        "{err}"
    );
    let err = s.fails(&["logs", "gone"]);
    assert!(err.contains("pods \"gone\" not found"), "{err}");
    let (code, status) = s.http().get("/api/v1/namespaces/default/pods/placed/log");
    assert_eq!(code, 503, "{status}");
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["reason"], "ServiceUnavailable");
}

/// `kubectl auth can-i` and `kubectl auth whoami` ask through reviews (sent as
/// protobuf); Wharf has no authorization, so every answer is yes, for an anonymous
/// caller, as Kubernetes answers with the AlwaysAllow authorizer.
#[test]
fn auth_can_i_and_whoami_get_truthful_answers() {
    let s = Server::start();
    assert_eq!(s.ok(&["auth", "can-i", "create", "pods"]).trim(), "yes");
    assert_eq!(
        s.ok(&["auth", "can-i", "delete", "nodes", "--all-namespaces"])
            .trim(),
        "yes"
    );
    assert_eq!(s.ok(&["auth", "can-i", "get", "/healthz"]).trim(), "yes");
    let rules = s.ok(&["auth", "can-i", "--list"]);
    assert!(rules.lines().any(|l| l.starts_with("*.*")), "{rules}");
    let me = s.ok(&["auth", "whoami", "-o", "json"]);
    let me: serde_json::Value = serde_json::from_str(&me).unwrap();
    assert_eq!(me["status"]["userInfo"]["username"], "system:anonymous");
    // A review as a manifest: kubectl validates a kind without a PATCH operation
    // against the OpenAPI v2 document, then creates it and prints the answer.
    let review = "apiVersion: authorization.k8s.io/v1
kind: SelfSubjectAccessReview
spec:
  resourceAttributes: {verb: create, resource: pods, namespace: default}
";
    let out = s.kubectl_stdin(&["create", "-f", "-", "-o", "json"], Some(review));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let answer: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(answer["status"]["allowed"], true);
    let resources = s.ok(&["api-resources", "--api-group=authorization.k8s.io"]);
    assert!(
        resources.contains("selfsubjectaccessreviews")
            && resources.contains("subjectaccessreviews"),
        "{resources}"
    );
    // A review that asks nothing is refused with the field, and nothing is stored.
    let (code, status) = s.http().post_json(
        "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
        &serde_json::json!({"apiVersion": "authorization.k8s.io/v1",
                            "kind": "SelfSubjectAccessReview", "spec": {}}),
    );
    assert_eq!(code, 422, "{status}");
    assert_eq!(status["kind"], "Status");
    assert_eq!(
        status["details"]["causes"][0]["field"],
        "spec.resourceAttributes"
    );
    let (code, status) = s
        .http()
        .get("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews");
    assert_eq!(code, 405, "{status}");
}

#[test]
fn deleting_a_namespace_empties_it_then_removes_it() {
    let s = Server::start();
    s.ok(&["create", "namespace", "doomed"]);
    s.ok(&[
        "create",
        "configmap",
        "c1",
        "--from-literal=a=b",
        "-n",
        "doomed",
    ]);
    s.ok(&["run", "p", "--image=busybox:1.36", "-n", "doomed"]);
    s.ok(&["create", "configmap", "survivor", "--from-literal=a=b"]);
    // kubectl waits until the namespace is really gone.
    let out = s.ok(&["delete", "namespace", "doomed", "--timeout=30s"]);
    assert_eq!(out.trim(), "namespace \"doomed\" deleted");
    assert!(
        s.fails(&["get", "namespace", "doomed"])
            .contains("NotFound")
    );
    let http = s.http();
    let (_, cms) = http.get("/api/v1/namespaces/doomed/configmaps");
    assert_eq!(
        cms["items"].as_array().map(Vec::len),
        Some(0),
        "contents deleted: {cms}"
    );
    assert_eq!(
        s.get_json(&["cm", "survivor"])["data"]["a"],
        "b",
        "other namespaces untouched"
    );
    // Re-creating it starts empty.
    s.ok(&["create", "namespace", "doomed"]);
    assert!(
        s.ok(&["get", "all", "-n", "doomed", "-o", "name"])
            .trim()
            .is_empty()
    );
}

#[test]
fn review_regressions_deletion_services_namespaces() {
    let s = Server::start();
    // Server-side dry run deletes nothing (kubectl puts dryRun in the body).
    s.ok(&["create", "configmap", "keep", "--from-literal=a=b"]);
    s.ok(&["delete", "configmap", "keep", "--dry-run=server"]);
    assert_eq!(s.get_json(&["cm", "keep"])["data"]["a"], "b");

    // A pod in graceful deletion can still be updated; its kubelet finishes it.
    s.apply(&POD.replace("  containers:", "  nodeName: node-1\n  containers:"));
    s.ok(&["delete", "pod", "p1", "--wait=false"]);
    s.ok(&["label", "pod", "p1", "still=here"]);
    let p = s.get_json(&["pod", "p1"]);
    assert!(p["metadata"]["deletionTimestamp"].is_string(), "{p}");
    assert_eq!(p["metadata"]["labels"]["still"], "here");
    assert_eq!(p["metadata"]["deletionGracePeriodSeconds"], 30);
    // Deleting again with a shorter grace period shortens it; --force removes it.
    s.ok(&["delete", "pod", "p1", "--grace-period=5", "--wait=false"]);
    assert_eq!(
        s.get_json(&["pod", "p1"])["metadata"]["deletionGracePeriodSeconds"],
        5
    );
    s.ok(&["delete", "pod", "p1", "--grace-period=0", "--force"]);
    assert!(s.fails(&["get", "pod", "p1"]).contains("NotFound"));

    // Replacing a Service with its original manifest keeps its address; changing
    // its type allocates a node port.
    let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80}\n";
    s.apply(svc);
    let ip = s.get_json(&["svc", "web"])["spec"]["clusterIP"].clone();
    let out = s.kubectl_stdin(&["replace", "-f", "-"], Some(svc));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(s.get_json(&["svc", "web"])["spec"]["clusterIP"], ip);
    s.ok(&[
        "patch",
        "svc",
        "web",
        "-p",
        r#"{"spec":{"type":"NodePort"}}"#,
    ]);
    let np = s.get_json(&["svc", "web"])["spec"]["ports"][0]["nodePort"].as_i64();
    assert!(np.is_some_and(|p| (30000..=32767).contains(&p)), "{np:?}");
    assert_eq!(
        s.get_json(&["svc", "web"])["spec"]["externalTrafficPolicy"],
        "Cluster"
    );
    s.ok(&[
        "patch",
        "svc",
        "web",
        "-p",
        r#"{"spec":{"type":"ClusterIP"}}"#,
    ]);
    // What only a node port type has goes with it.
    let spec = s.get_json(&["svc", "web"])["spec"].clone();
    assert!(spec["ports"][0].get("nodePort").is_none(), "{spec}");
    assert!(spec.get("externalTrafficPolicy").is_none(), "{spec}");
    // Asking for it on a Service nothing outside reaches is refused.
    let err = s.fails(&[
        "patch",
        "svc",
        "web",
        "-p",
        r#"{"spec":{"externalTrafficPolicy":"Local"}}"#,
    ]);
    assert!(
        err.contains(
            r#"spec.externalTrafficPolicy: Invalid value: "Local": may only be set for externally-accessible services"#
        ),
        "{err}"
    );
    let err = s.fails(&["create", "service", "clusterip", "1svc", "--tcp=80"]);
    assert!(err.contains("DNS-1035"), "{err}");

    // A load balancer that keeps traffic on its node gets a health-check node
    // port, kept through `kubectl apply` of the same manifest, and given back with
    // the Local policy.
    let lb = "apiVersion: v1\nkind: Service\nmetadata: {name: edge}\nspec:\n  type: LoadBalancer\n  externalTrafficPolicy: Local\n  selector: {app: web}\n  ports:\n  - {name: http, port: 80}\n";
    s.apply(lb);
    let spec = s.get_json(&["svc", "edge"])["spec"].clone();
    let hc = spec["healthCheckNodePort"].as_i64();
    assert!(hc.is_some_and(|p| (30000..=32767).contains(&p)), "{spec}");
    assert_ne!(spec["ports"][0]["nodePort"].as_i64(), hc, "{spec}");
    assert_eq!(spec["allocateLoadBalancerNodePorts"], true, "{spec}");
    s.apply(lb);
    assert_eq!(
        s.get_json(&["svc", "edge"])["spec"]["healthCheckNodePort"].as_i64(),
        hc
    );
    let err = s.fails(&[
        "patch",
        "svc",
        "edge",
        "-p",
        r#"{"spec":{"healthCheckNodePort":32000}}"#,
    ]);
    assert!(
        err.contains("cannot change healthCheckNodePort on loadBalancer service with externalTraffic=Local during update"),
        "{err}"
    );
    s.ok(&[
        "patch",
        "svc",
        "edge",
        "-p",
        r#"{"spec":{"externalTrafficPolicy":"Cluster","allocateLoadBalancerNodePorts":false}}"#,
    ]);
    let spec = s.get_json(&["svc", "edge"])["spec"].clone();
    assert!(spec.get("healthCheckNodePort").is_none(), "{spec}");
    assert!(spec["ports"][0].get("nodePort").is_none(), "{spec}");

    // A namespace always gets the finalizer that empties it on deletion.
    s.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: bare}\nspec: {finalizers: []}\n");
    assert_eq!(
        s.get_json(&["ns", "bare"])["spec"]["finalizers"],
        serde_json::json!(["kubernetes"])
    );
}

#[test]
fn first_start_nodes_table_field_selectors_and_deletecollection() {
    let s = Server::start();
    let ns = s.ok(&["get", "namespaces", "-o", "name"]);
    for want in [
        "namespace/default",
        "namespace/kube-system",
        "namespace/kube-public",
        "namespace/kube-node-lease",
    ] {
        assert!(ns.lines().any(|l| l == want), "{ns}");
    }
    // A node as a kubelet registers it: the table shows STATUS ROLES AGE VERSION.
    s.apply(
        r#"
apiVersion: v1
kind: Node
metadata:
  name: node-1
  labels: {node-role.kubernetes.io/control-plane: ""}
status:
  conditions: [{type: Ready, status: "True"}]
  nodeInfo: {kubeletVersion: v1.32.0, osImage: Debian, kernelVersion: "6.1", containerRuntimeVersion: "docker://28.2.2",
             architecture: amd64, bootID: "", machineID: "", operatingSystem: linux, systemUUID: "", kubeProxyVersion: ""}
  addresses: [{type: InternalIP, address: 10.0.0.5}]
"#,
    );
    let nodes = s.ok(&["get", "nodes", "-o", "wide"]);
    let header: Vec<&str> = nodes.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        &header[..5],
        ["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        "{nodes}"
    );
    let row = nodes.lines().nth(1).unwrap();
    assert!(
        row.contains("node-1")
            && row.contains("Ready")
            && row.contains("control-plane")
            && row.contains("v1.32.0")
            && row.contains("10.0.0.5"),
        "{nodes}"
    );
    s.ok(&["cordon", "node-1"]);
    assert!(
        s.ok(&["get", "node", "node-1"])
            .contains("Ready,SchedulingDisabled")
    );

    // Field selectors on pods: spec.nodeName and status.phase.
    s.apply(&POD.replace("  containers:", "  nodeName: node-1\n  containers:"));
    s.apply(&POD.replace("name: p1", "name: unbound"));
    let on_node = s.ok(&[
        "get",
        "pods",
        "--field-selector",
        "spec.nodeName=node-1",
        "-o",
        "name",
    ]);
    assert_eq!(on_node.trim(), "pod/p1");
    let pending = s.ok(&[
        "get",
        "pods",
        "-A",
        "--field-selector",
        "status.phase=Pending,spec.nodeName=",
        "-o",
        "name",
    ]);
    assert_eq!(pending.trim(), "pod/unbound");
    let err = s.fails(&["get", "pods", "--field-selector", "spec.bogus=1"]);
    assert!(err.contains("field label not supported"), "{err}");

    // DELETE on a collection, with a label selector, through the API.
    for i in 0..3 {
        s.ok(&[
            "create",
            "configmap",
            &format!("tmp-{i}"),
            "--from-literal=a=b",
        ]);
        s.ok(&["label", "configmap", &format!("tmp-{i}"), "batch=old"]);
    }
    s.ok(&["create", "configmap", "stay", "--from-literal=a=b"]);
    let http = s.http();
    let (code, body) = http.send(
        "DELETE",
        "/api/v1/namespaces/default/configmaps?labelSelector=batch%3Dold",
        "application/json",
        Vec::new(),
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(body["items"].as_array().map(Vec::len), Some(3));
    let left = s.ok(&["get", "configmaps", "-o", "name"]);
    assert!(
        left.contains("configmap/stay") && !left.contains("tmp-"),
        "{left}"
    );
}

/// `kubectl get componentstatuses` (`cs`), which older guides still start with:
/// each part of the control plane, probed when asked, with Kubernetes' columns
/// and its deprecation warning; read-only, as Kubernetes serves it.
#[test]
fn component_statuses_report_each_part_of_the_control_plane() {
    let s = Server::start();
    let mut table = String::new();
    support::wait_for(Duration::from_secs(60), "every component healthy", || {
        table = s.ok(&["get", "cs"]);
        table
            .lines()
            .skip(1)
            .filter(|l| l.contains("Healthy"))
            .count()
            == 3
            && !table.contains("Unhealthy")
    });
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(header, ["NAME", "STATUS", "MESSAGE", "ERROR"], "{table}");
    for name in ["store", "scheduler", "controller-manager"] {
        assert!(
            table
                .lines()
                .any(|l| l.starts_with(name) && l.contains("Healthy")),
            "{name} missing:\n{table}"
        );
    }
    let out = s.kubectl(&["get", "componentstatuses", "scheduler", "-o", "json"]);
    assert!(out.status.success());
    let cs: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(cs["kind"], "ComponentStatus");
    assert_eq!(cs["conditions"][0]["type"], "Healthy");
    assert_eq!(cs["conditions"][0]["status"], "True");
    let warning = String::from_utf8_lossy(&out.stderr);
    assert!(
        warning.contains("v1 ComponentStatus is deprecated in v1.19+"),
        "{warning}"
    );
    assert!(
        s.fails(&["get", "cs", "etcd-0"])
            .contains("\"etcd-0\" not found")
    );
    let (code, status) = s.http().post_json(
        "/api/v1/componentstatuses",
        &serde_json::json!({"metadata": {"name": "x"}}),
    );
    assert_eq!(
        (code, status["reason"].as_str()),
        (405, Some("MethodNotAllowed"))
    );

    // A server started without a role says so rather than looking whole.
    let data = tempfile::tempdir().unwrap();
    let partial = Server::start_with(&data.path().join("data"), &["--no-scheduler"]);
    let table = partial.ok(&["get", "cs", "scheduler"]);
    assert!(
        table.contains("Unhealthy") && table.contains("--no-scheduler"),
        "{table}"
    );
}

#[test]
fn priority_classes_give_pods_their_priority() {
    let s = Server::start();
    // Every cluster has the two system classes, printed as kubectl prints them.
    let table = s.ok(&["get", "priorityclasses"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "VALUE", "GLOBAL-DEFAULT", "AGE", "PREEMPTIONPOLICY"],
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with("system-node-critical")
            && l.contains("2000001000")
            && l.contains("false")
            && l.ends_with("PreemptLowerPriority")),
        "{table}"
    );
    assert!(
        s.ok(&["api-resources"])
            .lines()
            .any(|l| l.starts_with("priorityclasses")
                && l.contains(" pc ")
                && l.contains("scheduling.k8s.io/v1"))
    );

    s.apply(
        r#"
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
description: serving traffic
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: batch}
value: -10
globalDefault: true
preemptionPolicy: Never
"#,
    );
    let pod = |name: &str, spec_extra: &str| {
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n{spec_extra}  containers: [{{name: c, image: busybox}}]\n"
        )
    };
    s.apply(&pod("web", "  priorityClassName: high\n"));
    let web = s.get_json(&["pod", "web"]);
    assert_eq!(web["spec"]["priority"], 1000, "{web}");
    assert_eq!(web["spec"]["preemptionPolicy"], "PreemptLowerPriority");
    // DefaultTolerationSeconds: five minutes on a failed node before eviction.
    assert_eq!(
        web["spec"]["tolerations"],
        serde_json::json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists",
             "effect": "NoExecute", "tolerationSeconds": 300},
        ])
    );
    // A pod naming no class gets the global default's.
    s.apply(&pod("job", ""));
    let job = s.get_json(&["pod", "job"]);
    assert_eq!(job["spec"]["priorityClassName"], "batch", "{job}");
    assert_eq!(job["spec"]["priority"], -10);
    assert_eq!(job["spec"]["preemptionPolicy"], "Never");
    // Applying the same manifest again changes nothing.
    assert!(
        s.apply(&pod("web", "  priorityClassName: high\n"))
            .contains("unchanged")
    );
    s.ok(&[
        "run",
        "critical",
        "--image=busybox",
        "--overrides",
        r#"{"spec": {"priorityClassName": "system-cluster-critical"}}"#,
    ]);
    assert_eq!(
        s.get_json(&["pod", "critical"])["spec"]["priority"],
        2_000_000_000
    );

    // What Kubernetes refuses, it refuses in its words.
    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(&pod("lost", "  priorityClassName: nope\n")),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"pods "lost" is forbidden: no PriorityClass with name nope was found"#),
        "{err}"
    );
    let out = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some(&pod("sneaky", "  priorityClassName: high\n  priority: 5\n")),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the integer value of priority (5) must not be provided in pod spec; priority admission controller computed 1000 from the given PriorityClass name"),
        "{err}"
    );
    let second_default = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: other}\nvalue: 1\nglobalDefault: true\n";
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(second_default));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "PriorityClass batch is already marked as default. Only one default can exist"
        ),
        "{err}"
    );
    let too_high = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: huge}\nvalue: 1000000001\n";
    let out = s.kubectl_stdin(&["apply", "-f", "-"], Some(too_high));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(
            "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"
        ),
        "{err}"
    );
    let err = s.fails(&[
        "patch",
        "pc",
        "high",
        "--type=merge",
        "-p",
        r#"{"value": 7}"#,
    ]);
    assert!(
        err.contains("value: Forbidden: may not be changed in an update."),
        "{err}"
    );
    // The description may change; the global default may move once it is free.
    s.ok(&[
        "patch",
        "pc",
        "high",
        "--type=merge",
        "-p",
        r#"{"description": "web"}"#,
    ]);
    s.ok(&[
        "patch",
        "pc",
        "batch",
        "--type=merge",
        "-p",
        r#"{"globalDefault": false}"#,
    ]);
    s.ok(&[
        "patch",
        "pc",
        "high",
        "--type=merge",
        "-p",
        r#"{"globalDefault": true}"#,
    ]);
    // kubectl's typed create sends protobuf.
    s.ok(&[
        "create",
        "priorityclass",
        "viacli",
        "--value=77",
        "--description=made by kubectl",
        "--preemption-policy=Never",
    ]);
    let viacli = s.get_json(&["pc", "viacli"]);
    assert_eq!(
        (
            &viacli["value"],
            &viacli["description"],
            &viacli["preemptionPolicy"]
        ),
        (
            &serde_json::json!(77),
            &serde_json::json!("made by kubectl"),
            &serde_json::json!("Never")
        ),
        "{viacli}"
    );
    let err = s.fails(&["delete", "pc", "system-node-critical"]);
    assert!(
        err.contains(r#"priorityclasses.scheduling.k8s.io "system-node-critical" is forbidden: this is a system priority class and cannot be deleted"#),
        "{err}"
    );
    s.ok(&["delete", "pc", "batch"]);

    // A Deployment naming a class that does not exist: its ReplicaSet fails to
    // create pods and says why, in the API's words and naming the pods by their
    // generateName, as Kubernetes does; the Deployment carries the failure; the
    // failing creates back off rather than loop.
    s.apply(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: classless}
spec:
  selector: {matchLabels: {app: classless}}
  template:
    metadata: {labels: {app: classless}}
    spec:
      priorityClassName: missing
      containers: [{name: c, image: busybox}]
"#,
    );
    let mut message = String::new();
    support::wait_for(
        Duration::from_secs(30),
        "ReplicaFailure on the Deployment",
        || {
            let d = s.get_json(&["deployment", "classless"]);
            let failure = d["status"]["conditions"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|c| c["type"] == "ReplicaFailure")
                .cloned();
            message = failure
                .map(|c| {
                    format!(
                        "{} {}",
                        c["reason"].as_str().unwrap_or_default(),
                        c["message"].as_str().unwrap_or_default()
                    )
                })
                .unwrap_or_default();
            !message.is_empty()
        },
    );
    assert!(
        message.starts_with("FailedCreate ")
            && message.contains("-\" is forbidden: no PriorityClass with name missing was found"),
        "{message}"
    );
    std::thread::sleep(Duration::from_secs(3));
    let events = s.get_json(&["events", "--field-selector", "reason=FailedCreate"]);
    let failures: i64 = events["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| e["count"].as_i64().unwrap_or(1))
        .sum();
    assert!(
        failures < 40,
        "{failures} failed creates in a few seconds: {events}"
    );
    for refused in ["lost", "sneaky"] {
        assert!(s.fails(&["get", "pod", refused]).contains("not found"));
    }
}

#[test]
fn server_side_apply_tracks_who_owns_each_field() {
    let s = Server::start();
    let cm = |data: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n{data}")
    };
    let ssa = |manifest: &str, extra: &[&str]| {
        let mut args = vec!["apply", "--server-side", "-f", "-"];
        args.extend_from_slice(extra);
        s.kubectl_stdin(&args, Some(manifest))
    };
    let out = ssa(&cm("  a: \"1\"\n  b: \"2\"\n"), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "configmap/settings serverside-applied"
    );
    let got = s.get_json(&["cm", "settings", "--show-managed-fields"]);
    let entry = &got["metadata"]["managedFields"][0];
    assert_eq!(entry["manager"], "kubectl", "{got}");
    assert_eq!(entry["operation"], "Apply");
    assert_eq!(entry["fieldsType"], "FieldsV1");
    assert_eq!(
        entry["fieldsV1"],
        serde_json::json!({"f:data": {"f:a": {}, "f:b": {}}})
    );

    // What the next apply leaves out goes.
    assert!(ssa(&cm("  a: \"1\"\n"), &[]).status.success());
    assert_eq!(
        s.get_json(&["cm", "settings"])["data"],
        serde_json::json!({"a": "1"})
    );

    // Someone else changes the applied value: applying again conflicts, and
    // kubectl explains it; forcing takes the field back.
    s.ok(&[
        "patch",
        "cm",
        "settings",
        "--type=merge",
        "-p",
        r#"{"data":{"a":"9"}}"#,
    ]);
    let out = ssa(&cm("  a: \"1\"\n"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        err.contains(
            r#"Apply failed with 1 conflict: conflict with "kubectl-patch" using v1: .data.a"#
        ),
        "{err}"
    );
    assert!(err.contains("--force-conflicts"), "{err}");
    assert!(
        ssa(&cm("  a: \"1\"\n"), &["--force-conflicts"])
            .status
            .success()
    );
    assert_eq!(s.get_json(&["cm", "settings"])["data"]["a"], "1");

    // Two appliers share an object, each keeping its own fields.
    assert!(
        ssa(&cm("  c: \"3\"\n"), &["--field-manager=team-b"])
            .status
            .success()
    );
    assert!(ssa(&cm("  a: \"1\"\n"), &[]).status.success());
    assert_eq!(
        s.get_json(&["cm", "settings"])["data"],
        serde_json::json!({"a": "1", "c": "3"})
    );

    // A Deployment scaled after its apply: the next apply of another count conflicts
    // with the scale; the same count is shared.
    let deploy = |replicas: u32, image: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: web}}\nspec:\n  replicas: {replicas}\n  selector: {{matchLabels: {{app: web}}}}\n  template:\n    metadata: {{labels: {{app: web}}}}\n    spec:\n      containers: [{{name: c, image: {image}}}]\n"
        )
    };
    assert!(ssa(&deploy(1, "nginx"), &[]).status.success());
    s.ok(&["scale", "deployment", "web", "--replicas=3"]);
    let out = ssa(&deploy(2, "nginx"), &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"with subresource "scale" using apps/v1: .spec.replicas"#),
        "{err}"
    );
    // A changed image merges into the container of that name.
    assert!(ssa(&deploy(3, "httpd"), &[]).status.success());
    let d = s.get_json(&["deployment", "web"]);
    assert_eq!(d["spec"]["replicas"], 3);
    let containers = d["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1, "{d}");
    assert_eq!(containers[0]["image"], "httpd");
    assert_eq!(containers[0]["imagePullPolicy"], "Always", "defaults kept");

    // Elements left out of a keyed list go whole; ports are keyed on number and
    // protocol, so a DNS-style pair re-applies cleanly.
    let with_ports = |ports: &str| {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: dns}}\nspec:\n  selector: {{matchLabels: {{app: dns}}}}\n  template:\n    metadata: {{labels: {{app: dns}}}}\n    spec:\n      containers:\n      - name: dns\n        image: coredns\n        ports: [{ports}]\n      - name: sidecar\n        image: envoy\n"
        )
    };
    let both = "{containerPort: 53, protocol: UDP, name: dns}, {containerPort: 53, name: dns-tcp}";
    for _ in 0..2 {
        let out = ssa(&with_ports(both), &[]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    // Another writer changing a field of the sidecar does not keep it there.
    s.ok(&["set", "image", "deployment/dns", "sidecar=envoy:2"]);
    let udp_only = with_ports("{containerPort: 53, protocol: UDP, name: dns}")
        .replace("      - name: sidecar\n        image: envoy\n", "");
    let out = ssa(&udp_only, &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let dns = s.get_json(&["deployment", "dns"]);
    let containers = dns["spec"]["template"]["spec"]["containers"]
        .as_array()
        .unwrap();
    assert_eq!(containers.len(), 1, "{dns}");
    assert_eq!(containers[0]["ports"].as_array().unwrap().len(), 1, "{dns}");

    // An object kubectl created names kubectl as the owner of its fields, so an
    // apply changing them conflicts, as on Kubernetes.
    s.ok(&["create", "configmap", "made", "--from-literal=x=1"]);
    let made = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: made}\ndata: {x: \"2\"}\n";
    let out = ssa(made, &[]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(r#"conflict with "kubectl-create" using v1: .data.x"#),
        "{err}"
    );
    // Client-side apply hands its fields over to server-side apply: what the
    // server-side configuration leaves out then goes.
    let csa = |data: &str| {
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: handed}}\ndata: {{{data}}}\n")
    };
    s.apply(&csa("a: \"1\", b: \"2\""));
    let out = ssa(&csa("a: \"1\""), &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        s.get_json(&["cm", "handed"])["data"],
        serde_json::json!({"a": "1"})
    );

    // Dry runs write nothing; a server-side diff shows what would change.
    assert!(
        ssa(&cm("  a: \"2\"\n"), &["--dry-run=server"])
            .status
            .success()
    );
    assert_eq!(s.get_json(&["cm", "settings"])["data"]["a"], "1");
    let diff = s.kubectl_stdin(
        &["diff", "--server-side", "-f", "-"],
        Some(&cm("  a: \"2\"\n")),
    );
    assert!(String::from_utf8_lossy(&diff.stdout).contains("+  a: \"2\""));

    // What Kubernetes requires of the request itself.
    let http = s.http();
    let path = "/api/v1/namespaces/default/configmaps/settings";
    let body = br#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings"}}"#.to_vec();
    let (code, status) = http.send("PATCH", path, "application/apply-patch+yaml", body.clone());
    assert_eq!(code, 422, "{status}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("fieldManager: Required value: is required for apply patch")
    );
    let (code, status) = http.send(
        "PATCH",
        &format!("{path}?force=true"),
        "application/merge-patch+json",
        b"{}".to_vec(),
    );
    assert_eq!(code, 422, "{status}");
    let wrong_kind =
        br#"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"settings"}}"#.to_vec();
    let (code, _) = http.send(
        "PATCH",
        &format!("{path}?fieldManager=x"),
        "application/apply-patch+yaml",
        wrong_kind,
    );
    assert_eq!(code, 400);
}

/// Roles, ClusterRoles and their bindings are served as Kubernetes serves them, so
/// manifests and charts that carry RBAC apply, and `kubectl create role …` works.
/// (They are stored, not enforced: Wharf admits every request.)
#[test]
fn rbac_objects_are_served_checked_and_printed() {
    let s = Server::start();
    let resources = s.ok(&["api-resources", "--api-group=rbac.authorization.k8s.io"]);
    for (plural, namespaced) in [
        ("clusterrolebindings", "false"),
        ("clusterroles", "false"),
        ("rolebindings", "true"),
        ("roles", "true"),
    ] {
        assert!(
            resources.lines().any(|l| l.starts_with(plural)
                && l.contains("rbac.authorization.k8s.io/v1")
                && l.contains(namespaced)),
            "{plural}: {resources}"
        );
    }
    // A new cluster has the user-facing ClusterRoles, and cluster-admin bound to
    // system:masters.
    let roles = s.ok(&["get", "clusterroles"]);
    for name in ["cluster-admin", "admin", "edit", "view"] {
        assert!(
            roles
                .lines()
                .any(|l| l.split_whitespace().next() == Some(name)),
            "{name}: {roles}"
        );
    }
    let admin = s.ok(&["get", "clusterrolebinding", "cluster-admin", "-o", "wide"]);
    assert!(
        admin.lines().nth(1).is_some_and(|l| {
            l.split_whitespace().collect::<Vec<_>>()[..2]
                == ["cluster-admin", "ClusterRole/cluster-admin"]
                && l.contains("system:masters")
        }),
        "{admin}"
    );

    // kubectl's own generators (protobuf bodies).
    s.ok(&[
        "create",
        "role",
        "pod-reader",
        "--verb=get,list",
        "--resource=pods",
    ]);
    s.ok(&[
        "create",
        "rolebinding",
        "read-pods",
        "--role=pod-reader",
        "--user=jane",
        "--serviceaccount=default:bot",
        "--group=devs",
    ]);
    s.ok(&[
        "create",
        "clusterrole",
        "node-reader",
        "--verb=get",
        "--resource=nodes",
        "--non-resource-url=/healthz",
    ]);
    s.ok(&[
        "create",
        "clusterrolebinding",
        "read-nodes",
        "--clusterrole=node-reader",
        "--serviceaccount=kube-system:monitor",
    ]);
    let role = s.get_json(&["role", "pod-reader"]);
    assert_eq!(
        role["rules"],
        serde_json::json!([{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]),
        "{role}"
    );
    let binding = s.get_json(&["rolebinding", "read-pods"]);
    assert_eq!(
        binding["roleRef"],
        serde_json::json!({"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "pod-reader"})
    );
    let table = s.ok(&["get", "rolebindings", "-o", "wide"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "ROLE", "AGE", "USERS", "GROUPS", "SERVICEACCOUNTS"],
        "{table}"
    );
    assert!(
        table.lines().any(|l| l.starts_with("read-pods")
            && l.contains("Role/pod-reader")
            && l.contains("jane")
            && l.contains("devs")
            && l.contains("default/bot")),
        "{table}"
    );

    // A manifest with the usual chart shape, names with colons included; the
    // subject's apiGroup is defaulted.
    s.apply(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: "example:aggregated"}
aggregationRule:
  clusterRoleSelectors: [{matchLabels: {rbac.example.com/aggregate-to-view: "true"}}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: "app:leader-election", namespace: default}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: edit}
subjects: [{kind: User, name: deployer}]
"#,
    );
    let applied = s.get_json(&["rolebinding", "app:leader-election"]);
    assert_eq!(
        applied["subjects"][0]["apiGroup"], "rbac.authorization.k8s.io",
        "{applied}"
    );
    // Names a client escapes in the URL (the Python client sends `app%3A...`).
    let (code, body) = s.http().get(
        "/apis/rbac.authorization.k8s.io/v1/namespaces/default/rolebindings/app%3Aleader-election",
    );
    assert_eq!(
        (code, &body["metadata"]["name"]),
        (200, &serde_json::json!("app:leader-election")),
        "{body}"
    );

    // Aggregation: admin, edit and view are built from the aggregate-to roles and
    // from each other, and a role labelled for one of them extends it.
    let rules_of = |name: &str| s.get_json(&["clusterrole", name])["rules"].to_string();
    let grants = |rules: &str, resource: &str, verb: &str| {
        serde_json::from_str::<serde_json::Value>(rules)
            .ok()
            .and_then(|r| r.as_array().cloned())
            .into_iter()
            .flatten()
            .any(|r| {
                r["resources"]
                    .as_array()
                    .is_some_and(|l| l.iter().any(|x| x == resource))
                    && r["verbs"]
                        .as_array()
                        .is_some_and(|l| l.iter().any(|x| x == verb))
            })
    };
    s.apply(
        r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata:
  name: widgets-view
  labels: {rbac.authorization.k8s.io/aggregate-to-view: "true", rbac.example.com/aggregate-to-view: "true"}
rules: [{apiGroups: [example.com], resources: [widgets], verbs: [get, list]}]
"#,
    );
    support::wait_for(Duration::from_secs(30), "aggregated roles", || {
        let (view, edit, admin) = (rules_of("view"), rules_of("edit"), rules_of("admin"));
        grants(&view, "pods", "get")
            && grants(&view, "widgets", "list")
            && !grants(&view, "pods", "delete")
            && grants(&edit, "pods", "delete")
            && grants(&edit, "widgets", "get")
            && grants(&admin, "rolebindings", "create")
            && grants(&admin, "pods", "delete")
            && grants(&rules_of("example:aggregated"), "widgets", "get")
    });

    // Kubernetes' checks, with its messages.
    let bad_rule = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: bad}\nrules: [{resources: [pods]}]\n"),
    );
    let err = String::from_utf8_lossy(&bad_rule.stderr);
    assert!(
        err.contains("rules[0].verbs: Required value: verbs must contain at least one value")
            && err.contains("rules[0].apiGroups: Required value"),
        "{err}"
    );
    let bad_subject = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: bad}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: x}\nsubjects: [{kind: ServiceAccount, name: bot}]\n"),
    );
    let err = String::from_utf8_lossy(&bad_subject.stderr);
    assert!(
        err.contains(r#"roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole""#)
            && err.contains("subjects[0].namespace: Required value"),
        "{err}"
    );
    // What a binding grants is fixed.
    let err = s.fails(&[
        "patch",
        "rolebinding",
        "read-pods",
        "--type=merge",
        "-p",
        r#"{"roleRef": {"name": "other"}}"#,
    ]);
    assert!(
        err.contains("roleRef: Invalid value") && err.contains("cannot change roleRef"),
        "{err}"
    );

    // Namespaced RBAC goes with its namespace.
    s.ok(&["create", "namespace", "team"]);
    s.ok(&[
        "create",
        "role",
        "r",
        "-n",
        "team",
        "--verb=get",
        "--resource=pods",
    ]);
    s.ok(&[
        "create",
        "rolebinding",
        "rb",
        "-n",
        "team",
        "--role=r",
        "--user=u",
    ]);
    assert_namespace_comes_back_empty(&s, "team", "roles,rolebindings");
}

/// Ingresses, IngressClasses and NetworkPolicies are served as Kubernetes serves
/// them (stored for an ingress controller or network plugin to act on), so
/// manifests that carry them apply and `kubectl create ingress` works.
#[test]
fn networking_objects_are_served_checked_and_printed() {
    let s = Server::start();
    let resources = s.ok(&["api-resources", "--api-group=networking.k8s.io"]);
    for (plural, short) in [
        ("ingressclasses", ""),
        ("ingresses", "ing"),
        ("networkpolicies", "netpol"),
    ] {
        assert!(
            resources.lines().any(|l| l.starts_with(plural)
                && l.contains(short)
                && l.contains("networking.k8s.io/v1")),
            "{plural}: {resources}"
        );
    }
    // kubectl's generator (a protobuf body): `*` makes a Prefix path.
    s.ok(&[
        "create",
        "ingress",
        "web",
        "--class=nginx",
        "--rule=foo.com/api*=api:8080,tls=foo-cert",
        "--rule=bar.com/=site:http",
    ]);
    let ingress = s.get_json(&["ingress", "web"]);
    let paths = |i: usize| ingress["spec"]["rules"][i]["http"]["paths"][0].clone();
    assert_eq!(paths(0)["pathType"], "Prefix", "{ingress}");
    assert_eq!(paths(0)["path"], "/api", "{ingress}");
    assert_eq!(
        paths(0)["backend"]["service"],
        serde_json::json!({"name": "api", "port": {"number": 8080}})
    );
    assert_eq!(paths(1)["pathType"], "Exact", "{ingress}");
    assert_eq!(
        paths(1)["backend"]["service"]["port"]["name"],
        "http",
        "{ingress}"
    );
    assert_eq!(
        ingress["spec"]["tls"][0]["secretName"], "foo-cert",
        "{ingress}"
    );
    // An ingress controller reports its address through the status subresource.
    s.ok(&[
        "patch",
        "ingress",
        "web",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.5"}]}}}"#,
    ]);
    let table = s.ok(&["get", "ing"]);
    let header: Vec<&str> = table.lines().next().unwrap().split_whitespace().collect();
    assert_eq!(
        header,
        ["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
        "{table}"
    );
    let row: Vec<&str> = table.lines().nth(1).unwrap().split_whitespace().collect();
    assert_eq!(
        row[..6],
        ["web", "nginx", "foo.com,bar.com", "10.0.0.5", "80,", "443"],
        "{table}"
    );

    s.apply(
        r#"
apiVersion: networking.k8s.io/v1
kind: IngressClass
metadata:
  name: nginx
  annotations: {ingressclass.kubernetes.io/is-default-class: "true"}
spec: {controller: k8s.io/ingress-nginx}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db-from-web}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{podSelector: {matchLabels: {app: web}}}]
    ports: [{port: 5432}]
"#,
    );
    let classes = s.ok(&["get", "ingressclass"]);
    assert!(
        classes.lines().any(|l| l.starts_with("nginx")
            && l.contains("k8s.io/ingress-nginx")
            && l.contains("<none>")),
        "{classes}"
    );
    // A new Ingress naming no class gets the default one, as Kubernetes'
    // DefaultIngressClass admission gives it.
    s.ok(&["create", "ingress", "plain", "--rule=plain.io/=site:80"]);
    // Its status is the controller's: there from the start, empty.
    assert_eq!(
        s.get_json(&["ingress", "plain"])["status"],
        serde_json::json!({"loadBalancer": {}})
    );
    assert_eq!(
        s.get_json(&["ingress", "plain"])["spec"]["ingressClassName"],
        "nginx"
    );
    let policy = s.get_json(&["netpol", "db-from-web"]);
    assert_eq!(
        policy["spec"]["policyTypes"],
        serde_json::json!(["Ingress"]),
        "{policy}"
    );
    assert_eq!(
        policy["spec"]["ingress"][0]["ports"][0]["protocol"], "TCP",
        "{policy}"
    );
    let table = s.ok(&["get", "networkpolicies"]);
    assert!(
        table
            .lines()
            .any(|l| l.starts_with("db-from-web") && l.contains("app=db")),
        "{table}"
    );

    // Kubernetes' checks, with its messages.
    let bad = s.kubectl_stdin(
        &["apply", "-f", "-"],
        Some("apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: bad}\nspec:\n  rules:\n  - host: 10.1.2.3\n    http:\n      paths: [{path: /, backend: {service: {name: web}}}]\n"),
    );
    let err = String::from_utf8_lossy(&bad.stderr);
    assert!(
        err.contains(
            "spec.rules[0].host: Invalid value: \"10.1.2.3\": must be a DNS name, not an IP address"
        ) && err.contains(
            "spec.rules[0].http.paths[0].pathType: Required value: pathType must be specified"
        ) && err.contains("port name or number is required"),
        "{err}"
    );
    let err = s.fails(&[
        "patch",
        "ingressclass",
        "nginx",
        "--type=merge",
        "-p",
        r#"{"spec": {"controller": "example.com/other"}}"#,
    ]);
    assert!(
        err.contains("spec.controller: Invalid value") && err.contains("field is immutable"),
        "{err}"
    );

    // They go with their namespace.
    s.ok(&["create", "namespace", "team"]);
    s.ok(&[
        "create",
        "ingress",
        "i",
        "-n",
        "team",
        "--rule=x.io/=svc:80",
    ]);
    assert_namespace_comes_back_empty(&s, "team", "ingress");
}

/// Deletes `namespace` (waiting until it is gone), creates it again, and checks
/// that none of `kinds` came back with it.
fn assert_namespace_comes_back_empty(s: &Server, namespace: &str, kinds: &str) {
    s.ok(&[
        "delete",
        "namespace",
        namespace,
        "--wait=true",
        "--timeout=60s",
    ]);
    s.ok(&["create", "namespace", namespace]);
    let left = s.ok(&["get", kinds, "-n", namespace, "-o", "name"]);
    assert!(left.trim().is_empty(), "{left}");
}

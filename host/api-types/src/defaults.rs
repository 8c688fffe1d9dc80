//! Defaulting: the values Kubernetes fills in when a client leaves them out, so that
//! what clients read back (and controllers rely on) is the same as on Kubernetes.
//!
//! Defaulting only adds what is missing; it never overrides what a client set.
//! Server-allocated values (cluster IPs, node ports) are the API server's business.

use serde_json::{Map, Value, json};

use crate::resources::ResourceInfo;

/// Applies the defaults of `info`'s kind to `obj`, in place.
pub fn apply(info: &ResourceInfo, obj: &mut Value) {
    match (info.group, info.kind) {
        ("", "Pod") => {
            if let Some(spec) = obj.get_mut("spec") {
                pod_spec(spec);
                // Pods only, not templates (Kubernetes' `SetDefaults_Pod`).
                default(object_at_root(spec), "enableServiceLinks", true);
                requests_from_limits(spec);
            }
            let status = object_at(obj, "status");
            default(status, "phase", "Pending");
            let qos = obj.get("spec").map(qos_class).unwrap_or("BestEffort");
            default(object_at(obj, "status"), "qosClass", qos);
        }
        ("apps", "Deployment") => {
            let spec = object_at(obj, "spec");
            default(spec, "replicas", 1);
            default(spec, "revisionHistoryLimit", 10);
            default(spec, "progressDeadlineSeconds", 600);
            let strategy = child(spec, "strategy");
            default(strategy, "type", "RollingUpdate");
            if strategy.get("type").and_then(Value::as_str) == Some("RollingUpdate") {
                let rolling = child(strategy, "rollingUpdate");
                default(rolling, "maxUnavailable", "25%");
                default(rolling, "maxSurge", "25%");
            }
            if let Some(pod) = obj.pointer_mut("/spec/template/spec") {
                pod_spec(pod);
            }
            // Kubernetes' own types always carry a status (a struct, not a
            // pointer), so its clients read `.status.x` of a new object safely.
            object_at(obj, "status");
        }
        ("apps", "ReplicaSet") => {
            default(object_at(obj, "spec"), "replicas", 1);
            if let Some(pod) = obj.pointer_mut("/spec/template/spec") {
                pod_spec(pod);
            }
            object_at(obj, "status");
        }
        ("", "Node") => {
            object_at(obj, "spec");
            object_at(obj, "status");
        }
        ("", "Service") => service(obj),
        ("", "Namespace") => {
            let name = crate::meta::name(obj).unwrap_or_default().to_string();
            let labels = child(object_at(obj, "metadata"), "labels");
            // Set unconditionally, as Kubernetes does: it is how selectors find a
            // namespace by name.
            labels.insert("kubernetes.io/metadata.name".into(), Value::from(name));
            // The `kubernetes` finalizer itself is added on create by the API server
            // (whatever the client sent); defaulting must not re-add it after
            // `finalize` removed it.
            object_at(obj, "spec");
            default(object_at(obj, "status"), "phase", "Active");
        }
        ("", "Secret") => {
            let map = object_at_root(obj);
            if !map.contains_key("type") {
                map.insert("type".into(), Value::from("Opaque"));
            }
        }
        ("scheduling.k8s.io", "PriorityClass") => {
            default(
                object_at_root(obj),
                "preemptionPolicy",
                "PreemptLowerPriority",
            );
        }
        (crate::networking::GROUP, "NetworkPolicy") => {
            crate::networking::apply_policy_defaults(obj)
        }
        (crate::networking::GROUP, "Ingress") => {
            // Go's struct is always there, so clients read `.status.loadBalancer`.
            child(object_at(obj, "status"), "loadBalancer");
        }
        (crate::networking::GROUP, "IngressClass") => {
            if let Some(parameters) = obj
                .pointer_mut("/spec/parameters")
                .and_then(Value::as_object_mut)
            {
                default(parameters, "scope", "Cluster");
            }
        }
        (crate::policy::GROUP, "PodDisruptionBudget") => {
            // Counts Go always writes, zero until the controller has looked.
            let status = object_at(obj, "status");
            for field in [
                "disruptionsAllowed",
                "currentHealthy",
                "desiredHealthy",
                "expectedPods",
            ] {
                default(status, field, 0);
            }
        }
        (crate::rbac::GROUP, "RoleBinding" | "ClusterRoleBinding") => {
            crate::rbac::apply_binding_defaults(obj)
        }
        (crate::custom::CRD_GROUP, "CustomResourceDefinition") => {
            let spec = object_at(obj, "spec");
            default(child(spec, "conversion"), "strategy", "None");
            let names = child(spec, "names");
            if let Some(kind) = names
                .get("kind")
                .and_then(Value::as_str)
                .map(str::to_string)
            {
                default(names, "singular", kind.to_lowercase());
                default(names, "listKind", format!("{kind}List"));
            }
        }
        // A custom kind: the defaults its schema declares.
        _ => crate::custom::apply_defaults(info, obj),
    }
}

/// The defaults of an object written through its `status` subresource. Everything
/// but the status is the stored object's, defaulted when it was written, so a pod's
/// spec is not walked again. A pod's QoS class is fixed when the pod is created: a
/// status that leaves it out keeps the stored one, as Kubernetes backfills it.
pub fn apply_to_status(info: &ResourceInfo, obj: &mut Value, old: &Value) {
    if (info.group, info.kind) != ("", "Pod") {
        // Cheap for every other kind, and idempotent on the stored parts.
        apply(info, obj);
        return;
    }
    let qos = match old.pointer("/status/qosClass") {
        Some(stored @ Value::String(_)) => stored.clone(),
        _ => Value::from(obj.get("spec").map(qos_class).unwrap_or("BestEffort")),
    };
    let status = object_at(obj, "status");
    default(status, "phase", "Pending");
    default(status, "qosClass", qos);
}

/// The map at `obj[field]`, created if absent.
fn object_at<'a>(obj: &'a mut Value, field: &str) -> &'a mut Map<String, Value> {
    child(object_at_root(obj), field)
}

/// The map at `map[field]`, created if absent.
fn child<'a>(map: &'a mut Map<String, Value>, field: &str) -> &'a mut Map<String, Value> {
    let entry = map
        .entry(field.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    match entry {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

fn object_at_root(obj: &mut Value) -> &mut Map<String, Value> {
    if !obj.is_object() {
        *obj = Value::Object(Map::new());
    }
    match obj {
        Value::Object(m) => m,
        _ => unreachable!("made an object above"),
    }
}

/// Like [`default`], for a string field whose empty value Kubernetes treats as unset.
fn default_unless_empty(map: &mut Map<String, Value>, field: &str, value: &str) {
    if map
        .get(field)
        .and_then(Value::as_str)
        .is_none_or(str::is_empty)
    {
        map.insert(field.to_string(), Value::from(value));
    }
}

fn default(map: &mut Map<String, Value>, field: &str, value: impl Into<Value>) {
    match map.get(field) {
        None | Some(Value::Null) => {
            map.insert(field.to_string(), value.into());
        }
        Some(_) => {}
    }
}

/// What Kubernetes' ServiceAccount admission adds to every new pod (never to a
/// template): the `default` service account when none is named (the deprecated
/// `serviceAccount` mirrors it). Priority, which needs the PriorityClasses, is
/// the API server's (`priority.rs` there).
pub fn admit_new_pod(obj: &mut Value) {
    let Some(spec) = obj.get_mut("spec").and_then(Value::as_object_mut) else {
        return;
    };
    fn named(spec: &Map<String, Value>, field: &str) -> Option<String> {
        spec.get(field)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    }
    let account = named(spec, "serviceAccountName")
        .or_else(|| named(spec, "serviceAccount"))
        .unwrap_or_else(|| "default".into());
    spec.insert("serviceAccountName".into(), Value::from(account.clone()));
    spec.insert("serviceAccount".into(), Value::from(account));
}

/// PodSpec defaults, shared by pods and pod templates.
pub fn pod_spec(spec: &mut Value) {
    let map = object_at_root(spec);
    default(map, "restartPolicy", "Always");
    default(map, "dnsPolicy", "ClusterFirst");
    default(map, "schedulerName", "default-scheduler");
    default(map, "terminationGracePeriodSeconds", 30);
    default(map, "securityContext", Value::Object(Map::new()));
    let host_network = map.get("hostNetwork").and_then(Value::as_bool) == Some(true);
    for field in ["initContainers", "containers"] {
        if let Some(Value::Array(containers)) = map.get_mut(field) {
            for c in containers {
                container(c);
                if host_network {
                    host_ports(c);
                }
            }
        }
    }
    if let Some(Value::Array(volumes)) = map.get_mut("volumes") {
        for v in volumes {
            volume(object_at_root(v));
        }
    }
}

/// On the host's network a container's ports are the host's: an unset host port
/// is the container port (`SetDefaults_PodSpec`), which the scheduler then
/// counts as taken on the node.
fn host_ports(c: &mut Value) {
    let Some(Value::Array(ports)) = c.get_mut("ports") else {
        return;
    };
    for port in ports.iter_mut().filter_map(Value::as_object_mut) {
        let container_port = port.get("containerPort").cloned();
        let unset = port.get("hostPort").and_then(Value::as_i64).unwrap_or(0) == 0;
        if let (true, Some(p)) = (unset, container_port) {
            port.insert("hostPort".into(), p);
        }
    }
}

/// A container that limits a resource and does not request it requests the
/// limit (`SetDefaults_Pod`; pods only: a template's pods get it when created).
fn requests_from_limits(spec: &mut Value) {
    for field in ["initContainers", "containers"] {
        let Some(Value::Array(containers)) = spec.get_mut(field) else {
            continue;
        };
        for c in containers {
            let Some(Value::Object(resources)) = c.get_mut("resources") else {
                continue;
            };
            let Some(Value::Object(limits)) = resources.get("limits").cloned() else {
                continue;
            };
            let requests = child(resources, "requests");
            for (resource, limit) in limits {
                requests.entry(resource).or_insert(limit);
            }
        }
    }
}

/// A volume that names no source is an `emptyDir`; file modes and the host path
/// type get Kubernetes' defaults.
fn volume(v: &mut Map<String, Value>) {
    if v.keys().all(|k| k == "name") {
        v.insert("emptyDir".into(), Value::Object(Map::new()));
    }
    for source in ["secret", "configMap", "downwardAPI", "projected"] {
        if let Some(Value::Object(s)) = v.get_mut(source) {
            default(s, "defaultMode", 0o644);
        }
    }
    if let Some(Value::Object(host_path)) = v.get_mut("hostPath") {
        default(host_path, "type", "");
    }
    if let Some(Value::Object(downward)) = v.get_mut("downwardAPI") {
        downward_items(downward);
    }
    if let Some(Value::Array(sources)) = v.get_mut("projected").and_then(|p| p.get_mut("sources")) {
        for source in sources {
            if let Some(Value::Object(downward)) = source.get_mut("downwardAPI") {
                downward_items(downward);
            }
            if let Some(Value::Object(token)) = source.get_mut("serviceAccountToken") {
                default(token, "expirationSeconds", 3600);
            }
        }
    }
}

fn downward_items(downward: &mut Map<String, Value>) {
    if let Some(Value::Array(items)) = downward.get_mut("items") {
        for item in items {
            field_ref(item);
        }
    }
}

/// A field reference reads the object's `v1` form unless it says otherwise.
fn field_ref(holder: &mut Value) {
    if let Some(Value::Object(r)) = holder.get_mut("fieldRef") {
        default_unless_empty(r, "apiVersion", "v1");
    }
}

/// Probe timings (`SetDefaults_Probe`: a zero is unset) and its handler's.
fn probe(p: &mut Map<String, Value>) {
    for (field, value) in [
        ("timeoutSeconds", 1),
        ("periodSeconds", 10),
        ("successThreshold", 1),
        ("failureThreshold", 3),
    ] {
        if p.get(field).and_then(Value::as_i64).unwrap_or(0) == 0 {
            p.insert(field.into(), Value::from(value));
        }
    }
    handler(p);
    // kubectl describe reads the service of a gRPC probe without checking it.
    if let Some(Value::Object(grpc)) = p.get_mut("grpc") {
        default(grpc, "service", "");
    }
}

/// An HTTP GET without a path asks for `/`, over HTTP.
fn handler(h: &mut Map<String, Value>) {
    if let Some(Value::Object(get)) = h.get_mut("httpGet") {
        default_unless_empty(get, "path", "/");
        default_unless_empty(get, "scheme", "HTTP");
    }
}

fn container(c: &mut Value) {
    let image = c
        .get("image")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let map = object_at_root(c);
    default(map, "imagePullPolicy", pull_policy(&image));
    default(map, "terminationMessagePath", "/dev/termination-log");
    default(map, "terminationMessagePolicy", "File");
    default(map, "resources", Value::Object(Map::new()));
    if let Some(Value::Array(ports)) = map.get_mut("ports") {
        for p in ports {
            default(object_at_root(p), "protocol", "TCP");
        }
    }
    for field in ["livenessProbe", "readinessProbe", "startupProbe"] {
        if let Some(Value::Object(p)) = map.get_mut(field) {
            probe(p);
        }
    }
    if let Some(Value::Object(lifecycle)) = map.get_mut("lifecycle") {
        for hook in ["postStart", "preStop"] {
            if let Some(Value::Object(h)) = lifecycle.get_mut(hook) {
                handler(h);
            }
        }
    }
    if let Some(Value::Array(env)) = map.get_mut("env") {
        for e in env {
            if let Some(from) = e.get_mut("valueFrom") {
                field_ref(from);
            }
        }
    }
}

/// `Always` for `:latest` or untagged images, `IfNotPresent` otherwise.
fn pull_policy(image: &str) -> &'static str {
    // A digest pins the image, whatever the tag says.
    if image.contains('@') {
        return "IfNotPresent";
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        Some((_, "latest")) | None => "Always",
        Some(_) => "IfNotPresent",
    }
}

/// Guaranteed when every container limits cpu and memory with requests equal to
/// limits; BestEffort when nothing is requested or limited; Burstable otherwise.
fn qos_class(spec: &Value) -> &'static str {
    let containers: Vec<&Value> = ["initContainers", "containers"]
        .iter()
        .filter_map(|f| spec.get(*f).and_then(Value::as_array))
        .flatten()
        .collect();
    let mut any = false;
    let mut guaranteed = !containers.is_empty();
    for c in containers {
        let requests = c.pointer("/resources/requests").and_then(Value::as_object);
        let limits = c.pointer("/resources/limits").and_then(Value::as_object);
        if requests.is_some_and(|r| !r.is_empty()) || limits.is_some_and(|l| !l.is_empty()) {
            any = true;
        }
        for resource in ["cpu", "memory"] {
            let limit = limits.and_then(|l| l.get(resource));
            // A missing request defaults to the limit.
            let request = requests.and_then(|r| r.get(resource)).or(limit);
            if limit.is_none() || request != limit {
                guaranteed = false;
            }
        }
    }
    if !any {
        "BestEffort"
    } else if guaranteed {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Whether a Service spec is reachable from outside the cluster (node ports, a
/// load balancer, or external IPs): only such a Service has an external traffic
/// policy.
pub fn externally_accessible(spec: &serde_json::Map<String, Value>) -> bool {
    let ty = service_type(spec);
    ty == "NodePort"
        || ty == "LoadBalancer"
        || (ty == "ClusterIP"
            && spec
                .get("externalIPs")
                .and_then(Value::as_array)
                .is_some_and(|ips| !ips.is_empty()))
}

fn service_type(spec: &serde_json::Map<String, Value>) -> &str {
    spec.get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
}

/// Whether a Service spec gets node ports allocated: a NodePort Service, or a
/// LoadBalancer that did not turn them off (`allocateLoadBalancerNodePorts`).
pub fn needs_node_ports(spec: &serde_json::Map<String, Value>) -> bool {
    match service_type(spec) {
        "NodePort" => true,
        "LoadBalancer" => spec.get("allocateLoadBalancerNodePorts") != Some(&Value::Bool(false)),
        _ => false,
    }
}

/// Whether a Service spec gets a health-check node port: a LoadBalancer that
/// keeps traffic on the node it arrives at (`externalTrafficPolicy: Local`), so
/// the load balancer can ask each node whether it has ready endpoints.
pub fn needs_health_check_node_port(spec: &serde_json::Map<String, Value>) -> bool {
    service_type(spec) == "LoadBalancer"
        && spec.get("externalTrafficPolicy").and_then(Value::as_str) == Some("Local")
}

fn service(obj: &mut Value) {
    let spec = object_at(obj, "spec");
    default(spec, "type", "ClusterIP");
    let ty = spec
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or("ClusterIP")
        .to_string();
    if spec.get("sessionAffinity").and_then(Value::as_str) == Some("ClientIP") {
        let config = child(spec, "sessionAffinityConfig");
        default(child(config, "clientIP"), "timeoutSeconds", 10_800);
    }
    default(spec, "sessionAffinity", "None");
    if ty != "ExternalName" {
        default(spec, "internalTrafficPolicy", "Cluster");
        default(spec, "ipFamilyPolicy", "SingleStack");
        default(spec, "ipFamilies", json!(["IPv4"]));
    }
    if externally_accessible(spec) {
        default(spec, "externalTrafficPolicy", "Cluster");
    }
    if ty == "LoadBalancer" {
        default(spec, "allocateLoadBalancerNodePorts", true);
    }
    if let Some(Value::Array(ports)) = spec.get_mut("ports") {
        for p in ports {
            let port = p.get("port").cloned();
            let map = object_at_root(p);
            default(map, "protocol", "TCP");
            // Unset, 0 and "" all mean the port itself.
            let unset = match map.get("targetPort") {
                None | Some(Value::Null) => true,
                Some(Value::Number(n)) => n.as_i64() == Some(0),
                Some(Value::String(s)) => s.is_empty(),
                Some(_) => false,
            };
            if let (true, Some(port)) = (unset, port) {
                map.insert("targetPort".into(), port);
            }
        }
    }
    object_at(obj, "status");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resources::find;

    #[test]
    fn pod_defaults_match_kubernetes() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "a", "image": "busybox", "ports": [{"containerPort": 80}]},
            {"name": "b", "image": "reg:5000/app:1.2", "imagePullPolicy": "Never"}]}});
        apply(find("", "v1", "pods").unwrap(), &mut pod);
        assert_eq!(pod["spec"]["restartPolicy"], "Always");
        assert_eq!(pod["spec"]["dnsPolicy"], "ClusterFirst");
        assert_eq!(pod["spec"]["schedulerName"], "default-scheduler");
        assert_eq!(pod["spec"]["terminationGracePeriodSeconds"], 30);
        assert_eq!(pod["spec"]["containers"][0]["imagePullPolicy"], "Always");
        assert_eq!(pod["spec"]["containers"][0]["ports"][0]["protocol"], "TCP");
        assert_eq!(
            pod["spec"]["containers"][1]["imagePullPolicy"], "Never",
            "set values stay"
        );
        assert_eq!(
            pod["status"],
            json!({"phase": "Pending", "qosClass": "BestEffort"})
        );
    }

    #[test]
    fn probes_volumes_and_references_get_kubernetes_defaults() {
        let spec = json!({"containers": [{
            "name": "a", "image": "x",
            "livenessProbe": {"httpGet": {"port": 80}, "periodSeconds": 0},
            "readinessProbe": {"tcpSocket": {"port": 80}, "timeoutSeconds": 5},
            "lifecycle": {"preStop": {"httpGet": {"port": 80, "path": "/quit"}}},
            "env": [{"name": "NODE", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
            "resources": {"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "500m"}}}],
            "volumes": [{"name": "scratch"}, {"name": "cm", "configMap": {"name": "c"}},
                        {"name": "s", "secret": {"secretName": "s", "defaultMode": 256}},
                        {"name": "h", "hostPath": {"path": "/tmp"}},
                        {"name": "d", "downwardAPI": {"items": [{"path": "n", "fieldRef": {"fieldPath": "metadata.name"}}]}},
                        {"name": "p", "projected": {"sources": [{"serviceAccountToken": {"path": "t"}}]}}]});
        let mut pod = json!({"metadata": {"name": "p"}, "spec": spec.clone()});
        apply(find("", "v1", "pods").unwrap(), &mut pod);
        let c = &pod["spec"]["containers"][0];
        assert_eq!(
            c["livenessProbe"],
            json!({"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                   "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3})
        );
        assert_eq!(c["readinessProbe"]["timeoutSeconds"], 5, "set values stay");
        assert_eq!(c["lifecycle"]["preStop"]["httpGet"]["path"], "/quit");
        assert_eq!(c["lifecycle"]["preStop"]["httpGet"]["scheme"], "HTTP");
        assert_eq!(c["env"][0]["valueFrom"]["fieldRef"]["apiVersion"], "v1");
        assert_eq!(
            c["resources"]["requests"],
            json!({"cpu": "500m", "memory": "1Gi"}),
            "a limit without a request is requested"
        );
        let volumes = &pod["spec"]["volumes"];
        assert_eq!(volumes[0], json!({"name": "scratch", "emptyDir": {}}));
        assert_eq!(volumes[1]["configMap"]["defaultMode"], 420);
        assert_eq!(volumes[2]["secret"]["defaultMode"], 256);
        assert_eq!(volumes[3]["hostPath"]["type"], "");
        assert_eq!(
            volumes[4]["downwardAPI"]["items"][0]["fieldRef"]["apiVersion"],
            "v1"
        );
        assert_eq!(volumes[4]["downwardAPI"]["defaultMode"], 420);
        assert_eq!(
            volumes[5]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"],
            3600
        );
        assert_eq!(pod["spec"]["enableServiceLinks"], true);

        // A template gets the type defaults, but not what only a pod gets.
        let mut deployment = json!({"metadata": {"name": "d"},
            "spec": {"selector": {}, "template": {"spec": spec}}});
        apply(find("apps", "v1", "deployments").unwrap(), &mut deployment);
        let template = &deployment["spec"]["template"]["spec"];
        assert_eq!(
            template["containers"][0]["livenessProbe"]["periodSeconds"],
            10
        );
        assert_eq!(template["volumes"][0]["emptyDir"], json!({}));
        assert!(template.get("enableServiceLinks").is_none());
        assert_eq!(
            template["containers"][0]["resources"]["requests"],
            json!({"cpu": "500m"})
        );
    }

    #[test]
    fn pull_policy_follows_the_tag() {
        assert_eq!(pull_policy("nginx"), "Always");
        assert_eq!(pull_policy("nginx:latest"), "Always");
        assert_eq!(pull_policy("nginx:1.25"), "IfNotPresent");
        assert_eq!(pull_policy("localhost:5000/nginx"), "Always");
        assert_eq!(pull_policy("nginx@sha256:abc"), "IfNotPresent");
    }

    #[test]
    fn qos_classes() {
        let guaranteed =
            json!({"containers": [{"resources": {"limits": {"cpu": "1", "memory": "1Gi"}}}]});
        let burstable = json!({"containers": [{"resources": {"requests": {"cpu": "1"}}}]});
        assert_eq!(qos_class(&guaranteed), "Guaranteed");
        assert_eq!(qos_class(&burstable), "Burstable");
        assert_eq!(qos_class(&json!({"containers": [{}]})), "BestEffort");
    }

    #[test]
    fn deployment_and_service_defaults() {
        let mut d = json!({"spec": {"template": {"spec": {"containers": [{"name": "c", "image": "i:1"}]}}}});
        apply(find("apps", "v1", "deployments").unwrap(), &mut d);
        assert_eq!(d["spec"]["replicas"], 1);
        assert_eq!(d["spec"]["strategy"]["rollingUpdate"]["maxSurge"], "25%");
        assert_eq!(d["spec"]["template"]["spec"]["restartPolicy"], "Always");
        assert_eq!(
            d["status"],
            json!({}),
            "a new Deployment has a status, as on Kubernetes"
        );
        let mut rs = json!({"spec": {}});
        apply(find("apps", "v1", "replicasets").unwrap(), &mut rs);
        assert_eq!(rs["status"], json!({}));
        let mut node = json!({"metadata": {"name": "n"}});
        apply(find("", "v1", "nodes").unwrap(), &mut node);
        assert_eq!((&node["spec"], &node["status"]), (&json!({}), &json!({})));
        let mut s = json!({"spec": {"ports": [{"port": 80}]}});
        apply(find("", "v1", "services").unwrap(), &mut s);
        assert_eq!(s["spec"]["type"], "ClusterIP");
        assert_eq!(s["spec"]["ports"][0]["targetPort"], 80);
        assert!(s["spec"].get("externalTrafficPolicy").is_none());
        assert!(s["spec"].get("allocateLoadBalancerNodePorts").is_none());
        let mut lb = json!({"spec": {"type": "LoadBalancer", "ports": [{"port": 80}]}});
        apply(find("", "v1", "services").unwrap(), &mut lb);
        assert_eq!(lb["spec"]["externalTrafficPolicy"], "Cluster");
        assert_eq!(lb["spec"]["allocateLoadBalancerNodePorts"], true);
        let mut external = json!({"spec": {"externalIPs": ["192.0.2.1"], "ports": [{"port": 80}]}});
        apply(find("", "v1", "services").unwrap(), &mut external);
        assert_eq!(external["spec"]["externalTrafficPolicy"], "Cluster");
        let mut sticky = json!({"spec": {"sessionAffinity": "ClientIP", "ports": [{"port": 80}]}});
        apply(find("", "v1", "services").unwrap(), &mut sticky);
        assert_eq!(
            sticky["spec"]["sessionAffinityConfig"],
            json!({"clientIP": {"timeoutSeconds": 10800}})
        );
        let mut cname = json!({"spec": {"type": "ExternalName", "externalName": "db.example.com",
            "ports": [{"port": 80, "targetPort": 0}, {"port": 81, "targetPort": ""}]}});
        apply(find("", "v1", "services").unwrap(), &mut cname);
        assert_eq!(cname["spec"]["sessionAffinity"], "None");
        assert!(cname["spec"].get("ipFamilies").is_none());
        assert_eq!(cname["spec"]["ports"][0]["targetPort"], 80);
        assert_eq!(cname["spec"]["ports"][1]["targetPort"], 81);
    }

    #[test]
    fn host_network_ports_and_grpc_probes_get_kubernetes_defaults() {
        let mut pod = json!({"metadata": {"name": "p"}, "spec": {"hostNetwork": true, "containers": [
            {"name": "c", "image": "i", "ports": [{"containerPort": 9000}, {"containerPort": 53, "hostPort": 53}],
             "livenessProbe": {"grpc": {"port": 9090}}}]}});
        apply(find("", "v1", "pods").unwrap(), &mut pod);
        let c = &pod["spec"]["containers"][0];
        assert_eq!(c["ports"][0]["hostPort"], 9000);
        assert_eq!(c["ports"][1]["hostPort"], 53);
        assert_eq!(
            c["livenessProbe"]["grpc"],
            json!({"port": 9090, "service": ""})
        );
        let mut bridged = json!({"metadata": {"name": "p"}, "spec": {"containers": [
            {"name": "c", "image": "i", "ports": [{"containerPort": 9000}]}]}});
        apply(find("", "v1", "pods").unwrap(), &mut bridged);
        assert!(
            bridged["spec"]["containers"][0]["ports"][0]
                .get("hostPort")
                .is_none()
        );
    }
}

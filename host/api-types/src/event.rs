//! core/v1 Events as Wharf's roles record them, in the shape `kubectl describe`
//! and `kubectl get events` read.

use serde_json::{Value, json};

/// An Event about `involved` (an object reference: apiVersion, kind, name,
/// namespace, uid), reported by `component`. Cluster-scoped objects' events go to
/// `default`, as Kubernetes files Nodes' events.
pub fn new(component: &str, involved: Value, warning: bool, reason: &str, message: &str) -> Value {
    let now = crate::meta::now_rfc3339();
    let name = involved["name"].as_str().unwrap_or("object");
    let namespace = match involved["namespace"].as_str() {
        Some(ns) if !ns.is_empty() => ns,
        _ => "default",
    };
    json!({
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "generateName": format!("{name}."),
            "namespace": namespace,
        },
        "involvedObject": involved,
        "reason": reason,
        "message": message,
        "type": if warning { "Warning" } else { "Normal" },
        "source": {"component": component},
        "reportingComponent": component,
        "reportingInstance": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    })
}

/// The reference an Event names, taken from a whole object.
pub fn reference(object: &Value) -> Value {
    let s = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
    let mut r = json!({
        "apiVersion": s("/apiVersion"),
        "kind": s("/kind"),
        "name": s("/metadata/name"),
        "uid": s("/metadata/uid"),
        "resourceVersion": s("/metadata/resourceVersion"),
    });
    if !s("/metadata/namespace").is_empty() {
        r["namespace"] = json!(s("/metadata/namespace"));
    }
    r
}
